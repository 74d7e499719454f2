"""Tests for densekd.losses.dist (DIST inter/intra-class relation loss)."""
import math

import pytest
import torch
import torch.nn.functional as F

from densekd.losses import DISTLoss, dist_loss
from densekd.losses.dist import pearson_correlation
from densekd.registry import MODELS

# B=2, C=3, H=W=2 logits, written out so the golden values can be recomputed by hand.
S = [[[[-1.7, -1.7], [-0.4, -0.7]], [[1.3, 1.0], [-0.5, -3.2]], [[0.7, -0.2], [2.2, 0.4]]],
     [[[0.2, 1.3], [-0.2, -0.2]], [[1.4, 1.9], [3.0, 0.1]], [[0.9, -0.6], [-1.3, -3.5]]]]
T = [[[[-0.3, -1.1], [0.8, 0.4]], [[-0.3, -1.0], [1.4, 0.7]], [[-0.9, 1.4], [1.7, 1.9]]],
     [[[-2.2, 3.9], [-0.7, 0.5]], [[-2.4, -0.8], [-0.7, -0.7]], [[-1.6, 1.7], [-0.2, 1.2]]]]
MASK = [[[True, False], [True, True]], [[False, True], [True, False]]]

# tau^2 * (inter + intra) with beta = gamma = 1, from ref_dist below.
GOLDEN_INTER = 1.04837495   # tau = 1, beta=1, gamma=0
GOLDEN_INTRA = 0.86307429   # tau = 1, beta=0, gamma=1
GOLDEN_TAU2 = 7.74696550   # tau = 2, beta=1, gamma=1
GOLDEN_MASKED = 1.39761608  # tau = 1, beta=1, gamma=1, 5 valid pixels


def _softmax(xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    return [v / sum(e) for v in e]


def _pearson(a, b):
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    den = math.sqrt(sum((x - ma) ** 2 for x in a)) * math.sqrt(sum((y - mb) ** 2 for y in b))
    return num / den


def ref_dist(s, t, beta=1.0, gamma=1.0, tau=1.0, mask=None):
    """methods.md §6.6 in plain loops: rows = valid pixels, columns = classes."""
    ncls = len(s[0])
    rows_s, rows_t = [], []
    for b in range(len(s)):
        for h in range(len(s[0][0])):
            for w in range(len(s[0][0][0])):
                if mask is not None and not mask[b][h][w]:
                    continue
                rows_s.append(_softmax([s[b][c][h][w] / tau for c in range(ncls)]))
                rows_t.append(_softmax([t[b][c][h][w] / tau for c in range(ncls)]))
    inter = 1 - sum(_pearson(a, b) for a, b in zip(rows_s, rows_t)) / len(rows_s)
    cols_s = [[r[c] for r in rows_s] for c in range(ncls)]
    cols_t = [[r[c] for r in rows_t] for c in range(ncls)]
    intra = 1 - sum(_pearson(a, b) for a, b in zip(cols_s, cols_t)) / ncls
    return tau ** 2 * (beta * inter + gamma * intra)


def _t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


class TestPearson:
    def test_values(self):
        a = torch.tensor([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
        b = torch.tensor([[2.0, 4.0, 6.5], [3.0, 2.0, 1.0]])
        r = pearson_correlation(a, b, dim=1)
        assert r[0].item() == pytest.approx(_pearson([1, 2, 3], [2, 4, 6.5]), abs=1e-6)
        assert r[1].item() == 0.0  # constant vector: defined as 0, not NaN


class TestDISTLoss:
    def test_smoke(self):
        loss = DISTLoss()(torch.randn(2, 13, 8, 8), torch.randn(2, 13, 8, 8))
        assert loss.shape == () and 0 <= loss.item() <= 4

    def test_registry(self):
        loss = MODELS.build(dict(type='DISTLoss', beta=2.0, gamma=0.5, tau=1.0, loss_weight=1.0))
        assert isinstance(loss, DISTLoss) and (loss.beta, loss.gamma) == (2.0, 0.5)

    def test_zero_when_equal(self):
        x = torch.randn(2, 5, 4, 4)
        assert dist_loss(x, x.clone(), tau=2.0).item() == pytest.approx(0, abs=1e-6)

    @pytest.mark.parametrize('beta, gamma, tau, golden', [
        (1.0, 0.0, 1.0, GOLDEN_INTER), (0.0, 1.0, 1.0, GOLDEN_INTRA),
        (1.0, 1.0, 2.0, GOLDEN_TAU2)])
    def test_golden(self, beta, gamma, tau, golden):
        assert ref_dist(S, T, beta, gamma, tau) == pytest.approx(golden, abs=1e-6)
        out = dist_loss(_t(S), _t(T), beta=beta, gamma=gamma, tau=tau)
        assert out.item() == pytest.approx(golden, abs=1e-6)
        out32 = DISTLoss(beta, gamma, tau)(_t(S, torch.float32), _t(T, torch.float32))
        assert out32.item() == pytest.approx(golden, abs=1e-5)

    def test_weights_combine(self):
        out = DISTLoss(beta=2.0, gamma=3.0, loss_weight=0.5)(_t(S), _t(T))
        assert out.item() == pytest.approx(0.5 * (2 * GOLDEN_INTER + 3 * GOLDEN_INTRA), abs=1e-6)

    def test_classification_input(self):
        # (B, C) logits: one row per sample, as in the classification DIST.
        s, t = torch.randn(6, 4, dtype=torch.float64), torch.randn(6, 4, dtype=torch.float64)
        expected = ref_dist(s[..., None, None].tolist(), t[..., None, None].tolist())
        assert dist_loss(s, t).item() == pytest.approx(expected, rel=1e-9)

    def test_mask_selects_rows(self):
        mask = torch.tensor(MASK)
        assert ref_dist(S, T, mask=MASK) == pytest.approx(GOLDEN_MASKED, abs=1e-6)
        out = DISTLoss()(_t(S), _t(T), mask=mask)
        assert out.item() == pytest.approx(GOLDEN_MASKED, abs=1e-6)
        garbage = _t(S).clone()
        garbage[~mask[:, None].expand_as(garbage)] = float('nan')
        assert dist_loss(garbage, _t(T), mask=mask).item() == pytest.approx(GOLDEN_MASKED,
                                                                            abs=1e-6)

    def test_all_masked_is_zero(self):
        s = torch.randn(2, 3, 2, 2).index_fill(1, torch.tensor([0]), float('nan'))
        s.requires_grad_(True)
        out = dist_loss(s, torch.randn(2, 3, 2, 2), mask=torch.zeros(2, 2, 2, dtype=torch.bool))
        out.backward()
        assert out.item() == 0.0 and torch.count_nonzero(s.grad) == 0

    def test_resize(self):
        s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 8, 8)
        with pytest.raises(ValueError, match='spatial sizes differ'):
            dist_loss(s, t)
        s_big = F.interpolate(s, size=(8, 8), mode='bilinear', align_corners=False)
        out = DISTLoss(resize='teacher')(s, t)
        assert out.item() == pytest.approx(dist_loss(s_big, t).item())

    def test_exception(self):
        x = torch.randn(2, 3, 4, 4)
        with pytest.raises(ValueError, match='at least 2 classes'):
            dist_loss(x[:, :1], x[:, :1])
        with pytest.raises(ValueError, match='beta must be a non-negative number'):
            DISTLoss(beta=-1.0)
        with pytest.raises(ValueError, match='gamma must be a non-negative number'):
            dist_loss(x, x, gamma='1')
        with pytest.raises(ValueError, match='tau must be a positive number'):
            DISTLoss(tau=0.0)
        with pytest.raises(ValueError, match='channel counts differ'):
            dist_loss(x, torch.randn(2, 4, 4, 4))

    def test_gradcheck(self):
        torch.manual_seed(0)
        s = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        t = torch.randn(2, 3, 2, 2, dtype=torch.float64, requires_grad=True)
        mask = torch.tensor(MASK)
        assert torch.autograd.gradcheck(lambda a, b: dist_loss(a, b, tau=2.0), (s, t))
        assert torch.autograd.gradcheck(lambda a, b: dist_loss(a, b, mask=mask), (s, t))
