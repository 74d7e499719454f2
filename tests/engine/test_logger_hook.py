"""EarlyLoggerHook: the logging rule, and the iterations a real Runner logs."""
import glob
import json
import os.path as osp
import time

import pytest
from mmengine.runner import Runner

from densekd.engine.logger_hook import is_log_iteration
from tests.engine.test_budget_loop import Items, SlowModel


def logged(interval, max_iters):
    return [i for i in range(1, max_iters + 1) if is_log_iteration(i, interval, max_iters)]


def test_ladder_below_the_interval_then_every_interval_and_the_last():
    assert logged(20, 100) == [1, 2, 5, 10, 20, 40, 60, 80, 100]
    assert logged(20, 45) == [1, 2, 5, 10, 20, 40, 45]
    assert logged(50, 7) == [1, 2, 5, 7]  # a run shorter than the interval still logs
    assert logged(500, 1200)[:9] == [1, 2, 5, 10, 20, 50, 100, 200, 500]
    assert logged(3, 10) == [1, 2, 3, 6, 9, 10]
    assert logged(1, 4) == [1, 2, 3, 4]
    assert not is_log_iteration(7, 20, None) and is_log_iteration(5, 20, None)


def test_bad_interval_is_a_clear_error():
    with pytest.raises(ValueError, match='interval'):
        is_log_iteration(1, 0)
    with pytest.raises(ValueError, match='default_hooks.logger.interval'):
        from densekd.engine import EarlyLoggerHook
        EarlyLoggerHook(interval=0)


def run_logged_steps(tmp_path, delay=0.0, **train_cfg):
    """Train SlowModel under BudgetTrainLoop with EarlyLoggerHook(interval=50)."""
    loader = dict(dataset=Items(), sampler=dict(type='InfiniteSampler'), batch_size=1,
                  collate_fn=dict(type='default_collate'))
    runner = Runner(model=SlowModel(delay), work_dir=str(tmp_path), train_dataloader=loader,
                    train_cfg=dict(type='BudgetTrainLoop', **train_cfg),
                    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                    default_hooks=dict(logger=dict(type='EarlyLoggerHook', interval=50),
                                       checkpoint=None),
                    visualizer=dict(type='Visualizer',
                                    vis_backends=[dict(type='LocalVisBackend')]),
                    experiment_name=f'logger_{time.time_ns()}', default_scope='densekd')
    runner.train()
    (scalars,) = glob.glob(osp.join(str(tmp_path), '*', 'vis_data', 'scalars.json'))
    with open(scalars) as f:
        rows = [json.loads(line) for line in f]
    assert all('loss' in row for row in rows)
    return runner.train_loop.iter, [row['step'] for row in rows]


def test_step_budget_shorter_than_the_interval_logs(tmp_path):
    stopped, steps = run_logged_steps(tmp_path, max_iters=7)
    assert stopped == 7 and steps == [1, 2, 5, 7]


def test_time_budget_logs_the_first_iterations_and_the_last(tmp_path):
    # max_iters is only a cap: the budget ends the run after a few dozen iterations at most.
    stopped, steps = run_logged_steps(tmp_path, delay=0.02, max_iters=10 ** 6, budget_s=0.6)
    assert 6 <= stopped < 50
    assert steps == [i for i in (1, 2, 5, 10, 20) if i < stopped] + [stopped]
