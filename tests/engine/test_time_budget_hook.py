"""TimeBudgetHook: stops an mmengine Runner by wall-clock time and still validates/saves."""
import os.path as osp
import time

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from densekd.engine import TimeBudgetHook


class SlowModel(BaseModel):
    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, mode='tensor'):
        if mode == 'loss':
            time.sleep(0.05)
            return dict(loss=(self.w - 1).pow(2).sum())
        return [dict(value=float(self.w))]


class Items(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.zeros(1))


class CountMetric(BaseMetric):
    def process(self, data_batch, data_samples):
        self.results.append(1)

    def compute_metrics(self, results):
        return dict(calls=len(results))


def test_budget_stops_validates_and_saves(tmp_path):
    hook = TimeBudgetHook(seconds=0.3)
    loader = dict(dataset=Items(), sampler=dict(type='InfiniteSampler'), batch_size=1,
                  collate_fn=dict(type='default_collate'))
    runner = Runner(model=SlowModel(), work_dir=str(tmp_path), train_dataloader=loader,
                    val_dataloader=dict(loader, sampler=dict(type='DefaultSampler')),
                    val_evaluator=[CountMetric()], val_cfg=dict(),
                    train_cfg=dict(by_epoch=False, max_iters=1000, val_interval=1000),
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                    custom_hooks=[hook], default_hooks=dict(checkpoint=None),
                    experiment_name='time_budget', default_scope='densekd')
    runner.train()
    stopped = runner.train_loop.iter
    assert 3 <= stopped < 1000 and hook.stopped_at == stopped
    assert osp.isfile(osp.join(str(tmp_path), f'iter_{stopped}.pth'))
    assert runner.message_hub.get_scalar('val/calls') is not None


def _runner(tmp_path, hook, **kwargs):
    loader = dict(dataset=Items(), sampler=dict(type='InfiniteSampler'), batch_size=1,
                  collate_fn=dict(type='default_collate'))
    return Runner(model=SlowModel(), work_dir=str(tmp_path), train_dataloader=loader,
                  train_cfg=dict(by_epoch=False, max_iters=1000, val_interval=1000),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  custom_hooks=[hook], default_hooks=dict(checkpoint=None),
                  experiment_name=f'time_budget_{time.time_ns()}', default_scope='densekd',
                  **kwargs)


def test_cosine_in_time_ends_with_the_budget(tmp_path):
    hook = TimeBudgetHook(seconds=0.4, anneal_eta_min=0.001)
    runner = _runner(tmp_path, hook)
    lrs = []
    model_forward = runner.model.forward

    def spy(*args, **kwargs):
        lrs.append(runner.optim_wrapper.optimizer.param_groups[0]['lr'])
        return model_forward(*args, **kwargs)
    runner.model.forward = spy
    runner.train()
    assert lrs[0] == 0.1
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))  # monotone cosine
    # The last iteration starts within one iteration (~0.05 s of 0.4 s) of the end.
    assert 0.001 <= lrs[-1] < 0.001 + 0.1 * 0.1


def test_anneal_refuses_config_schedulers(tmp_path):
    hook = TimeBudgetHook(seconds=0.2, anneal_eta_min=0.0)
    runner = _runner(tmp_path, hook, param_scheduler=dict(type='ConstantLR', factor=1.0))
    with pytest.raises(ValueError, match='param_scheduler'):
        runner.train()
