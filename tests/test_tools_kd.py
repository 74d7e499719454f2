"""End to end through tools/train.py: KD on in-domain and on OOD data, student export."""
import glob
import json
import os.path as osp
import textwrap

import pytest
import segmentation_models_pytorch as smp
import torch

from densekd.datasets import SynthRoomsDataset
from densekd.models import build_segmentor
from tests.helpers import (TINY_SEGMENTOR, TINY_SEGMENTOR_ARGS, TINY_SYNTHROOMS, evaluate,
                           last_metrics, load_tool, tiny_data_body, write_config)

pytestmark = pytest.mark.e2e

KD_ORI = 'kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'
KD_BLIND = 'kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py'


def kd_body(teacher_weights: str, iters: int = 100) -> str:
    return textwrap.dedent(f"""
        model = dict(teacher=dict(_delete_=True, checkpoint={teacher_weights!r},
                                  **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
        optim_wrapper = dict(student=dict(optimizer=dict(lr=3e-3)))
        train_cfg = dict(max_iters={iters}, val_interval={iters})
        default_hooks = dict(checkpoint=dict(interval={iters}), logger=dict(interval=20))
    """)


@pytest.fixture(scope='module')
def untrained_student_miou(synthrooms_root):
    torch.manual_seed(0)
    model = build_segmentor(**TINY_SEGMENTOR_ARGS)
    return evaluate(model, SynthRoomsDataset(synthrooms_root, split='test', **TINY_SYNTHROOMS))


def test_kd_in_domain_beats_untrained_student(tiny_teacher, synthrooms_root, tmp_path,
                                              untrained_student_miou):
    cfg = write_config(tmp_path, KD_ORI,
                       tiny_data_body(synthrooms_root) + kd_body(tiny_teacher['weights']))
    work_dir = str(tmp_path / 'work')
    load_tool('train').main([cfg, '--work-dir', work_dir])
    miou = last_metrics(work_dir)['mIoU']
    assert miou > untrained_student_miou + 3, (miou, untrained_student_miou)
    scalars = open(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))[0]).read()
    assert 'student.loss_kd' in scalars and 'student.lr' in scalars


def test_blind_kd_on_bundled_photos_beats_untrained_student(tiny_teacher, synthrooms_root,
                                                            tmp_path, untrained_student_miou):
    body = tiny_data_body(synthrooms_root) + kd_body(tiny_teacher['weights']) + textwrap.dedent("""
        train_dataloader = dict(dataset=dict(_delete_=True, type='BundledPhotosDataset',
            num_samples=256, crop_size=(64, 64), scale_range=(0.05, 1.0), seed=0,
            pipeline=[dict(type='HorizontalFlip', p=0.5),
                      dict(type='Normalize', mean=(0.485, 0.456, 0.406),
                           std=(0.229, 0.224, 0.225))]))
    """)
    cfg = write_config(tmp_path, KD_BLIND, body)
    work_dir = str(tmp_path / 'work')
    load_tool('train').main([cfg, '--work-dir', work_dir])
    miou = last_metrics(work_dir)['mIoU']
    assert miou > untrained_student_miou, (miou, untrained_student_miou)


def test_exported_student_loads_in_plain_smp_with_same_predictions(tiny_teacher, synthrooms_root,
                                                                    tmp_path):
    cfg = write_config(tmp_path, KD_ORI,
                       tiny_data_body(synthrooms_root) + kd_body(tiny_teacher['weights'], 4))
    work_dir = str(tmp_path / 'work')
    load_tool('train').main([cfg, '--work-dir', work_dir])
    ckpt = osp.join(work_dir, 'iter_4.pth')
    load_tool('export_weights').main([ckpt, str(tmp_path / 'student.pth')])
    args = json.load(open(tmp_path / 'student.json'))
    assert args['encoder_name'] == 'tu-test_resnet'

    plain = getattr(smp, args.pop('arch'))(**{
        k: tuple(v) if isinstance(v, list) else v for k, v in args.items()})
    plain.load_state_dict(torch.load(tmp_path / 'student.pth'))
    from safetensors.torch import load_file
    assert set(load_file(str(tmp_path / 'student.safetensors'))) == set(plain.state_dict())
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    assert not any(k.startswith('teacher.') for k in torch.load(tmp_path / 'student.pth'))

    inside = build_segmentor(**TINY_SEGMENTOR_ARGS)
    inside.load_state_dict({k[len('student.'):]: v for k, v in state.items()
                            if k.startswith('student.')})
    x = SynthRoomsDataset(synthrooms_root, split='test', **TINY_SYNTHROOMS)[0]['inputs'][None]
    plain.eval(), inside.eval()
    with torch.no_grad():
        assert torch.equal(plain(x), inside(x))
