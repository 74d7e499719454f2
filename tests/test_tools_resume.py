"""Crash-safe checkpoints and exact resume through tools/train.py, with real SIGKILLs.

The runs are real subprocesses of ``tools/train.py`` (one thread each, deterministic settings,
the loss logged at every iteration without smoothing); a run is killed with SIGKILL while it
trains or while it writes a checkpoint, resumed with ``--resume``, and compared with an
uninterrupted run of the same config.
"""
import glob
import json
import os
import os.path as osp
import random
import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

from densekd.utils.checkpoint import CheckpointError, load_checkpoint
from densekd.utils.resume import check_training_checkpoint, read_last_checkpoint
from tests.helpers import (ROOT, TINY_SEGMENTOR, load_tool, tiny_data_body, write_config,
                           write_tiny_segmentor)

pytestmark = pytest.mark.e2e

KD_ORI = 'kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'
DFAD = 'dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'
TRAIN = osp.join(ROOT, 'tools', 'train.py')
ENV = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1',
           PYTHONUNBUFFERED='1')
TIMING = {'time', 'data_time'}  # wall-clock columns of scalars.json

# A tools/train.py with a slow disk: the STALL_AT-th save of a best checkpoint writes half of
# its bytes, signals STALLED (with the file it writes) and hangs, to be killed mid-write.
SLOW_SAVE = '''
import io, os, runpy, sys, time
import torch
real_save, best_saves = torch.save, []
def save(obj, f, *args, **kwargs):
    name = getattr(f, 'name', str(f))
    if os.path.basename(name).startswith('best_'):
        best_saves.append(name)
        if len(best_saves) == int(os.environ['STALL_AT']):
            buffer = io.BytesIO()
            real_save(obj, buffer, *args, **kwargs)
            f.write(buffer.getvalue()[:len(buffer.getvalue()) // 2])
            f.flush()
            with open(os.environ['STALLED'], 'w') as marker:
                marker.write(name)
            time.sleep(600)
    return real_save(obj, f, *args, **kwargs)
torch.save = save
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''


@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    """Weights of a random tiny teacher (training one is not needed to compare two runs)."""
    return write_tiny_segmentor(tmp_path_factory.mktemp('resume_teacher'))


def student_body(data_root: str, teacher: str, iters: int, num_evals: int, checkpoint: str,
                 model: str = '') -> str:
    return tiny_data_body(data_root) + textwrap.dedent(f"""
        model = dict({model}
                     teacher=dict(_delete_=True, checkpoint={teacher!r}, **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
        optim_wrapper = dict(student=dict(optimizer=dict(lr=3e-3)))
        train_cfg = dict(max_iters={iters}, num_evals={num_evals})
        randomness = dict(seed=0, deterministic=True)
        log_processor = dict(window_size=1)
        default_hooks = dict(checkpoint=dict({checkpoint}), logger=dict(interval=1))
    """)


def kd_config(tmp_path, data_root, teacher, iters=12, num_evals=3, checkpoint='interval=3'):
    return write_config(tmp_path, KD_ORI,
                        student_body(data_root, teacher, iters, num_evals, checkpoint))


def dfad_config(tmp_path, data_root, teacher, iters=9, num_evals=3, checkpoint='interval=3'):
    """DFAD: two optimizers, latent codes, and a replay pool refreshed at random slots."""
    model = ("generator=dict(ngf=8, img_size=(64, 64)), batch_size=2, student_steps=2, "
             "replay=dict(size=6, batch=2, refresh='random'),")
    body = student_body(data_root, teacher, iters, num_evals, checkpoint, model)
    body += textwrap.dedent("""
        train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                                dataset=dict(_delete_=True, type='NoDataDataset'))
        custom_hooks = []
    """)
    return write_config(tmp_path, DFAD, body)


def train(cfg: str, work_dir: str, *args: str) -> str:
    """Run tools/train.py to the end; its output."""
    proc = subprocess.run([sys.executable, TRAIN, cfg, '--work-dir', work_dir, *args], env=ENV,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:]
    return proc.stdout


def kill_at_iteration(cfg: str, work_dir: str, at_iter: int) -> str:
    """Run tools/train.py and SIGKILL it as soon as it logs iteration ``at_iter``."""
    proc = subprocess.Popen([sys.executable, TRAIN, cfg, '--work-dir', work_dir], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if re.search(rf'Iter\(train\) \[\s*{at_iter}/', line):
                os.kill(proc.pid, signal.SIGKILL)
                break
    finally:
        if proc.poll() is None and proc.returncode is None:
            proc.kill()
        proc.wait(60)
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL, ''.join(lines[-40:])
    return ''.join(lines)


def scalar_runs(work_dir: str) -> list:
    """The rows of each run's scalars.json, keyed by (step, is a validation row)."""
    runs = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        rows = {}
        with open(path) as f:
            for line in f:
                try:
                    row = json.loads(line)
                except ValueError:  # a killed run's last line may be cut short
                    continue
                rows[(row['step'], 'mIoU' in row)] = {k: v for k, v in row.items()
                                                      if k not in TIMING}
        runs.append(rows)
    return runs


def assert_same_as(reference_dir: str, work_dir: str, note: str) -> None:
    """Every row the killed and the resumed run logged equals the uninterrupted run's."""
    (reference,) = scalar_runs(reference_dir)
    runs = scalar_runs(work_dir)
    assert len(runs) == 2, note  # the killed run, the resumed run
    assert set().union(*runs) == set(reference), note  # every iteration and validation
    for rows in runs:
        for key, row in rows.items():
            assert set(row) == set(reference[key]), (note, key)
            for name, value in row.items():
                assert value == pytest.approx(reference[key][name], rel=0, abs=1e-6), \
                    (note, key, name)
    with open(osp.join(reference_dir, 'run_summary.json')) as f:
        expected = json.load(f)
    with open(osp.join(work_dir, 'run_summary.json')) as f:
        summary = json.load(f)
    assert summary['finished'] and summary['steps'] == expected['steps'], note
    assert ([(e['iter'], e['steps'], e['metrics']) for e in summary['evals']]
            == [(e['iter'], e['steps'], e['metrics']) for e in expected['evals']]), note


@pytest.mark.parametrize('regime', ['kd', 'dfad'])
def test_sigkill_at_a_random_iteration_then_resume_is_exact(regime, teacher, synthrooms_root,
                                                            tmp_path):
    make = kd_config if regime == 'kd' else dfad_config
    cfg = make(tmp_path, synthrooms_root, teacher)
    iters = 12 if regime == 'kd' else 9
    at_iter = random.randint(4, iters - 2)  # after the first checkpoint (iteration 3)
    note = f'{regime}: killed at iteration {at_iter}'
    reference, work_dir = str(tmp_path / 'reference'), str(tmp_path / 'work')
    train(cfg, reference)
    kill_at_iteration(cfg, work_dir, at_iter)
    out = train(cfg, work_dir, '--resume')
    assert 'resume: resuming from' in out and 'random streams restored' in out, note
    assert_same_as(reference, work_dir, note)


def test_kill_during_a_best_checkpoint_save_loses_nothing(teacher, synthrooms_root, tmp_path):
    cfg = kd_config(tmp_path, synthrooms_root, teacher, iters=10, num_evals=10,
                    checkpoint="interval=1, max_keep_ckpts=2, save_best='mIoU', rule='greater'")
    work_dir, stalled = str(tmp_path / 'work'), tmp_path / 'stalled'
    driver = tmp_path / 'slow_save_train.py'
    driver.write_text(SLOW_SAVE)
    proc = subprocess.Popen([sys.executable, str(driver), TRAIN, cfg, '--work-dir', work_dir],
                            env=dict(ENV, STALL_AT='2', STALLED=str(stalled)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not stalled.exists():
            assert proc.poll() is None, 'the run ended before saving a second best checkpoint'
            assert time.time() < deadline
            time.sleep(0.1)
        time.sleep(0.2)  # the marker is written; the save hangs halfway
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
    half_written = stalled.read_text()
    assert half_written.endswith('.tmp') and osp.isfile(half_written)
    with pytest.raises(CheckpointError, match='truncated'):
        load_checkpoint(half_written)

    # No truncated file under a final name; the previous best and last_checkpoint are intact.
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        load_checkpoint(path)
    bests = glob.glob(osp.join(work_dir, 'best_mIoU_iter_*.pth'))
    assert len(bests) == 1
    named = read_last_checkpoint(work_dir)
    check_training_checkpoint(named)
    iteration_files = glob.glob(osp.join(work_dir, 'iter_*.pth'))
    assert len(iteration_files) <= 2  # max_keep_ckpts rotation
    assert named == max(iteration_files, key=lambda p: int(re.findall(r'\d+', p)[-1]))
    info = load_checkpoint(named)['message_hub']['runtime_info']
    assert info['best_ckpt'] == bests[0]
    previous_best = info['best_score']

    out = train(cfg, work_dir, '--resume')
    assert f'resume: resuming from {named}' in out
    assert f'removed {half_written}' in out and not osp.exists(half_written)
    assert 'latest checkpoint None' not in out
    with open(osp.join(work_dir, 'run_summary.json')) as f:
        evals = json.load(f)['evals']
    assert [e['iter'] for e in evals] == list(range(1, 11))  # the interrupted one repeated
    scores = [e['metrics']['mIoU'] for e in evals]
    best_iter = evals[scores.index(max(scores))]['iter']
    assert max(scores) > previous_best
    assert glob.glob(osp.join(work_dir, 'best_mIoU_iter_*.pth')) == [
        osp.join(work_dir, f'best_mIoU_iter_{best_iter}.pth')]
    best = load_checkpoint(osp.join(work_dir, f'best_mIoU_iter_{best_iter}.pth'))
    assert best['message_hub']['runtime_info']['best_score'] == pytest.approx(max(scores))
    assert not glob.glob(osp.join(work_dir, '*.tmp'))


def truncate(path: str) -> None:
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_truncated_newest_checkpoint_without_last_checkpoint(teacher, synthrooms_root,
                                                             tmp_path, capfd):
    cfg = kd_config(tmp_path, synthrooms_root, teacher, iters=6, num_evals=1,
                    checkpoint='interval=2, max_keep_ckpts=3')
    train_tool = load_tool('train')
    work_dir = str(tmp_path / 'work')
    train_tool.main([cfg, '--work-dir', work_dir])
    newest = osp.join(work_dir, 'iter_6.pth')
    complete = load_checkpoint(newest)['state_dict']
    truncate(newest)  # as a kill -9 during mmengine's own save left it
    os.remove(osp.join(work_dir, 'last_checkpoint'))
    capfd.readouterr()

    # An explicit --resume of a truncated file is an error naming it.
    with pytest.raises(CheckpointError, match='truncated') as excinfo:
        train_tool.main([cfg, '--work-dir', str(tmp_path / 'explicit'), '--resume', newest])
    assert newest in str(excinfo.value)

    # Auto resume names the unusable file and continues from the newest complete one.
    train_tool.main([cfg, '--work-dir', work_dir, '--resume'])
    out = capfd.readouterr().out
    assert re.search(rf'skipping {re.escape(newest)}: .*truncated', out)
    assert f'resume: resuming from {osp.join(work_dir, "iter_4.pth")}' in out
    assert 'resumed epoch: 0, iter: 4' in out and 'latest checkpoint None' not in out
    check_training_checkpoint(newest)
    assert read_last_checkpoint(work_dir) == newest
    resumed = load_checkpoint(newest)['state_dict']
    assert all(torch.equal(resumed[k], complete[k]) for k in complete)

    # Nothing usable at all: said clearly, and training starts at iteration 1.
    scratch = tmp_path / 'scratch'
    scratch.mkdir()
    (scratch / 'iter_2.pth').write_bytes(open(osp.join(work_dir, 'iter_4.pth'), 'rb').read()[:999])
    (scratch / 'last_checkpoint').write_text(str(scratch / 'iter_8.pth'))
    train_tool.main([cfg, '--work-dir', str(scratch), '--resume'])
    out = capfd.readouterr().out
    assert f'skipping {scratch / "iter_8.pth"} (named by last_checkpoint)' in out
    assert f'skipping {scratch / "iter_2.pth"}' in out
    assert 'training starts from scratch' in out and 'latest checkpoint None' not in out
    assert 'Iter(train) [1/6]' in out
    check_training_checkpoint(str(scratch / 'iter_6.pth'))
