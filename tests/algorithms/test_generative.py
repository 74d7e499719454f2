"""Update order and step counts of the generator-based algorithms (DFAD, DAFL, MosaicKD)."""

import copy

import pytest
import torch
from mmengine.logging import MessageHub

from densekd.algorithms import DAFL, DFAD, MosaicKD
from densekd.engine import SubmoduleOptimConstructor
from densekd.models import build_segmentor

TINY = dict(arch='DeepLabV3Plus', encoder_name='tu-test_resnet', classes=13, encoder_weights=None,
            decoder_channels=16, decoder_atrous_rates=(1, 2, 3))
SIZE = (32, 32)


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save(build_segmentor(**TINY).state_dict(), path)
    return str(path)


def build(cls, teacher_ckpt, **kwargs):
    MessageHub.get_instance('test_generative').update_info('iter', 0)
    kwargs.setdefault('generator', dict(type='PatchGenerator', nz=8, global_nz=4, ngf=8,
                                        num_upsamples=2, img_size=SIZE))
    model = cls(teacher=dict(checkpoint=teacher_ckpt, **TINY), student=dict(TINY),
                batch_size=2, **kwargs)
    names = ['student', 'generator'] + (['discriminator'] if cls is MosaicKD else [])
    optim = SubmoduleOptimConstructor(
        {n: dict(optimizer=dict(type='Adam', lr=1e-3)) for n in names})(model)
    order = []
    for name in names:
        opt = optim[name].optimizer
        step = opt.step

        def counted(*a, _name=name, _step=step, **k):
            order.append(_name)
            return _step(*a, **k)
        opt.step = counted
    return model, optim, order


def teacher_state(model):
    return {k: v.clone() for k, v in model.teacher.state_dict().items()}


def assert_teacher_untouched(model, before):
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, before[k]), f'teacher {k} changed'


def test_mosaickd_order_and_counts(teacher_ckpt):
    model, optim, order = build(MosaicKD, teacher_ckpt,
                                discriminator=dict(type='PatchDiscriminator', ndf=8, patch_size=10),
                                student_steps=3)
    model.train()
    before = teacher_state(model)
    ood = torch.randn(2 * 4, 3, *SIZE)  # 1 chunk for D + 3 for the student steps
    log = model.train_step(dict(inputs=ood), optim)
    assert order == ['discriminator', 'generator', 'student', 'student', 'student']
    for key in ('disc.loss', 'gen.loss_local', 'gen.loss_align', 'gen.loss_adv',
                'gen.loss_balance', 'student.loss_kd'):
        assert key in log and torch.isfinite(log[key])
    assert_teacher_untouched(model, before)
    assert not model.teacher.training


def test_mosaickd_rejects_too_small_ood_batch(teacher_ckpt):
    model, optim, _ = build(MosaicKD, teacher_ckpt,
                            discriminator=dict(type='PatchDiscriminator', ndf=8, patch_size=10),
                            student_steps=3)
    with pytest.raises(ValueError, match='batch_size'):
        model.train_step(dict(inputs=torch.randn(2, 3, *SIZE)), optim)


def test_dfad_student_first_then_generator(teacher_ckpt):
    model, optim, order = build(DFAD, teacher_ckpt, student_steps=5)
    model.train()
    before = teacher_state(model)
    log = model.train_step(dict(inputs=torch.zeros(1, 0)), optim)
    assert order == ['student'] * 5 + ['generator']
    assert 'student.loss_kd' in log and 'gen.loss_adv' in log
    assert_teacher_untouched(model, before)


def test_dafl_generator_then_student(teacher_ckpt):
    model, optim, order = build(DAFL, teacher_ckpt, student_steps=2)
    model.train()
    log = model.train_step(dict(inputs=torch.zeros(1, 0)), optim)
    assert order == ['generator', 'student', 'student']
    for key in ('gen.loss_onehot', 'gen.loss_activation', 'gen.loss_ie', 'student.loss_kd'):
        assert key in log


def test_generator_step_leaves_student_grads_clean(teacher_ckpt):
    model, optim, _ = build(DFAD, teacher_ckpt, student_steps=0)
    model.train()
    model.train_step(dict(inputs=torch.zeros(1, 0)), optim)
    assert all(p.grad is None or not p.grad.any() for p in model.student.parameters())
    assert all(p.requires_grad for p in model.student.parameters())


def test_non_finite_loss_stops_with_the_loss_name(teacher_ckpt):
    model, optim, _ = build(DFAD, teacher_ckpt, student_steps=1)
    model.train()
    with torch.no_grad():
        next(model.student.parameters()).fill_(float('nan'))
    with pytest.raises(FloatingPointError, match=r'student\.loss_kd.*iteration'):
        model.train_step(dict(inputs=torch.zeros(1, 0)), optim)


@pytest.mark.parametrize('cls, warm_order, full_order', [
    # Four MosaicKD iterations: the slowest unit test here (~13 CPU-s), kept out of the fast loop.
    pytest.param(MosaicKD, ['discriminator', 'generator'],
                 ['discriminator', 'generator', 'student', 'student'], marks=pytest.mark.e2e),
    (DFAD, ['generator'], ['student', 'student', 'generator']),
])
def test_generator_warmup_skips_student_steps(teacher_ckpt, cls, warm_order, full_order):
    extra = (dict(discriminator=dict(type='PatchDiscriminator', ndf=8, patch_size=10))
             if cls is MosaicKD else {})
    model, optim, order = build(cls, teacher_ckpt, student_steps=2, generator_warmup_iters=2,
                                **extra)
    model.train()
    hub = MessageHub.get_current_instance()
    for it, expected in [(0, warm_order), (1, warm_order), (2, full_order), (7, full_order)]:
        hub.update_info('iter', it)
        order.clear()
        model.train_step(dict(inputs=torch.randn(2 * 3, 3, *SIZE)), optim)
        assert order == expected, f'iteration {it}'


def test_generator_warmup_validated(teacher_ckpt):
    with pytest.raises(ValueError, match='generator_warmup_iters'):
        build(DFAD, teacher_ckpt, generator_warmup_iters=-1)


def test_mosaickd_bn_prior_term_is_optional(teacher_ckpt):
    disc = dict(type='PatchDiscriminator', ndf=8, patch_size=10)
    plain, optim, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1)
    assert plain.bn_prior is None
    assert 'gen.loss_bn' not in plain.train_step(dict(inputs=torch.randn(4, 3, *SIZE)), optim)
    model, optim, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1,
                            bn_weight=0.5)
    model.train()
    before = teacher_state(model)
    log = model.train_step(dict(inputs=torch.randn(4, 3, *SIZE)), optim)
    assert log['gen.loss_bn'] > 0
    assert_teacher_untouched(model, before)  # running statistics are read, never updated


OOD_MOSAIC = dict(type='OODMosaicGenerator', num_sources=3, nz=2, global_nz=2, width=8,
                  grid_stride=8, img_size=SIZE)


def test_mosaickd_with_ood_mosaic_generator(teacher_ckpt):
    model, optim, order = build(MosaicKD, teacher_ckpt, student_steps=2, generator=OOD_MOSAIC,
                                discriminator=dict(type='PatchDiscriminator', ndf=8, patch_size=10))
    model.train()
    before = [p.clone() for p in model.generator.parameters()]
    log = model.train_step(dict(inputs=torch.randn(2 * 3, 3, *SIZE)), optim)
    assert torch.isfinite(log['gen.loss']) and torch.isfinite(log['student.loss_kd'])
    assert order == ['discriminator', 'generator', 'student', 'student']
    assert any(not torch.equal(a, b) for a, b in zip(before, model.generator.parameters()))


@pytest.mark.parametrize('cls', [DFAD, DAFL])
def test_data_free_methods_reject_a_source_assembling_generator(teacher_ckpt, cls):
    with pytest.raises(ValueError, match='data-free'):
        cls(teacher=dict(checkpoint=teacher_ckpt, **TINY), student=dict(TINY),
            generator=OOD_MOSAIC)


def test_dafl_first_student_step_reuses_the_generator_batch(teacher_ckpt):
    """Official DAFL: G and S learn from one G(z); the student's targets are those T(G(z))."""
    model, optim, order = build(DAFL, teacher_ckpt, student_steps=2)
    model.train()
    seen, generated = [], []
    forward, kd_step = model.generator.forward, model.kd_step

    def spy_generator(*args, **kwargs):
        generated.append(forward(*args, **kwargs))
        return generated[-1]

    def spy_kd(wrapper, inputs, t_logits):
        seen.append((inputs, t_logits))
        return kd_step(wrapper, inputs, t_logits)
    model.generator.forward, model.kd_step = spy_generator, spy_kd
    model.train_step(dict(inputs=torch.zeros(1, 0)), optim)
    assert len(generated) == 2  # the G step's batch, then one fresh batch for the 2nd S step
    assert torch.equal(seen[0][0], generated[0].detach())
    assert not seen[0][0].requires_grad and not seen[0][1].requires_grad
    assert torch.equal(seen[1][0], generated[1].detach())
    assert order == ['generator', 'student', 'student']


def test_dafl_defaults_are_the_official_weights(teacher_ckpt):
    model, _, _ = build(DAFL, teacher_ckpt)
    assert model.weights == dict(onehot=1.0, activation=0.1, ie=5.0) and model.shared_batch


def test_mosaickd_sum_reduction_is_the_mean_times_the_patch_count(teacher_ckpt):
    """local_reduction='sum': the reference's per-image sum over patches, averaged over B."""
    disc = dict(type='PatchDiscriminator', ndf=8, patch_size=10)
    model, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1,
                        local_reduction='sum')
    logits = torch.randn(3, 1, 4, 5)
    target = torch.ones_like(logits)
    per_image_sum = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction='none').sum(dim=(1, 2, 3)).mean()
    assert torch.allclose(model.patch_loss(logits, True), per_image_sum)
    mean_model, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1)
    assert torch.allclose(mean_model.patch_loss(logits, True) * 20, per_image_sum)
    with pytest.raises(ValueError, match='local_reduction'):
        build(MosaicKD, teacher_ckpt, discriminator=disc, local_reduction='max')


def test_channels_last_changes_the_memory_format_not_the_outputs(teacher_ckpt):
    disc = dict(type='PatchDiscriminator', ndf=8, patch_size=10)
    plain, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1)
    fast, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1,
                       channels_last=True)
    fast.student.load_state_dict(plain.student.state_dict())
    for net in ('teacher', 'student', 'generator', 'discriminator'):
        weights = [p for p in getattr(fast, net).parameters() if p.dim() == 4]
        assert weights and all(p.is_contiguous(memory_format=torch.channels_last)
                               for p in weights), net
    x = torch.randn(2, 3, *SIZE)
    plain.eval(), fast.eval()
    with torch.no_grad():
        assert torch.allclose(plain.student(x), fast.student(x), atol=1e-5)


def test_without_replay_the_student_step_is_the_references(teacher_ckpt):
    """Pool off: the student trains on exactly G(z) for fresh z, as DFAD's reference does."""
    model, optim, _ = build(DFAD, teacher_ckpt, student_steps=2)
    model.train()
    assert model.replay_pool is None
    reference = copy.deepcopy(model)  # the same players before the step
    torch.manual_seed(7)
    logged = model.student_step(optim)['student.loss_kd']
    torch.manual_seed(7)
    with torch.no_grad():
        x = reference.generator(reference.generator.sample_latent(2))
        expected = reference.kd_loss(reference.student(x), reference.teacher(x))
    assert torch.allclose(logged, expected)


def test_with_replay_the_student_replays_and_the_pool_fills(teacher_ckpt):
    model, optim, _ = build(DFAD, teacher_ckpt, student_steps=2, replay=dict(size=5, batch=3))
    model.train()
    seen = []
    forward = model.student.forward

    def spy(x):
        seen.append(x.shape[0])
        return forward(x)
    model.student.forward = spy
    for _ in range(4):
        model.student_step(optim)
    assert seen == [2, 2 + 3, 2 + 3, 2 + 3]  # fresh only, then fresh + 3 replayed
    assert len(model.replay_pool) == 5 and int(model.replay_pool.pushed) == 8
    assert 'replay_pool.images' in model.state_dict()


def test_replay_config_errors_name_the_key(teacher_ckpt):
    with pytest.raises(ValueError, match='model.replay'):
        build(DFAD, teacher_ckpt, replay=dict(size=4, batch=0))
    with pytest.raises(ValueError, match='model.replay'):
        build(DFAD, teacher_ckpt, replay=dict(size=4, batch=2, sise=3))
