"""ProgressMultiStepLR: milestones as fractions of the schedule, which follows max_iters."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.optim.scheduler import MultiStepLR
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope

from densekd.engine import ProgressMultiStepLR
from tests.helpers import ROOT


def wrapper(lr=0.1):
    return OptimWrapper(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr))


def lrs(scheduler, optim, steps):
    out = []
    for _ in range(steps):
        out.append(optim.optimizer.param_groups[0]['lr'])
        optim.step()  # no gradients: changes nothing, keeps torch's order
        scheduler.step()
    return out


def test_same_learning_rates_as_multisteplr_with_the_steps_written_out():
    optim_a, optim_b = wrapper(), wrapper()
    ours = ProgressMultiStepLR(optim_a, milestones=[1 / 3, 2 / 3], gamma=0.3, end=15)
    ref = MultiStepLR(optim_b, milestones=[5, 10], gamma=0.3, end=15, by_epoch=False)
    assert lrs(ours, optim_a, 15) == lrs(ref, optim_b, 15)


def test_milestones_move_with_the_length():
    optim = wrapper()
    sched = ProgressMultiStepLR(optim, milestones=[0.5], gamma=0.1, end=8)
    assert lrs(sched, optim, 8) == pytest.approx([0.1] * 4 + [0.01] * 4)


@pytest.mark.parametrize('config, max_iters, steps', [
    ('teacher/deeplabv3_r50-os8_nyuv2-128x128.py', 10000, {5000: 1}),
    ('_base_/schedules/student_nyuv2.py', 15000, {5000: 1, 10000: 1}),
])
def test_shipped_step_schedules_keep_their_milestones_at_the_default_length(config, max_iters,
                                                                             steps):
    init_default_scope('densekd')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', config))
    assert cfg.train_cfg.max_iters == max_iters
    schedule = cfg.param_scheduler
    schedule = schedule['student'] if isinstance(schedule, dict) else schedule
    # As the runner builds it: ``end`` defaults to the loop's max_iters.
    built = PARAM_SCHEDULERS.build(dict(schedule[0], end=max_iters),
                                   default_args=dict(optimizer=wrapper()))
    assert isinstance(built, ProgressMultiStepLR) and dict(built.milestones) == steps


@pytest.mark.parametrize('kwargs, message', [
    (dict(milestones=[0.5, 0.2], end=10), 'increasing fractions'),
    (dict(milestones=[1.5], end=10), 'increasing fractions'),
    (dict(milestones=[0.5]), 'needs an end'),
    (dict(milestones=[0.5], end=10, by_epoch=True), 'by_epoch=False'),
])
def test_arguments_validated(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ProgressMultiStepLR(wrapper(), **kwargs)


def test_a_schedule_too_short_for_its_milestones_is_refused():
    # What mmengine's runner builds when a config leaves out by_epoch=False: end = max_epochs.
    with pytest.raises(ValueError, match=r'1-step schedule fall on steps \[0\]; is '
                                         r'by_epoch=False missing'):
        ProgressMultiStepLR(wrapper(), milestones=[0.5], end=1)
