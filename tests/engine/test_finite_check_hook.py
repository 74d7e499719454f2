"""FiniteCheckHook through a real mmengine Runner: no checkpoint from non-finite weights."""
import glob
import os.path as osp
import time

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner

from densekd.engine import FiniteCheckHook
from tests.engine.toys import CountMetric, Items


class OverflowModel(BaseModel):
    """A finite loss whose forward overflows a running statistic at iteration ``bad_iter``.

    As BatchNorm's ``running_var`` does under a huge learning rate: the loss that the
    algorithms' guard checks stays finite, the buffer saved in the checkpoint does not.
    """

    def __init__(self, bad_iter: int):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.register_buffer('running', torch.zeros(3))
        self.bad_iter, self.calls = bad_iter, 0

    def forward(self, inputs, mode='tensor'):
        if mode == 'loss':
            self.calls += 1
            if self.calls == self.bad_iter:
                self.running[1] = float('inf')
            return dict(loss=(self.w - 1).pow(2).sum())
        return [dict(value=float(self.w))]


def make_runner(tmp_path, bad_iter, interval, ckpt_interval=1, save_best=None, val_interval=100):
    loader = dict(dataset=Items(), sampler=dict(type='InfiniteSampler'), batch_size=1,
                  collate_fn=dict(type='default_collate'))
    return Runner(model=OverflowModel(bad_iter), work_dir=str(tmp_path), train_dataloader=loader,
                  val_dataloader=dict(loader, sampler=dict(type='DefaultSampler')),
                  val_evaluator=[CountMetric()], val_cfg=dict(),
                  train_cfg=dict(by_epoch=False, max_iters=4, val_interval=val_interval),
                  optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.1)),
                  default_hooks=dict(checkpoint=dict(type='CheckpointHook', by_epoch=False,
                                                     interval=ckpt_interval,
                                                     save_best=save_best, rule='greater'),
                                     finite_check=dict(type='FiniteCheckHook',
                                                       interval=interval)),
                  experiment_name=f'finite_{time.time_ns()}', default_scope='densekd')


def checkpoints(tmp_path):
    return sorted(osp.basename(p) for p in glob.glob(str(tmp_path / '*.pth')))


def test_weights_are_checked_after_every_iteration(tmp_path):
    runner = make_runner(tmp_path, bad_iter=2, interval=1)
    with pytest.raises(FloatingPointError,
                       match=r'^non-finite weights after iteration 2: running '
                             r'\(1 non-finite value\)$'):
        runner.train()
    assert checkpoints(tmp_path) == ['iter_1.pth']  # stopped before the checkpoint hook
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_1.pth')


def test_no_checkpoint_is_written_from_non_finite_weights(tmp_path):
    runner = make_runner(tmp_path, bad_iter=2, interval=0)  # only the check before saving
    with pytest.raises(FloatingPointError,
                       match=r'^non-finite values in the checkpoint after iteration 2: running '
                             r'\(1 non-finite value\); it was not written$'):
        runner.train()
    assert checkpoints(tmp_path) == ['iter_1.pth']
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_1.pth')
    state = torch.load(tmp_path / 'iter_1.pth', weights_only=False)['state_dict']
    assert all(torch.isfinite(v).all() for v in state.values())


def test_no_best_checkpoint_from_non_finite_weights(tmp_path):
    runner = make_runner(tmp_path, bad_iter=2, interval=0, ckpt_interval=10 ** 9,
                         save_best='mIoU', val_interval=2)
    with pytest.raises(FloatingPointError, match='after iteration 2: running'):
        runner.train()
    assert checkpoints(tmp_path) == []


def test_optimizer_state_is_checked_before_saving(tmp_path):
    runner = make_runner(tmp_path, bad_iter=0, interval=0)
    hook = FiniteCheckHook(interval=0)
    state = {'state': {0: {'exp_avg': torch.tensor([1.0, float('nan')])}}, 'param_groups': []}
    with pytest.raises(FloatingPointError,
                       match=r'optimizer\.state\.0\.exp_avg \(1 non-finite value\)'):
        hook.before_save_checkpoint(runner, dict(state_dict={'w': torch.zeros(1)},
                                                 optimizer=state))
    hook.before_save_checkpoint(runner, dict(state_dict={'w': torch.zeros(1)}))  # finite: ok


def test_interval_validated():
    with pytest.raises(ValueError, match='interval must be >= 0'):
        FiniteCheckHook(interval=-1)
