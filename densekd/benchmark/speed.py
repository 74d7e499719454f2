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
    if hasattr(model, 'kd_step'):  # generator regimes: each student update
        model.kd_step = timer.wrap('student', model.kd_step)
    else:  # KD (and a teacher's own training): the whole train step is the trained network's
        model.train_step = timer.wrap('student', model.train_step)
    for name in ('sample_images', 'generator_step'):
        if hasattr(model, name):
            setattr(model, name, timer.wrap('generator', getattr(model, name)))
    if hasattr(model, 'discriminator_step'):
        model.discriminator_step = timer.wrap('discriminator', model.discriminator_step)


def _random_teacher(cfg) -> str:
    """A checkpoint of the config's teacher with random weights (speed needs no trained ones)."""
    from densekd.algorithms.base import build_model
    teacher = {k: v for k, v in cfg.model.teacher.to_dict().items() if k != 'checkpoint'}
    path = osp.join(tempfile.mkdtemp(prefix='densekd_speed_'), 'teacher.pth')
    torch.save(build_model(teacher).state_dict(), path)
    return path


def _median_seconds(fn: Callable, repeats: int = 5) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def mosaickd_passes(model, ood_batch: int, repeats: int = 5) -> Dict[str, float]:
    """Seconds of each pass of a MosaicKD iteration, every pass measured alone.

    With ``b`` generated images and OOD chunks of ``c = ood_batch / (1 + k)`` images, one
    iteration is: G forward+backward (b); D train step (b fake + c real); in the G step the
    backward through T, S and D to their inputs (b each); then ``k`` times G forward without
    grad (b), T forward (b + c) and an S train step (b + c). Optimizer steps of G, D and S are
    included in their train passes.

    Returns:
        Seconds per pass, and ``sum``: the iteration's passes added up.
    """
    b, k = model.batch_size, model.student_steps
    c = ood_batch // (1 + k)
    z = model.generator.sample_latent(b, image_size=model.image_size)
    with torch.no_grad():
        fake = model.sample_images(b, ood=None if not model.generator_needs_sources
                                   else torch.zeros(c, 3, *model.image_size))
    h, w = fake.shape[-2:]
    mixed = torch.randn(b + c, 3, h, w)
    opt = {n: torch.optim.Adam(getattr(model, n).parameters(), lr=1e-6)
           for n in ('student', 'generator', 'discriminator')}

    def train(net: str, x: torch.Tensor):
        def step():
            opt[net].zero_grad()
            getattr(model, net)(x).float().mean().backward()
            opt[net].step()
        return step

    def to_input(net: str, x: torch.Tensor):
        def step():
            xi = x.clone().requires_grad_(True)
            getattr(model, net)(xi).float().mean().backward()
        return step

    def gen_train():
        opt['generator'].zero_grad()
        model.generator(z).mean().backward()
        opt['generator'].step()

    def no_grad(fn):
        def step():
            with torch.no_grad():
                fn()
        return step

    real = torch.randn(c, 3, h, w)
    passes = dict(
        generator_train=_median_seconds(gen_train, repeats),
        discriminator_train=_median_seconds(train('discriminator', torch.cat([fake, real])),
                                            repeats),
        teacher_to_input=_median_seconds(to_input('teacher', fake), repeats),
        student_to_input=_median_seconds(to_input('student', fake), repeats),
        discriminator_to_input=_median_seconds(to_input('discriminator', fake), repeats),
        generator_forward=_median_seconds(no_grad(lambda: model.generator(z)), repeats),
        teacher_forward=_median_seconds(no_grad(lambda: model.teacher(mixed)), repeats),
        student_train=_median_seconds(train('student', mixed), repeats))
    once = ('generator_train', 'discriminator_train', 'teacher_to_input', 'student_to_input',
            'discriminator_to_input')
    per_step = ('generator_forward', 'teacher_forward', 'student_train')
    passes['sum'] = sum(passes[n] for n in once) + k * sum(passes[n] for n in per_step)
    return passes


def format_table(cfg, batch: int = 16, repeats: int = 5) -> List[dict]:
    """Teacher forward (no grad) and student train step in fp32 / channels-last / bf16 autocast.

    The measurement behind a memory-format or precision choice: a mode is worth using only
    where it is faster on the machine at hand (and the students' mIoU stays within the seed
    spread).
    """
    from densekd.algorithms.base import build_model
    h, w = _input_size(cfg)
    nets = {name: build_model({k: v for k, v in cfg.model[name].to_dict().items()
                               if k != 'checkpoint'}) for name in ('teacher', 'student')}
    rows = []
    for channels_last in (False, True):
        for bf16 in (False, True):
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            x = torch.randn(batch, 3, h, w).contiguous(memory_format=fmt)
            teacher = nets['teacher'].eval().to(memory_format=fmt)
            student = nets['student'].train().to(memory_format=fmt)
            opt = torch.optim.AdamW(student.parameters(), lr=1e-6)
            autocast = functools.partial(torch.autocast, 'cpu', dtype=torch.bfloat16,
                                         enabled=bf16)

            def forward():
                with torch.no_grad(), autocast():
                    teacher(x)

            def train_step():
                opt.zero_grad()
                with autocast():
                    loss = student(x).float().mean()
                loss.backward()
                opt.step()
            rows.append(dict(channels_last=channels_last, bf16=bf16,
                             teacher_forward_ms=1000 * _median_seconds(forward, repeats),
                             student_train_ms=1000 * _median_seconds(train_step, repeats)))
    return rows


def _input_size(cfg) -> tuple:
    for t in cfg.train_dataloader.dataset.get('pipeline', []) or []:
        if 'size' in t:
            return tuple(t['size'])
    crop = cfg.train_dataloader.dataset.get('crop_size')
    return tuple(crop) if crop else (96, 128)


def speed_report(config: str, iters: int = 10, warmup: int = 3, threads: int = 2,
                 teacher: Optional[str] = None, formats: bool = False,
                 cfg_options: Optional[dict] = None) -> dict:
    """Measure ``config`` for ``iters`` iterations after ``warmup``.

    Returns:
        ``config``, ``s_per_iter``, ``student_steps_per_iter``, ``student_steps_per_s``,
        ``breakdown_ms`` (per iteration, by region) and ``peak_rss_mb``.
    """
    import resource

    from mmengine.runner import Runner

    from densekd.utils.config import load_config
    torch.set_num_threads(threads)
    cfg = load_config(osp.join(ROOT, config) if not osp.isabs(config) else config, cfg_options,
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
    passes = None
    if type(runner.model).__name__ == 'MosaicKD':
        passes = mosaickd_passes(runner.model, cfg.train_dataloader.batch_size)
    table = format_table(cfg) if formats and 'teacher' in cfg.model else None
    return dict(formats=table, passes_alone_s=passes,
                iteration_over_passes=None if passes is None else s_per_iter / passes['sum'],
                config=config, threads=threads, s_per_iter=s_per_iter,
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
        if row.get('passes_alone_s'):
            passes = row['passes_alone_s']
            print('  passes measured alone: ' + ', '.join(
                f'{k} {1000 * v:.0f} ms' for k, v in passes.items() if k != 'sum'))
            print(f'  iteration / sum of its passes alone = {1000 * row["s_per_iter"]:.0f} / '
                  f'{1000 * passes["sum"]:.0f} ms = {row["iteration_over_passes"]:.2f}')


def print_formats(rows: List[dict]) -> None:
    """The fp32 / channels-last / bf16 table of each config that has one."""
    for row in rows:
        if not row.get('formats'):
            continue
        print(f'\n{osp.basename(row["config"])}: batch 16, {row["threads"]} threads, ms '
              f'(median of 5)')
        print(f'  {"format":<22} {"teacher forward":>16} {"student train step":>19}')
        base = row['formats'][0]
        for f in row['formats']:
            name = ('bf16 autocast' if f['bf16'] else 'fp32') + (
                ' + channels-last' if f['channels_last'] else '')
            t, st = f['teacher_forward_ms'], f['student_train_ms']
            t_gain, s_gain = base['teacher_forward_ms'] / t, base['student_train_ms'] / st
            print(f'  {name:<22} {t:9.0f} ({t_gain:.2f}x) {st:11.0f} ({s_gain:.2f}x)')
