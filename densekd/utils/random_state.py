"""The process's random streams as one plain value: capture, restore, or leave untouched.

The streams are Python's ``random``, numpy's global generator, torch's CPU generator (and the
CUDA generators once CUDA is in use) and, optionally, albumentations pipelines
(:class:`densekd.datasets.transforms.AlbuPipeline`, which keep generators of their own). The
captured state holds tensors, lists and numbers only, so it loads weights-only from a
checkpoint.
"""
from __future__ import annotations

import contextlib
import random
from typing import Iterator, Sequence

import numpy as np
import torch


def capture_random_state(pipelines: Sequence = ()) -> dict:
    """The current position of every random stream.

    Args:
        pipelines: albumentations pipelines whose streams are captured too (objects with
            ``get_random_state()``).

    Returns:
        A dict for :func:`restore_random_state`.
    """
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    cuda = []
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        cuda = torch.cuda.get_rng_state_all()
    return dict(python=random.getstate(),
                numpy=[name, keys.tolist(), int(pos), int(has_gauss), float(gauss)],
                torch=torch.get_rng_state(), cuda=cuda,
                pipelines=[p.get_random_state() for p in pipelines])


def restore_random_state(state: dict, pipelines: Sequence = ()) -> None:
    """Put every stream back where :func:`capture_random_state` found it.

    Args:
        state: a captured state.
        pipelines: the pipelines, in the order they were captured.

    Raises:
        ValueError: the number of pipelines differs from the captured one.
    """
    saved = state.get('pipelines', [])
    if len(saved) != len(pipelines):
        raise ValueError(f'the random state holds {len(saved)} augmentation pipelines, '
                         f'the dataset has {len(pipelines)}')
    random.setstate(state['python'])
    name, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    # A checkpoint resumed on a GPU is loaded onto it; generator states are CPU byte tensors.
    torch.set_rng_state(state['torch'].cpu())
    if state.get('cuda') and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state['cuda']])
    for pipeline, pipeline_state in zip(pipelines, saved):
        pipeline.set_random_state(pipeline_state)


@contextlib.contextmanager
def preserved_random_state(pipelines: Sequence = ()) -> Iterator[None]:
    """Run a block without moving any random stream (they are restored when it ends)."""
    state = capture_random_state(pipelines)
    try:
        yield
    finally:
        restore_random_state(state, pipelines)
