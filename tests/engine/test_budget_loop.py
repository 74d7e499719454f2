"""BudgetTrainLoop and RunSummaryHook through a real mmengine Runner."""
import json
import math
import os.path as osp
import shutil
import time

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner

from densekd.engine import RunSummaryHook
from tests.engine.toys import CountMetric, Items


class SlowModel(BaseModel):
    """One parameter; each train step sleeps ``delay`` seconds and records the learning rate."""

    def __init__(self, delay: float = 0.0):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.delay = delay
        self.lrs = []

    def forward(self, inputs, mode='tensor'):
        if mode == 'loss':
            time.sleep(self.delay)
            return dict(loss=(self.w - 1).pow(2).sum())
        return [dict(value=float(self.w))]

    def train_step(self, data, optim_wrapper):
        self.lrs.append(optim_wrapper.optimizer.param_groups[0]['lr'])
        return super().train_step(data, optim_wrapper)


def make_runner(tmp_path, delay=0.0, interval=10 ** 9, runner_args=None, **train_cfg):
    loader = dict(dataset=Items(), sampler=dict(type='InfiniteSampler'), batch_size=1,
                  collate_fn=dict(type='default_collate'))
    cfg = dict(type='BudgetTrainLoop', max_iters=1000)
    cfg.update(train_cfg)
    return Runner(model=SlowModel(delay), work_dir=str(tmp_path), train_dataloader=loader,
                  val_dataloader=dict(loader, sampler=dict(type='DefaultSampler')),
                  val_evaluator=[CountMetric()], val_cfg=dict(), train_cfg=cfg,
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  custom_hooks=[RunSummaryHook(interval_s=0.0)],
                  default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False,
                                                     interval=interval, save_last=True,
                                                     max_keep_ckpts=-1)),
                  experiment_name=f'budget_{time.time_ns()}', default_scope='densekd',
                  **(runner_args or {}))


def summary(tmp_path) -> dict:
    with open(osp.join(str(tmp_path), 'run_summary.json')) as f:
        return json.load(f)


def test_time_budget_ends_the_run_validates_and_saves(tmp_path):
    runner = make_runner(tmp_path, delay=0.05, budget_s=0.3)
    runner.train()
    stopped = runner.train_loop.iter
    assert 3 <= stopped < 1000
    assert osp.isfile(osp.join(str(tmp_path), f'iter_{stopped}.pth'))  # save_last fired
    info = summary(tmp_path)
    assert info['finished'] and info['iter'] == stopped and info['progress'] == 1.0
    assert info['steps'] == {'model': stopped}
    assert 0.3 <= info['train_seconds'] < 0.3 + 0.2
    assert [e['iter'] for e in info['evals']] == [stopped]


def test_step_budget_cosine_follows_the_formula(tmp_path):
    runner = make_runner(tmp_path, max_iters=20, eta_min=0.001)
    runner.train()
    lrs = runner.model.lrs
    assert len(lrs) == 20
    for i, lr in enumerate(lrs):
        expected = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * i / 20)) / 2
        assert lr == pytest.approx(expected)


def test_time_cosine_ends_with_the_budget(tmp_path):
    runner = make_runner(tmp_path, delay=0.05, budget_s=0.4, eta_min=0.001)
    runner.train()
    lrs = runner.model.lrs
    assert lrs[0] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs, lrs[1:]))
    # The last iteration starts within one iteration (~0.05 s of 0.4 s) of the end.
    assert 0.001 <= lrs[-1] < 0.001 + 0.1 * 0.1


def test_evaluation_points_give_a_curve(tmp_path):
    runner = make_runner(tmp_path, max_iters=20, num_evals=4)
    runner.train()
    evals = summary(tmp_path)['evals']
    assert [e['iter'] for e in evals] == [5, 10, 15, 20]
    assert [e['steps']['model'] for e in evals] == [5, 10, 15, 20]
    assert all(e['metrics']['mIoU'] == 4.0 for e in evals)


def resume_in(tmp_path, source, step, name='resumed'):
    """A fresh work dir holding ``source``'s checkpoint of ``step`` and its run_summary.json."""
    work = tmp_path / name
    work.mkdir()
    shutil.copy(source / f'iter_{step}.pth', work)
    shutil.copy(source / 'run_summary.json', work)
    return work


def test_resume_continues_the_cosine_and_repeats_the_interrupted_evaluation(tmp_path):
    full = make_runner(tmp_path / 'full', max_iters=20, num_evals=4, interval=5)
    full.train()
    # iter_10.pth is written just before the validation of iteration 10: that one is repeated.
    work = resume_in(tmp_path, tmp_path / 'full', 10)
    resumed = make_runner(work, max_iters=20, num_evals=4, interval=5,
                          runner_args=dict(resume=True))
    resumed.train()
    assert resumed.model.lrs == full.model.lrs[10:]
    evals = summary(work)['evals']
    assert [e['iter'] for e in evals] == [5, 10, 15, 20]
    assert [e['steps']['model'] for e in evals] == [5, 10, 15, 20]


def test_time_budget_resume_continues_from_the_saved_seconds(tmp_path):
    full = make_runner(tmp_path / 'full', delay=0.05, budget_s=1.0, eta_min=0.001, interval=3)
    full.train()
    saved = torch.load(tmp_path / 'full' / 'iter_3.pth', weights_only=False)
    spent = saved['message_hub']['runtime_info']['budget_loop.train_seconds']
    assert 3 * 0.05 <= spent < 1.0  # includes iteration 3's own step
    work = resume_in(tmp_path, tmp_path / 'full', 3)
    resumed = make_runner(work, delay=0.05, budget_s=1.0, eta_min=0.001, interval=3,
                          runner_args=dict(resume=True))
    resumed.train()
    # The cosine continues from the saved seconds, and the run ends with the budget.
    expected = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * spent / 1.0)) / 2
    assert resumed.model.lrs[0] == pytest.approx(expected)
    info = summary(work)
    assert info['finished'] and 1.0 <= info['train_seconds'] < 1.0 + 0.5
    assert [e['iter'] for e in info['evals']] == [resumed.train_loop.iter]


def test_mmengine_val_interval_still_works(tmp_path):
    runner = make_runner(tmp_path, max_iters=9, val_interval=3)
    runner.train()
    assert [e['iter'] for e in summary(tmp_path)['evals']] == [3, 6, 9]


def test_cosine_refuses_config_schedulers(tmp_path):
    loader = dict(dataset=Items(), sampler=dict(type='InfiniteSampler'), batch_size=1,
                  collate_fn=dict(type='default_collate'))
    runner = Runner(model=SlowModel(), work_dir=str(tmp_path), train_dataloader=loader,
                    train_cfg=dict(type='BudgetTrainLoop', max_iters=5),
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                    param_scheduler=dict(type='ConstantLR', factor=1.0),
                    default_hooks=dict(checkpoint=None),
                    experiment_name=f'budget_{time.time_ns()}', default_scope='densekd')
    with pytest.raises(ValueError, match='param_scheduler'):
        runner.train()


def test_bad_budget_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match='budget_s'):
        make_runner(tmp_path, budget_s=-1).train()
