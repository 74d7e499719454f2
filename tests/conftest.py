"""Shared fixtures: tiny SynthRooms data, tiny models, running the real tools in-process."""
import importlib.util
import itertools
import os.path as osp
import textwrap

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
torch.set_num_threads(2)

# ~1 M-parameter smp models that build offline (timm's test_resnet).
TINY_SEGMENTOR = dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='tu-test_resnet',
                      classes=13, encoder_weights=None, decoder_channels=32,
                      decoder_atrous_rates=(1, 2, 3))
TINY_SYNTHROOMS = dict(num_train=64, num_test=16, height=64, width=64, seed=0)
_counter = itertools.count()


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools are scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f'densekd_tool_{name}',
                                                  osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_config(tmp_path, base: str, body: str) -> str:
    """A config in ``tmp_path`` inheriting ``configs/<base>`` with ``body`` appended."""
    path = osp.join(str(tmp_path), f'cfg_{next(_counter)}.py')
    with open(path, 'w') as f:
        f.write(f"_base_ = [{osp.join(ROOT, 'configs', base)!r}]\n")
        f.write(textwrap.dedent(body))
    return path


def tiny_data_body(data_root: str, crop=(64, 64), batch_size=8) -> str:
    """Config lines pointing the SynthRooms loaders at a tiny dataset (no worker processes)."""
    return textwrap.dedent(f"""
        _tiny = dict(data_root={data_root!r}, **{TINY_SYNTHROOMS!r})
        train_dataloader = dict(batch_size={batch_size}, num_workers=0, persistent_workers=False,
            dataset=dict(pipeline=[
                dict(type='RandomResizedCrop', size={crop!r}, scale=(0.5, 1.0)),
                dict(type='HorizontalFlip', p=0.5),
                dict(type='Normalize', mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))],
                **_tiny))
        val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
                              dataset=dict(**_tiny))
        test_dataloader = val_dataloader
    """)


@pytest.fixture(autouse=True)
def densekd_default_scope():
    """Each test starts in scope ``densekd`` (a Runner of another scope may have switched it)."""
    from mmengine.registry import DefaultScope
    DefaultScope.get_instance(f'densekd_test_{next(_counter)}', scope_name='densekd')
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
    load_tool('export_student').main([osp.join(work_dir, 'iter_120.pth'), weights,
                                      '--prefix', 'segmentor.'])
    return dict(config=cfg, work_dir=work_dir, weights=weights)


def last_metrics(work_dir: str) -> dict:
    """The last row with validation metrics in the run's scalars.json."""
    import glob
    import json
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            rows += [json.loads(line) for line in f if 'mIoU' in line]
    assert rows, f'no validation metrics logged in {work_dir}'
    return rows[-1]


def pytest_configure(config):
    config.addinivalue_line('markers', 'e2e: runs the real tools end to end (slow); '
                            'deselect with -m "not e2e"')
