"""Tests for densekd.losses.cwd (channel-wise distillation)."""
import math

import pytest
import torch
import torch.nn.functional as F

from densekd.losses import ChannelWiseDivergence, channel_wise_divergence
from densekd.registry import MODELS

# N=2, C=3, H=W=2 maps, written out so the golden values can be recomputed by hand.
S = [[[[-1.7, -1.7], [-0.4, -0.7]], [[1.3, 1.0], [-0.5, -3.2]], [[0.7, -0.2], [2.2, 0.4]]],
     [[[0.2, 1.3], [-0.2, -0.2]], [[1.4, 1.9], [3.0, 0.1]], [[0.9, -0.6], [-1.3, -3.5]]]]
T = [[[[-0.3, -1.1], [0.8, 0.4]], [[-0.3, -1.0], [1.4, 0.7]], [[-0.9, 1.4], [1.7, 1.9]]],
     [[[-2.2, 3.9], [-0.7, 0.5]], [[-2.4, -0.8], [-0.7, -0.7]], [[-1.6, 1.7], [-0.2, 1.2]]]]
MASK = [[[True, False], [True, True]], [[False, True], [True, False]]]

# tau^2 / (N*C) * sum_n sum_c KL over the 4 locations, from ref_cwd below.
GOLDEN_TAU1 = 0.88134468
GOLDEN_TAU4 = 1.48837586
GOLDEN_TAU1_MASKED = 0.42857448


def _softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


def ref_cwd(s, t, tau=1.0, mask=None):
    """methods.md §6.2 in plain loops; a mask restricts every spatial softmax."""
    total, maps = 0.0, 0
    for n in range(len(s)):
        locs = [(h, w) for h in range(len(s[0][0])) for w in range(len(s[0][0][0]))
                if mask is None or mask[n][h][w]]
        if not locs:
            continue
        for c in range(len(s[0])):
            p_s = _softmax([s[n][c][h][w] / tau for h, w in locs])
            p_t = _softmax([t[n][c][h][w] / tau for h, w in locs])
            total += sum(pt * (math.log(pt) - math.log(ps)) for pt, ps in zip(p_t, p_s))
            maps += 1
    return tau ** 2 * total / maps


def _t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


class TestChannelWiseDivergence:
    def test_smoke(self):
        loss = ChannelWiseDivergence(tau=4.0, loss_weight=3.0)(torch.randn(2, 5, 6, 7),
                                                               torch.randn(2, 5, 6, 7))
        assert loss.shape == () and loss.item() >= 0

    def test_registry(self):
        loss = MODELS.build(dict(type='ChannelWiseDivergence', tau=1.0, loss_weight=5.0))
        assert isinstance(loss, ChannelWiseDivergence) and loss.loss_weight == 5.0

    def test_zero_when_equal(self):
        x = torch.randn(2, 4, 5, 5)
        assert channel_wise_divergence(x, x.clone(), tau=4.0).item() == pytest.approx(0, abs=1e-6)

    @pytest.mark.parametrize('tau, golden', [(1.0, GOLDEN_TAU1), (4.0, GOLDEN_TAU4)])
    def test_golden(self, tau, golden):
        assert ref_cwd(S, T, tau) == pytest.approx(golden, abs=1e-6)
        assert channel_wise_divergence(_t(S), _t(T), tau).item() == pytest.approx(golden, abs=1e-6)
        out = ChannelWiseDivergence(tau=tau)(_t(S, torch.float32), _t(T, torch.float32))
        assert out.item() == pytest.approx(golden, abs=1e-5)

    def test_matches_torch_kl_formulation(self):
        # mmrazor's form: KL over softmax of (N*C, H*W) rows, summed, / (N*C), times tau^2.
        s, t, tau = torch.randn(3, 4, 5, 6), torch.randn(3, 4, 5, 6), 2.0
        expected = F.kl_div(F.log_softmax(s.flatten(2) / tau, -1),
                            F.softmax(t.flatten(2) / tau, -1), reduction='sum') * tau ** 2 / 12
        assert channel_wise_divergence(s, t, tau).item() == pytest.approx(expected.item(), rel=1e-5)

    def test_normalised_per_channel_map(self):
        # Replicating channels / images keeps the loss: the mean runs over the N*C maps ...
        s, t = _t(S), _t(T)
        assert channel_wise_divergence(s.repeat(2, 3, 1, 1), t.repeat(2, 3, 1, 1)).item() == \
            pytest.approx(GOLDEN_TAU1, abs=1e-6)
        # ... and the KL is summed (not averaged) over locations.
        big_s = F.pad(s, (0, 2, 0, 2), value=-1e4)
        big_t = F.pad(t, (0, 2, 0, 2), value=-1e4)
        assert channel_wise_divergence(big_s, big_t).item() == pytest.approx(GOLDEN_TAU1, abs=1e-6)

    def test_loss_weight(self):
        out = ChannelWiseDivergence(loss_weight=3.0)(_t(S), _t(T))
        assert out.item() == pytest.approx(3 * GOLDEN_TAU1, abs=1e-5)

    def test_mask_golden(self):
        assert ref_cwd(S, T, 1.0, MASK) == pytest.approx(GOLDEN_TAU1_MASKED, abs=1e-6)
        out = ChannelWiseDivergence()(_t(S), _t(T), mask=torch.tensor(MASK))
        assert out.item() == pytest.approx(GOLDEN_TAU1_MASKED, abs=1e-6)

    def test_full_mask_equals_no_mask(self):
        full = torch.ones(2, 2, 2, dtype=torch.bool)
        out = channel_wise_divergence(_t(S), _t(T), mask=full)
        assert out.item() == pytest.approx(channel_wise_divergence(_t(S), _t(T)).item(), rel=1e-12)

    def test_masked_pixels_do_not_matter(self):
        mask = torch.tensor(MASK)
        garbage = _t(S).clone()
        garbage[~mask[:, None].expand_as(garbage)] = 1e6
        out = channel_wise_divergence(garbage, _t(T), mask=mask)
        assert out.item() == pytest.approx(GOLDEN_TAU1_MASKED, abs=1e-6)
        s = _t(S).requires_grad_(True)
        channel_wise_divergence(s, _t(T), mask=mask).backward()
        assert torch.isfinite(s.grad).all()
        assert torch.count_nonzero(s.grad.permute(0, 2, 3, 1)[~mask]) == 0

    def test_all_masked_image_is_skipped(self):
        mask = torch.tensor(MASK)
        mask[1] = False
        expected = ref_cwd(S[:1], T[:1], 1.0, MASK[:1])
        s = _t(S).requires_grad_(True)
        out = channel_wise_divergence(s, _t(T), mask=mask)
        assert out.item() == pytest.approx(expected, abs=1e-9)
        out.backward()
        assert torch.isfinite(s.grad).all() and torch.count_nonzero(s.grad[1]) == 0
        none = channel_wise_divergence(_t(S), _t(T), mask=torch.zeros(2, 2, 2, dtype=torch.bool))
        assert none.item() == 0.0

    def test_resize(self):
        s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 8, 8)
        with pytest.raises(ValueError, match='spatial sizes differ'):
            channel_wise_divergence(s, t)
        t_small = F.interpolate(t, size=(4, 4), mode='bilinear', align_corners=False)
        out = ChannelWiseDivergence(resize='student')(s, t)
        assert out.item() == pytest.approx(channel_wise_divergence(s, t_small).item())

    def test_exception(self):
        x = torch.randn(2, 3, 4, 4)
        with pytest.raises(ValueError, match=r'must have 4 dims \(B, C, H, W\)'):
            channel_wise_divergence(x.flatten(2), x.flatten(2))
        with pytest.raises(ValueError, match='channel counts differ: student 3 vs teacher 5'):
            channel_wise_divergence(x, torch.randn(2, 5, 4, 4))
        with pytest.raises(ValueError, match='tau must be a positive number'):
            ChannelWiseDivergence(tau=0)
        with pytest.raises(TypeError, match='boolean'):
            channel_wise_divergence(x, x, mask=torch.ones(2, 4, 4, dtype=torch.uint8))
        with pytest.raises(ValueError, match='mask must have shape'):
            channel_wise_divergence(x, x, mask=torch.ones(2, 3, 3, dtype=torch.bool))

    def test_gradcheck(self):
        torch.manual_seed(0)
        s = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        t = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        mask = torch.tensor(MASK)
        assert torch.autograd.gradcheck(lambda a, b: channel_wise_divergence(a, b, 2.0), (s, t))
        assert torch.autograd.gradcheck(
            lambda a, b: channel_wise_divergence(a, b, mask=mask), (s, t))
