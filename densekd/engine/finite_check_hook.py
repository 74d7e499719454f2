"""Stop a run whose weights turned NaN/inf, and never save a checkpoint from such weights."""
from __future__ import annotations

from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from densekd.registry import HOOKS
from densekd.utils.finite import describe, iter_tensors, non_finite


@HOOKS.register_module()
class FiniteCheckHook(Hook):
    """Check that every parameter and buffer of the model is finite.

    * After every ``interval`` training iterations, before validation and the checkpoint hook
      run: a finite loss can still produce an update to inf (a huge learning rate), which the
      algorithms' loss guard only sees one iteration later.
    * Before any checkpoint is written (interval, last and best ones): the checkpoint's
      ``state_dict`` and, when saved, its optimizer state (e.g. Adam's moments).

    Either check raises :class:`FloatingPointError` naming the tensors and the iteration;
    ``tools/train.py`` adds the last checkpoint saved (all of which passed this check).

    Args:
        interval: check the model every ``interval`` iterations (0: only before saving).
    """

    priority = 'ABOVE_NORMAL'  # before the checkpoint hook (VERY_LOW) and the logger

    def __init__(self, interval: int = 1):
        if interval < 0:
            raise ValueError(f'FiniteCheckHook.interval must be >= 0, got {interval}')
        self.interval = interval

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not self.interval or not self.every_n_train_iters(runner, self.interval):
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bad = non_finite(list(model.named_parameters()) + list(model.named_buffers()))
        if bad:
            raise FloatingPointError(
                f'non-finite weights after iteration {runner.iter + 1}: {describe(bad)}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        bad = non_finite(iter_tensors(checkpoint.get('state_dict', {})))
        bad += non_finite(iter_tensors(checkpoint.get('optimizer', {}), 'optimizer'))
        if bad:
            # The runtime iteration is the one last trained, also when validation saves a best.
            it = runner.message_hub.get_info('iter', runner.iter) + 1
            raise FloatingPointError(
                f'non-finite values in the checkpoint after iteration {it}: {describe(bad)}; '
                f'it was not written')
