"""End to end through tools/train.py: DFAD, DAFL and MosaicKD on tiny SynthRooms + photos."""
import glob
import os.path as osp
import textwrap

import pytest

from tests.helpers import (NO_DATA_BODY, TINY_SEGMENTOR, last_metrics, load_tool,
                           photos_loader_body, tiny_data_body, write_config)

pytestmark = pytest.mark.e2e

PHOTOS = photos_loader_body(batch_size=6, num_samples=64)
NO_DATA = NO_DATA_BODY
CASES = {
    'mosaickd': ('mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py', PHOTOS,
                 "generator=dict(_delete_=True, type='PatchGenerator', nz=8, global_nz=4, ngf=8, "
                 "num_upsamples=3, img_size=(64, 64)), discriminator=dict(ndf=8, patch_size=10), "
                 "batch_size=2, student_steps=2,"),
    'dfad': ('dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', NO_DATA,
             "generator=dict(ngf=8, img_size=(64, 64)), batch_size=2, student_steps=2,"),
    'dafl': ('dafl/dafl_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', NO_DATA,
             "generator=dict(ngf=8, img_size=(64, 64)), batch_size=2,"),
}


@pytest.mark.parametrize('method', sorted(CASES))
def test_method_runs_end_to_end(method, tiny_teacher, synthrooms_root, tmp_path):
    base, data, model_args = CASES[method]
    iters = 6
    body = tiny_data_body(synthrooms_root) + data + textwrap.dedent(f"""
        model = dict({model_args}
                     teacher=dict(_delete_=True, checkpoint={tiny_teacher['weights']!r},
                                  **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
        train_cfg = dict(max_iters={iters}, val_interval={iters})
        default_hooks = dict(checkpoint=dict(interval={iters}), logger=dict(interval=2))
        custom_hooks = [dict(type='GeneratorSamplesHook', interval=3, num_samples=4)]
    """)
    work_dir = str(tmp_path / 'work')
    load_tool('train').main([write_config(tmp_path, base, body), '--work-dir', work_dir])
    assert 'mIoU' in last_metrics(work_dir)
    scalars = open(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]).read()
    assert 'student.loss_kd' in scalars and 'generator.lr' in scalars
    if method == 'mosaickd':
        for key in ('gen.loss_local', 'gen.loss_align', 'gen.loss_adv', 'gen.loss_balance',
                    'disc.loss', 'discriminator.lr'):
            assert key in scalars
    grids = glob.glob(osp.join(work_dir, '*', 'mosaics', 'mosaics_iter_*.png'))
    assert len(grids) == 2  # iterations 3 and 6
