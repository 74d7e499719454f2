"""Tests for densekd.datasets.related: SynthRooms collages, the related OOD pool (KD-REL)."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from densekd.datasets.nyuv2 import DatasetError, read_image_rgb
from densekd.datasets.ood import ImageFolderDataset
from densekd.datasets.related import SynthRoomsCollageDataset
from densekd.registry import DATASETS
from densekd.synthrooms import CEILING, FLOOR, load_manifest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
H, W = 64, 64
NUM_SOURCES = 24
NORM = [dict(type='Normalize', mean=(0.5,) * 3, std=(0.5,) * 3)]


@pytest.fixture(scope='module')
def sources_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('collage_sources'))


def _pool(root, **kwargs):
    args = dict(data_root=root, num_samples=60, crop_size=(H, W), tile_range=(8, 20),
                num_sources=NUM_SOURCES, source_seed=1000, seed=0, pipeline=NORM)
    return SynthRoomsCollageDataset(**dict(args, **kwargs))


@pytest.fixture(scope='module')
def pool(sources_root):
    return _pool(sources_root)


def test_item_format_matches_other_ood_sources(pool, tmp_path):
    item = pool[3]
    cv2.imwrite(str(tmp_path / 'a.png'), pool.collage(3)[0])
    ref = ImageFolderDataset(tmp_path, pipeline=NORM)[0]
    assert set(item) == set(ref) == {'inputs', 'img_path'}
    assert isinstance(item['img_path'], str) and item['img_path'].startswith('synthrooms-collage')
    assert item['inputs'].shape == ref['inputs'].shape == (3, H, W)
    assert item['inputs'].dtype == ref['inputs'].dtype == torch.float32
    assert len(pool) == 60
    batch = next(iter(torch.utils.data.DataLoader(pool, batch_size=4)))
    assert batch['inputs'].shape == (4, 3, H, W)
    built = DATASETS.build(dict(type='SynthRoomsCollageDataset', data_root=pool.data_root,
                                num_samples=2, crop_size=(H, W), tile_range=(8, 20),
                                num_sources=NUM_SOURCES, pipeline=NORM))
    assert torch.equal(built[1]['inputs'], pool[1]['inputs'])  # same defaults: seeds 1000 / 0


def test_sources_have_their_own_seed_and_are_cached(pool, synthrooms_root):
    man = load_manifest(pool.data_root)
    assert man['params']['seed'] == 1000 and man['params']['num_train'] == NUM_SOURCES
    assert man['params']['num_test'] == 0
    assert pool.sources.shape == (NUM_SOURCES, H, W, 3) and pool.sources.dtype == np.uint8
    # No train image of the (seed 0) SynthRooms splits is among the sources.
    train_dir = osp.join(synthrooms_root, 'image', 'train')
    train = np.stack([read_image_rgb(osp.join(train_dir, f))
                      for f in sorted(os.listdir(train_dir))])
    assert train.shape[1:] == (H, W, 3)
    same = (pool.sources[:, None] == train[None]).all(axis=(2, 3, 4))
    assert not same.any()
    # A second pool on the same root reuses the files instead of rendering them again.
    stamp = os.stat(osp.join(pool.data_root, 'image', 'train', '00000.png')).st_mtime_ns
    again = _pool(pool.data_root)
    assert np.array_equal(again.sources, pool.sources)
    assert os.stat(osp.join(pool.data_root, 'image', 'train', '00000.png')).st_mtime_ns == stamp


def test_deterministic_given_seed_and_index(pool):
    again = _pool(pool.data_root)
    other = _pool(pool.data_root, seed=1)
    for i in (0, 17, 59):
        a, da = pool.collage(i)
        b, db = again.collage(i)
        assert a.shape == (H, W, 3) and a.dtype == np.uint8
        assert da == db and np.array_equal(a, b)
        assert not np.array_equal(a, other.collage(i)[0])
    imgs = [pool.collage(i)[0] for i in range(10)]
    assert all(not np.array_equal(imgs[i], imgs[j]) for i in range(10) for j in range(i))
    with pytest.raises(IndexError):
        pool.collage(60)


def test_tiles_cover_the_canvas_within_bounds(pool):
    counts = []
    for i in range(20):
        tiles = pool.layout(i)
        covered = np.zeros((H, W), bool)
        for t in tiles:
            assert 8 <= t.size <= 20 and t.src_size == t.size  # scale_range (1, 1)
            assert 0 <= t.y <= H - t.size and 0 <= t.x <= W - t.size
            assert 0 <= t.src_y <= H - t.src_size and 0 <= t.src_x <= W - t.src_size
            assert 0 <= t.source < NUM_SOURCES
            covered[t.y:t.y + t.size, t.x:t.x + t.size] = True
        assert covered.all()
        counts.append(len(tiles))
    assert min(counts) >= H * W // 20 ** 2  # many tiles, not one big crop


def _find(region, sources, symmetries):
    """Whether ``region`` is, exactly, a crop of a source under one of ``symmetries``."""
    h, w = region.shape[:2]
    for sym in symmetries:
        target = sym(region)  # undo the tile's transform instead of transforming every window
        win = np.lib.stride_tricks.sliding_window_view(sources, target.shape, axis=(1, 2, 3))
        if (win == target).all(axis=(-3, -2, -1)).any():
            return True
    return False


def test_collages_are_made_of_source_crops(pool):
    # Fixed tile size, no scaling or flips: each pixel is the source pixel of the last tile
    # covering it (rebuilt here from the layout), and the last tile, which nothing covers, is
    # found among all crops of all sources without using the layout's source fields.
    ds = _pool(pool.data_root, tile_range=(10, 10), flip_rotate=False)
    for i in range(8):
        img, _ = ds.collage(i)
        tiles = ds.layout(i)
        expect = np.zeros_like(img)
        for t in tiles:
            expect[t.y:t.y + 10, t.x:t.x + 10] = ds.sources[t.source, t.src_y:t.src_y + 10,
                                                            t.src_x:t.src_x + 10]
        assert np.array_equal(img, expect)
        last = tiles[-1]
        assert _find(img[last.y:last.y + 10, last.x:last.x + 10], ds.sources, [lambda r: r])
    # With flips and quarter turns, the last tile is a crop under one of the 8 symmetries.
    undo = [lambda r, k=k, f=f: np.rot90(r[:, ::-1] if f else r, -k)
            for k in range(4) for f in (False, True)]
    ds = _pool(pool.data_root, tile_range=(10, 10))
    used = set()
    for i in range(8):
        img, _ = ds.collage(i)
        tiles = ds.layout(i)
        used |= {(t.rot90, t.flip) for t in tiles}
        last = tiles[-1]
        assert _find(img[last.y:last.y + 10, last.x:last.x + 10], ds.sources, undo)
    assert len(used) == 8


def test_scaled_tiles_are_resized_source_windows(pool):
    ds = _pool(pool.data_root, tile_range=(12, 12), scale_range=(0.5, 2.0), flip_rotate=False)
    sizes = {t.src_size for i in range(5) for t in ds.layout(i)}
    assert min(sizes) <= 8 and max(sizes) >= 20 and max(sizes) <= min(H, W)
    t = ds.layout(0)[-1]
    img, _ = ds.collage(0)
    window = np.ascontiguousarray(ds.sources[t.source, t.src_y:t.src_y + t.src_size,
                                             t.src_x:t.src_x + t.src_size])
    interp = cv2.INTER_AREA if t.src_size > 12 else cv2.INTER_LINEAR
    assert np.array_equal(img[t.y:t.y + 12, t.x:t.x + 12],
                          cv2.resize(window, (12, 12), interpolation=interp))


def _band_shares(labels, cls):
    """Share of class ``cls`` in the bottom quarter of rows minus that in the top quarter."""
    q = labels.shape[1] // 4
    return float((labels[:, -q:] == cls).mean() - (labels[:, :q] == cls).mean())


def test_room_layout_is_destroyed(pool):
    # Where a tile is cut from is independent of where it lands.
    pairs = np.array([(t.y + t.size / 2, t.src_y + t.src_size / 2)
                      for i in range(60) for t in pool.layout(i)])
    assert len(pairs) > 1000
    assert abs(np.corrcoef(pairs.T)[0, 1]) < 0.1
    # So the room geometry is gone: paste the sources' label maps with the same layouts (tiles
    # are exact, turned and flipped source crops, see above). In the rooms, floor is at the
    # bottom and ceiling at the top; in the collages both are spread evenly over the rows.
    seg_dir = osp.join(pool.data_root, 'seg13', 'train')
    labels = np.stack([cv2.imread(osp.join(seg_dir, f'{k:05d}.png'), cv2.IMREAD_UNCHANGED)
                       for k in range(NUM_SOURCES)])
    collages = np.empty((60, H, W), np.uint8)
    for i in range(60):
        for t in pool.layout(i):
            patch = np.rot90(labels[t.source, t.src_y:t.src_y + t.size,
                                    t.src_x:t.src_x + t.size], t.rot90)
            collages[i, t.y:t.y + t.size, t.x:t.x + t.size] = patch[:, ::-1] if t.flip else patch
    assert _band_shares(labels, FLOOR) > 0.4 and _band_shares(labels, CEILING) < -0.1
    assert abs(_band_shares(collages, FLOOR)) < 0.06
    assert abs(_band_shares(collages, CEILING)) < 0.06
    assert (collages == FLOOR).mean() > 0.05 and (collages == CEILING).mean() > 0.02


@pytest.mark.parametrize('kwargs, arg', [
    (dict(num_samples=0), 'num_samples'),
    (dict(crop_size=(4, 64)), 'crop_size'),
    (dict(crop_size=64), 'crop_size'),
    (dict(tile_range=(0, 8)), 'tile_range'),
    (dict(tile_range=(20, 10)), 'tile_range'),
    (dict(tile_range=(8, 65)), 'tile_range'),
    (dict(tile_range=8), 'tile_range'),
    (dict(scale_range=(0.0, 1.0)), 'scale_range'),
    (dict(scale_range=(2.0, 1.0)), 'scale_range'),
    (dict(num_sources=0), 'num_sources'),
    (dict(source_seed=-1), 'source_seed'),
    (dict(seed=-1), 'seed'),
])
def test_bad_arguments_name_the_argument(tmp_path, kwargs, arg):
    with pytest.raises(DatasetError, match=rf'SynthRoomsCollageDataset: {arg}\b'):
        _pool(str(tmp_path / 'sources'), **kwargs)
    assert not (tmp_path / 'sources').exists()  # nothing generated


def test_refuses_the_train_data_root(synthrooms_root):
    before = load_manifest(synthrooms_root)
    with pytest.raises(DatasetError, match='data_root .*seed 0.*of its own'):
        _pool(synthrooms_root)
    assert load_manifest(synthrooms_root) == before


def test_configs(pool):
    kd = Config.fromfile(osp.join(
        ROOT, 'configs/kd/kd-rel_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_collages.py'))
    mos = Config.fromfile(osp.join(
        ROOT, 'configs/mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_collages.py'))
    photos = Config.fromfile(osp.join(
        ROOT, 'configs/mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py'))
    for cfg in (kd, mos):
        ds = cfg.train_dataloader.dataset
        assert ds.type == 'SynthRoomsCollageDataset' and tuple(ds.crop_size) == (96, 128)
        assert ds.source_seed != cfg.synthrooms.seed and ds.data_root != cfg.data_root
        norm = [t for t in ds.pipeline if t.type == 'Normalize'][0]
        assert tuple(norm.mean) == tuple(cfg.data_norm.mean)
        assert tuple(norm.std) == tuple(cfg.data_norm.std)
        assert cfg.val_dataloader.dataset.type == 'SynthRoomsDataset'
    norm = [t for t in mos.train_dataloader.dataset.pipeline if t.type == 'Normalize'][0]
    assert tuple(norm.mean) == tuple(mos.data_norm.mean)
    assert tuple(norm.std) == tuple(mos.data_norm.std)
    assert kd.model.type == 'KD'
    # The MosaicKD config only swaps the train dataset of the photos config.
    assert mos.model == photos.model and mos.optim_wrapper == photos.optim_wrapper
    assert mos.train_dataloader.batch_size == photos.train_dataloader.batch_size
    assert mos.train_cfg == photos.train_cfg
    # The config's arguments are accepted (tiny sizes, reusing the cached test sources).
    built = DATASETS.build(dict(mos.train_dataloader.dataset, data_root=pool.data_root,
                                num_samples=3, crop_size=(H, W), num_sources=NUM_SOURCES))
    assert built[2]['inputs'].shape == (3, H, W)
