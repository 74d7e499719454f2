"""Tests for the NYUv2 conversion (densekd.datasets.nyuv2_convert, datasets/prepare_nyuv2.py)."""
import importlib.util
from pathlib import Path

import cv2
import h5py
import numpy as np
import pytest
import scipy.io

from densekd.datasets.nyuv2 import NYU40_CLASSES, NYUV2_CLASSES, DatasetError, NYUv2Dataset
from densekd.datasets.nyuv2_convert import (MAP_40_TO_13, build_label_luts, convert_nyuv2,
                                            load_splits)

SCRIPT = Path(__file__).resolve().parents[2] / 'datasets' / 'prepare_nyuv2.py'
N, H, W = 6, 48, 64
# raw class r (1-based) -> 1-based 40-class id; raw 5 maps to 0 (unlabeled)
MAP_CLASS = [1, 4, 25, 8, 0, 40, 13, 23, 39, 2]
#             wall bed tv door - otherprop blinds books otherfurniture floor


def _frames():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8)
    raw = rng.integers(0, len(MAP_CLASS) + 1, (N, H, W)).astype(np.uint16)  # 0 = unlabeled
    return rgb, raw


def make_files(tmp_path, images=None, labels=None):
    rgb, raw = _frames()
    labeled = tmp_path / 'nyu_depth_v2_labeled.mat'
    with h5py.File(labeled, 'w') as f:  # stored transposed like the MATLAB v7.3 file
        f['images'] = rgb.transpose(0, 3, 2, 1) if images is None else images
        f['labels'] = raw.transpose(0, 2, 1) if labels is None else labels
        f['depths'] = np.zeros((N, W, H), np.float32)
    splits = tmp_path / 'splits.mat'
    scipy.io.savemat(splits, dict(trainNdxs=np.array([[3], [4], [5], [6]]),
                                  testNdxs=np.array([[1], [2]])))
    mapping = tmp_path / 'classMapping40.mat'
    scipy.io.savemat(mapping, dict(mapClass=np.array([MAP_CLASS]),
                                   className=np.array(['x'] * len(MAP_CLASS))))
    return labeled, splits, mapping, rgb, raw


def _load_script():
    spec = importlib.util.spec_from_file_location('prepare_nyuv2', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_map_40_to_13_table():
    c13 = {n: i for i, n in enumerate(NYUV2_CLASSES)}
    c40 = {n: i for i, n in enumerate(NYU40_CLASSES)}
    assert len(MAP_40_TO_13) == 40
    expect = {'wall': 'wall', 'door': 'wall', 'cabinet': 'furniture', 'blinds': 'window',
              'curtain': 'window', 'desk': 'table', 'floor mat': 'floor', 'television': 'tv',
              'refridgerator': 'furniture', 'night stand': 'furniture', 'pillow': 'objects',
              'otherprop': 'objects', 'otherfurniture': 'furniture', 'books': 'books',
              'ceiling': 'ceiling', 'bed': 'bed', 'sofa': 'sofa', 'picture': 'picture'}
    for n40, n13 in expect.items():
        assert MAP_40_TO_13[c40[n40]] == c13[n13], n40
    counts = dict(zip(NYUV2_CLASSES, np.bincount(MAP_40_TO_13, minlength=13).tolist()))
    assert counts == dict(bed=1, books=1, ceiling=1, chair=1, floor=2, furniture=8, objects=16,
                          picture=1, sofa=1, table=2, tv=1, wall=2, window=3)


def test_luts():
    lut13, lut40 = build_label_luts(np.array(MAP_CLASS))
    assert lut13[0] == lut40[0] == 255 and lut13[5] == lut40[5] == 255
    assert lut40[1] == 0 and lut13[1] == NYUV2_CLASSES.index('wall')
    assert lut40[3] == 24 and lut13[3] == NYUV2_CLASSES.index('tv')


def test_conversion_end_to_end(tmp_path):
    labeled, splits, mapping, rgb, raw = make_files(tmp_path)
    out = tmp_path / 'nyuv2'
    assert _load_script().main(['--labeled', str(labeled), '--splits', str(splits),
                                '--mapping40', str(mapping), '--out', str(out)]) == 0
    for split, frames in (('train', [3, 4, 5, 6]), ('test', [1, 2])):
        for d in ('image', 'seg13', 'seg40'):
            assert sorted(p.name for p in (out / d / split).iterdir()) == \
                [f'{i:05d}.png' for i in frames]
    assert (out / 'splits.mat').is_file()

    m40 = np.array([0] + MAP_CLASS)
    exp40 = np.where(m40[raw] > 0, m40[raw] - 1, 255).astype(np.uint8)
    exp13 = np.where(exp40 == 255, 255, np.array(MAP_40_TO_13)[np.minimum(exp40, 39)])
    for frame in (1, 4):
        name = f'{frame:05d}.png'
        split = 'test' if frame == 1 else 'train'
        img = cv2.cvtColor(cv2.imread(str(out / 'image' / split / name)), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(img, rgb[frame - 1])  # orientation and channel order
        s13 = cv2.imread(str(out / 'seg13' / split / name), cv2.IMREAD_UNCHANGED)
        s40 = cv2.imread(str(out / 'seg40' / split / name), cv2.IMREAD_UNCHANGED)
        assert s13.dtype == np.uint8 and s13.shape == (H, W)
        np.testing.assert_array_equal(s40, exp40[frame - 1])
        np.testing.assert_array_equal(s13, exp13[frame - 1])
        # spot checks: unlabeled and raw 5 (mapped to 0) are void; door -> wall; blinds -> window
        r = raw[frame - 1]
        assert (s13[(r == 0) | (r == 5)] == 255).all()
        assert (s13[r == 4] == NYUV2_CLASSES.index('wall')).all()
        assert (s13[r == 7] == NYUV2_CLASSES.index('window')).all()
        assert set(np.unique(s13)) <= set(range(13)) | {255}

    assert len(NYUv2Dataset(out, split='train')) == 4
    assert NYUv2Dataset(out, split='test', label_dir='seg40')[0]['seg'].shape == (H, W)


def test_single_split_option(tmp_path):
    labeled, splits, mapping, _, _ = make_files(tmp_path)
    counts = convert_nyuv2(labeled, splits, mapping, tmp_path / 'o', which=('test',), log=None)
    assert counts == {'test': 2} and not (tmp_path / 'o/image/train').exists()


def test_missing_files(tmp_path):
    labeled, splits, mapping, _, _ = make_files(tmp_path)
    for i, what in enumerate(('labeled', 'splits', 'mapping')):
        args = [labeled, splits, mapping]
        args[i] = tmp_path / f'missing_{what}.mat'
        with pytest.raises(FileNotFoundError, match=f'missing_{what}'):
            convert_nyuv2(*args, tmp_path / 'o', log=None)


def test_script_reports_bad_input(tmp_path, capsys):
    _, splits, mapping, _, _ = make_files(tmp_path)
    rc = _load_script().main(['--labeled', str(tmp_path / 'nope.mat'), '--splits', str(splits),
                              '--mapping40', str(mapping), '--out', str(tmp_path / 'o')])
    assert rc == 2 and 'nope.mat' in capsys.readouterr().err


def test_not_hdf5(tmp_path):
    _, splits, mapping, _, _ = make_files(tmp_path)
    fake = tmp_path / 'fake.mat'
    scipy.io.savemat(fake, dict(images=np.zeros(3)))  # v5 file, not v7.3
    with pytest.raises(DatasetError, match='fake.mat.*HDF5'):
        convert_nyuv2(fake, splits, mapping, tmp_path / 'o', log=None)


def test_missing_key_and_bad_shapes(tmp_path):
    labeled, splits, mapping, rgb, raw = make_files(tmp_path)
    with h5py.File(labeled, 'a') as f:
        del f['labels']
    with pytest.raises(DatasetError, match="nyu_depth_v2_labeled.mat.*'labels'"):
        convert_nyuv2(labeled, splits, mapping, tmp_path / 'o', log=None)
    labeled, *_ = make_files(tmp_path, images=rgb)  # not transposed: (N, H, W, 3)
    with pytest.raises(DatasetError, match='"images".*expected uint8'):
        convert_nyuv2(labeled, splits, mapping, tmp_path / 'o', log=None)
    labeled, *_ = make_files(tmp_path, labels=raw)  # (N, H, W) instead of (N, W, H)
    with pytest.raises(DatasetError, match='"labels" has shape'):
        convert_nyuv2(labeled, splits, mapping, tmp_path / 'o', log=None)


def test_bad_splits_and_mapping(tmp_path):
    labeled, splits, mapping, _, raw = make_files(tmp_path)
    bad = tmp_path / 'bad_splits.mat'
    scipy.io.savemat(bad, dict(trainNdxs=np.array([[1]])))
    with pytest.raises(DatasetError, match="bad_splits.mat.*'testNdxs'"):
        load_splits(bad)
    scipy.io.savemat(bad, dict(trainNdxs=np.array([[0], [1]]), testNdxs=np.array([[2]])))
    with pytest.raises(DatasetError, match='1-based'):
        load_splits(bad)
    scipy.io.savemat(bad, dict(trainNdxs=np.array([[1], [7]]), testNdxs=np.array([[2]])))
    with pytest.raises(DatasetError, match=r'bad_splits.mat.*1\.\.6'):
        convert_nyuv2(labeled, bad, mapping, tmp_path / 'o', log=None)
    scipy.io.savemat(bad, dict(trainNdxs=np.array([[1], [2]]), testNdxs=np.array([[2]])))
    with pytest.raises(DatasetError, match='both train and test'):
        load_splits(bad)

    bad_map = tmp_path / 'bad_map.mat'
    scipy.io.savemat(bad_map, dict(classMap=np.array([MAP_CLASS])))
    with pytest.raises(DatasetError, match='bad_map.mat.*mapClass'):
        convert_nyuv2(labeled, splits, bad_map, tmp_path / 'o', log=None)
    scipy.io.savemat(bad_map, dict(mapClass=np.array([[1, 41]])))
    with pytest.raises(DatasetError, match=r'bad_map.mat.*0\.\.40'):
        convert_nyuv2(labeled, splits, bad_map, tmp_path / 'o', log=None)
    # raw labels beyond the mapping (here 1..10 but mapping covers only 1..3)
    scipy.io.savemat(bad_map, dict(mapClass=np.array([MAP_CLASS[:3]])))
    with pytest.raises(DatasetError, match='frame 3.*not covered'):
        convert_nyuv2(labeled, splits, bad_map, tmp_path / 'o', log=None)
