"""AuG-KD end to end through tools/train.py: three stages, stage files, rerun a stage, resume."""
import glob
import json
import os.path as osp
import textwrap

import pytest

from tests.helpers import (TINY_SEGMENTOR, last_metrics, load_tool, photos_loader_body,
                           tiny_data_body, write_config, write_tiny_segmentor)

pytestmark = pytest.mark.e2e
BASE = 'augkd/augkd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py'


def config(tmp_path, synthrooms_root, teacher, iters, model_extra=''):
    body = tiny_data_body(synthrooms_root) + photos_loader_body(4, 32) + textwrap.dedent(f"""
        model = dict(generator=dict(ngf=4, img_size=(64, 64)),
                     encoder=dict(hidden_dims=(4, 8, 8)), batch_size=2, aux_steps=1,
                     teacher=dict(_delete_=True, checkpoint={teacher!r}, **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}){model_extra})
        train_cfg = dict(max_iters={iters})
        default_hooks = dict(checkpoint=dict(interval={iters}), logger=dict(interval=2))
        custom_hooks = []
    """)
    return write_config(tmp_path, BASE, body)


def summary(work_dir):
    with open(osp.join(work_dir, 'run_summary.json')) as f:
        return json.load(f)


def test_three_stages_write_their_files_rerun_alone_and_resume(synthrooms_root, tmp_path):
    teacher = write_tiny_segmentor(tmp_path)
    train = load_tool('train').main
    work = str(tmp_path / 'full')
    stages = ", stage_iters=dict(data_free=2, anchor=2)"
    train([config(tmp_path, synthrooms_root, teacher, 6, stages), '--work-dir', work])
    df, anchor = osp.join(work, 'augkd_data_free.pth'), osp.join(work, 'augkd_anchor.pth')
    assert osp.isfile(df) and osp.isfile(anchor)
    assert not glob.glob(osp.join(work, '*.tmp'))
    steps = summary(work)['steps']
    assert steps == dict(student=2, generator=2, aux_student=2, encoder=2, anchor_net=2)
    assert 'mIoU' in last_metrics(work)
    scalars = open(glob.glob(osp.join(work, '*', 'vis_data', 'scalars.json'))[0]).read()
    for key in ('gen.loss_bn', 'enc.loss_vae', 'anchor.loss_energy', 'student.loss_kd',
                'mixup.s'):
        assert key in scalars, key

    # the mixup stage alone, from the stage files
    alone = str(tmp_path / 'alone')
    loaded = (f", stage_iters=dict(data_free=0, anchor=0), "
              f"stage_checkpoints=dict(data_free={df!r}, anchor={anchor!r})")
    train([config(tmp_path, synthrooms_root, teacher, 2, loaded), '--work-dir', alone])
    assert summary(alone)['steps']['student'] == 2 and summary(alone)['steps']['generator'] == 0
    assert not osp.exists(osp.join(alone, 'augkd_data_free.pth'))

    # --resume continues the full run with every module from its checkpoint
    train([config(tmp_path, synthrooms_root, teacher, 8, stages), '--work-dir', work,
           '--resume'])
    assert summary(work)['steps']['student'] == 4 and summary(work)['iter'] == 8
