"""Which checkpoint ``--resume`` (without a file) continues from.

mmengine follows ``<work_dir>/last_checkpoint`` blindly: a missing file means "start from
scratch" (logged as "latest checkpoint None"), and a name pointing at a truncated file fails
late or not at all. :func:`find_resume_checkpoint` instead checks every candidate with
:func:`densekd.utils.checkpoint.load_checkpoint` (which raises
:class:`~densekd.utils.checkpoint.CheckpointError` for a truncated or unreadable file):

1. the file ``last_checkpoint`` names, if it is a complete training checkpoint;
2. otherwise the newest complete ``iter_<N>.pth`` of the work dir (highest ``N``), every
   unusable one being logged by name;
3. otherwise None: training starts from scratch, which the caller says.

``last_checkpoint`` comes first because after a resume from an older checkpoint the work dir
may still hold newer files of the abandoned run.
"""
from __future__ import annotations

import glob
import logging
import os.path as osp
import re
from typing import List, Optional

from mmengine.logging import print_log

from densekd.utils.checkpoint import CheckpointError, load_checkpoint

#: The file mmengine's CheckpointHook writes the latest checkpoint's path to.
LAST_CHECKPOINT = 'last_checkpoint'
_ITER_RE = re.compile(r'^iter_(\d+)\.pth$')


def iteration_checkpoints(work_dir: str) -> List[str]:
    """The ``iter_<N>.pth`` files of ``work_dir``, newest (highest ``N``) first."""
    found = []
    for path in glob.glob(osp.join(glob.escape(work_dir), 'iter_*.pth')):
        match = _ITER_RE.match(osp.basename(path))
        if match and osp.isfile(path):
            found.append((int(match.group(1)), path))
    return [path for _, path in sorted(found, reverse=True)]


def read_last_checkpoint(work_dir: str) -> Optional[str]:
    """The path ``<work_dir>/last_checkpoint`` names, or None when there is none."""
    path = osp.join(work_dir, LAST_CHECKPOINT)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip() or None


def check_training_checkpoint(path: str) -> None:
    """Raise unless ``path`` is a complete, readable training checkpoint.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        CheckpointError: it is truncated, unreadable, refused, or holds no training state
            (``meta.iter`` and ``state_dict``).
    """
    checkpoint = load_checkpoint(path, map_location='cpu')
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or 'iter' not in meta or 'state_dict' not in checkpoint:
        raise CheckpointError(f'checkpoint {path} is not a training checkpoint (it has no '
                              f'meta.iter and state_dict to resume from)')


def _usable(path: str, note: str = '') -> bool:
    try:
        check_training_checkpoint(path)
    except (FileNotFoundError, CheckpointError) as e:
        print_log(f'resume: skipping {path}{note}: {e}', logger='current',
                  level=logging.WARNING)
        return False
    return True


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint to resume ``work_dir``'s run from, or None (see the module docstring).

    Args:
        work_dir: the run's work dir.

    Returns:
        The path of a complete training checkpoint, or None when there is none.
    """
    named = read_last_checkpoint(work_dir)
    if named is None:
        print_log(f'resume: no {LAST_CHECKPOINT} in {work_dir}; looking for iter_*.pth',
                  logger='current', level=logging.WARNING)
    elif _usable(named, f' (named by {LAST_CHECKPOINT})'):
        return named
    for path in iteration_checkpoints(work_dir):
        if named is not None and osp.abspath(path) == osp.abspath(named):
            continue  # already reported
        if _usable(path):
            print_log(f'resume: using {path}, the newest complete checkpoint',
                      logger='current')
            return path
    return None
