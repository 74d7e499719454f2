"""Update order and step counts of the generator-based algorithms (DFAD, DAFL, MosaicKD)."""

import copy

import pytest
import torch
from mmengine.logging import MessageHub

from densekd.algorithms import DAFL, DFAD, MosaicKD
from tests.helpers import TINY_ALGO_ARGS, counting_optimizers, save_tiny_state_dict

TINY = TINY_ALGO_ARGS
SIZE = (32, 32)


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    return save_tiny_state_dict(tmp_path_factory.mktemp('teacher'))


def build(cls, teacher_ckpt, **kwargs):
    MessageHub.get_instance('test_generative').update_info('iter', 0)
    kwargs.setdefault('generator', dict(type='PatchGenerator', nz=8, global_nz=4, ngf=8,
                                        num_upsamples=2, img_size=SIZE))
    model = cls(teacher=dict(checkpoint=teacher_ckpt, **TINY), student=dict(TINY),
                batch_size=2, **kwargs)
    names = ['student', 'generator'] + (['discriminator'] if cls is MosaicKD else [])
    return (model, *counting_optimizers(model, names))


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
    assert 'bn' not in plain.generator_losses.losses
    assert 'gen.loss_bn' not in plain.train_step(dict(inputs=torch.randn(4, 3, *SIZE)), optim)
    with_bn = dict(MosaicKD.default_generator_losses,
                   bn=dict(type='BNStatisticsLoss', loss_weight=0.5))
    model, optim, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1,
                            generator_losses=with_bn)
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


def _weights(model):
    return {name: loss.loss_weight for name, loss in model.generator_losses.losses.items()}


def test_dafl_defaults_are_the_official_weights(teacher_ckpt):
    model, _, _ = build(DAFL, teacher_ckpt)
    assert _weights(model) == dict(onehot=1.0, activation=0.1, ie=5.0) and model.shared_batch
    assert model.generator_losses.teacher_taps['activation'].source == 'decoder'


def test_default_generator_losses_are_the_references(teacher_ckpt):
    disc = dict(type='PatchDiscriminator', ndf=8, patch_size=10)
    mosaic, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc)
    assert _weights(mosaic) == dict(local=1.0, align=1.0, adv=1.0, balance=10.0)
    assert mosaic.discriminator_loss.loss_weight == 1.0
    assert mosaic.discriminator_loss.reduction == mosaic.generator_losses.losses['local'].reduction
    assert _weights(build(DFAD, teacher_ckpt)[0]) == dict(adv=1.0)


def test_generator_losses_are_the_weighted_functions(teacher_ckpt):
    """Each logged term is loss_weight times the functional loss, bit for bit."""
    from densekd.losses.adversarial import (class_balance_loss, kl_adversarial_loss,
                                            patch_gan_loss, teacher_entropy_loss)
    disc = dict(type='PatchDiscriminator', ndf=8, patch_size=10)
    losses = dict(local=dict(type='PatchGANLoss', loss_weight=0.3, reduction='sum'),
                  align=dict(type='TeacherEntropyLoss', loss_weight=0.7),
                  adv=dict(type='KLAdversarialLoss', loss_weight=1.0),
                  balance=dict(type='ClassBalanceLoss', loss_weight=7.0))
    model, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, generator_losses=losses)
    g = torch.Generator().manual_seed(0)
    t, s = torch.randn(2, 13, 4, 4, generator=g), torch.randn(2, 13, 4, 4, generator=g)
    d = torch.randn(2, 1, 3, 3, generator=g)
    out = model.generator_losses(t_logits=t, s_logits=s, d_logits=d)
    assert list(out) == ['loss_local', 'loss_align', 'loss_adv', 'loss_balance']  # summed so
    assert torch.equal(out['loss_local'], 0.3 * (patch_gan_loss(d, True) * 9))
    assert torch.equal(out['loss_align'], 0.7 * teacher_entropy_loss(t))
    assert torch.equal(out['loss_adv'], 1.0 * kl_adversarial_loss(s, t))
    assert torch.equal(out['loss_balance'], 7.0 * class_balance_loss(t))


def test_generator_losses_config_errors(teacher_ckpt):
    disc = dict(type='PatchDiscriminator', ndf=8, patch_size=10)
    dropped = dict(MosaicKD.default_generator_losses, balance=None)
    model, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, generator_losses=dropped)
    assert list(model.generator_losses.losses) == ['local', 'align', 'adv']
    with pytest.raises(ValueError,
                       match=r"generator_losses.adv: KLAdversarialLoss reads \['s_logits'\]"):
        build(DAFL, teacher_ckpt, generator_losses=dict(adv=dict(type='KLAdversarialLoss')))
    with pytest.raises(ValueError, match='not a generator loss'):
        build(DFAD, teacher_ckpt, generator_losses=dict(kd=dict(type='PixelKDLoss')))
    with pytest.raises(ValueError, match='teacher=<module path>'):
        build(DAFL, teacher_ckpt, generator_losses=dict(act=dict(type='ActivationLoss')))
    with pytest.raises(ValueError, match='at least one'):
        build(DFAD, teacher_ckpt, generator_losses=dict(adv=None))
    with pytest.raises(ValueError, match='discriminator_loss'):
        build(MosaicKD, teacher_ckpt, discriminator=disc,
              discriminator_loss=dict(type='TeacherEntropyLoss'))


def test_mosaickd_sum_reduction_is_the_mean_times_the_patch_count(teacher_ckpt):
    """reduction='sum': the reference's per-image sum over patches, averaged over B."""
    disc = dict(type='PatchDiscriminator', ndf=8, patch_size=10)
    summed = dict(type='PatchGANLoss', loss_weight=1.0, reduction='sum')
    model, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1,
                        generator_losses=dict(MosaicKD.default_generator_losses, local=summed),
                        discriminator_loss=summed)
    logits = torch.randn(3, 1, 4, 5)
    target = torch.ones_like(logits)
    per_image_sum = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction='none').sum(dim=(1, 2, 3)).mean()
    for loss in (model.generator_losses.losses['local'], model.discriminator_loss):
        assert torch.allclose(loss(logits, True), per_image_sum)
    mean_model, _, _ = build(MosaicKD, teacher_ckpt, discriminator=disc, student_steps=1)
    for loss in (mean_model.generator_losses.losses['local'], mean_model.discriminator_loss):
        assert torch.allclose(loss(logits, True) * 20, per_image_sum)
    with pytest.raises(ValueError, match='reduction'):
        build(MosaicKD, teacher_ckpt, discriminator=disc,
              discriminator_loss=dict(type='PatchGANLoss', reduction='max'))


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
