"""A LoggerHook whose first training losses appear at once, whatever the run's length.

mmengine's ``LoggerHook`` logs every ``interval`` iterations only, so a run shorter than the
interval never shows a loss, and a slow method (seconds per iteration) shows its first one
minutes in. :class:`EarlyLoggerHook` also logs on a 1-2-5 ladder below the interval
(iterations 1, 2, 5, 10, 20, 50, ...) and at the last iteration. The rule never looks at
``max_iters``, so a time-budget run (:class:`~densekd.engine.budget_loop.BudgetTrainLoop`,
where ``max_iters`` is only a cap) logs its first iterations too; the iteration that ends the
budget is the loop's last, and is logged.
"""
from __future__ import annotations

from typing import Optional

from mmengine.hooks import LoggerHook
from mmengine.runner import EpochBasedTrainLoop

from densekd.registry import HOOKS


def is_log_iteration(iteration: int, interval: int, max_iters: Optional[int] = None) -> bool:
    """Whether training iteration ``iteration`` (1-based) is logged.

    Args:
        iteration: the iteration just finished, counted from 1.
        interval: log every ``interval`` iterations (``default_hooks.logger.interval``).
        max_iters: the run's last iteration (logged); None when unknown.

    Returns:
        True on multiples of ``interval``, on the ladder 1, 2, 5, 10, 20, 50, ... below
        ``interval``, and at ``max_iters``.

    Raises:
        ValueError: ``interval`` or ``iteration`` is below 1.
    """
    if interval < 1 or iteration < 1:
        raise ValueError(f'iteration and interval must be >= 1, got {iteration} and {interval}')
    if iteration % interval == 0 or iteration == max_iters:
        return True
    if iteration >= interval:
        return False
    while iteration % 10 == 0:  # 10, 20, 50, 100, ... reduce to 1, 2, 5
        iteration //= 10
    return iteration in (1, 2, 5)


@HOOKS.register_module()
class EarlyLoggerHook(LoggerHook):
    """mmengine's ``LoggerHook`` with :func:`is_log_iteration` deciding the training logs.

    Validation, test and everything else are mmengine's. Epoch-based training keeps mmengine's
    rule (densekd's configs are iteration-based).

    Args:
        interval: log every ``interval`` training iterations, after the 1-2-5 ladder.
        **kwargs: the other arguments of mmengine's ``LoggerHook``.
    """

    def __init__(self, interval: int = 20, **kwargs) -> None:
        if int(interval) < 1:
            raise ValueError(f'default_hooks.logger.interval must be >= 1, got {interval}')
        super().__init__(interval=int(interval), **kwargs)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        """Log the smoothed losses when :func:`is_log_iteration` says so."""
        if isinstance(runner.train_loop, EpochBasedTrainLoop):  # batch_idx counts per epoch
            return super().after_train_iter(runner, batch_idx, data_batch, outputs)
        iteration = runner.iter + 1
        if self.every_n_train_iters(runner, self.interval_exp_name):
            runner.logger.info(f'Exp name: {runner.experiment_name}')
        if not is_log_iteration(iteration, self.interval, runner.max_iters):
            return
        tag, log_str = runner.log_processor.get_log_after_iter(runner, batch_idx, 'train')
        runner.logger.info(log_str)
        runner.visualizer.add_scalars(tag, step=iteration, file_path=self.json_log_path)
