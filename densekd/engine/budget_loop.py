"""An iteration loop with a wall-clock or step budget, its own cosine LR and evaluation points.

Methods compared in one table must get the same budget: the same student steps (reproducible
across machines) or the same training seconds (what a user gets in N minutes). Both are one
config key here, so every method config runs under either budget without being rewritten::

    python tools/train.py CONFIG --cfg-options train_cfg.max_iters=2000     # a step budget
    python tools/train.py CONFIG --cfg-options train_cfg.budget_s=600       # a time budget

The learning rate follows one cosine over the run's *progress* (the larger of the step and the
time fractions), so the schedule always ends with the budget, whatever a method's speed.
"""
from __future__ import annotations

import math
import time
from typing import Optional

import torch
from mmengine.dist import broadcast, get_world_size
from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop

from densekd.registry import LOOPS


def rank0_value(value: float, needed: bool = True) -> float:
    """Rank 0's ``value`` on every rank (``value`` itself in one process or if not ``needed``).

    Under a time budget the progress, hence every learning rate, follows the seconds spent;
    the ranks' clocks differ, so all of them use rank 0's.
    """
    if not needed or get_world_size() == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    broadcast(t, src=0)
    return float(t)


#: Runtime-info keys (saved in checkpoints by mmengine's message hub, so a resumed run keeps them):
#: the training seconds spent, and whether the checkpoint's iteration ends with a validation
#: (which a resumed run then repeats: the checkpoint is written before it).
SPENT_KEY = 'budget_loop.train_seconds'
EVAL_DUE_KEY = 'budget_loop.eval_due'


@LOOPS.register_module()
class BudgetTrainLoop(IterBasedTrainLoop):
    """Train until ``max_iters`` iterations or ``budget_s`` training seconds, whichever first.

    Training seconds count data loading, the train step and the hooks; validation is not
    counted. The iteration that exhausts the time budget becomes the last one (``max_iters`` is
    set to it before the iteration's hooks run), so checkpoint, logger and validation treat it
    as the end of training, as they would at ``max_iters``.

    Args:
        runner: the mmengine runner.
        dataloader: train dataloader (or its config).
        max_iters: iteration cap (the budget of a step-budget run).
        budget_s: training-time budget in seconds; None for a pure step budget.
        num_evals: validations spread evenly over the progress (the last one at the end), which
            give a learning curve; 1 evaluates once, at the end.
        lr_schedule: ``'cosine'``: every optimizer's learning rate is set before each iteration
            to ``eta_min + (lr0 - eta_min) * (1 + cos(pi * progress)) / 2`` (``lr0`` is each
            param group's ``initial_lr``, kept in the optimizer state, so resume is exact), and the
            config must have no ``param_scheduler``; None leaves the learning rates to the
            config's schedulers.
        eta_min: final learning rate of the cosine.
        val_begin: first iteration that may validate.
        val_interval: also validate every ``val_interval`` iterations (mmengine's meaning);
            None (default) validates at the evaluation points only.
    """

    def __init__(self, runner, dataloader, max_iters: int, budget_s: Optional[float] = None,
                 num_evals: int = 1, lr_schedule: Optional[str] = 'cosine',
                 eta_min: float = 1e-5, val_begin: int = 1,
                 val_interval: Optional[int] = None) -> None:
        if budget_s is not None and budget_s <= 0:
            raise ValueError(f'train_cfg.budget_s must be positive or None, got {budget_s}')
        if num_evals < 1:
            raise ValueError(f'train_cfg.num_evals must be >= 1, got {num_evals}')
        if lr_schedule not in ('cosine', None):
            raise ValueError(f"train_cfg.lr_schedule must be 'cosine' or None, got {lr_schedule!r}")
        # The base loop's interval validation is replaced by the evaluation points below.
        super().__init__(runner, dataloader, max_iters, val_begin=val_begin,
                         val_interval=10 ** 12)
        self.budget_s = None if budget_s is None else float(budget_s)
        self.num_evals = int(num_evals)
        self.lr_schedule = lr_schedule
        self.eta_min = float(eta_min)
        self.every = val_interval
        self.spent = 0.0
        self._mark = 0.0
        self._groups: list = []
        self._next_eval = 1
        self._eval_due = False

    # -- progress ---------------------------------------------------------------------------
    def progress(self, iters: Optional[int] = None) -> float:
        """Fraction of the budget used, in [0, 1]: steps or seconds, whichever is further.

        Args:
            iters: iterations done (default: the loop's count so far).
        """
        steps = (self._iter if iters is None else iters) / self._max_iters
        seconds = self.spent / self.budget_s if self.budget_s else 0.0
        return min(1.0, max(steps, seconds))

    def _tick(self) -> None:
        now = time.perf_counter()
        self.spent = rank0_value(self.spent + now - self._mark, self.budget_s is not None)
        self._mark = now
        self.runner.message_hub.update_info(SPENT_KEY, self.spent)

    # -- learning rate ----------------------------------------------------------------------
    def _collect_param_groups(self) -> None:
        if self.lr_schedule is None:
            return
        if self.runner.param_schedulers:
            raise ValueError("train_cfg.lr_schedule='cosine' (BudgetTrainLoop) sets the learning "
                             'rates itself; remove param_scheduler from the config, or set '
                             'train_cfg.lr_schedule=None')
        wrappers = self.runner.optim_wrapper
        wrappers = wrappers.values() if hasattr(wrappers, 'values') else [wrappers]
        self._groups = [g for w in wrappers for g in w.optimizer.param_groups]
        for group in self._groups:
            group.setdefault('initial_lr', group['lr'])

    def _set_learning_rates(self) -> None:
        scale = (1 + math.cos(math.pi * self.progress())) / 2
        for group in self._groups:
            group['lr'] = self.eta_min + (group['initial_lr'] - self.eta_min) * scale

    # -- the loop ---------------------------------------------------------------------------
    def run(self):
        """Launch training (mmengine's iteration loop with budget, LR and evaluation points)."""
        self.runner.call_hook('before_train')
        self.runner.call_hook('before_train_epoch')
        self._collect_param_groups()
        self.spent = float(self.runner.message_hub.get_info(SPENT_KEY, 0.0))
        self._next_eval = math.floor(self.progress() * self.num_evals) + 1
        self._mark = time.perf_counter()
        if self._iter > 0:
            print_log(f'resuming at iteration {self._iter} with {self.spent:.0f} s of the '
                      f'budget spent; advancing the dataloader {self._iter} batches',
                      logger='current')
            for _ in range(self._iter):
                next(self.dataloader_iterator)
            if self.runner.message_hub.get_info(EVAL_DUE_KEY, False):
                # The checkpoint was written just before this iteration's validation.
                print_log(f'resume: repeating the validation of iteration {self._iter}',
                          logger='current')
                self._mark = time.perf_counter()
                self._validate()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            if self._groups:
                self._set_learning_rates()
            data_batch = next(self.dataloader_iterator)
            self.run_iter(data_batch)
            if self._eval_due:
                self._validate()
        self.runner.call_hook('after_train_epoch')
        self.runner.call_hook('after_train')
        return self.runner.model

    def _validate(self) -> None:
        self._tick()  # the last iteration's hooks (checkpoint saving) are training time
        if self.runner.val_loop is not None and self._iter >= self.val_begin:
            self.runner.val_loop.run()
        self._next_eval = math.floor(self.progress() * self.num_evals) + 1
        self._mark = time.perf_counter()  # validation is not training time

    def run_iter(self, data_batch) -> None:
        """One iteration; the one that exhausts the time budget is made the last.

        The training time and whether the iteration ends with a validation are settled
        before the ``after_train_iter`` hooks, so a checkpoint they write holds both.
        """
        self.runner.call_hook('before_train_iter', batch_idx=self._iter, data_batch=data_batch)
        outputs = self.runner.model.train_step(data_batch, optim_wrapper=self.runner.optim_wrapper)
        self._tick()
        done = self._iter + 1
        if self.budget_s is not None and done < self._max_iters and self.spent >= self.budget_s:
            print_log(f'time budget of {self.budget_s:.0f} s reached at iteration {done}; '
                      f'this is the last one', logger='current')
            self._max_iters = done
        self._eval_due = (self.progress(done) * self.num_evals >= self._next_eval
                          or done >= self._max_iters
                          or (bool(self.every) and done % self.every == 0))
        self.runner.message_hub.update_info(EVAL_DUE_KEY, self._eval_due)
        self.runner.call_hook('after_train_iter', batch_idx=self._iter, data_batch=data_batch,
                              outputs=outputs)
        self._iter += 1
