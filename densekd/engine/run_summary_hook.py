"""Write ``run_summary.json``: a run's progress, steps per player, losses and evaluations.

One small JSON file per run, rewritten atomically about once a second and at the end, that
tools read instead of parsing logs: ``tools/benchmark.py`` shows live progress from it and
builds its tables and learning curves from it.
"""
from __future__ import annotations

import json
import os.path as osp
import time
from typing import Dict, Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from densekd.registry import HOOKS
from densekd.utils.atomic import write_json_atomic

#: Runtime-info key of the per-player step counts (checkpointed with the message hub).
STEPS_KEY = 'run_summary.steps'
FILENAME = 'run_summary.json'


def _optim_wrappers(runner) -> Dict[str, object]:
    wrappers = runner.optim_wrapper
    if hasattr(wrappers, 'items'):
        return dict(wrappers.items())
    return {'model': wrappers}


@HOOKS.register_module()
class RunSummaryHook(Hook):
    """Keep ``<work_dir>/run_summary.json`` up to date.

    The file holds: ``iter``, ``max_iters``, ``budget_s``, ``train_seconds`` (without
    validation, as counted by :class:`~densekd.engine.BudgetTrainLoop`, else wall time),
    ``progress``, ``steps`` (optimizer steps per player, e.g. ``student`` and ``generator``),
    ``losses`` (the last iteration's, written at most every ``interval_s``), ``evals`` (one entry
    per validation: iteration, steps, seconds and all metrics) and ``finished``.

    Args:
        interval_s: minimum seconds between two rewrites during training.
    """

    priority = 'VERY_LOW'

    def __init__(self, interval_s: float = 1.0):
        self.interval_s = interval_s
        self._last_write = 0.0
        self._counts0: Dict[str, int] = {}
        self._steps0: Dict[str, int] = {}
        self._start = 0.0
        self.summary: dict = {}

    def _path(self, runner) -> str:
        return osp.join(runner.work_dir, FILENAME)

    def _steps(self, runner) -> Dict[str, int]:
        return {name: self._steps0.get(name, 0) + w._inner_count - self._counts0.get(name, 0)
                for name, w in _optim_wrappers(runner).items()}

    def _train_seconds(self, runner) -> float:
        loop = runner.train_loop
        if hasattr(loop, 'spent'):
            return float(loop.spent)
        return time.perf_counter() - self._start

    def _refresh(self, runner, losses: Optional[dict] = None, finished: bool = False,
                 iters: Optional[int] = None) -> None:
        if not is_main_process():
            return
        loop = runner.train_loop
        steps = self._steps(runner)
        runner.message_hub.update_info(STEPS_KEY, steps)
        self.summary.update(
            iter=loop.iter if iters is None else iters, max_iters=loop.max_iters,
            budget_s=getattr(loop, 'budget_s', None),
            train_seconds=round(self._train_seconds(runner), 3),
            progress=loop.progress() if hasattr(loop, 'progress') else loop.iter / loop.max_iters,
            steps=steps, finished=finished)
        if losses is not None:
            self.summary['losses'] = losses
        write_json_atomic(self._path(runner), self.summary)
        self._last_write = time.perf_counter()

    def before_train(self, runner) -> None:
        self._start = time.perf_counter()
        self._counts0 = {n: w._inner_count for n, w in _optim_wrappers(runner).items()}
        self._steps0 = dict(runner.message_hub.get_info(STEPS_KEY, {}) or {})
        path = self._path(runner)
        self.summary = dict(evals=[])
        if runner.iter > 0 and osp.isfile(path):  # resumed: keep the earlier evaluations
            with open(path) as f:
                self.summary['evals'] = [e for e in json.load(f).get('evals', [])
                                         if e['iter'] <= runner.iter]
        self.summary['experiment'] = runner.experiment_name
        self._refresh(runner)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if time.perf_counter() - self._last_write < self.interval_s:
            return
        # .item() syncs with the device: done here at most once per interval, never per step.
        losses = {k: float(v.detach()) if torch.is_tensor(v) else float(v)
                  for k, v in (outputs or {}).items() if 'loss' in k}
        # The loop counts this iteration only after its hooks.
        self._refresh(runner, losses, iters=runner.iter + 1)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # The checkpoint's message hub was copied before this iteration's refresh (the
        # checkpoint hook may run first): give it the step counts as of now.
        if self._counts0:
            checkpoint['message_hub']['runtime_info'][STEPS_KEY] = self._steps(runner)

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        if not self.summary:  # a test run (tools/test.py): no training to summarise
            return
        loop = runner.train_loop
        entry = dict(iter=loop.iter, train_seconds=round(self._train_seconds(runner), 3),
                     steps=self._steps(runner),
                     metrics={k: float(v) for k, v in (metrics or {}).items()})
        # A resumed run may repeat the validation its checkpoint was written before.
        self.summary['evals'] = [e for e in self.summary.get('evals', [])
                                 if e['iter'] != entry['iter']] + [entry]
        self._refresh(runner)

    def after_train(self, runner) -> None:
        self._refresh(runner, finished=True)
