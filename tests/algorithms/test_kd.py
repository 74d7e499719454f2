"""KD and DistillLossSet on tiny real segmentors: losses, taps, errors, one training step."""
import copy

import pytest
import torch
import torch.nn.functional as F

from densekd.algorithms import KD
from densekd.algorithms.distill_losses import DistillLossSet
from densekd.engine import SubmoduleOptimConstructor
from densekd.losses import L1LogitLoss, PixelKDLoss
from densekd.models import build_segmentor
from tests.helpers import TINY_SEGMENTOR, TINY_SEGMENTOR_ARGS, write_tiny_segmentor

# smp's DeepLabV3+ needs H and W divisible by its output stride (16).
SIZE = (32, 32)


@pytest.fixture(scope='module')
def teacher_weights(tmp_path_factory):
    """Path of an exported tiny teacher (random weights, seed 0)."""
    return write_tiny_segmentor(tmp_path_factory.mktemp('kd_teacher'), seed=0)


@pytest.fixture
def pair():
    """An eval-mode (student, teacher) pair with different random weights."""
    torch.manual_seed(1)
    student = build_segmentor(**TINY_SEGMENTOR_ARGS).eval()
    torch.manual_seed(2)
    teacher = build_segmentor(**TINY_SEGMENTOR_ARGS).eval()
    return student, teacher


def build_kd(teacher_weights, **kwargs):
    """A KD of two tiny segmentors.

    Args:
        teacher_weights: the teacher's checkpoint.
        **kwargs: further :class:`KD` arguments (``losses``, ...).

    Returns:
        The KD model (teacher frozen, student trainable).
    """
    return KD(teacher=dict(TINY_SEGMENTOR, checkpoint=teacher_weights),
              student=dict(TINY_SEGMENTOR), **kwargs)


# ------------------------------------------------------------------------------------------
# DistillLossSet
# ------------------------------------------------------------------------------------------
def test_named_entries_build_their_losses_and_default_to_logits():
    losses = DistillLossSet(dict(
        kd=dict(type='PixelKDLoss', tau=2.0, loss_weight=0.5),
        l1=dict(type='L1LogitLoss', loss_weight=3.0, student='decoder', teacher='decoder'),
        deep=dict(type='L1LogitLoss', student=dict(source='encoder', index=-1),
                  teacher=dict(source='encoder', index=-1))))
    assert list(losses.losses) == ['kd', 'l1', 'deep']
    assert isinstance(losses.losses['kd'], PixelKDLoss) and losses.losses['kd'].tau == 2.0
    assert losses.losses['kd'].loss_weight == 0.5
    assert isinstance(losses.losses['l1'], L1LogitLoss) and losses.losses['l1'].loss_weight == 3.0
    assert losses.sources['kd'] == (dict(source='logits'), dict(source='logits'))
    assert losses.sources['l1'] == (dict(source='decoder'), dict(source='decoder'))
    assert losses.sources['deep'][0] == dict(source='encoder', index=-1)


def test_the_config_dicts_are_not_consumed():
    # The tap keys are popped from a copy: the same config can build a second set.
    cfg = dict(l1=dict(type='L1LogitLoss', student='decoder', teacher='decoder'))
    DistillLossSet(cfg)
    assert cfg == dict(l1=dict(type='L1LogitLoss', student='decoder', teacher='decoder'))


def test_weighted_total_equals_the_hand_computed_sum(pair):
    student, teacher = pair
    losses = DistillLossSet(dict(kd=dict(type='PixelKDLoss', tau=2.0, loss_weight=0.5),
                                 l1=dict(type='L1LogitLoss', loss_weight=3.0)))
    losses.attach(student, teacher, check_input_size=None)
    x = torch.randn(2, 3, *SIZE)
    with torch.no_grad():
        s, t = student(x), teacher(x)
    out = losses(s, t)
    assert set(out) == {'loss_kd', 'loss_l1'}
    # Pixel KD: tau^2 * KL(p_T || p_S) summed over classes, averaged over the B*H*W pixels.
    log_p_s, log_p_t = F.log_softmax(s / 2.0, dim=1), F.log_softmax(t / 2.0, dim=1)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1).mean()
    expected_kd = 0.5 * 4.0 * kl
    expected_l1 = 3.0 * (s - t).abs().mean()
    torch.testing.assert_close(out['loss_kd'], expected_kd)
    torch.testing.assert_close(out['loss_l1'], expected_l1)
    torch.testing.assert_close(sum(out.values()), expected_kd + expected_l1)


def test_feature_taps_feed_the_tapped_module_outputs(pair):
    student, teacher = pair
    losses = DistillLossSet(dict(deep=dict(type='L1LogitLoss',
                                           student=dict(source='encoder', index=-1),
                                           teacher=dict(source='encoder', index=-1))))
    losses.attach(student, teacher, check_input_size=None)
    x = torch.randn(2, 3, *SIZE)
    s_taps, t_taps = losses.record()
    with torch.no_grad():
        with t_taps:
            t = teacher(x)
        with s_taps:
            s = student(x)
        expected = (student.encoder(x)[-1] - teacher.encoder(x)[-1]).abs().mean()
        logits_l1 = (s - t).abs().mean()
    out = losses(s, t)['loss_deep']
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, logits_l1)  # it really compared features, not logits


def test_empty_losses_are_refused():
    with pytest.raises(ValueError, match='at least one distillation loss'):
        DistillLossSet({})


def test_unknown_loss_type_names_it():
    with pytest.raises(KeyError, match='NoSuchLoss'):
        DistillLossSet(dict(kd=dict(type='NoSuchLoss')))


def test_tap_on_a_missing_module_names_the_path(pair):
    losses = DistillLossSet(dict(l1=dict(type='L1LogitLoss', student='no_such_module')))
    with pytest.raises((KeyError, ValueError), match='no_such_module'):
        losses.attach(*pair)


def test_mismatched_taps_fail_at_attach_with_both_paths_and_shapes(pair):
    student, _ = pair
    torch.manual_seed(3)
    wide_teacher = build_segmentor(**{**TINY_SEGMENTOR_ARGS, 'decoder_channels': 48}).eval()
    losses = DistillLossSet(dict(feat=dict(type='L1LogitLoss', student='decoder',
                                           teacher='decoder')))
    with pytest.raises(ValueError) as excinfo:
        losses.attach(student, wide_teacher, check_input_size=SIZE)
    message = str(excinfo.value)
    assert message.startswith('model.losses.feat:')
    assert "student tap 'decoder' (1, 32, 8, 8)" in message
    assert "teacher tap 'decoder' (1, 48, 8, 8)" in message
    assert 'L1LogitLoss' in message


def test_attach_check_restores_train_modes_and_can_be_skipped(pair):
    student, teacher = pair
    student.train()
    losses = DistillLossSet(dict(kd=dict(type='PixelKDLoss')))
    losses.attach(student, teacher, check_input_size=SIZE)
    assert student.training and not teacher.training
    # Without the dummy forward a shape mismatch goes unnoticed until the first loss.
    wide = build_segmentor(**{**TINY_SEGMENTOR_ARGS, 'decoder_channels': 48})
    DistillLossSet(dict(feat=dict(type='L1LogitLoss', student='decoder', teacher='decoder'))
                   ).attach(student, wide, check_input_size=None)


# ------------------------------------------------------------------------------------------
# KD
# ------------------------------------------------------------------------------------------
def test_kd_defaults_to_pixel_kd_at_tau_1_and_loads_the_teacher(teacher_weights):
    model = build_kd(teacher_weights)
    assert list(model.distill_losses.losses) == ['kd']
    kd = model.distill_losses.losses['kd']
    assert isinstance(kd, PixelKDLoss) and kd.tau == 1.0 and kd.loss_weight == 1.0
    saved = torch.load(teacher_weights)
    assert all(torch.equal(v, saved[k]) for k, v in model.teacher.state_dict().items())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    assert all(p.requires_grad for p in model.student.parameters())


def test_kd_refuses_a_teacher_without_checkpoint_and_a_class_mismatch(teacher_weights):
    with pytest.raises(ValueError, match='model.teacher.checkpoint'):
        KD(teacher=dict(TINY_SEGMENTOR), student=dict(TINY_SEGMENTOR))
    with pytest.raises(ValueError, match='classes=40 differs from model.teacher.classes=13'):
        KD(teacher=dict(TINY_SEGMENTOR, checkpoint=teacher_weights),
           student=dict(TINY_SEGMENTOR, classes=40))


def test_kd_loss_mode_returns_the_named_losses(teacher_weights):
    model = build_kd(teacher_weights, losses=dict(
        kd=dict(type='PixelKDLoss', tau=4.0),
        feat=dict(type='L1LogitLoss', student='decoder', teacher='decoder')))
    out = model(torch.randn(2, 3, *SIZE), mode='loss')
    assert set(out) == {'loss_kd', 'loss_feat'}
    assert all(v.ndim == 0 and torch.isfinite(v) and v > 0 for v in out.values())
    assert out['loss_kd'].requires_grad  # the student's graph is kept


def test_train_step_is_one_sgd_step_of_the_student_only(teacher_weights):
    model = build_kd(teacher_weights)
    model.train()
    lr = 0.1
    optim = SubmoduleOptimConstructor(dict(student=dict(optimizer=dict(type='SGD', lr=lr))))(model)
    teacher_before = {k: v.clone() for k, v in model.teacher.state_dict().items()}
    x = torch.randn(2, 3, *SIZE)

    # The same step by hand on a copy: pixel KD (tau=1) between student and frozen teacher.
    # Same seed before both student forwards: the ASPP's dropout draws the same mask.
    reference = copy.deepcopy(model.student).train()
    with torch.no_grad():
        t = model.teacher(x)
    torch.manual_seed(5)
    log_p_s, log_p_t = F.log_softmax(reference(x), dim=1), F.log_softmax(t, dim=1)
    (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1).mean().backward()
    expected = {n: p - lr * p.grad for n, p in reference.named_parameters()}

    torch.manual_seed(5)
    log_vars = model.train_step(dict(inputs=x), optim)

    assert set(log_vars) == {'student.loss_kd', 'student.loss'}
    assert torch.isfinite(log_vars['student.loss'])
    for name, param in model.student.named_parameters():
        torch.testing.assert_close(param, expected[name], msg=f'student {name}')
    assert not all(torch.equal(p, reference.state_dict()[n])
                   for n, p in model.student.named_parameters())  # it did move
    for k, v in model.teacher.state_dict().items():  # weights and BatchNorm statistics
        assert torch.equal(v, teacher_before[k]), f'teacher {k} changed'
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not model.teacher.training  # model.train() keeps the teacher in eval mode


def test_train_step_without_a_student_optimizer_names_the_entry(teacher_weights):
    model = build_kd(teacher_weights)
    optim = SubmoduleOptimConstructor(dict(teacher=dict(optimizer=dict(type='SGD', lr=0.1))))(
        model)
    with pytest.raises(KeyError, match="optim_wrapper has no entry 'student'"):
        model.train_step(dict(inputs=torch.randn(1, 3, *SIZE)), optim)
