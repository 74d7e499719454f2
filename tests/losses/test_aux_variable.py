"""AuxVariableKDLoss: golden values, the two limiting cases, the queue, state and training."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from densekd.algorithms import KD
from densekd.algorithms.distill_losses import DistillLossSet
from densekd.engine import SubmoduleOptimConstructor
from densekd.losses import (AuxVariableKDLoss, aux_variable_terms, membership_predictive,
                            pixel_kd_loss)
from densekd.losses.aux_variable import sample_pixels
from densekd.models import build_segmentor
from tests.helpers import TINY_SEGMENTOR, TINY_SEGMENTOR_ARGS, write_tiny_segmentor


def identity_loss(dim, classes, **kwargs):
    """A loss whose projection is the identity (student embedding = normalised input)."""
    loss = AuxVariableKDLoss(dim, dim, classes, **kwargs)
    with torch.no_grad():
        loss.projection.weight.copy_(torch.eye(dim)[:, :, None, None])
        loss.projection.bias.zero_()
    return loss


def as_map(rows):
    """``(N, D)`` -> a ``(1, D, 1, N)`` feature map (N pixels of one image)."""
    return torch.as_tensor(rows, dtype=torch.float64).t()[None, :, None, :]


# ------------------------------------------------------------------------------------------
# Golden value
# ------------------------------------------------------------------------------------------
def test_golden_value_on_a_hand_built_case():
    # Queue: 2 unit vectors in 2-D with posteriors over 2 classes; 2 pixels.
    loss = identity_loss(2, 2, queue_size=4, kappa=2.0, alpha=0.5, beta=1.0).double().eval()
    loss.push(torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64),
              torch.tensor([[0.9, 0.1], [0.2, 0.8]], dtype=torch.float64))
    s = [[3.0, 4.0], [1.0, 0.0]]        # normalised: (0.6, 0.8), (1, 0)
    t = [[0.0, 2.0], [1.0, 1.0]]        # normalised: (0, 1), (1/√2, 1/√2)
    z_t = [[0.0, math.log(3.0)], [1.0, 1.0]]  # p_T = (1/4, 3/4), (1/2, 1/2)
    out = loss(as_map(s), as_map(t), teacher_logits=as_map(z_t))

    def softmax(v):
        e = [math.exp(x) for x in v]
        return [x / sum(e) for x in e]

    def kl(p, q):
        return sum(a * math.log(a / b) for a, b in zip(p, q))

    q = [[0.9, 0.1], [0.2, 0.8]]
    cos_s = [[0.6, 0.8], [1.0, 0.0]]
    r = 1 / math.sqrt(2)
    cos_t = [[0.0, 1.0], [r, r]]
    p_t = [[0.25, 0.75], [0.5, 0.5]]
    total = 0.0
    for i in range(2):
        m_s = softmax([2.0 * c for c in cos_s[i]])
        m_t = softmax([2.0 * c for c in cos_t[i]])
        p_s = [m_s[0] * q[0][y] + m_s[1] * q[1][y] for y in range(2)]
        total += 1.0 * kl(p_t[i], p_s) + 0.5 * kl(m_t, m_s)
    assert out.item() == pytest.approx(total / 2, rel=1e-12)
    # Written out: pixel 0 KL 0.112450 + 0.5 · 0.195363, pixel 1 KL 0.256110 + 0.5 · 0.433781.
    assert out.item() == pytest.approx(0.341566, abs=1e-6)


# ------------------------------------------------------------------------------------------
# Limiting cases
# ------------------------------------------------------------------------------------------
def test_one_hot_class_prototypes_give_pixel_kd_of_a_cosine_classifier():
    torch.manual_seed(0)
    classes, dim, kappa = 5, 8, 7.0
    mu = F.normalize(torch.randn(classes, dim, dtype=torch.float64), dim=1)
    s = F.normalize(torch.randn(12, dim, dtype=torch.float64), dim=1)
    t = F.normalize(torch.randn(12, dim, dtype=torch.float64), dim=1)
    z_t = torch.randn(12, classes, dtype=torch.float64)
    terms = aux_variable_terms(s, t, F.log_softmax(z_t, 1), mu, torch.eye(classes,
                               dtype=torch.float64), kappa)
    cosine_logits = kappa * s @ mu.t()
    # As (B, C, H, W) maps of 12 pixels: PixelKD between the teacher and a cosine classifier.
    expected = pixel_kd_loss(cosine_logits.t()[None, :, None], z_t.t()[None, :, None], tau=1.0)
    torch.testing.assert_close(terms['predictive'].mean(), expected)


def test_large_kappa_gives_the_nearest_neighbour_posterior():
    rng = np.random.default_rng(0)
    queue = rng.normal(size=(30, 6))
    queue /= np.linalg.norm(queue, axis=1, keepdims=True)
    prob = rng.dirichlet(np.ones(4), size=30)
    s = rng.normal(size=(10, 6))
    s /= np.linalg.norm(s, axis=1, keepdims=True)
    # Brute force 1-NN by cosine similarity, one pixel at a time.
    nearest = [max(range(30), key=lambda j: float(np.dot(s[i], queue[j]))) for i in range(10)]
    p_s = membership_predictive(torch.from_numpy(s), torch.from_numpy(queue),
                                torch.from_numpy(prob), kappa=1e4)
    np.testing.assert_allclose(p_s.numpy(), prob[nearest], atol=1e-8)


# ------------------------------------------------------------------------------------------
# Queue
# ------------------------------------------------------------------------------------------
def test_queue_is_fifo_and_wraps_around():
    loss = AuxVariableKDLoss(2, 2, 3, queue_size=5)
    rows = torch.arange(14, dtype=torch.float32)[:, None].repeat(1, 2)
    loss.push(rows[:3], rows[:3, :1].repeat(1, 3))
    assert int(loss.queue_filled) == 3 and int(loss.queue_ptr) == 3
    loss.push(rows[3:7], rows[3:7, :1].repeat(1, 3))  # wraps: 5, 6 overwrite 0, 1
    assert loss.queue_emb[:, 0].tolist() == [5, 6, 2, 3, 4]
    assert int(loss.queue_filled) == 5 and int(loss.queue_ptr) == 2
    loss.push(rows[7:14], rows[7:14, :1].repeat(1, 3))  # more than L: the newest 5 survive
    assert loss.queue_emb[:, 0].tolist() == [10, 11, 12, 13, 9]  # as if written one by one
    assert loss.queue_prob[:, 0].tolist() == loss.queue_emb[:, 0].tolist()
    assert int(loss.queue_ptr) == (2 + 7) % 5


def test_empty_queue_gives_zero_with_a_graph_then_the_batch_is_enqueued():
    torch.manual_seed(0)
    loss = AuxVariableKDLoss(4, 3, 5, queue_size=64, pixels_per_image=6).train()
    s = torch.randn(2, 4, 3, 4, requires_grad=True)
    t, z = torch.randn(2, 3, 3, 4), torch.randn(2, 5, 6, 8)  # logits resized to 3x4
    first = loss(s, t, teacher_logits=z)
    assert first.item() == 0.0 and first.requires_grad
    first.backward()
    assert int(loss.queue_filled) == 12
    # Each entry is the normalised teacher feature and the posterior of one real pixel.
    t_rows = F.normalize(t.movedim(1, -1).reshape(-1, 3), dim=1)
    p_rows = F.softmax(F.interpolate(z, size=(3, 4), mode='bilinear', align_corners=False), 1)
    p_rows = p_rows.movedim(1, -1).reshape(-1, 5)
    match = (loss.queue_emb[:12, None] - t_rows[None]).abs().sum(-1).argmin(1)
    torch.testing.assert_close(loss.queue_prob[:12], p_rows[match])
    assert len(set(match.tolist())) == 12 and set((match // 12).tolist()) == {0, 1}
    second = loss(s, t, teacher_logits=z)
    assert second.item() > 0
    loss.eval()
    loss(s, t, teacher_logits=z)
    assert int(loss.queue_filled) == 24  # eval mode leaves the queue alone


def test_the_current_batch_is_read_before_it_joins_the_queue():
    # A departure made on purpose: the pixel's own entry would leak its posterior into p_S.
    torch.manual_seed(0)
    loss = identity_loss(3, 4, queue_size=64, pixels_per_image=4).train()
    old_emb = F.normalize(torch.randn(5, 3), dim=1)
    old_prob = F.softmax(torch.randn(5, 4), dim=1)
    loss.push(old_emb, old_prob)
    s, t, z = torch.randn(2, 3, 2, 2), torch.randn(2, 3, 2, 2), torch.randn(2, 4, 2, 2)
    out = loss(s, t, teacher_logits=z)
    rows = lambda x: x.movedim(1, -1).reshape(-1, x.shape[1])  # noqa: E731
    terms = aux_variable_terms(F.normalize(rows(s), dim=1), F.normalize(rows(t), dim=1),
                               F.log_softmax(rows(z), 1), old_emb, old_prob, 10.0)
    torch.testing.assert_close(out, (terms['predictive'] + terms['membership']).mean())
    assert int(loss.queue_filled) == 5 + 8


def test_mixed_precision_keeps_the_terms_in_float32():
    torch.manual_seed(0)
    loss = AuxVariableKDLoss(4, 3, 5, queue_size=8).eval()
    loss.push(F.normalize(torch.randn(8, 3), dim=1), F.softmax(torch.randn(8, 5) * 30, dim=1))
    s, t, z = torch.randn(2, 4, 3, 3), torch.randn(2, 3, 3, 3), torch.randn(2, 5, 3, 3) * 30
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = loss(s, t, teacher_logits=z)
    assert out.dtype == torch.float32 and torch.isfinite(out)
    torch.testing.assert_close(out, loss(s, t, teacher_logits=z), rtol=0.05, atol=0.05)


def test_masked_pixels_neither_count_nor_join_the_queue():
    torch.manual_seed(0)
    loss = identity_loss(3, 4, queue_size=32, pixels_per_image=8)
    s, t, z = torch.randn(1, 3, 2, 4), torch.randn(1, 3, 2, 4), torch.randn(1, 4, 2, 4)
    mask = torch.zeros(1, 2, 4, dtype=torch.bool)
    mask[0, 0, :3] = True
    loss(s, t, mask=mask, teacher_logits=z)
    assert int(loss.queue_filled) == 3  # only the 3 valid pixels were there to sample
    valid_t = F.normalize(t[0, :, 0, :3].t(), dim=1)
    assert torch.allclose(loss.queue_emb[:3].sort(0).values, valid_t.sort(0).values)
    s_bad = s.clone()
    s_bad[0, :, 1] = float('nan')  # masked pixels may hold anything
    full = loss(s_bad, t, mask=mask, teacher_logits=z)
    s_valid, t_valid, z_valid = s[..., 0:1, :3], t[..., 0:1, :3], z[..., 0:1, :3]
    loss.eval()
    torch.testing.assert_close(full, loss(s_valid, t_valid, teacher_logits=z_valid))


def test_sample_pixels_draws_valid_pixels_of_each_image():
    torch.manual_seed(0)
    mask = torch.tensor([[True, False, True, True, False], [False, False, False, False, True]])
    rows = sample_pixels(mask, 2)
    assert len(rows) == 3  # 2 of image 0, the one valid pixel of image 1
    assert set(rows.tolist()[:2]) <= {0, 2, 3} and rows.tolist()[2] == 9


def test_anchor_subsampling_averages_over_the_drawn_pixels():
    torch.manual_seed(0)
    s, t, z = torch.randn(2, 4, 3, 3), torch.randn(2, 3, 3, 3), torch.randn(2, 5, 3, 3)
    full = AuxVariableKDLoss(4, 3, 5, queue_size=8)
    full.push(F.normalize(torch.randn(8, 3), dim=1), F.softmax(torch.randn(8, 5), dim=1))
    every = AuxVariableKDLoss(4, 3, 5, queue_size=8, anchors_per_image=9)  # all 9 pixels
    some = AuxVariableKDLoss(4, 3, 5, queue_size=8, anchors_per_image=2)
    every.load_state_dict(full.state_dict())
    some.load_state_dict(full.state_dict())
    reference = full.eval()(s, t, teacher_logits=z)
    torch.testing.assert_close(every.train()(s, t, teacher_logits=z), reference)
    torch.manual_seed(1)
    drawn = sample_pixels(torch.ones(2, 9, dtype=torch.bool), 2)
    torch.manual_seed(1)
    value = some.train()(s, t, teacher_logits=z)
    # The same pixels by hand: feature-map rows (image-major, then row-major pixels).
    picked = [(int(r) // 9, int(r) % 9 // 3, int(r) % 3) for r in drawn]
    parts = [full(s[b:b + 1, :, i:i + 1, j:j + 1], t[b:b + 1, :, i:i + 1, j:j + 1],
                  teacher_logits=z[b:b + 1, :, i:i + 1, j:j + 1]) for b, i, j in picked]
    torch.testing.assert_close(value, torch.stack(parts).mean())


def test_state_dict_round_trip_restores_queue_and_projection():
    torch.manual_seed(0)
    loss = AuxVariableKDLoss(4, 3, 5, queue_size=16, pixels_per_image=5).train()
    for _ in range(4):
        loss(torch.randn(2, 4, 3, 3), torch.randn(2, 3, 3, 3),
             teacher_logits=torch.randn(2, 5, 3, 3))
    state = loss.state_dict()
    assert {'queue_emb', 'queue_prob', 'queue_ptr', 'queue_filled',
            'projection.weight'} <= set(state)
    fresh = AuxVariableKDLoss(4, 3, 5, queue_size=16, pixels_per_image=5).train()
    fresh.load_state_dict(state)
    x = (torch.randn(2, 4, 3, 3), torch.randn(2, 3, 3, 3), torch.randn(2, 5, 3, 3))
    rng = torch.get_rng_state()
    a = loss(x[0], x[1], teacher_logits=x[2])
    torch.set_rng_state(rng)
    b = fresh(x[0], x[1], teacher_logits=x[2])
    assert a.item() == b.item()
    for key, value in loss.state_dict().items():  # the next enqueue is the same, too
        assert torch.equal(value, fresh.state_dict()[key]), key


def test_bad_arguments_and_inputs_name_the_key():
    with pytest.raises(ValueError, match='queue_size'):
        AuxVariableKDLoss(4, 3, 5, queue_size=0)
    with pytest.raises(ValueError, match='kappa'):
        AuxVariableKDLoss(4, 3, 5, kappa=-1.0)
    with pytest.raises(ValueError, match='alpha'):
        AuxVariableKDLoss(4, 3, 5, alpha=-1.0)
    loss = AuxVariableKDLoss(4, 3, 5)
    with pytest.raises(ValueError, match='student_channels=4'):
        loss(torch.randn(1, 6, 2, 2), torch.randn(1, 3, 2, 2),
             teacher_logits=torch.randn(1, 5, 2, 2))
    with pytest.raises(ValueError, match='num_classes=5'):
        loss(torch.randn(1, 4, 2, 2), torch.randn(1, 3, 2, 2),
             teacher_logits=torch.randn(1, 7, 2, 2))


def test_two_inputs_use_the_teacher_logits_as_features():
    # The generative regimes call kd_loss(student_logits, teacher_logits).
    torch.manual_seed(0)
    loss = AuxVariableKDLoss(5, 5, 5, queue_size=8, pixels_per_image=4).eval()
    loss.push(F.normalize(torch.randn(8, 5), dim=1), F.softmax(torch.randn(8, 5), dim=1))
    s, t = torch.randn(2, 5, 4, 4), torch.randn(2, 5, 4, 4)
    assert loss(s, t).item() == loss(s, t, teacher_logits=t).item() > 0


# ------------------------------------------------------------------------------------------
# In KD: taps, teacher logits, and the projection is trained
# ------------------------------------------------------------------------------------------
AUX = dict(type='AuxVariableKDLoss', student_channels=32, teacher_channels=32, num_classes=13,
           queue_size=256, pixels_per_image=8, student='decoder', teacher='decoder',
           teacher_logits='segmentation_head.0')


def test_distill_loss_set_passes_the_teacher_logits_tap():
    torch.manual_seed(1)
    student = build_segmentor(**TINY_SEGMENTOR_ARGS).eval()
    teacher = build_segmentor(**TINY_SEGMENTOR_ARGS).eval()
    losses = DistillLossSet(dict(aux=dict(AUX)))
    losses.attach(student, teacher, check_input_size=(32, 32))
    assert int(losses.losses['aux'].queue_filled) == 0  # the build-time check enqueues nothing
    assert losses.training
    x = torch.randn(2, 3, 32, 32)
    s_taps, t_taps = losses.record()
    with torch.no_grad(), t_taps, s_taps:
        t_logits, s_logits = teacher(x), student(x)
    losses(s_logits, t_logits)
    queued = losses.losses['aux'].queue_prob[:16]
    low_res = F.softmax(teacher.segmentation_head[0](teacher.decoder(teacher.encoder(x))), 1)
    rows = low_res.movedim(1, -1).reshape(-1, 13)
    assert all((rows - q).abs().max(1).values.min() < 1e-5 for q in queued)
    with pytest.raises(ValueError, match='model.losses.kd.teacher_logits'):
        DistillLossSet(dict(kd=dict(type='PixelKDLoss', teacher_logits='decoder')))


def test_kd_train_step_updates_the_projection_with_the_student_optimizer(tmp_path):
    teacher = write_tiny_segmentor(tmp_path)
    model = KD(teacher=dict(TINY_SEGMENTOR, checkpoint=teacher), student=dict(TINY_SEGMENTOR),
               losses=dict(kd=dict(type='PixelKDLoss'), aux=dict(AUX)))
    model.train()
    optim = SubmoduleOptimConstructor(dict(student=dict(
        optimizer=dict(type='SGD', lr=0.5), with_children=['distill_losses'])))(model)
    weight = model.distill_losses.losses['aux'].projection.weight
    before = weight.detach().clone()
    data = dict(inputs=torch.randn(2, 3, 32, 32))
    model.train_step(data, optim)  # queue empty: aux is zero, the projection gets no gradient
    assert torch.equal(weight, before)
    out = model.train_step(data, optim)
    assert out['student.loss_aux'] > 0
    assert not torch.equal(weight, before)
    with pytest.raises(ValueError, match='already optimised by optim_wrapper.student'):
        SubmoduleOptimConstructor(dict(
            student=dict(optimizer=dict(type='SGD', lr=0.1), with_children=['distill_losses']),
            distill_losses=dict(optimizer=dict(type='SGD', lr=0.1))))(model)
    with pytest.raises(KeyError, match='optim_wrapper.student.with_children'):
        SubmoduleOptimConstructor(dict(student=dict(optimizer=dict(type='SGD', lr=0.1),
                                                    with_children=['nope'])))(model)


def test_as_mosaickd_kd_loss_on_logits_with_the_student_optimizer(tmp_path):
    # MosaicKD calls kd_loss(student_logits, teacher_logits): the logits are the embeddings.
    from densekd.algorithms import MosaicKD
    teacher = write_tiny_segmentor(tmp_path)
    model = MosaicKD(
        teacher=dict(TINY_SEGMENTOR, checkpoint=teacher), student=dict(TINY_SEGMENTOR),
        generator=dict(type='PatchGenerator', nz=8, global_nz=4, ngf=8, num_upsamples=2,
                       img_size=(32, 32)),
        discriminator=dict(type='PatchDiscriminator', ndf=8, patch_size=10), batch_size=2,
        student_steps=2, kd_loss=dict(type='AuxVariableKDLoss', student_channels=13,
                                      teacher_channels=13, num_classes=13, queue_size=64,
                                      pixels_per_image=4))
    model.train()
    adam = dict(optimizer=dict(type='Adam', lr=1e-2))
    optim = SubmoduleOptimConstructor(dict(student=dict(adam, with_children=['kd_loss']),
                                           generator=adam, discriminator=adam))(model)
    weight = model.kd_loss.projection.weight
    before = weight.detach().clone()
    log = model.train_step(dict(inputs=torch.randn(6, 3, 32, 32)), optim)
    assert torch.isfinite(log['student.loss_kd'])
    assert int(model.kd_loss.queue_filled) == 2 * 4 * 4  # 2 steps x 4 images x 4 pixels
    assert not torch.equal(weight, before)  # the second student step had a queue
