"""Tests for densekd.datasets.transforms (albumentations pipelines)."""
import functools
import multiprocessing

import albumentations as A
import numpy as np
import pytest
import torch
from albumentations.pytorch import ToTensorV2
from torch.utils.data import DataLoader, Dataset

from densekd.datasets.transforms import AlbuPipeline, build_pipeline

NORM = dict(type='Normalize', mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))


def _image(h=32, w=32, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_basic_pipeline_types_and_values():
    img = _image()
    mask = np.random.default_rng(1).integers(0, 13, (32, 32), dtype=np.uint8)
    pipe = build_pipeline([dict(type='Resize', height=16, width=24), NORM])
    x, y = pipe(img, mask)
    assert x.dtype == torch.float32 and x.shape == (3, 16, 24)
    assert y.dtype == torch.int64 and y.shape == (16, 24)
    assert -1.0 <= x.min() and x.max() <= 1.0
    assert set(y.unique().tolist()) <= set(range(13))  # nearest interpolation for masks


def test_normalize_matches_formula_and_no_mask():
    img = _image(8, 8)
    x, y = build_pipeline([NORM])(img)
    assert y is None
    expected = (img.astype(np.float32) / 255 - 0.5) / 0.5
    np.testing.assert_allclose(x.permute(1, 2, 0).numpy(), expected, atol=1e-5)


def test_empty_pipeline_gives_float_0_255():
    img = _image(4, 4)
    x, _ = build_pipeline(None)(img)
    assert x.dtype == torch.float32
    np.testing.assert_array_equal(x.permute(1, 2, 0).numpy(), img.astype(np.float32))


def test_pad_if_needed_fills_mask_with_255_and_image_with_0():
    img = np.full((20, 30, 3), 200, np.uint8)
    mask = np.full((20, 30), 3, np.uint8)
    x, y = build_pipeline([dict(type='PadIfNeeded', min_height=40, min_width=50)])(img, mask)
    assert y.shape == (40, 50)
    assert (y == 255).sum() == 40 * 50 - 20 * 30
    assert (y == 3).sum() == 20 * 30
    assert (y == 0).sum() == 0
    assert (x[:, y == 255] == 0).all() and (x[:, y == 3] == 200).all()


def test_random_crop_pad_if_needed_and_rotate_fill_255():
    img = _image(10, 10)
    mask = np.zeros((10, 10), np.uint8)
    _, y = build_pipeline([dict(type='RandomCrop', height=16, width=16, pad_if_needed=True)])(
        img, mask)
    assert (y == 255).sum() == 16 * 16 - 100
    _, y = build_pipeline([dict(type='Rotate', limit=(45, 45), p=1.0)])(img, mask)
    assert (y == 255).any()


def test_explicit_fill_mask_is_kept():
    mask = np.ones((4, 4), np.uint8)
    _, y = build_pipeline([dict(type='PadIfNeeded', min_height=8, min_width=8, fill_mask=7)])(
        _image(4, 4), mask)
    assert set(y.unique().tolist()) == {1, 7}


@pytest.mark.parametrize('bad, good', [('value', 'fill'), ('mask_value', 'fill_mask')])
def test_albumentations_1x_pad_names_rejected(bad, good):
    with pytest.raises(ValueError, match=f'PadIfNeeded.*{bad}.*"{good}"'):
        build_pipeline([dict(type='PadIfNeeded', min_height=8, min_width=8, **{bad: 255})])


def test_unknown_type_and_argument_rejected():
    with pytest.raises(ValueError, match='NoSuchTransform'):
        build_pipeline([dict(type='NoSuchTransform')])
    with pytest.raises(ValueError, match='HorizontalFlip.*bogus'):
        build_pipeline([dict(type='HorizontalFlip', bogus=1)])
    with pytest.raises(ValueError, match='"type"'):
        build_pipeline([dict(p=0.5)])
    with pytest.raises(ValueError, match='RandomResizedCrop'):  # 1.x positional-style sizes
        build_pipeline([dict(type='RandomResizedCrop', height=8, width=8)])


def test_nested_transforms_built_recursively():
    pipe = build_pipeline([dict(type='OneOf', p=1.0, transforms=[
        dict(type='PadIfNeeded', min_height=8, min_width=8)])])
    _, y = pipe(_image(4, 4), np.zeros((4, 4), np.uint8))
    assert (y == 255).sum() == 64 - 16


def test_seed_makes_stream_reproducible():
    cfg = [dict(type='RandomCrop', height=8, width=8)]
    img = _image(64, 64)
    p1, p2, p3 = (build_pipeline(cfg, seed=s) for s in (3, 3, 4))
    s1 = torch.stack([p1(img)[0] for _ in range(5)])
    s2 = torch.stack([p2(img)[0] for _ in range(5)])
    s3 = torch.stack([p3(img)[0] for _ in range(5)])
    assert torch.equal(s1, s2) and not torch.equal(s1, s3)


# --- per-worker reseeding -------------------------------------------------------------------

class _CropDataset(Dataset):
    """Every item is a random 8x8 crop of the same 64x64 noise image."""

    def __init__(self, pipeline):
        self.pipeline = pipeline
        self.img = _image(64, 64)

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        return self.pipeline(self.img)[0]


def _epoch(ds, **kw):
    loader = DataLoader(ds, batch_size=2, num_workers=2, multiprocessing_context='fork', **kw)
    # batches alternate between worker 0 and worker 1
    return [b for b in loader]


fork_only = pytest.mark.skipif('fork' not in multiprocessing.get_all_start_methods(),
                               reason='needs the fork start method')


@fork_only
def test_workers_and_epochs_get_different_streams():
    ds = _CropDataset(build_pipeline([dict(type='RandomCrop', height=8, width=8)]))
    torch.manual_seed(0)
    e1 = _epoch(ds)
    e2 = _epoch(ds)
    assert not torch.equal(e1[0], e1[1]), 'worker 0 and worker 1 repeated the same crops'
    assert not torch.equal(torch.stack(e1), torch.stack(e2)), 'epoch 2 repeated epoch 1'
    torch.manual_seed(0)
    assert torch.equal(torch.stack(e1), torch.stack(_epoch(ds))), 'not reproducible'


@fork_only
def test_reseeding_survives_mmengine_worker_init_fn():
    from mmengine.dataset.utils import worker_init_fn

    ds = _CropDataset(build_pipeline([dict(type='RandomCrop', height=8, width=8)]))
    init = functools.partial(worker_init_fn, num_workers=2, rank=0, seed=0)
    e1, e2 = _epoch(ds, worker_init_fn=init), _epoch(ds, worker_init_fn=init)
    assert not torch.equal(e1[0], e1[1])
    assert not torch.equal(torch.stack(e1), torch.stack(e2))


@fork_only
def test_plain_compose_repeats_stream_in_workers():
    """Documents the albumentations 2.0.8 behaviour the reseeding fixes (test has teeth)."""
    compose = A.Compose([A.RandomCrop(height=8, width=8), ToTensorV2()])

    ds = _CropDataset(lambda img: (compose(image=img)['image'], None))
    e1 = _epoch(ds)
    assert torch.equal(e1[0], e1[1])
    # the same compose wrapped by AlbuPipeline does not
    ds = _CropDataset(AlbuPipeline(compose))
    e1 = _epoch(ds)
    assert not torch.equal(e1[0], e1[1])


@pytest.mark.parametrize('shape', [(48, 64), (96, 128)])
def test_random_resized_crop_keep_size_is_the_fixed_size_crop(shape):
    """Same draws and pixels as RandomResizedCrop(size=the image's size), at any image size."""
    img = _image(*shape, seed=3)
    mask = np.random.default_rng(4).integers(0, 13, shape, dtype=np.uint8)
    args = dict(scale=(0.5, 1.0), ratio=(1.2, 1.45))
    keep = build_pipeline([dict(type='RandomResizedCropKeepSize', **args)], seed=7)
    fixed = build_pipeline([dict(type='RandomResizedCrop', size=shape, **args)], seed=7)
    changed = False
    for _ in range(6):
        (xk, yk), (xf, yf) = keep(img, mask), fixed(img, mask)
        assert xk.shape == (3, *shape) and yk.shape == shape
        assert torch.equal(xk, xf) and torch.equal(yk, yf)
        changed |= not torch.equal(xk, torch.from_numpy(img).permute(2, 0, 1).float())
    assert changed  # it really crops


def test_random_resized_crop_keep_size_refuses_a_size():
    with pytest.raises(ValueError, match='RandomResizedCropKeepSize'):
        build_pipeline([dict(type='RandomResizedCropKeepSize', size=(8, 8))])


def test_random_state_round_trip_with_nested_function_lists():
    """ColorJitter keeps a list of functions in ``transforms``; the state walk must skip it."""
    pipe = build_pipeline([
        dict(type='RandomResizedCropKeepSize', scale=(0.5, 1.0), ratio=(1.2, 1.45)),
        dict(type='HorizontalFlip', p=0.5),
        dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02, p=0.5),
        dict(type='Normalize')], seed=3)
    image = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    state = pipe.get_random_state()
    first = [pipe(image)[0] for _ in range(4)]
    pipe.set_random_state(state)
    again = [pipe(image)[0] for _ in range(4)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not torch.equal(first[0], first[1])
