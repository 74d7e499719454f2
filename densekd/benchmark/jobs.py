"""Run training jobs side by side with a live status line each; cache finished ones.

A job is one ``tools/train.py`` command in its own work dir. It is *finished* when its
``run_summary.json`` says so and its ``job.json`` holds the same cache key; finished jobs are
skipped unless ``rerun``. A failed job is reported with the tail of its log and does not stop
the others.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from densekd.engine.run_summary_hook import FILENAME as SUMMARY
from densekd.utils.atomic import write_json_atomic

from .suite import ROOT

JOB_FILE = 'job.json'


@dataclass
class Job:
    """One training run.

    Attributes:
        name: row name shown in the status line, e.g. ``'MosaicKD'``.
        seed: the run's seed (``randomness.seed``).
        config: config file relative to the repository root.
        work_dir: where the run writes.
        options: ``--cfg-options`` overrides, ``key -> value``.
        key: cache key; a finished run with the same key is reused.
        budget_s: seconds shown in the status line (None for a step budget).
        weights: exported weights a teacher job leaves for the method runs.
        after: functions of the job returning a command to run after a successful training
            (e.g. an export); a failing command fails the job.
    """
    name: str
    seed: int
    config: str
    work_dir: str
    options: dict
    key: str
    budget_s: Optional[float] = None
    after: List[Callable[['Job'], List[str]]] = field(default_factory=list)
    weights: Optional[str] = None  # the exported weights, for a teacher job
    # filled in when run
    status: str = 'pending'
    cached: bool = False
    wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    error: str = ''

    @property
    def log_path(self) -> str:
        return osp.join(self.work_dir, 'train.log')

    def command(self) -> List[str]:
        """The ``tools/train.py`` command line (what a user types to reproduce the run)."""
        cmd = [sys.executable, 'tools/train.py', self.config, '--work-dir', self.work_dir]
        if self.options:
            cmd += ['--cfg-options'] + [f'{k}={_format(v)}' for k, v in self.options.items()]
        return cmd

    def summary(self) -> dict:
        """The run's ``run_summary.json`` (empty while it has none)."""
        return _read_json(osp.join(self.work_dir, SUMMARY))

    def record(self) -> dict:
        """What ``job.json`` keeps about a finished run (reused when cached)."""
        return _read_json(osp.join(self.work_dir, JOB_FILE))

    def is_finished(self) -> bool:
        record = self.record()
        return (record.get('key') == self.key and record.get('status') == 'done'
                and bool(self.summary().get('finished')))


def _read_json(path: str) -> dict:
    """A JSON file's content; empty when it is missing or half-written."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _format(value) -> str:
    if value is None:
        return 'None'
    if isinstance(value, str):
        return value
    return repr(value)


def status_line(job: Job) -> str:
    """``MosaicKD  seed 1  it 120  S 600 G 120  212/300 s  loss 0.412``."""
    info = job.summary()
    steps = info.get('steps', {})
    players = ' '.join(f'{n[0].upper()} {v}' for n, v in steps.items())
    spent = info.get('train_seconds', 0.0)
    budget = f'/{job.budget_s:.0f}' if job.budget_s else ''
    losses = info.get('losses', {})
    loss = next((v for k, v in losses.items() if k.endswith('student.loss') or k == 'loss'),
                next(iter(losses.values()), None))
    loss_s = f'  loss {loss:.4g}' if loss is not None else ''
    return (f'{job.name:<16} seed {job.seed}  it {info.get("iter", 0):>5}  {players:<22} '
            f'{spent:5.0f}{budget} s{loss_s}')


class _Display:
    """One live line per running job (redrawn in place on a terminal, else every 30 s)."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self._drawn = 0
        self._last_plain = 0.0

    def message(self, text: str) -> None:
        self._clear()
        print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.tty and self._drawn:
            self.stream.write('\x1b[F\x1b[2K' * self._drawn)
            self._drawn = 0

    def draw(self, lines: List[str]) -> None:
        if self.tty:
            self._clear()
            for line in lines:
                self.stream.write(line[:160] + '\n')
            self._drawn = len(lines)
            self.stream.flush()
        elif time.time() - self._last_plain >= 30 and lines:
            for line in lines:
                print('  ' + line, file=self.stream, flush=True)
            self._last_plain = time.time()


def _start(job: Job, threads: int) -> subprocess.Popen:
    shutil.rmtree(job.work_dir, ignore_errors=True)
    os.makedirs(job.work_dir)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               PYTHONUNBUFFERED='1')
    with open(job.log_path, 'w') as log:
        log.write('$ ' + ' '.join(job.command()) + '\n')
        log.flush()
        return subprocess.Popen(job.command(), cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)


def _poll(proc: subprocess.Popen) -> Optional[tuple]:
    """None while ``proc`` runs; then its exit code and its own peak RSS in MB (``wait4``)."""
    pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    if pid == 0:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024


def _tail(path: str, lines: int = 12) -> str:
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def _finish(job: Job, code: int, threads: int) -> None:
    if code == 0:
        for make_command in job.after:
            cmd = make_command(job)
            done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                  env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
            if done.returncode != 0:
                code = done.returncode
                job.error = f'$ {" ".join(cmd)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}'
                break
    if code == 0 and not job.summary().get('finished'):
        code, job.error = 1, f'{SUMMARY} does not say the run finished'
    job.status = 'done' if code == 0 else 'failed'
    if code != 0 and not job.error:
        job.error = f'exit {code}; last lines of {job.log_path}:\n{_tail(job.log_path)}'
    write_json_atomic(osp.join(job.work_dir, JOB_FILE), dict(
        key=job.key, status=job.status, command=job.command(), wall_s=round(job.wall_s, 1),
        peak_rss_mb=round(job.peak_rss_mb, 1), error=job.error))


def run_jobs(jobs: List[Job], parallel: int, threads: int, rerun: bool = False,
             display: Optional[_Display] = None) -> List[Job]:
    """Run ``jobs`` with at most ``parallel`` at once, ``threads`` threads each.

    Finished jobs with the same key are reused (``cached``) unless ``rerun``.

    Returns:
        The jobs, each with ``status`` ``'done'`` or ``'failed'`` and its measurements.
    """
    display = display or _Display()
    queue: List[Job] = []
    for job in jobs:
        if not rerun and job.is_finished():
            record = job.record()
            job.status, job.cached = 'done', True
            job.wall_s, job.peak_rss_mb = record.get('wall_s', 0.0), record.get('peak_rss_mb', 0.0)
            display.message(f'cached: {job.name} seed {job.seed} ({job.work_dir})')
        else:
            queue.append(job)
    running: dict = {}
    while queue or running:
        while queue and len(running) < parallel:
            job = queue.pop(0)
            display.message('$ ' + ' '.join(job.command()[1:]))
            running[job.name, job.seed, job.work_dir] = (job, _start(job, threads), time.time())
        time.sleep(1.0)
        for slot, (job, proc, t0) in list(running.items()):
            ended = _poll(proc)
            if ended is None:
                continue
            code, job.peak_rss_mb = ended
            job.wall_s = time.time() - t0
            _finish(job, code, threads)
            del running[slot]
            msg = 'done' if job.status == 'done' else 'FAILED'
            display.message(f'{msg}: {job.name} seed {job.seed} in {job.wall_s:.0f} s'
                            + (f'\n{job.error}' if job.status == 'failed' else ''))
        display.draw([status_line(job) for job, _, _ in running.values()])
    return jobs
