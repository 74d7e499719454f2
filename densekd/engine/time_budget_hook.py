"""Stop training after a wall-clock budget, so methods can be compared at equal cost."""
from __future__ import annotations

import math
import time
from typing import List, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log

from densekd.registry import HOOKS


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """End training once ``seconds`` of training time have passed; validate and save then.

    Without ``anneal_eta_min`` the config's iteration count stays the schedule's horizon (e.g.
    the cosine LR's ``T_max``): size it so the budget and the schedule end together, and this
    hook only guards the budget. With ``anneal_eta_min`` the hook itself anneals every
    optimizer's learning rate on a cosine **in time**,
    ``lr = eta_min + (lr_0 - eta_min) · (1 + cos(π · spent / seconds)) / 2``, set before each
    iteration, so every run ends its schedule with its budget whatever its speed on this
    machine (methods whose iterations cost differently are then treated alike). The config must
    then have no LR schedulers of its own. Validation time is not counted.

    Args:
        seconds: training-time budget.
        anneal_eta_min: final learning rate of the time-based cosine; None leaves the learning
            rates to the config's schedulers.
    """

    priority = 'VERY_LOW'

    def __init__(self, seconds: float, anneal_eta_min: Optional[float] = None):
        if seconds <= 0:
            raise ValueError(f'TimeBudgetHook.seconds must be positive, got {seconds}')
        if anneal_eta_min is not None and anneal_eta_min < 0:
            raise ValueError(f'TimeBudgetHook.anneal_eta_min must be >= 0, got {anneal_eta_min}')
        self.seconds = float(seconds)
        self.anneal_eta_min = anneal_eta_min
        self._spent = 0.0
        self._start = None
        self._groups: List[dict] = []
        self._base_lrs: List[float] = []
        self.stopped_at = None

    def before_train(self, runner) -> None:
        if self.anneal_eta_min is None:
            return
        if runner.param_schedulers:
            raise ValueError('TimeBudgetHook(anneal_eta_min=...) sets the learning rates itself; '
                             'remove param_scheduler from the config')
        wrappers = runner.optim_wrapper
        wrappers = wrappers.values() if hasattr(wrappers, 'values') else [wrappers]
        self._groups = [g for w in wrappers for g in w.optimizer.param_groups]
        self._base_lrs = [g['lr'] for g in self._groups]

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self._groups:
            progress = min(1.0, self._spent / self.seconds)
            scale = (1 + math.cos(math.pi * progress)) / 2
            for group, base in zip(self._groups, self._base_lrs):
                group['lr'] = self.anneal_eta_min + (base - self.anneal_eta_min) * scale
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
