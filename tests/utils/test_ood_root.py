"""ood_root: one key points every OOD pool of a config at the user's folder."""
import glob
import os.path as osp
import textwrap

import cv2
import numpy as np
import pytest

from densekd.benchmark.table import describe_data
from densekd.registry import DATASETS
from densekd.utils.config import load_config
from tests.helpers import ROOT, last_metrics, load_tool, tiny_data_body, write_config
from tests.test_tools_kd import kd_body

CONFIGS = osp.join(ROOT, 'configs')
BLIND = osp.join(CONFIGS, 'kd/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py')
MOSAIC = osp.join(CONFIGS, 'mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py')
IMAGENET = osp.join(CONFIGS, 'kd/kd-ood_dlv3-r50_dlv3-mbv2_nyuv2-128x128_imagenet.py')


@pytest.fixture
def photo_folder(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / 'photos' / 'sub').mkdir(parents=True)
    for name in ['a.jpg', 'sub/b.png']:  # a subfolder is searched too
        cv2.imwrite(str(tmp_path / 'photos' / name), rng.integers(0, 255, (160, 200, 3),
                                                                   np.uint8))
    return str(tmp_path / 'photos')


def _pool(cfg):
    dataset = cfg.train_dataloader.dataset
    return dataset.get('dataset', dataset)  # MosaicKD wraps its pool


@pytest.mark.parametrize('config', [BLIND, MOSAIC])
def test_every_photo_pool_reads_the_folder(config, photo_folder):
    assert 'sources' not in _pool(load_config(config))  # by default: the bundled photos
    cfg = load_config(config, {'ood_root': photo_folder})
    assert _pool(cfg)['sources'] == [photo_folder]
    dataset = DATASETS.build(dict(_pool(cfg), num_samples=4))
    assert sorted(dataset.photo_names) == [f'{photo_folder}:a.jpg', f'{photo_folder}:b.png']
    assert dataset[0]['inputs'].shape[-2:] == tuple(dataset.crop_size)
    assert describe_data(cfg).startswith(f'2 photos from {photo_folder}')


def test_image_folder_configs_and_configs_without_a_pool(photo_folder):
    cfg = load_config(IMAGENET, {'ood_root': photo_folder})
    assert cfg.train_dataloader.dataset.data_root == photo_folder
    teacher = osp.join(CONFIGS, 'teacher/deeplabv3plus_r10t_synthrooms-48x64.py')
    with pytest.raises(ValueError, match='ood_root=.*no OOD image pool'):
        load_config(teacher, {'ood_root': photo_folder})
    cfg = load_config(BLIND, {'ood_root': osp.join(photo_folder, 'missing')})
    with pytest.raises(Exception, match='missing.*neither'):  # named when the data is read
        DATASETS.build(_pool(cfg))


@pytest.mark.e2e
def test_train_blind_kd_on_your_own_folder(tiny_teacher, synthrooms_root, photo_folder,
                                           tmp_path):
    body = tiny_data_body(synthrooms_root) + kd_body(tiny_teacher['weights'], iters=4) + \
        textwrap.dedent("""
            train_dataloader = dict(dataset=dict(crop_size=(64, 64), num_samples=32))
        """)
    cfg = write_config(tmp_path, 'kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
                       body)
    work_dir = str(tmp_path / 'work')
    load_tool('train').main([cfg, '--work-dir', work_dir, '--cfg-options',
                             f'ood_root={photo_folder}'])
    assert last_metrics(work_dir)['mIoU'] >= 0
    log = open(next(p for p in glob.glob(osp.join(work_dir, '*', '*.log')))).read()
    assert f'{photo_folder}:a.jpg' in log and 'skimage:' not in log
