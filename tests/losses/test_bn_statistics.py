"""Golden values and behaviour of the BatchNorm-statistics prior (DeepInversion-style)."""
import math

import pytest
import torch
from torch import nn

from densekd.losses.bn_statistics import BNStatisticsLoss, BNStatisticsPrior, bn_statistics_loss
from densekd.registry import MODELS


def test_golden_value():
    # Two images, two channels, two pixels each (B×C×H×W = 2×2×1×2).
    x = torch.tensor([[[[1.0, 3.0]], [[0.0, 0.0]]],
                      [[[5.0, 7.0]], [[2.0, 2.0]]]], dtype=torch.float64)
    # Channel 0 values 1, 3, 5, 7: mean 4, biased var 5. Channel 1 values 0, 0, 2, 2: mean 1, var 1.
    mean_run = torch.tensor([1.0, 1.0], dtype=torch.float64)
    var_run = torch.tensor([1.0, 1.0], dtype=torch.float64)
    expected = math.hypot(4 - 1, 1 - 1) + math.hypot(5 - 1, 1 - 1)
    assert bn_statistics_loss(x, mean_run, var_run).item() == pytest.approx(expected, abs=1e-12)


def test_zero_when_statistics_match_and_size_independent():
    torch.manual_seed(0)
    x = torch.randn(4, 3, 8, 8, dtype=torch.float64)
    flat = x.transpose(0, 1).reshape(3, -1)
    mean, var = flat.mean(1), flat.var(1, unbiased=False)
    assert bn_statistics_loss(x, mean, var).item() == pytest.approx(0.0, abs=1e-12)
    # The same pixels laid out as a larger image with a smaller batch give the same value.
    wide = torch.cat([x[:2], x[2:]], dim=3)  # 2×3×8×16, the same pixels per channel
    assert bn_statistics_loss(wide, mean + 1, var).item() == pytest.approx(
        math.sqrt(3), abs=1e-12)


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match='3 entries'):
        bn_statistics_loss(torch.zeros(1, 3, 2, 2), torch.zeros(4), torch.ones(4))


class TestBNStatisticsPrior:

    def _model(self):
        model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2)).eval()
        with torch.no_grad():
            for bn in (model[1], model[4]):
                bn.running_mean.uniform_(-1, 1)
                bn.running_var.uniform_(0.5, 2)
        return model

    def test_sums_every_layer_and_lets_gradients_reach_the_input(self):
        torch.manual_seed(0)
        model = self._model()
        prior = BNStatisticsPrior(model)
        x = torch.randn(2, 3, 6, 6, requires_grad=True)
        with prior:
            model(x)
        h = model[0](x)
        h2 = model[3](model[2](model[1](h)))
        expected = (bn_statistics_loss(h, model[1].running_mean, model[1].running_var)
                    + bn_statistics_loss(h2, model[4].running_mean, model[4].running_var))
        loss = prior.loss()
        assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
        loss.backward()
        assert x.grad is not None and x.grad.abs().sum() > 0

    def test_records_only_inside_with(self):
        model = self._model()
        prior = BNStatisticsPrior(model)
        model(torch.randn(1, 3, 4, 4))
        with pytest.raises(RuntimeError, match='recorded nothing'):
            prior.loss()

    def test_model_without_batchnorm_is_an_error(self):
        with pytest.raises(ValueError, match='no BatchNorm2d'):
            BNStatisticsPrior(nn.Conv2d(3, 3, 1))


class TestBNStatisticsLoss:

    def test_weighted_prior_of_the_attached_model(self):
        torch.manual_seed(0)
        model = TestBNStatisticsPrior()._model()
        loss = MODELS.build(dict(type='BNStatisticsLoss', loss_weight=0.5))
        assert isinstance(loss, BNStatisticsLoss) and loss.inputs == ()
        with pytest.raises(RuntimeError, match='not attached'):
            loss()
        loss.attach(model)
        prior = BNStatisticsPrior(model)  # a second set of hooks, for the expected value
        x = torch.randn(2, 3, 6, 6)
        with loss.record(), prior:
            model(x)
        assert torch.equal(loss(), 0.5 * prior.loss())
