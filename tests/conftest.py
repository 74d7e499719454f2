"""Shared fixtures: tiny SynthRooms data, a tiny teacher trained through the real tools.

Importable helpers (configs, tool loaders, metrics) are in ``tests/helpers.py``.
"""
import itertools
import os.path as osp
import textwrap

import pytest
import torch

from tests.helpers import TINY_SEGMENTOR, TINY_SYNTHROOMS, load_tool, tiny_data_body, write_config

torch.set_num_threads(2)
_scopes = itertools.count()


@pytest.fixture(autouse=True)
def densekd_default_scope():
    """Each test starts in scope ``densekd`` (a Runner of another scope may have switched it)."""
    from mmengine.registry import DefaultScope
    DefaultScope.get_instance(f'densekd_test_{next(_scopes)}', scope_name='densekd')
    yield


@pytest.fixture(scope='session')
def synthrooms_root(tmp_path_factory):
    """A tiny SynthRooms dataset (64 train / 16 test images, 64x64), generated once."""
    from densekd.synthrooms import generate_synthrooms
    root = str(tmp_path_factory.mktemp('synthrooms'))
    generate_synthrooms(root, **TINY_SYNTHROOMS)
    return root


@pytest.fixture(scope='session')
def tiny_teacher(tmp_path_factory, synthrooms_root):
    """Train a tiny teacher through tools/train.py; returns (work_dir, exported weights path)."""
    tmp = tmp_path_factory.mktemp('teacher')
    body = tiny_data_body(synthrooms_root) + textwrap.dedent(f"""
        model = dict(segmentor={TINY_SEGMENTOR!r})
        optim_wrapper = dict(optimizer=dict(lr=3e-3))
        train_cfg = dict(max_iters=120, val_interval=120)
        param_scheduler = [dict(type='CosineAnnealingLR', T_max=120, by_epoch=False)]
        default_hooks = dict(checkpoint=dict(interval=60), logger=dict(interval=20))
        experiment_name = 'tiny_teacher'
    """)
    cfg = write_config(tmp, 'teacher/deeplabv3plus_r18_synthrooms-96x128.py', body)
    work_dir = str(tmp / 'work')
    load_tool('train').main([cfg, '--work-dir', work_dir])
    weights = str(tmp / 'teacher.pth')
    load_tool('export_weights').main([osp.join(work_dir, 'iter_120.pth'), weights,
                                      '--net', 'segmentor'])
    return dict(config=cfg, work_dir=work_dir, weights=weights)


def pytest_configure(config):
    config.addinivalue_line('markers', 'e2e: runs the real tools end to end, or takes more '
                            'than ~5 s; deselect with -m "not e2e" for a fast loop')
