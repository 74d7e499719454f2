"""Every shipped config parses and names only registered types (no silent drift)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import MODEL_WRAPPERS, init_default_scope

from densekd.registry import DATASETS, HOOKS, METRICS, MODELS, OPTIM_WRAPPER_CONSTRUCTORS
from densekd.utils.config import check_top_level_keys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p and 'benchmarks' not in p)  # suites: test_benchmark.py


def types_in(obj, key='type'):
    if isinstance(obj, dict):
        if key in obj and isinstance(obj[key], str):
            yield obj[key]
        for value in obj.values():
            yield from types_in(value, key)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from types_in(value, key)


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_parses_and_types_are_registered(path):
    init_default_scope('densekd')
    cfg = Config.fromfile(path)
    check_top_level_keys(cfg, path)  # what the tools' load_config checks, too
    assert cfg.default_scope == 'densekd'
    for t in types_in(cfg.model):
        assert MODELS.get(t) is not None, f'{path}: model type {t} not registered'
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert DATASETS.get(cfg[loader].dataset.type) is not None
    assert METRICS.get(cfg.val_evaluator.type) is not None
    for hook in list(cfg.default_hooks.values()) + list(cfg.get('custom_hooks', [])):
        assert HOOKS.get(hook['type']) is not None, hook
    if 'constructor' in cfg.optim_wrapper:
        assert OPTIM_WRAPPER_CONSTRUCTORS.get(cfg.optim_wrapper.constructor) is not None
        names = [k for k in cfg.optim_wrapper if k != 'constructor']
        if cfg.param_scheduler is not None:
            assert set(cfg.param_scheduler) == set(names)
        else:  # every learning rate follows the budget loop's cosine
            assert cfg.train_cfg.type == 'BudgetTrainLoop'
            assert cfg.train_cfg.lr_schedule == 'cosine'


def test_every_method_has_configs():
    names = {osp.basename(osp.dirname(p)) for p in CONFIGS}
    assert {'teacher', 'kd', 'dfad', 'dafl', 'mosaickd', 'augkd'} <= names


def test_48x64_tier_configs_agree_on_sizes_and_models():
    """Every tier config tests, trains and generates at 48x64 with the tier's teacher."""
    tier = [p for p in CONFIGS if '48x64' in osp.basename(p)]
    assert len(tier) >= 16  # the glob finds the tier: 12 method configs + 4 augmentation ones
    teacher = Config.fromfile(
        osp.join(ROOT, 'configs/teacher/deeplabv3plus_r10t_synthrooms-48x64.py')).model.segmentor
    for path in tier:
        cfg = Config.fromfile(path)
        test = cfg.test_dataloader.dataset
        assert (test.height, test.width, test.data_root) == (48, 64, 'data/synthrooms_48x64'), path
        train = cfg.train_dataloader.dataset
        # Fixed-size crops must be 48x64; size-keeping crops keep the 48x64 renders' size.
        crops = [tuple(t['size']) for t in train.get('pipeline', [])
                 if t['type'] == 'RandomResizedCrop']
        keep = [t for t in train.get('pipeline', []) if t['type'] == 'RandomResizedCropKeepSize']
        assert tuple(train.get('crop_size', (48, 64))) == (48, 64) and crops in ([], [(48, 64)])
        if keep:
            assert (train.height, train.width) == (48, 64), path
        if 'teacher' in cfg.model:
            distilled = {k: v for k, v in cfg.model.teacher.items() if k != 'checkpoint'}
            assert distilled == teacher.to_dict(), path
            assert cfg.model.student.encoder_name == 'tu-mobilenetv3_small_050', path
        if 'generator' in cfg.model:
            assert tuple(cfg.model.generator.img_size) == (48, 64), path


@pytest.mark.parametrize('path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_multi_process_runs_keep_each_regimes_train_step_and_score_each_image_once(path):
    cfg = Config.fromfile(path)
    init_default_scope('densekd')
    assert MODEL_WRAPPERS.get(cfg.model_wrapper_cfg.type).__name__ == 'DistributedAlgorithmWrapper'
    for loader in ('val_dataloader', 'test_dataloader'):
        assert cfg[loader].sampler == dict(type='DefaultSampler', shuffle=False, round_up=False)
