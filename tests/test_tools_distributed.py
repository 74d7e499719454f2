"""Two processes (torchrun, gloo on CPU) through tools/train.py and tools/test.py.

MosaicKD (student, generator and discriminator optimizers, a replay pool, a frozen teacher)
trains two iterations on two ranks; afterwards both replicas must hold the same weights and
buffers while having drawn different batches and latent codes, and the checkpoint's mIoU must
be the same evaluated by one process or by two on a test set of odd size (15 images, so a
padding sampler would count one twice). KD, DFAD and teacher training (Supervised) get the
replica check alone.
"""
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import textwrap

import pytest
import torch

from densekd.utils.checkpoint import load_checkpoint
from tests.helpers import (NO_DATA_BODY, ROOT, TINY_SEGMENTOR, last_metrics, load_tool,
                           photos_loader_body, tiny_data_body, write_config,
                           write_tiny_segmentor)

pytestmark = pytest.mark.e2e

ITERS = 2
DUMP = textwrap.dedent(f"""
    custom_imports = dict(imports=['tests.replica_dump'], allow_failed_imports=False)
    custom_hooks = [dict(type='ReplicaDumpHook')] + extra_hooks
    train_cfg = dict(max_iters={ITERS})
    default_hooks = dict(checkpoint=dict(interval={ITERS}), logger=dict(interval=1))
""")
# 15 of the tiny test images in batches of 4: rank 0 scores 8, rank 1 scores 7.
ODD_TEST_SET = textwrap.dedent("""
    val_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                          dataset=dict(max_samples=15, **_tiny))
    test_dataloader = val_dataloader
""")
PHOTOS = photos_loader_body(batch_size=4, num_samples=32)
NO_DATA = NO_DATA_BODY
CASES = {
    'mosaickd': ('mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py', PHOTOS,
                 "generator=dict(_delete_=True, type='PatchGenerator', nz=8, global_nz=4, ngf=8, "
                 "num_upsamples=3, img_size=(64, 64)), discriminator=dict(ndf=8, patch_size=10), "
                 "batch_size=2, student_steps=1, replay=dict(size=4, batch=1),"),
    'dfad': ('dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', NO_DATA,
             "generator=dict(ngf=8, img_size=(64, 64)), batch_size=2, student_steps=1,"),
    'kd': ('kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', '', ''),
    'supervised': ('teacher/deeplabv3plus_r18_synthrooms-96x128.py', '', None),
}


def torchrun(tool: str, *args: str) -> None:
    """Run ``tools/<tool>.py`` in two processes on CPU (gloo), as a user would."""
    env = dict(os.environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='',
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get('PYTHONPATH')])))
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
           osp.join(ROOT, 'tools', f'{tool}.py'), *args, '--launcher', 'pytorch']
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-8000:]


def train_two_ranks(method, tmp_path, synthrooms_root, extra_hooks=()) -> tuple:
    """Train ``method`` on two ranks; returns (config, work dir, [rank 0 dump, rank 1 dump])."""
    base, data, model_args = CASES[method]
    if model_args is None:  # teacher training
        model = f"model = dict(segmentor=dict(_delete_=True, **{TINY_SEGMENTOR!r}))"
    else:
        teacher = write_tiny_segmentor(tmp_path)
        model = (f"model = dict({model_args} teacher=dict(_delete_=True, checkpoint={teacher!r}, "
                 f"**{TINY_SEGMENTOR!r}), student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))")
    body = (tiny_data_body(synthrooms_root) + ODD_TEST_SET + data
            + f'extra_hooks = {list(extra_hooks)!r}\n' + DUMP + model + '\n')
    cfg = write_config(tmp_path, base, body)
    work_dir = str(tmp_path / 'work')
    torchrun('train', cfg, '--work-dir', work_dir)
    dumps = [torch.load(osp.join(work_dir, f'replica_rank{r}.pth'), weights_only=False)
             for r in range(2)]
    return cfg, work_dir, dumps


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    different = [k for k in a if not torch.equal(a[k], b[k])]
    assert not different, f'replicas differ in {different[:5]} ({len(different)} entries)'


def test_mosaickd_two_ranks_stay_identical_and_score_as_one(synthrooms_root, tmp_path):
    # The samples hook runs generator, teacher and student on rank 0 alone, between steps.
    samples = dict(type='GeneratorSamplesHook', interval=ITERS, num_samples=2)
    cfg, work_dir, (rank0, rank1) = train_two_ranks('mosaickd', tmp_path, synthrooms_root,
                                                    [samples])
    assert rank0['wrapped'] and rank1['wrapped']
    # Each rank trained on its own samples and latent codes ...
    assert rank0['first_batch'] != rank1['first_batch']
    assert not torch.equal(rank0['latent'], rank1['latent'])
    # ... and ended with the same student, generator, discriminator, BatchNorm statistics and
    # replay pool, which is what rank 0 saved.
    state = rank0['state_dict']
    assert {k.split('.')[0] for k in state} >= {'student', 'generator', 'discriminator',
                                               'replay_pool', 'teacher'}
    assert state['replay_pool.pushed'] == ITERS * 2  # batch_size fresh images per student step
    assert_same_state(state, rank1['state_dict'])
    checkpoint = load_checkpoint(osp.join(work_dir, f'iter_{ITERS}.pth'), map_location='cpu')
    assert_same_state(state, checkpoint['state_dict'])
    # Every player trained; the frozen teacher did not move.
    moved = {k.split('.')[0] for k, v in rank0['initial'].items()
             if v.is_floating_point() and not torch.equal(v, state[k])}
    assert moved == {'student', 'generator', 'discriminator', 'replay_pool'}
    # The checkpoint's mIoU: one process, then two; and the training run's own validation.
    ckpt = osp.join(work_dir, f'iter_{ITERS}.pth')
    single_json, dist_json = str(tmp_path / 'single.json'), str(tmp_path / 'dist.json')
    load_tool('test').main([cfg, ckpt, '--work-dir', str(tmp_path / 'test1'),
                            '--metrics-json', single_json])
    torchrun('test', cfg, ckpt, '--work-dir', str(tmp_path / 'test2'),
             '--metrics-json', dist_json)
    single = json.load(open(single_json))['metrics']
    distributed = json.load(open(dist_json))['metrics']
    assert distributed == single
    assert last_metrics(work_dir)['mIoU'] == single['mIoU']
    assert glob.glob(osp.join(work_dir, '*', 'mosaics', f'mosaics_iter_{ITERS}.png'))


@pytest.mark.parametrize('method', ['kd', 'dfad', 'supervised'])
def test_kd_dfad_and_teacher_training_run_on_two_ranks(method, synthrooms_root, tmp_path):
    _, _, (rank0, rank1) = train_two_ranks(method, tmp_path, synthrooms_root)
    assert rank0['first_batch'] != rank1['first_batch'] or method == 'dfad'  # DFAD: no data
    assert_same_state(rank0['state_dict'], rank1['state_dict'])
    trained = 'segmentor' if method == 'supervised' else 'student'
    assert any(not torch.equal(v, rank0['state_dict'][k]) for k, v in rank0['initial'].items()
               if k.startswith(trained + '.') and v.is_floating_point())
