"""Supervised (teacher training): its single-optimizer step refuses a non-finite loss."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from densekd.algorithms import Supervised
from tests.helpers import TINY_SEGMENTOR


def build():
    torch.manual_seed(0)
    model = Supervised(segmentor=dict(TINY_SEGMENTOR))
    model.train()
    return model, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))


def batch():
    return dict(inputs=torch.randn(2, 3, 32, 32), seg=torch.randint(0, 13, (2, 32, 32)))


def test_finite_step_updates_and_logs_the_loss():
    model, optim = build()
    before = [p.detach().clone() for p in model.parameters()]
    log = model.train_step(batch(), optim)
    assert set(log) == {'loss', 'loss_ce'} and torch.isfinite(log['loss'])
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))


def test_non_finite_loss_stops_before_the_update():
    model, optim = build()
    MessageHub.get_instance('test_supervised').update_info('iter', 6)
    with torch.no_grad():
        model.segmentor.segmentation_head[0].weight[0, 0, 0, 0] = float('nan')
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(FloatingPointError,
                       match=r'^non-finite loss loss_ce = nan at iteration 7, before its update$'):
        model.train_step(batch(), optim)
    for key, value in model.state_dict().items():  # nothing was stepped
        same = torch.allclose(value, before[key], rtol=0, atol=0, equal_nan=True)
        assert same or key.endswith(('running_mean', 'running_var', 'num_batches_tracked')), key
