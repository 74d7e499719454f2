"""The random streams as one value: capture, a weights-only round trip, restore."""
import random

import numpy as np
import pytest
import torch

from densekd.datasets.transforms import build_pipeline, find_pipelines
from densekd.utils.checkpoint import load_checkpoint
from densekd.utils.random_state import (capture_random_state, preserved_random_state,
                                        restore_random_state)

AUGMENT = [dict(type='HorizontalFlip', p=0.5), dict(type='RandomBrightnessContrast', p=0.5),
           dict(type='Normalize', mean=(0.5,) * 3, std=(0.5,) * 3)]


class Wrapped(torch.utils.data.Dataset):
    """A dataset whose pipeline sits one wrapper down (as ConcatDataset's would)."""

    def __init__(self):
        self.inner = [Plain(), Plain()]

    def __len__(self):
        return 2


class Plain(torch.utils.data.Dataset):
    def __init__(self):
        self.pipeline = build_pipeline(AUGMENT, seed=3)
        self.img_paths = ['a.png']

    def __len__(self):
        return 1


def draws(pipelines, image):
    return ([random.random(), float(np.random.rand()), float(torch.rand(()))]
            + [float(p(image)[0].sum()) for p in pipelines])


def test_state_survives_a_weights_only_checkpoint_and_continues_every_stream(tmp_path):
    pipelines = find_pipelines(Wrapped())
    assert len(pipelines) == 2
    image = np.random.default_rng(0).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    draws(pipelines, image)  # move every stream away from its seed
    torch.save({'random_state': capture_random_state(pipelines)}, tmp_path / 'ckpt.pth')
    expected = [draws(pipelines, image) for _ in range(5)]
    assert expected[0] != expected[1]
    state = load_checkpoint(str(tmp_path / 'ckpt.pth'))['random_state']  # weights-only
    restore_random_state(state, pipelines)
    assert [draws(pipelines, image) for _ in range(5)] == expected


def test_preserved_block_leaves_the_streams_and_mismatch_is_refused():
    pipelines = find_pipelines(Plain())
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    before = capture_random_state(pipelines)
    with preserved_random_state(pipelines):
        draws(pipelines, image)
    after_block = draws(pipelines, image)
    restore_random_state(before, pipelines)
    assert draws(pipelines, image) == after_block
    with pytest.raises(ValueError, match='2 augmentation pipelines'):
        restore_random_state(capture_random_state(pipelines * 2), pipelines)
