"""Stop training after a wall-clock budget, so methods can be compared at equal cost."""
from __future__ import annotations

import time

from mmengine.hooks import Hook
from mmengine.logging import print_log

from densekd.registry import HOOKS


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """End training once ``seconds`` of training time have passed; validate and save then.

    The iteration count in the config stays the schedule's horizon (e.g. the cosine LR's
    ``T_max``); size it so the budget and the schedule end together, and this hook only
    guards the budget. Validation time is not counted.

    Args:
        seconds: training-time budget.
    """

    priority = 'VERY_LOW'

    def __init__(self, seconds: float):
        if seconds <= 0:
            raise ValueError(f'TimeBudgetHook.seconds must be positive, got {seconds}')
        self.seconds = float(seconds)
        self._spent = 0.0
        self._start = None
        self.stopped_at = None

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._start = time.perf_counter()

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._spent += time.perf_counter() - self._start
        loop = runner.train_loop
        if self._spent < self.seconds or loop.iter >= loop.max_iters:
            return
        print_log(f'time budget of {self.seconds:.0f} s reached at iteration {loop.iter}/'
                  f'{loop.max_iters}; stopping', logger='current')
        loop.stop_training = True
        self.stopped_at = loop.iter + 1  # the loop counts this iteration after the hooks

    def after_train(self, runner) -> None:
        if self.stopped_at is None:
            return
        loop = runner.train_loop
        # The loop validates on its interval only; the run must still end with a result.
        if runner.val_loop is not None and loop.iter % loop.val_interval != 0:
            runner.val_loop.run()
        runner.save_checkpoint(runner.work_dir, f'iter_{loop.iter}.pth', by_epoch=False)
