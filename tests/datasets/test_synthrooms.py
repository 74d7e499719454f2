"""Tests for densekd.datasets.synthrooms: determinism, layout, plausibility, auto-generation."""
import hashlib
import json
import os

import cv2
import numpy as np
import pytest
import torch

from densekd.datasets import synthrooms as sr
from densekd.datasets.nyuv2 import NYUV2_CLASSES
from densekd.registry import DATASETS
from densekd.synthrooms import writer

H, W = 48, 64
SMALL = dict(num_train=5, num_test=3, height=H, width=W, seed=0)


def _digest(root):
    """sha1 of every PNG under root, keyed by relative path."""
    out = {}
    for sub in ('image', 'seg13'):
        for split in ('train', 'test'):
            folder = os.path.join(root, sub, split)
            for name in sorted(os.listdir(folder)):
                with open(os.path.join(folder, name), 'rb') as fh:
                    out[f'{sub}/{split}/{name}'] = hashlib.sha1(fh.read()).hexdigest()
    return out


@pytest.fixture(scope='module')
def fifty():
    """50 rendered samples at 48x64 (rendered once for the plausibility tests)."""
    return [sr.render_synthroom(7, 'train', k, H, W) for k in range(50)]


def test_render_is_deterministic_and_seeded():
    img, seg = sr.render_synthroom(0, 'train', 3, H, W)
    img2, seg2 = sr.render_synthroom(0, 'train', 3, H, W)
    assert img.shape == (H, W, 3) and img.dtype == np.uint8
    assert seg.shape == (H, W) and seg.dtype == np.uint8
    assert np.array_equal(img, img2) and np.array_equal(seg, seg2)
    for other in (sr.render_synthroom(1, 'train', 3, H, W), sr.render_synthroom(0, 'test', 3, H, W),
                  sr.render_synthroom(0, 'train', 4, H, W)):
        assert not np.array_equal(img, other[0])


def test_generate_layout_manifest_and_parallel_determinism(tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    stats = sr.generate_synthrooms(a, **SMALL)
    sr.generate_synthrooms(b, num_workers=2, **SMALL)  # process pool: same bytes
    sr.generate_synthrooms(c, **dict(SMALL, seed=1))
    da = _digest(a)
    assert len(da) == 2 * (5 + 3)
    assert sorted(os.listdir(a / 'image' / 'train')) == [f'{k:05d}.png' for k in range(5)]
    assert da == _digest(b)
    assert all(da[k] != v for k, v in _digest(c).items() if k.startswith('image'))
    for name in os.listdir(a / 'seg13' / 'test'):
        seg = cv2.imread(str(a / 'seg13' / 'test' / name), cv2.IMREAD_UNCHANGED)
        img = cv2.imread(str(a / 'image' / 'test' / name), cv2.IMREAD_COLOR)
        assert seg.shape == (H, W) and seg.dtype == np.uint8 and img.shape == (H, W, 3)
        assert set(np.unique(seg).tolist()) <= set(range(13)) | {255}
    man = json.loads((a / sr.MANIFEST_NAME).read_text())
    assert man['params'] == dict(version=sr.SYNTHROOMS_VERSION, **SMALL)
    assert man['counts'] == dict(train=5, test=3)
    assert set(stats['pixel_share']) == set(NYUV2_CLASSES)
    assert abs(sum(stats['pixel_share'].values()) + stats['void_share'] - 1) < 1e-3
    assert not (a / sr._PARTIAL_NAME).exists()


def test_all_classes_and_plausible_layout(fifty):
    counts = np.zeros(256, np.int64)
    rows = np.arange(H)[:, None].repeat(W, 1)
    floor_rows, ceil_rows = [], []
    for _, seg in fifty:
        counts += np.bincount(seg.ravel(), minlength=256)
        floor_rows.append(rows[seg == sr.FLOOR])
        ceil_rows.append(rows[seg == sr.CEILING])
    present = [c for c in range(13) if counts[c] > 0]
    assert present == list(range(13)), f'missing classes {set(range(13)) - set(present)}'
    share = counts[:13] / counts.sum()
    assert share.argmax() == sr.WALL and 0.3 < share[sr.WALL] < 0.65
    assert 0.04 < share[sr.FLOOR] < 0.3
    assert counts[255] / counts.sum() < 0.01  # void stays rare
    # Floor is seen below the horizon, ceiling above it.
    assert np.concatenate(floor_rows).mean() > 0.6 * H
    assert np.concatenate(ceil_rows).mean() < 0.3 * H


def test_mask_edges_align_with_image_edges(fifty):
    on, off = [], []
    for img, seg in fifty:
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        grad = np.abs(np.diff(g, axis=1))[1:-1, 1:-1]
        edge = (seg[:, 1:] != seg[:, :-1])[1:-1, 1:-1]
        on.append(grad[edge])
        off.append(grad[~edge])
    on, off = np.concatenate(on).mean(), np.concatenate(off).mean()
    assert on > 2.5 * off, (on, off)  # label boundaries are where the image changes


def test_resume_after_interruption_and_manifest_last(tmp_path, monkeypatch):
    ref = tmp_path / 'ref'
    sr.generate_synthrooms(ref, **SMALL)
    out = tmp_path / 'out'
    real = sr.render_synthroom
    calls = []

    def flaky(*args, **kwargs):
        if len(calls) == 4:
            raise RuntimeError('killed')
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(writer, 'render_synthroom', flaky)
    with pytest.raises(RuntimeError):
        sr.generate_synthrooms(out, **SMALL)
    # Interrupted: no manifest, a partial marker, only complete files, no temporaries.
    assert not (out / sr.MANIFEST_NAME).exists() and (out / sr._PARTIAL_NAME).exists()
    assert len(os.listdir(out / 'image' / 'train')) == 4
    assert not any(n.endswith('.tmp') for n in os.listdir(out / 'seg13' / 'train'))
    monkeypatch.setattr(writer, 'render_synthroom', real)
    resumed = []
    monkeypatch.setattr(writer, 'render_synthroom',
                        lambda *a, **k: resumed.append(a) or real(*a, **k))
    sr.generate_synthrooms(out, **SMALL)
    assert len(resumed) == 4  # 1 train + 3 test rendered, the 4 finished ones kept
    assert _digest(out) == _digest(ref)
    assert (out / sr.MANIFEST_NAME).exists() and not (out / sr._PARTIAL_NAME).exists()


def test_refuses_foreign_data(tmp_path):
    (tmp_path / 'image' / 'train').mkdir(parents=True)
    with pytest.raises(FileExistsError, match='refusing'):
        sr.generate_synthrooms(tmp_path, **SMALL)


def test_dataset_autogenerates_and_regenerates(tmp_path, monkeypatch):
    root = tmp_path / f'synthrooms_{H}x{W}'  # the default location's name: generated on first use
    cfg = dict(type='SynthRoomsDataset', data_root=str(root), split='train',
               pipeline=[dict(type='Normalize', mean=(0.5,) * 3, std=(0.5,) * 3)], **SMALL)
    ds = DATASETS.build(cfg)
    assert len(ds) == 5 and ds.metainfo['classes'] == NYUV2_CLASSES
    item = ds[0]
    assert item['inputs'].shape == (3, H, W) and item['inputs'].dtype == torch.float32
    assert item['seg'].shape == (H, W) and item['seg'].dtype == torch.int64
    assert item['img_path'].endswith('00000.png')
    assert len(DATASETS.build(dict(cfg, split='test'))) == 3

    # Same parameters: the data are reused, nothing is rendered.
    monkeypatch.setattr(writer, 'render_synthroom', lambda *a, **k: pytest.fail('re-rendered'))
    assert len(DATASETS.build(cfg)) == 5
    monkeypatch.undo()
    # Other parameters: regenerated in place, stale files removed.
    ds = DATASETS.build(dict(cfg, num_train=3, seed=2, max_samples=2))
    assert len(ds) == 2 and len(os.listdir(root / 'seg13' / 'train')) == 3
    assert sr.load_manifest(root)['params']['seed'] == 2


def test_make_synthrooms_cli_writes_grid(tmp_path):
    from tests.helpers import load_tool
    grid = tmp_path / 'grid.png'
    stats = load_tool('make_synthrooms').main(
        ['--out', str(tmp_path / 'd'), '--num-train', '4', '--num-test', '0', '--height', '24',
         '--width', '32', '--workers', '1', '--grid', str(grid), '--grid-num', '4'])
    assert stats['counts'] == dict(train=4, test=0)
    img = cv2.imread(str(grid))
    assert img is not None and img.shape[1] >= 4 * 32 * 2
