"""Speed of one config: student steps/s and where an iteration's time goes.

``tools/benchmark.py --speed CONFIG...`` runs the real Runner for a few iterations (no
validation, no checkpoints) with timers wrapped around the players' methods of the built
model (nothing in the training code is timed or synchronised). Each region counts its own
time, without the regions nested in it:

* ``teacher``: teacher forward passes (with grad in a generator step: its backward belongs to
  the generator step);
* ``student``: student steps (forward, backward, optimizer), without teacher and generator
  (for a teacher's own training config: its train step);
* ``generator``: generator sampling and generator steps, without teacher forwards;
* ``discriminator``: discriminator steps;
* ``data``: waiting for the train loader (mmengine's ``data_time``);
* ``overhead``: the rest of the iteration (hooks, logging, the loop).
"""
from __future__ import annotations

import functools
import os.path as osp
import tempfile
import time
from collections import defaultdict
from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from .suite import ROOT

REGIONS = ('teacher', 'student', 'generator', 'discriminator')


class RegionTimer:
    """Exclusive wall time per named region; regions may nest."""

    def __init__(self):
        self.totals: Dict[str, float] = defaultdict(float)
        self._stack: List[list] = []

    def wrap(self, name: str, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def timed(*args, **kwargs):
            self._stack.append([time.perf_counter(), 0.0])
            try:
                return fn(*args, **kwargs)
            finally:
                start, children = self._stack.pop()
                spent = time.perf_counter() - start
                self.totals[name] += spent - children
                if self._stack:
                    self._stack[-1][1] += spent
        return timed

    def reset(self) -> None:
        self.totals.clear()


def instrument(model, timer: RegionTimer) -> None:
    """Wrap the players' methods of a built densekd algorithm with ``timer`` (in place)."""
    if hasattr(model, 'teacher'):
        model.teacher.forward = timer.wrap('teacher', model.teacher.forward)
    if hasattr(model, 'student_step'):  # generator regimes: each student update
        model.student_step = timer.wrap('student', model.student_step)
    else:  # KD (and a teacher's own training): the whole train step is the trained network's
        model.train_step = timer.wrap('student', model.train_step)
    for name in ('sample_images', 'generator_step'):
        if hasattr(model, name):
            setattr(model, name, timer.wrap('generator', getattr(model, name)))
    if hasattr(model, 'discriminator_step'):
        model.discriminator_step = timer.wrap('discriminator', model.discriminator_step)


def _random_teacher(cfg) -> str:
    """A checkpoint of the config's teacher with random weights (speed does not need trained ones)."""
    from densekd.algorithms.base import build_model
    teacher = {k: v for k, v in cfg.model.teacher.to_dict().items() if k != 'checkpoint'}
    path = osp.join(tempfile.mkdtemp(prefix='densekd_speed_'), 'teacher.pth')
    torch.save(build_model(teacher).state_dict(), path)
    return path


def speed_report(config: str, iters: int = 10, warmup: int = 3, threads: int = 2,
                 teacher: Optional[str] = None) -> dict:
    """Measure ``config`` for ``iters`` iterations after ``warmup``.

    Returns:
        ``config``, ``s_per_iter``, ``student_steps_per_iter``, ``student_steps_per_s``,
        ``breakdown_ms`` (per iteration, by region) and ``peak_rss_mb``.
    """
    import resource

    from mmengine.runner import Runner

    from densekd.utils.config import load_config
    torch.set_num_threads(threads)
    cfg = load_config(osp.join(ROOT, config) if not osp.isabs(config) else config,
                      work_dir=tempfile.mkdtemp(prefix='densekd_speed_'))
    cfg.log_level = 'WARNING'
    if 'teacher' in cfg.model:
        cfg.model.teacher.checkpoint = teacher or _random_teacher(cfg)
    cfg.train_cfg.max_iters = warmup + iters
    if cfg.train_cfg.get('type') == 'BudgetTrainLoop':
        cfg.train_cfg.budget_s = None
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.pop('run_summary', None)
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h['type'] != 'GeneratorSamplesHook']
    runner = Runner.from_cfg(cfg)
    timer = RegionTimer()
    instrument(runner.model, timer)
    counts: List[dict] = []

    def after_iter(*_args, **_kwargs):
        if runner.iter + 1 == warmup:  # the warm-up's regions do not count
            timer.reset()
        wrappers = runner.optim_wrapper
        counts.append({n: w._inner_count for n, w in wrappers.items()}
                      if hasattr(wrappers, 'items') else {'model': wrappers._inner_count})
    from mmengine.hooks import Hook
    hook = Hook()
    hook.after_train_iter = after_iter
    runner.register_hook(hook, priority='LOWEST')
    runner.train()
    times = np.asarray(runner.message_hub.get_scalar('train/time').data[0][warmup:])
    data = np.asarray(runner.message_hub.get_scalar('train/data_time').data[0][warmup:])
    s_per_iter = float(times.mean())
    student = 'student' if 'student' in counts[-1] else 'model'
    steps = (counts[-1][student] - counts[warmup - 1][student]) / iters
    breakdown = {name: 1000 * timer.totals.get(name, 0.0) / iters for name in REGIONS}
    breakdown['data'] = 1000 * float(data.mean())
    breakdown['overhead'] = 1000 * s_per_iter - sum(breakdown.values())
    return dict(config=config, threads=threads, s_per_iter=s_per_iter,
                student_steps_per_iter=steps, student_steps_per_s=steps / s_per_iter,
                breakdown_ms={k: round(v, 1) for k, v in breakdown.items()},
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def print_speed(rows: List[dict]) -> None:
    """One block per config: steps/s and the breakdown in ms and % of the iteration."""
    print(f'threads per run: {rows[0]["threads"] if rows else "-"}; ms per iteration')
    for row in rows:
        total = 1000 * row['s_per_iter']
        print(f'\n{osp.basename(row["config"])}: {row["s_per_iter"]:.3f} s/iter, '
              f'{row["student_steps_per_iter"]:.0f} student steps/iter, '
              f'{row["student_steps_per_s"]:.2f} student steps/s, peak RSS '
              f'{row["peak_rss_mb"]:.0f} MB')
        for name, ms in row['breakdown_ms'].items():
            print(f'  {name:<14} {ms:8.1f} ms  {100 * ms / total:5.1f}%')

