"""RandomStateHook through a real Runner: a resumed run draws what the uninterrupted one drew."""
import random
import shutil
import time

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset
from tests.engine.toys import CountMetric


class NoisyModel(BaseModel):
    """Each train step draws from torch, numpy and random (as dropout or latent codes would)."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.seen = []

    def forward(self, inputs, mode='tensor'):
        if mode == 'loss':
            draws = (float(torch.rand(())), float(np.random.rand()), random.random())
            self.seen.append((inputs.flatten().tolist(), draws))
            return dict(loss=(self.w - inputs.mean() - draws[0]).pow(2).sum())
        return [dict(value=float(self.w))]


class NoisyItems(Dataset):
    """Items drawn from the global torch generator (in the main process: num_workers=0)."""

    def __len__(self):
        return 3

    def __getitem__(self, i):
        return dict(inputs=torch.rand(1))


def make_runner(work_dir, train_cfg, **kwargs):
    loader = dict(dataset=NoisyItems(), sampler=dict(type='DefaultSampler', shuffle=True),
                  batch_size=1, collate_fn=dict(type='default_collate'))
    return Runner(model=NoisyModel(), work_dir=str(work_dir), train_dataloader=loader,
                  val_dataloader=dict(loader, sampler=dict(type='DefaultSampler')),
                  val_evaluator=[CountMetric()], val_cfg=dict(), train_cfg=train_cfg,
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook',
                                                     by_epoch=False, interval=5),
                                     random_state=dict(type='RandomStateHook')),
                  randomness=dict(seed=0), experiment_name=f'rng_{time.time_ns()}',
                  default_scope='densekd', **kwargs)


@pytest.mark.parametrize('train_cfg', [
    dict(type='IterBasedTrainLoop', max_iters=12, val_interval=5),
    dict(type='BudgetTrainLoop', max_iters=12, num_evals=3, lr_schedule=None, val_interval=5)],
    ids=['IterBasedTrainLoop', 'BudgetTrainLoop'])
def test_resumed_run_draws_the_same_batches_and_numbers(train_cfg, tmp_path):
    full = make_runner(tmp_path / 'full', train_cfg)
    full.train()
    assert len(full.model.seen) == 12
    work = tmp_path / 'resumed'
    work.mkdir()
    # iter_5.pth is written before the validation of iteration 5, which draws a random seed
    # for its DataLoader: the hook keeps validation from moving the training streams.
    shutil.copy(tmp_path / 'full' / 'iter_5.pth', work)
    resumed = make_runner(work, train_cfg, resume=True)
    resumed.train()
    assert resumed.model.seen == full.model.seen[5:]


def test_without_the_hook_the_streams_differ(tmp_path):
    """The check above could fail: mmengine alone reseeds a resumed run."""
    cfg = dict(type='IterBasedTrainLoop', max_iters=8, val_interval=100)
    full = make_runner(tmp_path / 'full', cfg)
    full.train()
    work = tmp_path / 'resumed'
    work.mkdir()
    shutil.copy(tmp_path / 'full' / 'iter_5.pth', work)
    resumed = make_runner(work, cfg, resume=True)
    resumed._hooks = [h for h in resumed._hooks if type(h).__name__ != 'RandomStateHook']
    resumed.train()
    assert [d for _, d in resumed.model.seen] != [d for _, d in full.model.seen[5:]]
