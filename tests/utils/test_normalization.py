"""The input-normalisation check: model.data_norm, the pipelines and the generator agree."""
import glob
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

from densekd.utils.config import load_config
from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD, check_data_norm

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))
                 if '_base_' not in p and 'benchmarks' not in p)
BLIND = osp.join(ROOT, 'configs/kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py')
NYU_MOSAIC = osp.join(ROOT,
                      'configs/mosaickd/mosaickd_dlv3-r50_dlv3-mbv2_nyuv2-128x128_imagenet.py')


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_every_config_uses_one_input_space(path):
    cfg = load_config(path)  # runs the check
    if 'data_norm' in cfg.model:  # and the spaces really are the data family's
        family = 'nyuv2' if 'nyuv2' in path else 'synthrooms'
        base = Config.fromfile(osp.join(ROOT, f'configs/_base_/datasets/{family}.py'))
        assert cfg.model.data_norm == base.data_norm


def test_a_pipeline_that_disagrees_is_an_error_naming_its_key():
    with pytest.raises(ValueError, match=r'train_dataloader\.dataset\.pipeline\[1\] is '
                                         r'Normalize\(mean=\(0\.485.*model\.data_norm'):
        load_config(BLIND, {'model.data_norm.mean': (0.5, 0.5, 0.5)})
    with pytest.raises(ValueError, match=r'val_dataloader\.dataset\.pipeline\[0\]'):
        load_config(BLIND, {'val_dataloader.dataset.pipeline': [
            dict(type='Normalize', mean=(0.5,) * 3, std=(0.5,) * 3)]})


def test_nested_pipelines_are_checked():
    """EntropySubsetDataset's scoring pipeline sits two datasets deep."""
    load_config(NYU_MOSAIC)
    bad = dict(type='Normalize', mean=IMAGENET_MEAN, std=IMAGENET_STD)
    with pytest.raises(ValueError, match=r'train_dataloader\.dataset\.score_pipeline\[2\]'):
        load_config(NYU_MOSAIC, {'train_dataloader.dataset.score_pipeline': [
            dict(type='SmallestMaxSize', max_size=256),
            dict(type='CenterCrop', height=256, width=256), bad]})


def test_default_norm_non_standard_modes_and_the_generator():
    cfg = dict(model=dict(teacher={}, student={}),
               train_dataloader=dict(dataset=dict(pipeline=[dict(type='Normalize')])))
    check_data_norm(cfg, default=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD))  # both defaults
    with pytest.raises(ValueError, match='the default model.data_norm'):
        check_data_norm(cfg, default=dict(mean=(0.5,) * 3, std=(0.5,) * 3))
    check_data_norm(cfg, default=None)  # a segmentor config declares no space: not checked
    cfg['train_dataloader']['dataset']['pipeline'] = [dict(type='Normalize', max_pixel_value=1.0)]
    with pytest.raises(ValueError, match='non-standard'):
        check_data_norm(cfg, default=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD))
    cfg = dict(model=dict(data_norm=dict(mean=(0.5,) * 3, std=(0.5,) * 3),
                          generator=dict(type='PatchGenerator', std=(0.25,) * 3)))
    with pytest.raises(ValueError, match='model.generator.std'):
        check_data_norm(cfg)
    cfg['model']['generator']['std'] = 0.5  # a scalar stands for every channel
    check_data_norm(cfg)


def test_train_tool_refuses_a_mismatch_before_building_anything(tmp_path):
    """The error comes when the config is loaded: no work dir, model or data is made."""
    spec = importlib.util.spec_from_file_location('densekd_tool_train',
                                                  osp.join(ROOT, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    work_dir = tmp_path / 'run'
    with pytest.raises(ValueError, match=r'train_dataloader\.dataset\.pipeline\[1\]'):
        train.main([BLIND, '--work-dir', str(work_dir),
                    '--cfg-options', 'model.data_norm.std=[0.5,0.5,0.5]'])
    assert not work_dir.exists()
