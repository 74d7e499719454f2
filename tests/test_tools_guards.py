"""tools/train.py refuses what would silently go wrong: NaN/inf training, two runs in one
work dir, config keys that change nothing, schedules that ignore ``train_cfg.max_iters``."""
import glob
import json
import math
import os
import os.path as osp
import re
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest
import torch
from mmengine.hooks import Hook

from densekd.registry import HOOKS
from densekd.utils.config import ConfigKeyError
from densekd.utils.work_dir_lock import LOCK_NAME, work_dir_lock
from tests.helpers import (ROOT, TINY_SEGMENTOR, load_tool, tiny_data_body, write_config,
                           write_tiny_segmentor)

pytestmark = pytest.mark.e2e
TEACHER = 'teacher/deeplabv3plus_r18_synthrooms-96x128.py'
DFAD = 'dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'


@HOOKS.register_module(force=True)
class PoisonStudentHook(Hook):
    """Fault injection: after iteration ``at_iter``, ``count`` student weights become NaN.

    Stands for an update that diverged while the iteration's losses were still finite (as a
    DFAD run whose ``iter_1.pth`` held 543 non-finite student values; the tiny student's
    head has 416 weights).
    """

    priority = 'VERY_HIGH'  # within the iteration, before every check and save

    def __init__(self, at_iter: int, count: int = 400):
        self.at_iter, self.count = at_iter, count

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter + 1 == self.at_iter:
            with torch.no_grad():
                runner.model.student.segmentation_head[0].weight.view(-1)[:self.count] = math.nan


def teacher_config(tmp_path, data_root, body=''):
    return write_config(tmp_path, TEACHER, tiny_data_body(data_root) + textwrap.dedent(f"""
        model = dict(segmentor={TINY_SEGMENTOR!r})
    """) + textwrap.dedent(body))


def checkpoints(work_dir):
    return sorted(osp.basename(p) for p in glob.glob(osp.join(work_dir, '*.pth')))


def assert_checkpoints_finite(work_dir):
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
        for name, value in ckpt['state_dict'].items():
            assert not value.is_floating_point() or torch.isfinite(value).all(), (path, name)


def scalars(work_dir):
    rows = []
    for path in glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')):
        with open(path) as f:
            rows += [json.loads(line) for line in f]
    return rows


def run_train(argv):
    """``tools/train.py`` in-process; returns the exit message of a run that stopped."""
    with pytest.raises(SystemExit) as exit_info:
        load_tool('train').main(argv)
    assert isinstance(exit_info.value.code, str)  # SystemExit(str): exit status 1
    return exit_info.value.code


# 1. NaN/inf -------------------------------------------------------------------------------

def test_teacher_diverging_stops_and_saves_no_bad_or_best_checkpoint(tmp_path, synthrooms_root):
    # The reported run: lr=1e8 logged NaN losses for 4 iterations, exited 0, saved a "best".
    cfg = teacher_config(tmp_path, synthrooms_root, """
        train_cfg = dict(max_iters=4, val_interval=2)
        default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
    """)
    work_dir = str(tmp_path / 'work')
    message = run_train([cfg, '--work-dir', work_dir,
                         '--cfg-options', 'optim_wrapper.optimizer.lr=1e8'])
    assert message.startswith('training stopped: non-finite ')
    assert re.search(r'(at|after) iteration \d+', message)
    assert 'segmentor.' in message or 'loss_ce' in message  # what went non-finite
    saved = checkpoints(work_dir)
    assert not [c for c in saved if c.startswith('best')]
    assert_checkpoints_finite(work_dir)
    if saved:  # the message names the real last one
        assert message.endswith(f'the last good checkpoint (saved with finite weights) is '
                                f'{osp.join(work_dir, saved[-1])}')
    else:
        assert message.endswith(f'no checkpoint was saved in {work_dir}')
    rows = [row for row in scalars(work_dir) if 'loss' in row]
    assert rows and all(math.isfinite(row['loss']) for row in rows)  # stopped before a NaN
    log = open(glob.glob(osp.join(work_dir, '*', '*.log'))[0]).read()
    assert message in log  # the run's log says why it ended


@pytest.mark.parametrize('check_interval, poison_at, expected', [
    # Checked after every iteration: stops before the checkpoint hook of that iteration.
    (1, 1, r'non-finite weights after iteration 1: student\.segmentation_head\.0\.weight '
           r'\(400 non-finite values\)'),
    # Only before saving: the checkpoint of iteration 2 is refused; iteration 1's stays.
    (0, 2, r'non-finite values in the checkpoint after iteration 2: '
           r'student\.segmentation_head\.0\.weight \(400 non-finite values\); it was not written'),
])
def test_dfad_never_saves_non_finite_weights(tmp_path, synthrooms_root, check_interval,
                                             poison_at, expected):
    teacher = write_tiny_segmentor(tmp_path)
    body = tiny_data_body(synthrooms_root) + textwrap.dedent(f"""
        train_dataloader = dict(_delete_=True, batch_size=1, num_workers=0,
                                persistent_workers=False,
                                sampler=dict(type='InfiniteSampler', shuffle=False),
                                collate_fn=dict(type='default_collate'),
                                dataset=dict(type='NoDataDataset'))
        model = dict(generator=dict(ngf=8, img_size=(64, 64)), batch_size=2, student_steps=1,
                     teacher=dict(_delete_=True, checkpoint={teacher!r}, **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
        train_cfg = dict(max_iters=3)
        default_hooks = dict(checkpoint=dict(interval=1, save_last=True), logger=dict(interval=1),
                             finite_check=dict(interval={check_interval}))
        custom_hooks = [dict(type='PoisonStudentHook', at_iter={poison_at})]
    """)
    work_dir = str(tmp_path / 'work')
    message = run_train([write_config(tmp_path, DFAD, body), '--work-dir', work_dir])
    assert re.search(expected, message), message
    good = [f'iter_{i}.pth' for i in range(1, poison_at)]
    assert checkpoints(work_dir) == good
    assert_checkpoints_finite(work_dir)
    if good:
        assert message.endswith(f'the last good checkpoint (saved with finite weights) is '
                                f'{osp.join(work_dir, good[-1])}')
    else:
        assert message.endswith(f'no checkpoint was saved in {work_dir}')
    assert not osp.exists(osp.join(work_dir, LOCK_NAME))


# 2. One run per work dir ------------------------------------------------------------------

def test_second_run_into_a_busy_work_dir_is_refused_and_writes_nothing(tmp_path,
                                                                       synthrooms_root):
    cfg = teacher_config(tmp_path, synthrooms_root, """
        train_cfg = dict(max_iters=100000, val_interval=100000)
        default_hooks = dict(checkpoint=dict(interval=100000), logger=dict(interval=50))
    """)
    work_dir = str(tmp_path / 'work')
    first = subprocess.Popen([sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg,
                              '--work-dir', work_dir], cwd=str(tmp_path),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=dict(os.environ, OMP_NUM_THREADS='1'))
    try:
        lock = osp.join(work_dir, LOCK_NAME)
        deadline = time.time() + 180
        while not osp.isfile(lock) and first.poll() is None and time.time() < deadline:
            time.sleep(0.2)
        assert first.poll() is None and osp.isfile(lock), 'the first run did not start'
        second_cfg = str(tmp_path / 'second.py')  # its own name: a copy would show
        shutil.copy(cfg, second_cfg)
        message = run_train([second_cfg, '--work-dir', work_dir,
                             '--cfg-options', 'train_cfg.max_iters=2'])
        for part in (f'work dir {work_dir} is in use by another training run',
                     f'pid {first.pid}', f'host {socket.gethostname()}', 'started ',
                     f'tools/train.py {cfg} --work-dir {work_dir}'):
            assert part in message
        assert json.load(open(lock))['pid'] == first.pid
        assert not osp.exists(osp.join(work_dir, 'second.py'))  # no config dump, no log dir
        assert len([d for d in os.listdir(work_dir)
                    if osp.isdir(osp.join(work_dir, d))]) == 1
    finally:
        first.send_signal(signal.SIGKILL)  # dies without removing its lock
        first.wait()
    # The lock of the killed run is stale: the next run takes it over, then releases it.
    with pytest.warns(UserWarning, match=f'taking over the stale lock .*pid {first.pid}'):
        load_tool('train').main([cfg, '--work-dir', work_dir, '--cfg-options',
                                 'train_cfg.max_iters=2', 'default_hooks.checkpoint.interval=2'])
    assert 'iter_2.pth' in checkpoints(work_dir) and not osp.exists(lock)


def test_evaluating_into_a_training_work_dir_is_allowed(tmp_path, synthrooms_root):
    # tools/test.py writes its own timestamped log dir and metrics.json: no clash with a run.
    cfg = teacher_config(tmp_path, synthrooms_root)
    weights = write_tiny_segmentor(tmp_path)
    work_dir = str(tmp_path / 'work')
    with work_dir_lock(work_dir, command='python tools/train.py running.py'):
        metrics = load_tool('test').main([cfg, weights, '--work-dir', work_dir])
        assert 'mIoU' in metrics and osp.isfile(osp.join(work_dir, 'metrics.json'))
        assert json.load(open(osp.join(work_dir, LOCK_NAME)))['command'].endswith('running.py')


# 3. Config keys ---------------------------------------------------------------------------

@pytest.mark.parametrize('body, options, expected', [
    ("modle = dict(type='Supervised')\n", [],
     r"top-level key 'modle' is not a runner setting.*did you mean 'model'"),
    ('', ['max_iters=4'],
     r"--cfg-options max_iters: 'max_iters' is a variable of the config file.*"
     r"e\.g\. train_cfg\.max_iters"),
    ('', ['default_hooks.chekpoint.interval=1'],
     r"default_hooks has no key 'chekpoint'; did you mean 'checkpoint'"),
])
def test_config_keys_that_change_nothing_fail_before_anything_is_written(
        tmp_path, synthrooms_root, body, options, expected):
    cfg = teacher_config(tmp_path, synthrooms_root, body)
    work_dir = str(tmp_path / 'work')
    argv = [cfg, '--work-dir', work_dir] + (['--cfg-options'] + options if options else [])
    with pytest.raises(ConfigKeyError, match=expected):
        load_tool('train').main(argv)
    assert not osp.exists(work_dir)


def test_config_key_error_exits_non_zero_from_the_command_line(tmp_path, synthrooms_root):
    cfg = teacher_config(tmp_path, synthrooms_root)
    proc = subprocess.run([sys.executable, osp.join(ROOT, 'tools', 'train.py'), cfg,
                           '--work-dir', str(tmp_path / 'work'), '--cfg-options', 'max_iters=4'],
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=300,
                          env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode == 1
    assert "ConfigKeyError: --cfg-options max_iters: 'max_iters' is a variable" in proc.stderr
    assert not osp.exists(tmp_path / 'work')


# 4. Schedules follow train_cfg.max_iters --------------------------------------------------

@pytest.mark.parametrize('schedule', ['cosine', 'step'])
def test_cfg_option_max_iters_sets_the_schedule_length(tmp_path, synthrooms_root, schedule):
    iters, lr, eta_min = 6, 1.5e-3, 1e-5  # the teacher config's AdamW lr and cosine eta_min
    body = ('' if schedule == 'cosine' else  # the NYUv2 teacher's schedule, x0.1 at half
            "param_scheduler = [dict(type='ProgressMultiStepLR', milestones=[0.5], gamma=0.1, "
            "by_epoch=False)]\n")
    body += textwrap.dedent("""
        val_dataloader = val_cfg = val_evaluator = None  # only the learning rates matter here
        default_hooks = dict(checkpoint=None, logger=dict(interval=1))
    """)
    cfg = teacher_config(tmp_path, synthrooms_root, body)
    work_dir = str(tmp_path / 'work')
    load_tool('train').main([cfg, '--work-dir', work_dir,
                             '--cfg-options', f'train_cfg.max_iters={iters}'])
    logged = {row['iter']: row['lr'] for row in scalars(work_dir) if 'lr' in row}
    assert sorted(logged) == list(range(1, iters + 1))
    if schedule == 'cosine':  # T_max = max_iters: the last iteration is one step from eta_min
        expected = [eta_min + (lr - eta_min) * (1 + math.cos(math.pi * i / iters)) / 2
                    for i in range(iters)]
    else:
        expected = [lr] * (iters // 2) + [lr * 0.1] * (iters - iters // 2)
    assert [logged[i + 1] for i in range(iters)] == pytest.approx(expected, rel=1e-6)
