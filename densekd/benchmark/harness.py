"""Run a benchmark suite: cached teacher, every method × seed, then the results files.

Outputs under the work dir: ``results.json`` (every field of every row), ``results.md`` (the
table), ``miou.png`` (bars with error bars), ``curves.png`` (mIoU against steps and seconds),
``samples.png`` (image | ground truth | teacher | each student), and one folder per run.
"""
from __future__ import annotations

import math
import os
import os.path as osp
import platform
import shlex
import sys
import time
from typing import List, Optional

import torch
from mmengine.config import Config

from densekd.utils.atomic import write_json_atomic, write_text_atomic

from . import plots
from .jobs import Job, run_jobs
from .suite import ROOT, Suite, code_version, config_key, slug
from .table import (add_baseline_margins, add_gap_closed, describe_data, final_metrics, markdown,
                    method_row)

#: A step cap large enough that a time budget, not the cap, ends a run.
TIME_BUDGET_CAP = 10 ** 7


def teacher_job(suite: Suite, cache_dir: str, code: str) -> Job:
    """The teacher's training run, cached per teacher config and code version.

    After training, its segmentor is exported to ``teacher.pth`` (a plain state dict), the
    file every method's ``model.teacher.checkpoint`` points at.
    """
    key = config_key(suite.teacher.config, {}, code)
    stem = osp.splitext(osp.basename(suite.teacher.config))[0]
    work_dir = osp.join(cache_dir, f'{stem}-{key}')
    job = Job(name='teacher', seed=0, config=suite.teacher.config, work_dir=work_dir, options={},
              key=key, after=[export_teacher])
    job.weights = osp.join(work_dir, 'teacher.pth')
    return job


def given_teacher(checkpoint: str) -> Job:
    """A teacher the user brings (``--teacher``): nothing to train, keyed by its content."""
    import hashlib
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'--teacher: checkpoint {checkpoint} does not exist')
    digest = hashlib.sha1()
    with open(checkpoint, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    job = Job(name='teacher', seed=0, config='', work_dir=osp.dirname(osp.abspath(checkpoint)),
              options={}, key=digest.hexdigest()[:12], weights=osp.abspath(checkpoint))
    job.status, job.cached = 'done', True
    return job


def export_teacher(job: Job) -> List[str]:
    """The export command of a finished teacher run (``tools/export_weights.py``)."""
    return [sys.executable, 'tools/export_weights.py',
            osp.join(job.work_dir, _last_checkpoint(job.work_dir)), job.weights,
            '--net', 'segmentor']


def iterations_for(config: str, student_steps: int) -> int:
    """The iterations that give ``config`` at least ``student_steps`` student updates.

    An iteration of a generator regime takes ``model.student_steps`` student steps (KD: one).
    A staged regime (AuG-KD) trains its student only after ``model.stage_iters`` (a dict of
    stage lengths), which are added.
    """
    model = Config.fromfile(osp.join(ROOT, config)).model
    per_iter = model.get('student_steps', 1)
    if per_iter < 1:
        raise ValueError(f'{config}: model.student_steps={per_iter}; a student-step budget '
                         f'needs at least one student step per iteration')
    pre = sum(int(v) for v in (model.get('stage_iters') or {}).values())
    return math.ceil(student_steps / per_iter) + pre


def method_jobs(suite: Suite, out: str, teacher: Job, code: str, budget_s: Optional[float],
                steps: Optional[int], seeds: int, only: Optional[List[str]] = None,
                student_steps: Optional[int] = None) -> List[Job]:
    """One job per method and seed, with the suite's budget as command-line overrides.

    The budget is ``budget_s`` seconds (capped at ``steps`` iterations when both are given),
    ``steps`` iterations, or ``student_steps`` student updates (iterations per method from
    its ``model.student_steps``).
    """
    jobs = []
    for seed in range(seeds):
        for method in suite.methods:
            if only and method.name not in only:
                continue
            options = {'model.teacher.checkpoint': teacher.weights, 'randomness.seed': seed,
                       'train_cfg.num_evals': suite.num_evals}
            if budget_s is not None:
                options.update({'train_cfg.budget_s': budget_s,
                                'train_cfg.max_iters': steps or TIME_BUDGET_CAP})
            else:
                iters = steps or iterations_for(method.config, student_steps)
                options.update({'train_cfg.budget_s': None, 'train_cfg.max_iters': iters})
            key = config_key(method.config, dict(options, **{'teacher.key': teacher.key}), code)
            jobs.append(Job(name=method.name, seed=seed, config=method.config,
                            work_dir=osp.join(out, 'runs', slug(method.name), f'seed{seed}'),
                            options=options, key=key, budget_s=budget_s))
    return jobs


def run_suite(suite: Suite, out: str, budget_s: Optional[float] = None,
              steps: Optional[int] = None, seeds: Optional[int] = None, rerun: bool = False,
              parallel: Optional[int] = None, threads: Optional[int] = None,
              only: Optional[List[str]] = None, cache_dir: Optional[str] = None,
              teacher_checkpoint: Optional[str] = None, command: str = '',
              student_steps: Optional[int] = None) -> dict:
    """Run ``suite`` and write its results files under ``out``.

    Args:
        suite: the loaded suite.
        out: the work dir of the benchmark.
        budget_s: training seconds per run (overrides the suite's).
        steps: iterations per run (overrides the suite's; with ``budget_s`` it caps the run).
        seeds: seeds per row (overrides the suite's).
        rerun: run again even where a finished run with the same key exists.
        parallel: runs side by side (default: the CPU count divided by ``threads``).
        threads: threads per run.
        only: method names to run (others are left out of the table).
        cache_dir: where trained teachers are cached (default ``work_dirs/benchmarks/teachers``).
        teacher_checkpoint: use these teacher weights instead of training the suite's teacher
            (the teacher row then has no metrics of its own).
        command: the command line, recorded in the results.
        student_steps: student updates per run (overrides the suite's budget): the papers'
            framing, equal student steps whatever a method's iteration costs.

    Returns:
        The results (also written to ``results.json``).
    """
    t_start = time.time()
    if budget_s is None and steps is None and student_steps is None:
        budget_s, steps, student_steps = suite.budget_s, suite.steps, suite.student_steps
    seeds = seeds or suite.seeds
    threads = threads or suite.threads
    parallel = parallel or suite.parallel or max(1, (os.cpu_count() or 1) // threads)
    os.makedirs(out, exist_ok=True)
    code = code_version()
    cache_dir = cache_dir or osp.join(ROOT, 'work_dirs', 'benchmarks', 'teachers')
    if teacher_checkpoint:
        teacher = given_teacher(teacher_checkpoint)
    else:
        teacher = teacher_job(suite, cache_dir, code)
        # The teacher runs alone, with every core.
        run_jobs([teacher], parallel=1, threads=max(threads, os.cpu_count() or 1))
    if teacher.status != 'done':
        raise RuntimeError(f'the teacher failed to train; {teacher.error}')
    jobs = method_jobs(suite, out, teacher, code, budget_s, steps, seeds, only, student_steps)
    run_jobs(jobs, parallel=parallel, threads=threads, rerun=rerun)

    t_summary = teacher.summary()
    t_metrics = final_metrics(t_summary)
    teacher_cfg = Config.fromfile(osp.join(ROOT, suite.teacher.config))
    results = dict(
        suite=suite.name, description=suite.description, command=command,
        code_version=code, created=time.strftime('%Y-%m-%d %H:%M'),
        machine=f'{platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, '
                f'{parallel} runs side by side x {threads} thread(s)',
        budget=dict(seconds=budget_s, steps=steps, student_steps=student_steps), seeds=seeds,
        lower=suite.lower, upper=suite.upper,
        teacher=dict(method=suite.teacher.name, config=suite.teacher.config,
                     checkpoint=repo_relative(teacher.weights), key=teacher.key,
                     data=('given checkpoint' if teacher_checkpoint else
                           suite.teacher.data or describe_data(teacher_cfg) + ' + labels'),
                     miou=t_metrics.get('mIoU'),
                     per_class_iou={k[4:]: v for k, v in t_metrics.items()
                                    if k.startswith('IoU.')},
                     steps=t_summary.get('iter'), train_s=t_summary.get('train_seconds'),
                     peak_rss_mb=teacher.peak_rss_mb),
        rows=[])
    for method in suite.methods:
        mine = [j for j in jobs if j.name == method.name]
        if not mine:
            continue
        cfg = Config.fromfile(osp.join(ROOT, method.config))
        results['rows'].append(method_row(
            method.name, method.config, mine, method.data or describe_data(cfg),
            results['teacher']['miou'], budget_s, steps, student_steps))
        results['rows'][-1]['teacher'] = repo_relative(teacher.weights)
        results['rows'][-1]['baseline'] = method.baseline
    add_gap_closed(results['rows'], suite.lower, suite.upper)
    add_baseline_margins(results['rows'], suite.upper)
    results['wall_s'] = round(time.time() - t_start, 1)
    write_outputs(results, out, jobs, teacher)
    return results


def write_outputs(results: dict, out: str, jobs: List[Job], teacher: Job) -> None:
    """results.json, results.md and the three figures; a figure that fails is reported."""
    files = dict(json='results.json', md='results.md', bars='miou.png', curves='curves.png',
                 samples='samples.png')
    results['files'] = files
    write_json_atomic(osp.join(out, files['json']), results)
    write_text_atomic(osp.join(out, files['md']), markdown(results))
    plots.bar_chart(results, osp.join(out, files['bars']))
    plots.curves(results, osp.join(out, files['curves']))
    students = []
    for row in results['rows']:
        job = next((j for j in jobs if j.name == row['method'] and j.status == 'done'), None)
        if job is None:
            continue
        cfg = Config.fromfile(osp.join(ROOT, job.config))
        students.append((row['method'], cfg.model.student.to_dict(),
                         osp.join(job.work_dir, _last_checkpoint(job.work_dir))))
    if students:
        t_cfg = Config.fromfile(osp.join(ROOT, jobs[0].config))
        teacher_model = dict(t_cfg.model.teacher.to_dict(), checkpoint=teacher.weights)
        plots.sample_grid(teacher_model, t_cfg.test_dataloader.dataset.to_dict(), students,
                          osp.join(out, files['samples']),
                          data_norm=t_cfg.model.get('data_norm'))


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return osp.basename(f.read().strip())


def repo_relative(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (results files travel)."""
    rel = osp.relpath(path, ROOT)
    return path if rel.startswith('..') else rel


def format_command(argv: List[str]) -> str:
    """The benchmark's command line as a user would type it."""
    return ' '.join(shlex.quote(a) for a in ['python', 'tools/benchmark.py'] + argv)
