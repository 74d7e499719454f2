"""Tests for densekd.losses.affinity (SKD pair-wise affinity loss)."""
import math

import pytest
import torch
import torch.nn.functional as F

from densekd.losses import PairwiseAffinityLoss, pairwise_affinity_loss
from densekd.losses.affinity import affinity_nodes
from densekd.registry import MODELS

# Student 1x2x4x4 and teacher 1x3x4x4 features: channel counts differ on purpose.
F_S = [[[[-0.1, 0.7, -0.8, 0.0], [0.8, -0.4, 1.0, 0.4], [-0.2, 2.3, -1.9, 0.0],
         [-1.0, -1.0, 0.0, 0.7]],
        [[1.6, -1.4, 0.3, 0.5], [-2.6, -1.7, -0.2, 0.3], [0.2, 0.1, 0.3, 0.5],
         [0.5, -0.9, 0.8, -0.9]]]]
F_T = [[[[-0.2, -2.4, -0.1, 0.0], [1.0, 0.3, -0.9, -0.1], [-0.6, -0.5, 1.9, -0.4],
         [0.1, 1.2, 0.9, 1.4]],
        [[-0.9, -0.4, -0.8, 0.6], [0.6, 0.5, 2.0, -1.1], [-0.1, 0.1, -0.6, -1.2],
         [-0.1, -1.0, -0.3, 0.2]],
        [[-0.3, 0.1, 0.2, 1.2], [0.3, 0.4, -0.2, -0.1], [0.2, -0.8, -1.9, 0.1],
         [-0.7, 0.3, 0.2, 0.4]]]]

# pool_scale 0.5 -> 2x2 kernel -> 4 nodes. Student nodes (max over each 2x2 window):
#   ch0: [0.8, 1.0, 2.3, 0.7]   ch1: [1.6, 0.5, 0.5, 0.8]
# Teacher nodes: ch0: [1.0, 0.0, 1.2, 1.9]  ch1: [0.6, 2.0, 0.1, 0.2]  ch2: [0.4, 1.2, 0.3, 0.4]
GOLDEN = 0.16274145  # mean over the 16 node pairs of (a^S_ij - a^T_ij)^2, from ref_affinity


def ref_affinity(fs, ft, pool_scale=0.5):
    """methods.md §6.3 in plain loops (max-pool, L2-normalise, cosine affinity, mean sq. diff)."""

    def nodes(f):
        h, w = len(f[0]), len(f[0][0])
        kh, kw = math.ceil(pool_scale * h), math.ceil(pool_scale * w)
        out = []
        for i in range(0, h, kh):
            for j in range(0, w, kw):
                v = [max(f[c][y][x] for y in range(i, min(i + kh, h))
                         for x in range(j, min(j + kw, w))) for c in range(len(f))]
                norm = math.sqrt(sum(x * x for x in v))
                out.append([x / norm for x in v])
        return out

    total, batch = 0.0, len(fs)
    for b in range(batch):
        ns, nt = nodes(fs[b]), nodes(ft[b])
        n = len(ns)
        for i in range(n):
            for j in range(n):
                a_s = sum(x * y for x, y in zip(ns[i], ns[j]))
                a_t = sum(x * y for x, y in zip(nt[i], nt[j]))
                total += (a_s - a_t) ** 2 / n ** 2
    return total / batch


def _t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


class TestPairwiseAffinityLoss:
    def test_smoke(self):
        loss = PairwiseAffinityLoss()(torch.randn(2, 16, 9, 12), torch.randn(2, 32, 9, 12))
        assert loss.shape == () and loss.item() >= 0

    def test_registry(self):
        loss = MODELS.build(dict(type='PairwiseAffinityLoss', pool_scale=0.25, loss_weight=2.0))
        assert isinstance(loss, PairwiseAffinityLoss) and loss.pool_scale == 0.25

    def test_nodes(self):
        nodes = affinity_nodes(_t(F_S))
        assert nodes.shape == (1, 2, 4)
        expected = _t([[0.8, 1.0, 2.3, 0.7], [1.6, 0.5, 0.5, 0.8]])
        expected = expected / expected.norm(dim=0, keepdim=True)
        assert torch.allclose(nodes[0], expected)
        # ceil kernel + ceil_mode: a 5x5 map with pool_scale 0.5 -> kernel 3 -> 2x2 nodes.
        assert affinity_nodes(torch.randn(1, 4, 5, 5)).shape == (1, 4, 4)
        assert affinity_nodes(torch.randn(1, 4, 3, 3), pool_scale=1 / 3).shape == (1, 4, 9)

    def test_golden(self):
        assert ref_affinity(F_S, F_T) == pytest.approx(GOLDEN, abs=1e-6)
        out = pairwise_affinity_loss(_t(F_S), _t(F_T))
        assert out.item() == pytest.approx(GOLDEN, abs=1e-6)
        out32 = PairwiseAffinityLoss()(_t(F_S, torch.float32), _t(F_T, torch.float32))
        assert out32.item() == pytest.approx(GOLDEN, abs=1e-5)

    @pytest.mark.parametrize('pool_scale', [0.5, 0.25, 0.4, 1.0])
    def test_batch_matches_loop(self, pool_scale):
        torch.manual_seed(0)
        fs, ft = torch.randn(3, 4, 6, 5, dtype=torch.float64), torch.randn(3, 2, 6, 5,
                                                                          dtype=torch.float64)
        expected = ref_affinity(fs.tolist(), ft.tolist(), pool_scale)
        out = pairwise_affinity_loss(fs, ft, pool_scale=pool_scale)
        assert out.item() == pytest.approx(expected, rel=1e-9, abs=1e-12)

    def test_zero_cases(self):
        f = torch.randn(2, 8, 6, 6)
        assert pairwise_affinity_loss(f, f.clone()).item() == pytest.approx(0, abs=1e-7)
        # The affinity ignores the channel count and the feature scale.
        doubled = torch.cat([f, f], dim=1) * 3.0
        assert pairwise_affinity_loss(doubled, f).item() == pytest.approx(0, abs=1e-7)
        # One node (pool_scale=1): both affinities are [[1]].
        assert pairwise_affinity_loss(f, torch.randn(2, 3, 6, 6), 1.0).item() == \
            pytest.approx(0, abs=1e-7)

    def test_loss_weight(self):
        out = PairwiseAffinityLoss(loss_weight=10.0)(_t(F_S), _t(F_T))
        assert out.item() == pytest.approx(10 * GOLDEN, abs=1e-5)

    def test_resize(self):
        fs, ft = torch.randn(2, 4, 8, 8), torch.randn(2, 6, 16, 16)
        with pytest.raises(ValueError, match=r'student \(8, 8\) vs teacher \(16, 16\)'):
            pairwise_affinity_loss(fs, ft)
        ft_small = F.interpolate(ft, size=(8, 8), mode='bilinear', align_corners=False)
        out = PairwiseAffinityLoss(resize='student')(fs, ft)
        assert out.item() == pytest.approx(pairwise_affinity_loss(fs, ft_small).item())

    def test_exception(self):
        f = torch.randn(2, 4, 8, 8)
        with pytest.raises(ValueError, match='does not support a valid-pixel mask'):
            PairwiseAffinityLoss()(f, f, mask=torch.ones(2, 8, 8, dtype=torch.bool))
        with pytest.raises(ValueError, match=r'pool_scale must be a number in \(0, 1\]'):
            PairwiseAffinityLoss(pool_scale=0)
        with pytest.raises(ValueError, match=r'pool_scale must be a number in \(0, 1\]'):
            pairwise_affinity_loss(f, f, pool_scale=1.5)
        with pytest.raises(ValueError, match='must have 4 dims'):
            pairwise_affinity_loss(f[0], f[0])
        with pytest.raises(ValueError, match='batch sizes differ'):
            pairwise_affinity_loss(f, f[:1])

    def test_gradcheck(self):
        torch.manual_seed(0)
        fs = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
        ft = torch.randn(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(pairwise_affinity_loss, (fs, ft))
