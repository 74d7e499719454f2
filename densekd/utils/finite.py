"""Non-finite values: find them in named tensors, and say which checkpoint is still good.

Used by the loss guard of the algorithms (:mod:`densekd.algorithms.base`), by
:class:`~densekd.engine.FiniteCheckHook` (weights, buffers and optimizer state) and by
``tools/train.py`` to end a run that stopped on a NaN/inf with a message that is true.
"""
from __future__ import annotations

import os.path as osp
from typing import Iterable, List, Mapping, Optional, Tuple

import torch


def iter_tensors(obj, prefix: str = '') -> Iterable[Tuple[str, torch.Tensor]]:
    """``(dotted name, tensor)`` of every tensor nested in dicts, lists and tuples of ``obj``."""
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from iter_tensors(value, f'{prefix}.{key}' if prefix else str(key))
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from iter_tensors(value, f'{prefix}.{i}' if prefix else str(i))


def non_finite(named: Iterable[Tuple[str, torch.Tensor]]) -> List[Tuple[str, int]]:
    """The floating-point tensors of ``named`` holding NaN/inf, with their count of such values.

    Args:
        named: ``(name, tensor)`` pairs, e.g. ``model.named_parameters()``; integer tensors
            (counters, indices) are skipped.

    Returns:
        ``[(name, number of non-finite values), ...]`` in the order given; empty when all
        values are finite.
    """
    named = [(n, t.detach()) for n, t in named if torch.is_floating_point(t)]
    if not named:
        return []
    # Fast path, one host sync: a tensor's sum is finite when all its values are (and, rarely,
    # overflows when they are huge but finite, which the exact count below then clears).
    sums = torch.stack([t.sum(dtype=torch.float64 if t.dtype == torch.float64 else torch.float32)
                        .to(named[0][1].device) for _, t in named])
    if bool(torch.isfinite(sums).all()):
        return []
    counts = [(n, int((~torch.isfinite(t)).sum())) for n, t in named]
    return [(n, c) for n, c in counts if c]


def describe(bad: List[Tuple[str, int]], limit: int = 3) -> str:
    """``'student.conv.weight (543 non-finite values), ...'`` for the first ``limit`` entries."""
    text = ', '.join(f'{name} ({count} non-finite value{"s" if count != 1 else ""})'
                     for name, count in bad[:limit])
    more = len(bad) - limit
    return text + (f' and {more} more tensor{"s" if more != 1 else ""}' if more > 0 else '')


def last_saved_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint mmengine's ``CheckpointHook`` last finished writing in ``work_dir``.

    mmengine records it in ``<work_dir>/last_checkpoint`` after each save (``--resume``
    without a value reads the same file); None when there is none or the file it names is gone.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(record):
        return None
    with open(record) as f:
        path = f.read().strip()
    return path if path and osp.isfile(path) else None


def stopped_message(error: BaseException, work_dir: str) -> str:
    """``error``'s message followed by the checkpoint a stopped run can resume from.

    Every checkpoint densekd writes was checked finite before saving
    (:class:`~densekd.engine.FiniteCheckHook`), so the last saved one is a good one.
    """
    last = last_saved_checkpoint(work_dir)
    where = (f'the last good checkpoint (saved with finite weights) is {last}' if last else
             f'no checkpoint was saved in {work_dir}')
    return f'training stopped: {error}; {where}'
