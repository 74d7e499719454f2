"""Tests for densekd.datasets.ood (image folders and bundled photos)."""
import importlib.util

import cv2
import numpy as np
import pytest
import torch

from densekd.datasets.nyuv2 import DatasetError, DatasetNotFoundError
from densekd.datasets.ood import BundledPhotosDataset, ImageFolderDataset
from densekd.registry import DATASETS

CROP = [dict(type='Resize', height=16, width=16)]


def _write(path, img):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)


@pytest.fixture
def folder(tmp_path):
    rng = np.random.default_rng(0)
    _write(tmp_path / 'b/2.jpg', rng.integers(0, 256, (20, 30, 3), dtype=np.uint8))
    _write(tmp_path / 'a/1.PNG', rng.integers(0, 256, (10, 12, 3), dtype=np.uint8))
    _write(tmp_path / 'a/deep/3.png', rng.integers(0, 256, (9, 9), dtype=np.uint8))  # gray
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0] = 255  # blue in BGRA
    _write(tmp_path / 'c/4.png', rgba)
    (tmp_path / 'c/readme.txt').write_text('not an image')
    return tmp_path


def test_image_folder_recursive_sorted(folder):
    ds = ImageFolderDataset(folder, pipeline=CROP)
    rel = [p[len(str(folder)) + 1:] for p in ds.img_paths]
    assert rel == ['a/1.PNG', 'a/deep/3.png', 'b/2.jpg', 'c/4.png']
    item = ds[1]
    assert set(item) == {'inputs', 'img_path'}
    assert item['inputs'].shape == (3, 16, 16) and item['inputs'].dtype == torch.float32
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch['inputs'].shape == (4, 3, 16, 16)


def test_image_folder_gray_and_rgba_converted(folder):
    ds = ImageFolderDataset(folder, pipeline=[])
    gray = ds[1]['inputs']
    assert gray.shape[0] == 3 and torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])
    rgba = ds[3]['inputs']
    assert rgba.shape == (3, 8, 8)
    assert (rgba[2] == 255).all() and (rgba[:2] == 0).all()  # blue, RGB order, alpha dropped


def test_image_folder_options_and_registry(folder):
    ds = DATASETS.build(dict(type='ImageFolderDataset', data_root=str(folder), pipeline=CROP,
                             extensions=('.png',), max_samples=2))
    assert [p.rsplit('/', 1)[1] for p in ds.img_paths] == ['1.PNG', '4.png']  # evenly spaced


def test_image_folder_errors(tmp_path):
    with pytest.raises(DatasetNotFoundError, match='missing'):
        ImageFolderDataset(tmp_path / 'missing')
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty/notes.txt').write_text('x')
    with pytest.raises(DatasetError, match='no image files under.*empty'):
        ImageFolderDataset(tmp_path / 'empty')
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad/broken.jpg').write_bytes(b'\xff\xd8\xff garbage')
    with pytest.raises(DatasetError, match=r'none of the 1 image files under .*bad.* can be '
                                           r'opened: broken\.jpg \(cannot identify image file\)'):
        ImageFolderDataset(tmp_path / 'bad')


@pytest.fixture(scope='module')
def photos():
    return BundledPhotosDataset(num_samples=20, crop_size=(24, 32), seed=0,
                                pipeline=[dict(type='Normalize', mean=(0.5,) * 3,
                                               std=(0.5,) * 3)])


def test_bundled_photos_found(photos):
    if importlib.util.find_spec('skimage') is None and importlib.util.find_spec('sklearn') is None:
        pytest.skip('neither scikit-image nor scikit-learn installed')
    assert len(photos.photos) >= 2
    assert all(min(p.shape[:2]) >= 128 and p.shape[2] == 3 for p in photos.photos)
    names = set(photos.photo_names)
    if importlib.util.find_spec('sklearn') is not None:
        assert {'sklearn:china.jpg', 'sklearn:flower.jpg'} <= names
    if importlib.util.find_spec('skimage') is not None:
        assert 'skimage:astronaut.png' in names and 'skimage:horse.png' not in names
    item = photos[3]
    assert item['inputs'].shape == (3, 24, 32) and item['inputs'].dtype == torch.float32
    assert '@(' in item['img_path'] and len(photos) == 20


def test_bundled_photos_deterministic(photos):
    again = BundledPhotosDataset(num_samples=20, crop_size=(24, 32), seed=0)
    other = BundledPhotosDataset(num_samples=20, crop_size=(24, 32), seed=1)
    for i in (0, 7, 19):
        a, da = photos.crop(i)
        b, db = again.crop(i)
        assert da == db and np.array_equal(a, b) and a.shape == (24, 32, 3)
    assert [photos.crop(i)[1] for i in range(20)] != [other.crop(i)[1] for i in range(20)]
    assert len({photos.crop(i)[1] for i in range(20)}) == 20  # a varied pool
    with pytest.raises(IndexError):
        photos.crop(20)


def test_bundled_photos_crop_geometry(photos):
    for i in range(20):
        _, desc = photos.crop(i)
        name, box = desc.split('@')
        y, x, h, w = map(int, box.strip('()').split(','))
        photo = photos.photos[photos.photo_names.index(name)]
        H, W = photo.shape[:2]
        assert 0 <= y and y + h <= H and 0 <= x and x + w <= W
        assert abs(w / h - 32 / 24) < 0.05  # aspect ratio of crop_size
        assert h * w <= H * W + 1


def test_bundled_photos_folder_source_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    _write(tmp_path / 'mine/p.png', rng.integers(0, 256, (200, 300, 3), dtype=np.uint8))
    _write(tmp_path / 'mine/small.png', rng.integers(0, 256, (50, 300, 3), dtype=np.uint8))
    ds = BundledPhotosDataset(num_samples=3, sources=[str(tmp_path / 'mine')])
    assert len(ds.photos) == 1 and ds[0]['inputs'].shape == (3, 96, 128)
    (tmp_path / 'none').mkdir()
    with pytest.raises(DatasetError, match='scikit-image'):
        BundledPhotosDataset(sources=[str(tmp_path / 'none')])
    with pytest.raises(DatasetError, match='neither'):
        BundledPhotosDataset(sources=['nosuchsource'])
    with pytest.raises(DatasetError, match='scale_range'):
        BundledPhotosDataset(scale_range=(0.0, 1.0), sources=[str(tmp_path / 'mine')])
