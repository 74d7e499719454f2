"""Tests for densekd.datasets.nyuv2 on tiny files in the VainF layout."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from densekd.datasets.nyuv2 import (NYU40_CLASSES, NYUV2_CLASSES, NYUV2_PALETTE, DatasetError,
                                    DatasetNotFoundError, NYUv2Dataset)
from densekd.registry import DATASETS

H, W = 24, 32


def _write_rgb(path, rgb):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _write_label(path, lbl):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), lbl)


def make_nyu(root, split='train', n=3, label_dir='seg13', num_classes=13, size=(H, W)):
    """Write n image/label pairs; returns the (rgb, label) arrays."""
    rng = np.random.default_rng(0)
    pairs = []
    for i in range(n):
        rgb = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        lbl = rng.integers(0, num_classes, size, dtype=np.uint8)
        lbl[0, :] = 255
        name = f'{i + 1:05d}.png'
        _write_rgb(root / 'image' / split / name, rgb)
        _write_label(root / label_dir / split / name, lbl)
        pairs.append((rgb, lbl))
    return pairs


def test_items_shapes_values_and_default_normalisation(tmp_path):
    pairs = make_nyu(tmp_path)
    ds = NYUv2Dataset(tmp_path, split='train')
    assert len(ds) == 3 and ds.num_classes == 13
    item = ds[1]
    assert set(item) == {'inputs', 'seg', 'img_path'}
    assert item['inputs'].dtype == torch.float32 and item['inputs'].shape == (3, H, W)
    assert item['seg'].dtype == torch.int64 and item['seg'].shape == (H, W)
    assert item['img_path'].endswith('image/train/00002.png')
    rgb, lbl = pairs[1]
    np.testing.assert_array_equal(item['seg'].numpy(), lbl)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    expected = (rgb / 255.0 - mean) / std  # RGB order, ImageNet statistics
    np.testing.assert_allclose(item['inputs'].permute(1, 2, 0).numpy(), expected, atol=1e-4)


def test_classes_palette_and_metainfo(tmp_path):
    assert NYUV2_CLASSES == ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture', 'objects',
                             'picture', 'sofa', 'table', 'tv', 'wall', 'window')
    assert NYUV2_PALETTE == ((128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128),
                             (0, 128, 128), (128, 128, 128), (64, 0, 0), (192, 0, 0),
                             (64, 128, 0), (192, 128, 0), (64, 0, 128), (192, 0, 128))
    make_nyu(tmp_path)
    ds = NYUv2Dataset(tmp_path)
    assert ds.metainfo == NYUv2Dataset.METAINFO == dict(classes=NYUV2_CLASSES,
                                                        palette=NYUV2_PALETTE)
    ds.metainfo['classes'] = ()  # a copy: callers cannot corrupt the dataset's metainfo
    assert ds.metainfo['classes'] == NYUV2_CLASSES


def test_seg40_and_custom_label_dir(tmp_path):
    make_nyu(tmp_path, label_dir='seg40', num_classes=40)
    ds = NYUv2Dataset(tmp_path, label_dir='seg40')
    assert ds.num_classes == 40 and ds.metainfo['classes'] == NYU40_CLASSES
    assert len(ds.metainfo['palette']) == 40
    assert ds[0]['seg'].max() <= 255
    make_nyu(tmp_path, label_dir='myseg', num_classes=5)
    with pytest.raises(DatasetError, match='myseg.*num_classes'):
        NYUv2Dataset(tmp_path, label_dir='myseg')
    ds = NYUv2Dataset(tmp_path, label_dir='myseg', num_classes=5)
    assert len(ds.metainfo['classes']) == 5
    with pytest.raises(DatasetError, match='num_classes=12'):
        NYUv2Dataset(tmp_path, label_dir='seg13', num_classes=12)


def test_registry_pipeline_and_max_samples(tmp_path):
    make_nyu(tmp_path, n=4)
    ds = DATASETS.build(dict(
        type='NYUv2Dataset', data_root=str(tmp_path), split='train', max_samples=2,
        pipeline=[dict(type='PadIfNeeded', min_height=H + 8, min_width=W),
                  dict(type='Normalize', mean=(0.5,) * 3, std=(0.5,) * 3)]))
    assert isinstance(ds, NYUv2Dataset) and len(ds) == 2
    seg = ds[0]['seg']
    assert seg.shape == (H + 8, W) and (seg[:4] == 255).all() and (seg[-4:] == 255).all()
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=2)))
    assert batch['inputs'].shape == (2, 3, H + 8, W) and batch['seg'].shape == (2, H + 8, W)
    assert len(batch['img_path']) == 2


def test_densekd_data_prefix(tmp_path, monkeypatch):
    make_nyu(tmp_path / 'store' / 'nyuv2')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('DENSEKD_DATA', str(tmp_path / 'store'))
    assert len(NYUv2Dataset('datasets/nyuv2')) == 3
    assert len(NYUv2Dataset('nyuv2')) == 3


def test_grayscale_and_rgba_images_become_rgb(tmp_path):
    make_nyu(tmp_path, n=2)
    gray = np.arange(H * W, dtype=np.uint8).reshape(H, W)
    assert cv2.imwrite(str(tmp_path / 'image/train/00001.png'), gray)
    rgba = np.zeros((H, W, 4), np.uint8)
    rgba[..., 2] = 255  # BGRA on disk: red channel
    rgba[..., 3] = 128
    assert cv2.imwrite(str(tmp_path / 'image/train/00002.png'), rgba)
    ds = NYUv2Dataset(tmp_path)
    img, _ = ds.load_pair(0)
    assert img.shape == (H, W, 3) and (img == gray[..., None]).all()
    img, _ = ds.load_pair(1)
    assert img.shape == (H, W, 3)
    assert (img[..., 0] == 255).all() and (img[..., 1:] == 0).all()  # RGB order


# --- errors ---------------------------------------------------------------------------------

def test_missing_root(tmp_path):
    with pytest.raises(DatasetNotFoundError, match='nope.*prepare_nyuv2'):
        NYUv2Dataset(tmp_path / 'nope')
    with pytest.raises(FileNotFoundError):  # also a FileNotFoundError for generic handlers
        NYUv2Dataset(tmp_path / 'nope')


def test_missing_label_folder_and_split(tmp_path):
    make_nyu(tmp_path)
    with pytest.raises(DatasetNotFoundError, match='seg40'):
        NYUv2Dataset(tmp_path, label_dir='seg40')
    with pytest.raises(DatasetNotFoundError, match=r"image/test.*available splits.*'train'"):
        NYUv2Dataset(tmp_path, split='test')


def test_empty_split(tmp_path):
    (tmp_path / 'image/train').mkdir(parents=True)
    (tmp_path / 'seg13/train').mkdir(parents=True)
    (tmp_path / 'image/train/notes.txt').write_text('x')
    with pytest.raises(DatasetError, match='image/train.*no images'):
        NYUv2Dataset(tmp_path)


def test_images_without_labels_are_listed(tmp_path):
    make_nyu(tmp_path, n=4)
    (tmp_path / 'seg13/train/00002.png').unlink()
    (tmp_path / 'seg13/train/00004.png').unlink()
    with pytest.raises(DatasetError, match=r'2 image\(s\).*00002\.png, 00004\.png'):
        NYUv2Dataset(tmp_path)


def test_size_mismatch_names_both_files(tmp_path):
    make_nyu(tmp_path, n=2)
    _write_label(tmp_path / 'seg13/train/00002.png', np.zeros((H, W + 1), np.uint8))
    ds = NYUv2Dataset(tmp_path)
    ds[0]
    with pytest.raises(DatasetError, match=r'image/train/00002\.png.*24x32.*'
                                           r'seg13/train/00002\.png.*24x33'):
        ds[1]


def test_out_of_range_label_values(tmp_path):
    make_nyu(tmp_path, n=1)
    lbl = np.zeros((H, W), np.uint8)
    lbl[0, 0], lbl[0, 1], lbl[0, 2] = 13, 200, 255
    _write_label(tmp_path / 'seg13/train/00001.png', lbl)
    with pytest.raises(DatasetError, match=r'seg13/train/00001\.png.*values 13, 200.*0\.\.12'):
        NYUv2Dataset(tmp_path)[0]
    # 13 and 39 are valid seg40 ids
    make_nyu(tmp_path, n=1, label_dir='seg40', num_classes=40)
    lbl[0, 1] = 39
    _write_label(tmp_path / 'seg40/train/00001.png', lbl)
    assert NYUv2Dataset(tmp_path, label_dir='seg40')[0]['seg'].max() == 255


def test_corrupt_files_named(tmp_path):
    make_nyu(tmp_path, n=2)
    (tmp_path / 'image/train/00001.png').write_bytes(b'not a png at all')
    (tmp_path / 'seg13/train/00002.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    ds = NYUv2Dataset(tmp_path)
    with pytest.raises(DatasetError, match=r'cannot read image .*image/train/00001\.png'):
        ds[0]
    with pytest.raises(DatasetError, match=r'cannot read label .*seg13/train/00002\.png'):
        ds[1]


def test_colour_label_rejected(tmp_path):
    make_nyu(tmp_path, n=1)
    _write_rgb(tmp_path / 'seg13/train/00001.png', np.zeros((H, W, 3), np.uint8))
    with pytest.raises(DatasetError, match=r'00001\.png.*single-channel uint8'):
        NYUv2Dataset(tmp_path)[0]


def test_max_samples_is_evenly_spaced_in_every_dataset(tmp_path):
    """NYUv2 and image folders keep the same subset: evenly spaced over the sorted names."""
    from densekd.datasets.nyuv2 import evenly_spaced
    assert evenly_spaced(range(10), 3, 'x') == [0, 4, 9]  # linspace(0, 9, 3) rounded (4.5 -> 4)
    assert evenly_spaced(range(3), 5, 'x') == [0, 1, 2]
    assert evenly_spaced('ab', None, 'x') == ['a', 'b']
    with pytest.raises(DatasetError, match='x: max_samples must be >= 1'):
        evenly_spaced(range(3), 0, 'x')
    make_nyu(tmp_path, n=5)
    ds = NYUv2Dataset(tmp_path, split='train', max_samples=3)
    names = [osp.basename(p) for p in ds.img_paths]
    every = sorted(osp.basename(p) for p in NYUv2Dataset(tmp_path, split='train').img_paths)
    assert names == [every[0], every[2], every[4]]
