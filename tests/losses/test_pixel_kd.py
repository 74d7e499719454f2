"""Tests for densekd.losses.pixel_kd (pixel-wise KD, pixel_kl) and pixel_entropy."""
import math

import pytest
import torch
import torch.nn.functional as F

from densekd.losses import PixelKDLoss, pixel_kd_loss
from densekd.losses.pixel_kd import pixel_kl
from densekd.losses.utils import pixel_entropy
from densekd.registry import MODELS

# B=2, C=3, H=W=2 logits, written out so the golden values below can be recomputed by hand.
S = [[[[-1.7, -1.7], [-0.4, -0.7]], [[1.3, 1.0], [-0.5, -3.2]], [[0.7, -0.2], [2.2, 0.4]]],
     [[[0.2, 1.3], [-0.2, -0.2]], [[1.4, 1.9], [3.0, 0.1]], [[0.9, -0.6], [-1.3, -3.5]]]]
T = [[[[-0.3, -1.1], [0.8, 0.4]], [[-0.3, -1.0], [1.4, 0.7]], [[-0.9, 1.4], [1.7, 1.9]]],
     [[[-2.2, 3.9], [-0.7, 0.5]], [[-2.4, -0.8], [-0.7, -0.7]], [[-1.6, 1.7], [-0.2, 1.2]]]]
MASK = [[[True, False], [True, True]], [[False, False], [True, False]]]

# tau^2 * mean over the 8 pixels of KL(softmax(T/tau) || softmax(S/tau)), from ref_pixel_kd.
GOLDEN_TAU1 = 0.92469296
GOLDEN_TAU2 = 1.18524700
GOLDEN_TAU1_MASKED = 0.83366457  # mean over the 4 valid pixels only


def _softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


def ref_pixel_kd(s, t, tau=1.0, mask=None):
    """The formula of methods.md §6.1 in plain loops."""
    total, count = 0.0, 0
    for b in range(len(s)):
        for h in range(len(s[0][0])):
            for w in range(len(s[0][0][0])):
                if mask is not None and not mask[b][h][w]:
                    continue
                p_s = _softmax([s[b][c][h][w] / tau for c in range(len(s[0]))])
                p_t = _softmax([t[b][c][h][w] / tau for c in range(len(s[0]))])
                total += sum(pt * (math.log(pt) - math.log(ps)) for pt, ps in zip(p_t, p_s))
                count += 1
    return tau ** 2 * total / count


def _t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


class TestPixelKL:
    def test_shape_and_sign(self):
        kl = pixel_kl(_t(S), _t(T))
        assert kl.shape == (2, 2, 2)
        assert (kl >= 0).all()

    def test_zero_when_equal(self):
        assert torch.allclose(pixel_kl(_t(S), _t(S)), torch.zeros(2, 2, 2, dtype=torch.float64))

    def test_matches_loop(self):
        kl = pixel_kl(_t(S), _t(T), tau=2.0)
        mean_loop = ref_pixel_kd(S, T, tau=2.0) / 4.0
        assert kl.mean().item() == pytest.approx(mean_loop, rel=1e-9)

    def test_entropy(self):
        uniform = torch.zeros(1, 4, 3, 3)
        assert torch.allclose(pixel_entropy(uniform), torch.full((1, 3, 3), math.log(4)))
        confident = torch.tensor([100.0, 0.0, 0.0]).view(1, 3, 1, 1)
        assert pixel_entropy(confident).item() == pytest.approx(0.0, abs=1e-6)


class TestPixelKDLoss:
    def test_smoke(self):
        s, t = torch.randn(2, 5, 6, 7), torch.randn(2, 5, 6, 7)
        loss = PixelKDLoss(tau=2.0)(s, t)
        assert loss.shape == () and loss.dtype == torch.float32 and loss.item() >= 0

    def test_registry(self):
        loss = MODELS.build(dict(type='PixelKDLoss', tau=4.0, loss_weight=0.5))
        assert isinstance(loss, PixelKDLoss) and loss.tau == 4.0 and loss.loss_weight == 0.5
        assert 'tau=4.0' in repr(loss)

    def test_zero_when_equal(self):
        s = torch.randn(2, 4, 5, 5)
        assert PixelKDLoss(tau=3.0)(s, s.clone()).item() == pytest.approx(0.0, abs=1e-6)

    @pytest.mark.parametrize('tau, golden', [(1.0, GOLDEN_TAU1), (2.0, GOLDEN_TAU2)])
    def test_golden(self, tau, golden):
        assert ref_pixel_kd(S, T, tau) == pytest.approx(golden, abs=1e-6)
        out = pixel_kd_loss(_t(S), _t(T), tau=tau)
        assert out.item() == pytest.approx(golden, abs=1e-6)
        out32 = PixelKDLoss(tau=tau)(_t(S, torch.float32), _t(T, torch.float32))
        assert out32.item() == pytest.approx(golden, abs=1e-5)

    def test_loss_weight(self):
        loss = PixelKDLoss(tau=1.0, loss_weight=10.0)(_t(S), _t(T))
        assert loss.item() == pytest.approx(10 * GOLDEN_TAU1, abs=1e-5)

    @pytest.mark.parametrize('tau', [1.0, 4.0])
    def test_1x1_equals_classification_kd(self, tau):
        s, t = torch.randn(6, 10, dtype=torch.float64), torch.randn(6, 10, dtype=torch.float64)
        expected = F.kl_div(F.log_softmax(s / tau, 1), F.softmax(t / tau, 1),
                            reduction='batchmean') * tau ** 2
        out = pixel_kd_loss(s[..., None, None], t[..., None, None], tau=tau)
        assert out.item() == pytest.approx(expected.item(), rel=1e-9)
        # (B, C) inputs are accepted as well: one "pixel" per sample.
        assert pixel_kd_loss(s, t, tau=tau).item() == pytest.approx(expected.item(), rel=1e-9)

    def test_mean_over_pixels_not_batch(self):
        # Tiling the map spatially keeps the per-pixel mean: the loss must not grow with H*W.
        s, t = _t(S), _t(T)
        tiled = pixel_kd_loss(s.repeat(1, 1, 3, 2), t.repeat(1, 1, 3, 2))
        assert tiled.item() == pytest.approx(pixel_kd_loss(s, t).item(), rel=1e-12)
        # ... and neither with B: duplicating the batch keeps it too.
        doubled = pixel_kd_loss(s.repeat(2, 1, 1, 1), t.repeat(2, 1, 1, 1))
        assert doubled.item() == pytest.approx(GOLDEN_TAU1, abs=1e-6)

    def test_mask_golden(self):
        mask = torch.tensor(MASK)
        assert ref_pixel_kd(S, T, 1.0, MASK) == pytest.approx(GOLDEN_TAU1_MASKED, abs=1e-6)
        out = pixel_kd_loss(_t(S), _t(T), mask=mask)
        assert out.item() == pytest.approx(GOLDEN_TAU1_MASKED, abs=1e-6)
        # (B, 1, H, W) masks are accepted too.
        out = PixelKDLoss()(_t(S), _t(T), mask=mask[:, None])
        assert out.item() == pytest.approx(GOLDEN_TAU1_MASKED, abs=1e-6)

    def test_masked_pixels_do_not_matter(self):
        mask = torch.tensor(MASK)
        s = _t(S).requires_grad_(True)
        garbage = _t(S).clone()
        garbage[~mask[:, None].expand_as(garbage)] = float('inf')
        ref = pixel_kd_loss(_t(S), _t(T), mask=mask)
        out = pixel_kd_loss(garbage, _t(T), mask=mask)
        assert torch.isfinite(out) and out.item() == pytest.approx(ref.item(), abs=1e-9)
        pixel_kd_loss(s, _t(T), mask=mask).backward()
        grad_masked = s.grad.permute(0, 2, 3, 1)[~mask]
        assert torch.count_nonzero(grad_masked) == 0
        assert torch.count_nonzero(s.grad.permute(0, 2, 3, 1)[mask]) > 0

    def test_all_masked_is_zero(self):
        s = torch.randn(1, 3, 2, 2, requires_grad=True)
        out = pixel_kd_loss(s, torch.randn(1, 3, 2, 2), mask=torch.zeros(1, 2, 2, dtype=torch.bool))
        out.backward()
        assert out.item() == 0.0 and torch.isfinite(s.grad).all()

    def test_resize(self):
        s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 8, 8)
        with pytest.raises(ValueError, match=r"student \(4, 4\) vs teacher \(8, 8\).*resize="):
            pixel_kd_loss(s, t)
        t_small = F.interpolate(t, size=(4, 4), mode='bilinear', align_corners=False)
        expected = pixel_kd_loss(s, t_small)
        assert PixelKDLoss(resize='student')(s, t).item() == pytest.approx(expected.item())
        s_big = F.interpolate(s, size=(8, 8), mode='bilinear', align_corners=False)
        expected = pixel_kd_loss(s_big, t)
        assert PixelKDLoss(resize='teacher')(s, t).item() == pytest.approx(expected.item())
        # The mask lives at the aligned size.
        mask = torch.ones(2, 8, 8, dtype=torch.bool)
        assert PixelKDLoss(resize='teacher')(s, t, mask).item() == pytest.approx(expected.item())

    def test_exception(self):
        s = torch.randn(2, 3, 4, 4)
        with pytest.raises(TypeError, match='preds_S must be a torch.Tensor'):
            pixel_kd_loss(s.numpy(), s)
        with pytest.raises(TypeError, match='floating-point'):
            pixel_kd_loss(s, torch.ones(2, 3, 4, 4, dtype=torch.long))
        with pytest.raises(ValueError, match='at least 2 dims'):
            pixel_kd_loss(torch.randn(3), torch.randn(3))
        with pytest.raises(ValueError, match='channel counts differ: student 3 vs teacher 4'):
            pixel_kd_loss(s, torch.randn(2, 4, 4, 4))
        with pytest.raises(ValueError, match='batch sizes differ: student 2 vs teacher 1'):
            pixel_kd_loss(s, torch.randn(1, 3, 4, 4))
        with pytest.raises(ValueError, match='same number of dims'):
            pixel_kd_loss(s, torch.randn(2, 3, 16))
        with pytest.raises(ValueError, match='tau must be a positive number'):
            pixel_kd_loss(s, s, tau=0.0)
        with pytest.raises(ValueError, match='tau must be a positive number'):
            PixelKDLoss(tau=-1.0)
        with pytest.raises(ValueError, match='resize must be one of'):
            PixelKDLoss(resize='bilinear')
        with pytest.raises(TypeError, match='loss_weight must be a number'):
            PixelKDLoss(loss_weight='1')
        with pytest.raises(TypeError, match='boolean'):
            pixel_kd_loss(s, s, mask=torch.ones(2, 4, 4))
        with pytest.raises(ValueError, match=r'\(2, 4, 4\).*Got \(2, 8, 8\)'):
            pixel_kd_loss(s, s, mask=torch.ones(2, 8, 8, dtype=torch.bool))

    def test_gradcheck(self):
        torch.manual_seed(0)
        s = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        t = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        mask = torch.tensor(MASK)
        assert torch.autograd.gradcheck(lambda a, b: pixel_kd_loss(a, b, tau=2.0), (s, t))
        assert torch.autograd.gradcheck(lambda a, b: pixel_kd_loss(a, b, mask=mask), (s, t))
