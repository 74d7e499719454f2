"""Learning-rate schedules whose length follows the train loop's ``max_iters``."""
from __future__ import annotations

from typing import Sequence

from mmengine.optim.scheduler import MultiStepLR
from mmengine.optim.scheduler.param_scheduler import INF

from densekd.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class ProgressMultiStepLR(MultiStepLR):
    """mmengine's ``MultiStepLR`` with milestones given as fractions of the schedule's length.

    The runner sets a scheduler's ``end`` to the train loop's ``max_iters`` when the config
    leaves it out and says ``by_epoch=False`` (mmengine's runner reads that key of the config
    dict, whose default is epochs), so ``milestones=[0.5]`` decays at half of whatever
    ``train_cfg.max_iters`` the run has (``--cfg-options train_cfg.max_iters=N`` included);
    integer milestones would stay where they were written::

        param_scheduler = [dict(type='ProgressMultiStepLR', milestones=[0.5], by_epoch=False)]

    Args:
        optimizer: the wrapped optimizer (given by the runner).
        milestones: increasing fractions in (0, 1) of ``end - begin``; milestone ``f`` falls on
            step ``begin + round(f * (end - begin))``.
        gamma: factor applied to the learning rate at each milestone.
        begin: first step of the schedule.
        end: step after its last one; leave it out to follow ``max_iters``.
        by_epoch: only ``False`` (steps are iterations); write it in the config.
        **kwargs: other ``MultiStepLR`` arguments (``last_step``, ``verbose``).
    """

    def __init__(self, optimizer, milestones: Sequence[float], gamma: float = 0.1,
                 begin: int = 0, end: int = INF, by_epoch: bool = False, **kwargs):
        fractions = [float(f) for f in milestones]
        if not all(0 < f < 1 for f in fractions) or fractions != sorted(set(fractions)):
            raise ValueError(f'ProgressMultiStepLR.milestones must be increasing fractions in '
                             f'(0, 1) of the schedule, got {list(milestones)}')
        if end == INF:
            raise ValueError('ProgressMultiStepLR needs an end: leave "end" out of the config '
                             'so that the runner sets it to train_cfg.max_iters')
        if by_epoch:
            raise ValueError('ProgressMultiStepLR counts iterations: set by_epoch=False')
        self.fractions = fractions
        steps = [round(f * (end - begin)) for f in fractions]
        if steps[0] < 1 or len(set(steps)) < len(steps):
            raise ValueError(f'ProgressMultiStepLR: milestones {fractions} of a {end - begin}-step '
                             f'schedule fall on steps {steps}; is by_epoch=False missing from '
                             f'the config (the runner then ends the schedule at max_epochs)?')
        super().__init__(optimizer, milestones=steps, gamma=gamma, begin=begin, end=end,
                         by_epoch=False, **kwargs)
