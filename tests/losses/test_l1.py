"""Tests for densekd.losses.l1 (DFAD's L1 logit discrepancy)."""
import pytest
import torch
import torch.nn.functional as F

from densekd.losses import L1LogitLoss, l1_logit_loss
from densekd.registry import MODELS

# B=1, C=2, H=W=2: |S - T| = [[1, 2], [0.5, 0]] and [[3, 1], [2, 0.5]].
S = [[[[1.0, -1.0], [0.5, 2.0]], [[0.0, 1.0], [-1.0, 0.5]]]]
T = [[[[0.0, 1.0], [0.0, 2.0]], [[3.0, 0.0], [1.0, 0.0]]]]
GOLDEN = 10.0 / 8  # (1 + 2 + 0.5 + 0 + 3 + 1 + 2 + 0.5) / (B*C*H*W = 8)
MASK = [[[True, False], [False, True]]]
GOLDEN_MASKED = (1 + 0 + 3 + 0.5) / 4  # 2 valid pixels x 2 channels


def _t(x, dtype=torch.float64):
    return torch.tensor(x, dtype=dtype)


class TestL1LogitLoss:
    def test_smoke(self):
        loss = L1LogitLoss()(torch.randn(2, 13, 8, 8), torch.randn(2, 13, 8, 8))
        assert loss.shape == () and loss.item() > 0

    def test_registry(self):
        loss = MODELS.build(dict(type='L1LogitLoss', loss_weight=2.0))
        assert isinstance(loss, L1LogitLoss) and loss.loss_weight == 2.0

    def test_zero_when_equal(self):
        x = torch.randn(2, 3, 4, 4)
        assert l1_logit_loss(x, x.clone()).item() == 0.0

    def test_golden(self):
        assert l1_logit_loss(_t(S), _t(T)).item() == pytest.approx(GOLDEN)
        assert L1LogitLoss(loss_weight=2.0)(_t(S), _t(T)).item() == pytest.approx(2 * GOLDEN)

    def test_is_mean_over_all_elements(self):
        s, t = torch.randn(2, 5, 3, 4), torch.randn(2, 5, 3, 4)
        assert l1_logit_loss(s, t).item() == pytest.approx(F.l1_loss(s, t).item())

    def test_mask(self):
        mask = torch.tensor(MASK)
        assert l1_logit_loss(_t(S), _t(T), mask=mask).item() == pytest.approx(GOLDEN_MASKED)
        garbage = _t(S).clone()
        garbage[~mask[:, None].expand_as(garbage)] = float('inf')
        out = L1LogitLoss()(garbage, _t(T), mask=mask)
        assert out.item() == pytest.approx(GOLDEN_MASKED)
        s = _t(S).requires_grad_(True)
        l1_logit_loss(s, _t(T), mask=mask).backward()
        assert torch.count_nonzero(s.grad.permute(0, 2, 3, 1)[~mask]) == 0
        none = l1_logit_loss(_t(S), _t(T), mask=torch.zeros(1, 2, 2, dtype=torch.bool))
        assert none.item() == 0.0

    def test_resize(self):
        s, t = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 8, 8)
        with pytest.raises(ValueError, match='spatial sizes differ'):
            l1_logit_loss(s, t)
        t_small = F.interpolate(t, size=(4, 4), mode='bilinear', align_corners=False)
        out = L1LogitLoss(resize='student')(s, t)
        assert out.item() == pytest.approx(l1_logit_loss(s, t_small).item())

    def test_exception(self):
        x = torch.randn(2, 3, 4, 4)
        with pytest.raises(ValueError, match='channel counts differ: student 3 vs teacher 2'):
            l1_logit_loss(x, x[:, :2])
        with pytest.raises(TypeError, match='loss_weight must be a number'):
            L1LogitLoss(loss_weight=None)
        with pytest.raises(TypeError, match='boolean'):
            l1_logit_loss(x, x, mask=torch.ones(2, 4, 4, dtype=torch.long))

    def test_gradcheck(self):
        torch.manual_seed(0)
        # Keep |S - T| away from 0, where |.| has no derivative.
        s = torch.randn(2, 3, 2, 2, dtype=torch.float64)
        t = (s + torch.where(torch.rand_like(s) > 0.5, 1.0, -1.0)).requires_grad_(True)
        s.requires_grad_(True)
        assert torch.autograd.gradcheck(l1_logit_loss, (s, t))
        mask = torch.tensor([[[True, False], [True, True]]] * 2)
        assert torch.autograd.gradcheck(lambda a, b: l1_logit_loss(a, b, mask=mask), (s, t))
