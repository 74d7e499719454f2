"""End to end through tools/train.py and tools/test.py: a tiny SynthRooms teacher."""
import glob
import json
import os.path as osp

import pytest
import torch

from densekd.datasets import SynthRoomsDataset
from densekd.models import build_segmentor
from tests.helpers import TINY_SEGMENTOR_ARGS, TINY_SYNTHROOMS, evaluate, last_metrics, load_tool

pytestmark = pytest.mark.e2e


def test_teacher_learns(tiny_teacher, synthrooms_root):
    trained = last_metrics(tiny_teacher['work_dir'])['mIoU']
    torch.manual_seed(0)
    untrained = evaluate(build_segmentor(**TINY_SEGMENTOR_ARGS),
                         SynthRoomsDataset(synthrooms_root, split='test', **TINY_SYNTHROOMS))
    assert trained > untrained + 5, (trained, untrained)
    assert osp.isfile(osp.join(tiny_teacher['work_dir'], 'iter_120.pth'))


def test_test_tool_table_overlays_and_labels(tiny_teacher, tmp_path, capsys):
    show, out = tmp_path / 'show', tmp_path / 'labels'
    metrics = load_tool('test').main([
        tiny_teacher['config'], osp.join(tiny_teacher['work_dir'], 'iter_120.pth'),
        '--work-dir', str(tmp_path / 'work'), '--show-dir', str(show), '--out', str(out)])
    # Same checkpoint, same test split: the test tool reproduces the final validation.
    assert metrics['mIoU'] == pytest.approx(last_metrics(tiny_teacher['work_dir'])['mIoU'])
    with open(tmp_path / 'work' / 'metrics.json') as f:  # and says so in a file, for scripts
        record = json.load(f)
    assert record['metrics']['mIoU'] == pytest.approx(metrics['mIoU'])
    assert record['model'] == 'student' and record['checkpoint'].endswith('iter_120.pth')
    overlays, labels = sorted(glob.glob(str(show / '*.png'))), sorted(glob.glob(str(out / '*.png')))
    assert len(overlays) == TINY_SYNTHROOMS['num_test'] == len(labels)
    from densekd.datasets.nyuv2 import read_label
    label = read_label(labels[0])  # paletted PNG: the pixel values are the class ids
    assert label.shape == (64, 64) and label.max() < 13
    log = ''.join(open(p).read() for p in glob.glob(str(tmp_path / 'work' / '*' / '*.log')))
    assert 'per-class results' in log and 'wall' in log and 'mIoU' in log


def test_resume_continues_from_last_checkpoint(tiny_teacher, tmp_path):
    work_dir = str(tmp_path / 'resumed')
    cfg = tiny_teacher['config']
    train = load_tool('train')
    train.main([cfg, '--work-dir', work_dir, '--cfg-options', 'train_cfg.max_iters=60',
                'experiment_name=first_half'])
    assert osp.isfile(osp.join(work_dir, 'iter_60.pth'))
    train.main([cfg, '--work-dir', work_dir, '--resume', '--cfg-options',
                'experiment_name=second_half'])
    ckpt = torch.load(osp.join(work_dir, 'iter_120.pth'), map_location='cpu', weights_only=False)
    assert ckpt['meta']['iter'] == 120
    log = open(sorted(glob.glob(osp.join(work_dir, '*', '*.log')))[-1]).read()
    assert 'resumed' in log.lower() and 'Iter(train) [ 80/120]' in log


def test_resume_with_missing_checkpoint_is_a_clear_error(tiny_teacher, tmp_path):
    with pytest.raises(SystemExit, match='does not exist'):
        load_tool('train').main([tiny_teacher['config'], '--resume', str(tmp_path / 'nope.pth')])


def test_teacher_checkpoint_class_mismatch(tiny_teacher):
    model = build_segmentor(**{**TINY_SEGMENTOR_ARGS, 'classes': 40})
    from densekd.models import load_weights
    with pytest.raises(ValueError, match='13 classes but the model config has 40'):
        load_weights(model, tiny_teacher['weights'])
