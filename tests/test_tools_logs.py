"""Terminal output, checkpoints kept and tools/analyze_logs.py on runs of tools/train.py."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
import torch

from tests.helpers import ROOT, TINY_SEGMENTOR, load_tool, tiny_data_body, write_config

TEACHER = 'teacher/deeplabv3plus_r18_synthrooms-96x128.py'


@pytest.fixture(scope='module')
def short_run(synthrooms_root, tmp_path_factory):
    """A 5-iteration teacher run through ``python tools/train.py`` (a real process)."""
    tmp = tmp_path_factory.mktemp('short_run')
    body = tiny_data_body(synthrooms_root) + textwrap.dedent(f"""
        model = dict(segmentor={TINY_SEGMENTOR!r})
        train_cfg = dict(max_iters=5, val_interval=5)
        param_scheduler = [dict(type='CosineAnnealingLR', T_max=5, by_epoch=False)]
        default_hooks = dict(checkpoint=dict(interval=2))
    """)
    cfg = write_config(tmp, TEACHER, body)
    work_dir = str(tmp / 'work')
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1')
    env.pop('PYTHONWARNINGS', None)
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg,
                           '--work-dir', work_dir], capture_output=True, text=True, env=env,
                          timeout=600, cwd=str(tmp))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(config=cfg, work_dir=work_dir, stdout=proc.stdout, stderr=proc.stderr)


@pytest.mark.e2e
def test_short_run_terminal_shows_losses_soon_and_the_file_keeps_everything(short_run):
    lines = (short_run['stdout'] + short_run['stderr']).splitlines()
    first = next(i for i, line in enumerate(lines) if 'Iter(train) [1/5]' in line)
    assert first < 20, '\n'.join(lines[:first])  # mmengine alone prints ~380 lines first
    assert 'loss: ' in lines[first]
    assert any('Iter(train) [5/5]' in line for line in lines)  # and the last iteration
    assert 'Warning' not in short_run['stderr'], short_run['stderr']
    (log_file,) = glob.glob(osp.join(short_run['work_dir'], '*', '*.log'))
    log = open(log_file).read()
    for part in ('System environment:', 'Config:\n', 'Hooks will be executed'):
        assert part in log and part not in short_run['stdout'], part  # in the file only
    assert 'Iter(train) [1/5]' in log
    assert "type='EarlyLoggerHook'" in log and 'T_max=5' in log  # the config dump is whole


@pytest.mark.e2e
def test_checkpoints_kept_the_last_with_optimizer_and_the_best_without(short_run):
    work_dir = short_run['work_dir']
    kept = sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth')))
    assert kept == ['best_mIoU_iter_5.pth', 'iter_5.pth']  # iter_2 and iter_4 were removed
    last = torch.load(osp.join(work_dir, 'iter_5.pth'), map_location='cpu', weights_only=False)
    best = torch.load(osp.join(work_dir, 'best_mIoU_iter_5.pth'), map_location='cpu',
                      weights_only=False)
    assert 'optimizer' in last and 'optimizer' not in best
    assert best['state_dict'].keys() == last['state_dict'].keys()


def _image(path):
    img = cv2.imread(str(path))
    assert img is not None, path
    return img


def _has_colour(img, rgb, tol=30):
    diff = np.abs(img[..., ::-1].astype(int) - np.array(rgb)).sum(-1)
    return bool((diff < tol).any())


@pytest.mark.e2e
def test_analyze_logs_on_a_real_run(short_run, tmp_path):
    out = tmp_path / 'curves.png'
    drawn = load_tool('analyze_logs').main([short_run['work_dir'], '--out', str(out)])
    assert drawn == {'loss': ['work: loss'], 'mIoU': ['work: mIoU']}
    img = _image(out)
    assert img.shape[:2] == (560, 640)  # two panels of 6.4 x 2.8 in at 100 dpi
    assert _has_colour(img, (31, 119, 180))  # matplotlib's first line colour


# -- handwritten runs in mmengine's exact scalars.json format ---------------------------------

def write_run(work_dir, timestamp, losses, mious, loss_key='loss'):
    vis = osp.join(work_dir, timestamp, 'vis_data')
    os.makedirs(vis)
    with open(osp.join(vis, 'scalars.json'), 'w') as f:
        for step, value in losses:
            f.write(json.dumps({'lr': 0.001, 'data_time': 0.01, loss_key: value, 'time': 0.5,
                                'iter': step, 'step': step}) + '\n')
        for step, value in mious:
            f.write(json.dumps({'aAcc': 40.0, 'mIoU': value, 'mAcc': 7.0, 'IoU.wall': 40.0,
                                'data_time': 0.01, 'time': 0.1, 'step': step}) + '\n')
    return osp.join(vis, 'scalars.json')


def test_overlay_of_two_work_dirs_newest_timestamp_and_families(tmp_path):
    from densekd.visualization.log_curves import find_scalars, load_scalars
    teacher, kd = str(tmp_path / 'teacher'), str(tmp_path / 'kd')
    old = write_run(teacher, '20240101_000000', [(1, 9.0)], [(1, 1.0)])
    new = write_run(teacher, '20240102_000000', [(1, 2.5), (2, 2.4), (20, 1.5)], [(20, 9.5)])
    write_run(kd, '20240103_000000', [(1, 0.9), (10, 0.5)], [(10, 3.0)],
              loss_key='student.loss')
    assert find_scalars(teacher) == new != old
    assert [r['step'] for r in load_scalars(new)] == [1, 2, 20, 20]
    out = tmp_path / 'sub' / 'curves.png'
    drawn = load_tool('analyze_logs').main([teacher, kd, '--keys', 'loss', 'mIoU', 'IoU.*',
                                            '--out', str(out)])
    assert drawn == {'loss': ['teacher: loss', 'kd: student.loss'],
                     'mIoU': ['teacher: mIoU', 'kd: mIoU'],
                     'IoU.*': ['teacher: IoU.wall', 'kd: IoU.wall']}
    img = _image(out)
    assert img.shape[:2] == (840, 640)  # one panel per key
    assert _has_colour(img, (31, 119, 180)) and _has_colour(img, (255, 127, 14))  # two runs


def test_analyze_logs_errors_name_the_problem(tmp_path):
    run = write_run(str(tmp_path / 'teacher'), '20240101_000000', [(1, 2.0)], [(1, 5.0)])
    tool = load_tool('analyze_logs')
    with pytest.raises(SystemExit, match="key 'nope': no run logged it; columns: .*mIoU"):
        tool.main([run, '--keys', 'nope', '--out', str(tmp_path / 'a.png')])
    with pytest.raises(SystemExit, match='no <timestamp>/vis_data/scalars.json under'):
        tool.main([str(tmp_path), '--out', str(tmp_path / 'b.png')])
    with open(run, 'a') as f:
        f.write('{"step": 3, "loss": \n')
    with pytest.raises(SystemExit, match=r'scalars.json:3: not a JSON line'):
        tool.main([run, '--out', str(tmp_path / 'c.png')])
    assert not glob.glob(str(tmp_path / '*.png'))  # nothing half-written


@pytest.mark.skipif(__import__('importlib').util.find_spec('tensorboard') is not None,
                    reason='tensorboard is installed')
def test_train_tensorboard_flag_without_tensorboard_is_a_clear_error(tmp_path):
    cfg = write_config(tmp_path, TEACHER, '')
    with pytest.raises(SystemExit, match=r"pip install -e '\.\[tensorboard\]'"):
        load_tool('train').main([cfg, '--tensorboard', '--work-dir', str(tmp_path / 'w')])
    assert not (tmp_path / 'w').exists()  # failed before anything was built
