"""Bad input files on disk: truncated and unreadable OOD images, out-of-range test labels and a
mistyped SynthRooms data_root each give a clear error or a logged recovery naming the file."""
import glob
import logging
import os
import os.path as osp
import re
import shlex

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from densekd.datasets.checks import image_header_problem, jpeg_truncation_problem
from densekd.datasets.data_check import dataset_configs
from densekd.datasets.nyuv2 import (DatasetError, DatasetNotFoundError, NYUv2Dataset,
                                    read_image_rgb)
from densekd.datasets.ood import ImageFolderDataset
from densekd.datasets.related import SynthRoomsCollageDataset
from densekd.datasets.synthrooms import SynthRoomsDataset
from densekd.synthrooms import MANIFEST_NAME, load_manifest
from densekd.synthrooms.cache import default_folder_name
from tests.datasets.test_nyuv2 import make_nyu
from tests.helpers import ROOT, load_tool

SMALL = dict(num_train=5, num_test=3, height=48, width=64, seed=0)


@pytest.fixture
def mm_log(caplog):
    """caplog, also fed by the mmengine logger that densekd's print_log(logger='current') uses."""
    logger = MMLogger.get_current_instance()
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


def _photo(seed, h=96, w=128):
    """A smooth colour image (JPEG-friendly, so a cut file loses many rows)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _write_jpeg(path, img, keep=1.0):
    """Write a real JPEG; ``keep < 1`` truncates it to that fraction of its bytes."""
    assert cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return str(path)


def _messages(caplog, text):
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


# 1. A truncated JPEG in an OOD folder.

def test_truncated_jpeg_is_replaced_by_the_next_image_and_logged_once(tmp_path, mm_log):
    a = _write_jpeg(tmp_path / 'a.jpg', _photo(0))
    cut = _write_jpeg(tmp_path / 'b.jpg', _photo(1), keep=0.6)
    c = _write_jpeg(tmp_path / 'c.jpg', _photo(2))
    cut_last = _write_jpeg(tmp_path / 'd.jpg', _photo(3), keep=0.6)
    # What this guards against: OpenCV decodes the cut file without an error, rows grey.
    raw = cv2.imread(cut)
    assert raw is not None and (raw == 128).all(axis=(1, 2)).mean() > 0.3

    ds = ImageFolderDataset(tmp_path, pipeline=[])
    assert len(ds) == 4 and ds.skipped == []  # the header is intact: found when decoded
    item = ds[1]
    assert item['img_path'] == c  # the next index, deterministically
    assert torch.equal(item['inputs'], ds[2]['inputs'])
    assert ds[3]['img_path'] == a  # wraps around
    assert ds[1]['img_path'] == c and ds[3]['img_path'] == a  # same answer when asked again
    assert ds.bad_paths == {cut, cut_last}
    for path in (cut, cut_last):
        logged = _messages(mm_log, path)
        assert len(logged) == 1, logged  # once per file
        assert 'truncated JPEG' in logged[0] and 'replaced by the next readable one' in logged[0]
    with pytest.raises(DatasetError, match=r"cannot read image '.*b\.jpg': truncated JPEG"):
        read_image_rgb(cut)

    # Only truncated files: a clear error instead of an endless search.
    only = tmp_path / 'only'
    only.mkdir()
    _write_jpeg(only / 'x.jpg', _photo(4), keep=0.5)
    with pytest.raises(DatasetError, match=r'none of the 1 images under .*only.* can be decoded'):
        ImageFolderDataset(only)[0]


def test_complete_jpeg_with_trailing_bytes_is_not_called_truncated(tmp_path):
    path = tmp_path / 'trailer.jpg'
    _write_jpeg(path, _photo(5))
    path.write_bytes(path.read_bytes() + bytes(range(256)) * 40)  # 10 KB after the end marker
    assert jpeg_truncation_problem(path) is None
    assert read_image_rgb(path).shape == (96, 128, 3)
    assert jpeg_truncation_problem(_write_jpeg(tmp_path / 'half.jpg', _photo(5), 0.5)) \
        .startswith('truncated JPEG')


# 2. Unreadable files in an OOD folder.

def test_unreadable_files_are_left_out_at_construction_and_named(tmp_path, mm_log):
    good = [_write_jpeg(tmp_path / f'good_{k}.jpg', _photo(k)) for k in range(2)]
    for k in range(11):
        (tmp_path / f'bad_{k:02d}.jpg').write_text('this is not a JPEG')
    (tmp_path / 'empty.png').write_bytes(b'')
    assert image_header_problem(tmp_path / 'bad_00.jpg') == 'cannot identify image file'

    ds = ImageFolderDataset(tmp_path, pipeline=[dict(type='Resize', height=16, width=16)])
    assert ds.img_paths == good  # never sampled
    assert sorted(osp.basename(p) for p, _ in ds.skipped) == \
        [f'bad_{k:02d}.jpg' for k in range(11)] + ['empty.png']
    warnings = [r for r in mm_log.records if 'cannot be opened as images' in r.getMessage()]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    logged = warnings[0].getMessage()
    assert 'skipped 12 of 14 files' in logged
    assert 'bad_00.jpg (cannot identify image file)' in logged
    assert '... (2 more)' in logged  # the first ten names, then a count
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=2)))
    assert batch['inputs'].shape == (2, 3, 16, 16)


# 3. Out-of-range label values in the test split.

def test_out_of_range_test_labels_fail_at_construction_naming_the_file(tmp_path):
    make_nyu(tmp_path, split='test', n=3)
    lbl = np.zeros((24, 32), np.uint8)
    lbl[5, 5] = 77  # a 13-class dataset: 0..12 and 255 only
    bad = tmp_path / 'seg13' / 'test' / '00002.png'
    assert cv2.imwrite(str(bad), lbl)
    with pytest.raises(DatasetError) as err:
        NYUv2Dataset(tmp_path, split='test')
    msg = str(err.value)
    assert '1 of 3 test label files' in msg and str(bad) in msg
    assert 'values 77' in msg and '0..12' in msg and '255 = ignore' in msg
    # Opting out (or a train split, checked per item) defers the same error to the first read.
    ds = NYUv2Dataset(tmp_path, split='test', check_labels=False)
    ds[0]
    with pytest.raises(DatasetError, match=r'00002\.png.*values 77'):
        ds[1]
    # A clean test split passes the check.
    assert cv2.imwrite(str(bad), np.full((24, 32), 12, np.uint8))
    assert len(NYUv2Dataset(tmp_path, split='test')) == 3


# 4. A mistyped SynthRooms data_root.

def test_mistyped_synthrooms_root_is_an_error_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    right = tmp_path / default_folder_name(48, 64)
    assert len(SynthRoomsDataset(right, **SMALL)) == 5  # the default name: generated on first use
    typo = tmp_path / 'synthroms_48x64'
    with pytest.raises(DatasetNotFoundError) as err:
        SynthRoomsDataset(typo, **SMALL)
    msg = str(err.value)
    assert f"data_root '{typo}' does not exist" in msg
    assert f'Similar folders: {right}' in msg and 'generate=True' in msg
    assert not typo.exists() and sorted(os.listdir(tmp_path)) == [right.name]
    # A folder with other files is not taken over either.
    (tmp_path / 'photos').mkdir()
    (tmp_path / 'photos' / 'keep.txt').write_text('mine')
    with pytest.raises(DatasetNotFoundError, match=r"photos' is not empty and holds no SynthRooms"):
        SynthRoomsDataset(tmp_path / 'photos', **SMALL)
    assert os.listdir(tmp_path / 'photos') == ['keep.txt']
    # The collage sources follow the same rule.
    with pytest.raises(DatasetNotFoundError, match='SynthRoomsCollageDataset: data_root'):
        SynthRoomsCollageDataset(tmp_path / 'colage_sources', crop_size=(48, 64),
                                 tile_range=(8, 16), num_sources=4)
    assert not (tmp_path / 'colage_sources').exists()

    # The command the message suggests generates the data where asked; then the root is used.
    cmd = re.search(r'`python (tools/make_synthrooms\.py [^`]*)`', msg).group(1)
    load_tool('make_synthrooms').main(shlex.split(cmd)[1:] + ['--workers', '1'])
    assert load_manifest(typo)['params']['num_train'] == 5
    assert len(SynthRoomsDataset(typo, split='test', **SMALL)) == 3
    # ... as does generate=True.
    elsewhere = tmp_path / 'elsewhere'
    assert len(SynthRoomsDataset(elsewhere, generate=True, **SMALL)) == 5
    assert (elsewhere / MANIFEST_NAME).is_file()


def test_shipped_configs_generate_synthrooms_at_default_locations():
    """`make demo` needs no manual step: every SynthRooms root of a shipped config has its
    default name, so it is generated on first use."""
    paths = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*synthrooms*.py'),
                                        recursive=True)
                   if '_base_' not in p and 'benchmarks' not in p)
    seen = 0
    for path in paths:
        for where, ds in dataset_configs(Config.fromfile(path)):
            if ds['type'] == 'SynthRoomsDataset':
                name = default_folder_name(ds['height'], ds['width'])
            elif ds['type'] == 'SynthRoomsCollageDataset':
                name = default_folder_name(*ds['crop_size'], '_collage_sources')
            else:
                continue
            assert osp.basename(ds['data_root']) == name, (path, where)
            seen += 1
    assert seen > len(paths)  # train/val of most, collages for some
