"""Benchmark suites: which method configs, teacher and budget make one table; cache keys.

A suite is a small mmengine config under ``configs/benchmarks/``::

    teacher = dict(name='teacher DeepLabV3+ R18', config='configs/teacher/....py')
    methods = [dict(name='KD-ORI', config='configs/kd/....py'), ...]
    budget_s = 300          # equal wall-clock seconds per row (or None)
    steps = None            # or equal iterations per row (train_cfg.max_iters)
    student_steps = None    # or equal student updates per row (iterations x model.student_steps)
    seeds = 3
    num_evals = 4           # evaluations per run: the learning curve
    lower, upper = 'blind KD', 'KD-ORI'   # "gap closed" = (row - lower) / (upper - lower)

A method may name its own ``baseline`` (another method, e.g. blind KD on the same OOD pool):
its gap closed is then measured from that row, and the table says whether it beats the
baseline by more than the two rows' standard deviations combined.

Every row is a config file that ``tools/train.py`` runs alone; the harness only adds the
command-line overrides it prints (teacher checkpoint, seed, budget), never rewrites a file.
"""
from __future__ import annotations

import hashlib
import os
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import List, Optional

from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_DEFAULTS = dict(budget_s=None, steps=None, student_steps=None, seeds=3, num_evals=4,
                 lower=None, upper=None, threads=1, parallel=None, description='')


def code_version() -> str:
    """A hash of the code a training run executes.

    Every ``densekd/**/*.py`` except the benchmark harness itself (``densekd/benchmark/``,
    which only schedules runs and draws their results), plus ``tools/train.py`` and
    ``tools/export_weights.py``. Cached teachers and rows are reused only while it is unchanged.
    """
    digest = hashlib.sha1()
    files = [osp.join(ROOT, 'tools', name) for name in ('train.py', 'export_weights.py')]
    for dirpath, dirnames, filenames in os.walk(osp.join(ROOT, 'densekd')):
        dirnames[:] = sorted(d for d in dirnames if d not in ('benchmark', '__pycache__'))
        files += [osp.join(dirpath, f) for f in sorted(filenames) if f.endswith('.py')]
    for path in files:
        digest.update(osp.relpath(path, ROOT).encode())
        with open(path, 'rb') as f:
            digest.update(f.read())
    return digest.hexdigest()[:12]


def config_key(config: str, options: dict, code: str) -> str:
    """A cache key of a config file (with its bases resolved), its overrides and the code."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    text = cfg.pretty_text + repr(sorted((k, repr(v)) for k, v in options.items())) + code
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def slug(name: str) -> str:
    """A file-system friendly form of a row name ('blind KD' -> 'blind_KD')."""
    return re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('_')


@dataclass
class Method:
    """One row of the table: a display name and the config that trains it."""
    name: str
    config: str
    data: Optional[str] = None  # overrides the data description derived from the config
    baseline: Optional[str] = None  # the row its gap closed and its margin are measured from


@dataclass
class Suite:
    """A loaded suite (see the module docstring)."""
    path: str
    teacher: Method
    methods: List[Method]
    budget_s: Optional[float] = None
    steps: Optional[int] = None
    student_steps: Optional[int] = None
    seeds: int = 3
    num_evals: int = 4
    lower: Optional[str] = None
    upper: Optional[str] = None
    threads: int = 1
    parallel: Optional[int] = None
    description: str = ''
    extra: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return osp.splitext(osp.basename(self.path))[0]


def load_suite(path: str) -> Suite:
    """Read a suite config; every config it names must exist.

    Raises:
        FileNotFoundError: the suite or one of its configs does not exist.
        ValueError: a required key is missing, names repeat, or the budget is unset.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'benchmark suite {path} does not exist '
                                f'(suites live in configs/benchmarks/)')
    cfg = Config.fromfile(path)
    for key in ('teacher', 'methods'):
        if key not in cfg:
            raise ValueError(f'benchmark suite {path}: missing key {key!r}')
    values = {k: cfg.get(k, v) for k, v in _DEFAULTS.items()}
    teacher = Method(**cfg.teacher)
    methods = [Method(**m) for m in cfg.methods]
    names = [m.name for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f'benchmark suite {path}: method names repeat: {names}')
    for m in [teacher] + methods:
        if not osp.isfile(osp.join(ROOT, m.config)):
            raise FileNotFoundError(f'benchmark suite {path}: config {m.config} of '
                                    f'{m.name!r} does not exist')
    for key in ('lower', 'upper'):
        if values[key] is not None and values[key] not in names:
            raise ValueError(f'benchmark suite {path}: {key}={values[key]!r} is not a method '
                             f'name ({names})')
    for m in methods:
        if m.baseline is not None and m.baseline not in names:
            raise ValueError(f'benchmark suite {path}: baseline={m.baseline!r} of {m.name!r} '
                             f'is not a method name ({names})')
    suite = Suite(path=path, teacher=teacher, methods=methods, **values)
    if suite.budget_s is None and suite.steps is None and suite.student_steps is None:
        raise ValueError(f'benchmark suite {path}: set budget_s (seconds), steps or '
                         f'student_steps')
    return suite
