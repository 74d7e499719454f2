"""AuG-KD (densekd/algorithms/augkd.py): schedule, stage order, teacher targets, stage files."""
import copy
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub

from densekd.algorithms import AuGKD
from densekd.algorithms.augkd import mixup_ratio
from densekd.engine import AuGKDStageHook
from densekd.losses import PixelKDLoss
from densekd.utils.atomic import save_torch_atomic
from tests.helpers import TINY_ALGO_ARGS, counting_optimizers, save_tiny_state_dict

TINY = TINY_ALGO_ARGS
SIZE = (32, 32)
NAMES = ('student', 'generator', 'encoder', 'anchor_net', 'aux_student')
HUB = 'test_augkd'


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    return save_tiny_state_dict(tmp_path_factory.mktemp('teacher'))


def build(teacher_ckpt, **kwargs):
    torch.manual_seed(1)
    kwargs.setdefault('stage_iters', dict(data_free=2, anchor=2))
    kwargs.setdefault('aux_steps', 2)
    model = AuGKD(teacher=dict(checkpoint=teacher_ckpt, **TINY), student=dict(TINY),
                  generator=dict(type='DCGANGenerator', nz=16, ngf=4, img_size=SIZE),
                  encoder=dict(type='HistogramVAEEncoder', hidden_dims=(4, 8)),
                  batch_size=3, kd_loss=dict(type='PixelKDLoss', tau=2.0), **kwargs)
    return (model, *counting_optimizers(model, NAMES))


def at_iter(it, max_iters=8):
    hub = MessageHub.get_instance(HUB)
    hub.update_info('iter', it)
    hub.update_info('max_iters', max_iters)


def batch():
    return dict(inputs=torch.randn(4, 3, *SIZE))


def test_mixup_ratio_golden():
    # s(t) = min(0.8 t / (0.6 T) + 0.2, 1) with T = 100
    assert mixup_ratio(0, 100) == pytest.approx(0.2)
    assert mixup_ratio(30, 100) == pytest.approx(0.6)
    assert mixup_ratio(45, 100) == pytest.approx(0.8)
    assert mixup_ratio(59, 100) == pytest.approx(0.8 * 59 / 60 + 0.2)
    assert mixup_ratio(60, 100) == 1.0 and mixup_ratio(99, 100) == 1.0  # 1 from a·T on
    assert mixup_ratio(10, 100, a=0.4, b=0.0) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        mixup_ratio(0, 0)


def test_data_free_stage_steps_generator_then_aux_student_and_encoder(teacher_ckpt):
    model, optim, order = build(teacher_ckpt)
    model.train()
    student = {k: v.clone() for k, v in model.student.state_dict().items()}
    at_iter(1)
    logs = model.train_step(batch(), optim)
    assert order == ['generator', 'aux_student', 'encoder', 'aux_student', 'encoder']
    assert {'gen.loss_adv', 'gen.loss_onehot', 'gen.loss_ie', 'gen.loss_bn', 'aux.loss_kd',
            'enc.loss_vae'} <= set(logs)
    # the benchmark student waits for the mixup stage
    assert all(torch.equal(v, student[k]) for k, v in model.student.state_dict().items())


def test_anchor_then_mixup_stages_switch_by_iteration(teacher_ckpt):
    model, optim, order = build(teacher_ckpt, aux_steps=1)
    model.train()
    teacher = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    generator = {k: v.clone() for k, v in model.generator.state_dict().items()}
    encoder = {k: v.clone() for k, v in model.encoder.state_dict().items()}
    at_iter(2)
    logs = model.train_step(batch(), optim)
    assert order == ['anchor_net']
    assert {'anchor.loss_energy', 'anchor.loss_mask', 'anchor.loss_label'} <= set(logs)
    at_iter(4)
    logs = model.train_step(batch(), optim)
    assert order == ['anchor_net', 'student']
    assert logs['mixup.s'].item() == pytest.approx(0.2)
    assert model.stage_at(6, 8) == ('mixup', 2, 4)
    at_iter(7)  # t = 3 >= a·T = 2.4
    assert model.train_step(batch(), optim)['mixup.s'].item() == 1.0
    # G and E are frozen (weights and BatchNorm statistics) after the data-free stage
    assert all(torch.equal(v, generator[k]) for k, v in model.generator.state_dict().items())
    assert all(torch.equal(v, encoder[k]) for k, v in model.encoder.state_dict().items())
    assert all(torch.equal(v, teacher[k]) for k, v in model.teacher.state_dict().items())


def test_mixup_targets_come_from_the_teacher(teacher_ckpt):
    """The released code distils the student's own outputs here; densekd uses the teacher."""
    model, optim, _ = build(teacher_ckpt)
    model.train()
    x = batch()
    seen = {}
    student_before = copy.deepcopy(model.student)
    original = model.kd_step

    def spy(optim_wrapper, inputs, t_logits):
        seen.update(inputs=inputs, t_logits=t_logits)
        torch.manual_seed(7)  # the same dropout masks as the expected student forward
        return original(optim_wrapper, inputs, t_logits)
    model.kd_step = spy
    at_iter(4)  # first mixup iteration, s = 0.2
    logs = model.train_step(x, optim)
    inputs = seen['inputs']
    assert inputs.shape[0] == 8 and torch.equal(inputs[:4], x['inputs'])  # cat[x, x_mix]
    with torch.no_grad():
        teacher = model.teacher(inputs)
        torch.manual_seed(7)
        student = student_before.train()(inputs)
    assert torch.allclose(seen['t_logits'], teacher, atol=1e-5)
    assert not torch.allclose(teacher, student, atol=1e-2)
    expected = PixelKDLoss(tau=2.0)(student, teacher)
    assert logs['student.loss_kd'].item() == pytest.approx(expected.item(), rel=1e-4)
    assert expected.item() > 10 * PixelKDLoss(tau=2.0)(student, student).item() + 1e-6


def test_mixed_images_interpolate_generator_and_real(teacher_ckpt):
    model, _, _ = build(teacher_ckpt)
    x = batch()['inputs']
    torch.manual_seed(3)
    images, _ = model.mixup_images(x, 0.5)
    torch.manual_seed(3)  # the encoder samples: same noise, same codes
    _, hist, z = model.encode(x)
    with torch.no_grad():
        z_mix = 0.5 * model.anchor_net(z, hist)[0] + 0.5 * z
        expected = 0.5 * model.generator(z_mix) + 0.5 * x
    assert torch.allclose(images[4:], expected, atol=1e-5)
    images, t_logits = model.mixup_images(x, 1.0)  # s = 1: the real images only
    assert torch.equal(images, x) and t_logits.shape[0] == 4


def test_stage_checkpoints_load_and_config_errors(teacher_ckpt, tmp_path):
    model, _, _ = build(teacher_ckpt)
    df, anchor = str(tmp_path / 'augkd_data_free.pth'), str(tmp_path / 'augkd_anchor.pth')
    save_torch_atomic(model.stage_state('data_free'), df)
    save_torch_atomic(model.stage_state('anchor'), anchor)
    torch.manual_seed(5)
    loaded, _, _ = build(teacher_ckpt, stage_iters=dict(data_free=0, anchor=0),
                         stage_checkpoints=dict(data_free=df, anchor=anchor))
    for name in ('generator', 'encoder', 'anchor_net'):
        for k, v in getattr(model, name).state_dict().items():
            assert torch.equal(v, getattr(loaded, name).state_dict()[k]), (name, k)
    at_iter(0, max_iters=3)
    assert loaded.stage_at(0, 3) == ('mixup', 0, 3)
    with pytest.raises(ValueError, match='stage_iters.data_free must be 0'):
        build(teacher_ckpt, stage_checkpoints=dict(data_free=df))
    with pytest.raises(ValueError, match='stage_iters.anchor=0 needs'):
        build(teacher_ckpt, stage_iters=dict(data_free=2, anchor=0))
    with pytest.raises(ValueError, match='load them too'):
        build(teacher_ckpt, stage_iters=dict(data_free=2, anchor=0),
              stage_checkpoints=dict(anchor=anchor))
    with pytest.raises(ValueError, match='is it an augkd_data_free.pth'):
        build(teacher_ckpt, stage_iters=dict(data_free=0, anchor=2),
              stage_checkpoints=dict(data_free=anchor))
    with pytest.raises(ValueError, match='must exceed the pre-mixup stages'):
        model.check_max_iters(4)
    with pytest.raises(ValueError, match='student_steps'):
        build(teacher_ckpt, student_steps=2)
    with pytest.raises(ValueError, match='dict\\(data_free=N1, anchor=N2\\)'):
        build(teacher_ckpt, stage_iters=dict(data_free=2))


def test_stage_hook_writes_each_stage_file_at_its_end(teacher_ckpt, tmp_path):
    model, _, _ = build(teacher_ckpt)  # stages end after iterations 2 and 4
    hook = AuGKDStageHook()
    with pytest.raises(ValueError, match='train_cfg.max_iters=4 must exceed'):
        hook.before_train(SimpleNamespace(model=model, max_iters=4))
    hook.before_train(SimpleNamespace(model=model, max_iters=5))
    written = []
    for it in range(6):
        hook.after_train_iter(SimpleNamespace(model=model, iter=it, work_dir=str(tmp_path)), it)
        written.append(sorted(p for p in ('augkd_data_free.pth', 'augkd_anchor.pth')
                              if osp.exists(osp.join(str(tmp_path), p))))
    df, both = ['augkd_data_free.pth'], ['augkd_anchor.pth', 'augkd_data_free.pth']
    assert written == [[], df, df, both, both, both]  # after iterations 2 and 4
    state = torch.load(osp.join(str(tmp_path), 'augkd_data_free.pth'))
    assert set(state) == {'generator', 'encoder'}
    assert set(torch.load(osp.join(str(tmp_path), 'augkd_anchor.pth'))) == {'anchor_net'}


def test_default_generator_losses_are_the_references(teacher_ckpt):
    model, _, _ = build(teacher_ckpt)
    weights = {k: v.loss_weight for k, v in model.generator_losses.losses.items()}
    assert weights == dict(adv=1.0, onehot=1.0, ie=20.0, bn=1.0)


def test_harness_adds_the_stage_iterations():
    from densekd.benchmark.harness import iterations_for
    cfg = 'configs/augkd/augkd_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py'
    assert iterations_for(cfg, 1000) == 1000 + 400 + 150
