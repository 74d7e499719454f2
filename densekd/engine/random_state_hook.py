"""Keep the random streams in every checkpoint and restore them on resume.

mmengine saves weights, optimizers, schedulers and the message hub, but no random state: a
resumed run reseeds from ``randomness.seed`` and continues with other dropout masks, latent
codes and replay draws than the run it continues. With this hook a resumed run continues
every stream where the checkpoint left it.
"""
from __future__ import annotations

from typing import Callable, Optional

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import IterBasedTrainLoop, set_random_seed

from densekd.datasets.transforms import find_pipelines
from densekd.registry import HOOKS
from densekd.utils.random_state import capture_random_state, restore_random_state

#: The checkpoint key of the random state.
CHECKPOINT_KEY = 'random_state'


class _RestoreAfter:
    """Wraps a loop's dataloader iterator; after ``count`` batches, calls ``restore`` once."""

    def __init__(self, loop, count: int, restore: Callable[[], None]):
        self._loop, self._inner = loop, loop.dataloader_iterator
        self._left, self._restore = count, restore

    def __iter__(self):
        return self

    def __next__(self):
        batch = next(self._inner)
        self._left -= 1
        if self._left == 0:
            self._loop.dataloader_iterator = self._inner  # done: out of the way
            self._restore()
        return batch

    def __getattr__(self, name):
        return getattr(self._inner, name)


@HOOKS.register_module()
class RandomStateHook(Hook):
    """Save the random streams in each checkpoint; restore them when training resumes.

    Saved under the checkpoint key ``random_state``: Python's ``random``, numpy's and
    torch's (CPU, CUDA) global generators and the train dataset's albumentations pipelines
    (their augmentation streams; in DataLoader workers the pipelines reseed themselves, see
    :class:`~densekd.datasets.transforms.AlbuPipeline`).

    When to restore: an iteration-based loop (mmengine's ``IterBasedTrainLoop``,
    :class:`~densekd.engine.BudgetTrainLoop`) resumes by drawing the ``iter`` batches it has
    already trained on from its dataloader iterator, which moves the streams (augmentation,
    and whatever the dataset draws). The state is restored right after the last of those
    batches, so the next batch and train step see exactly what the uninterrupted run saw.
    Other loops are restored at ``before_train``. In a multi-process run the checkpoint holds
    rank 0's streams: rank 0 resumes exactly, the other ranks reseed (so their latents and
    augmentations stay distinct from rank 0's, but are not those of the uninterrupted run).

    Validation does not move the training streams: they are captured before it and restored
    after it (before any checkpoint of that validation is written), so the training stream
    does not depend on when or how often a run validates, and a resumed run may repeat an
    interrupted validation.
    """

    priority = 'VERY_HIGH'  # after_val_epoch must run before CheckpointHook's (VERY_LOW)

    def __init__(self) -> None:
        self._loaded: Optional[dict] = None
        self._before_val: Optional[dict] = None

    @staticmethod
    def _pipelines(runner) -> list:
        return find_pipelines(runner.train_dataloader.dataset)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = capture_random_state(self._pipelines(runner))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        # Also called for load_from (fine-tuning); used only if the run resumes (iter > 0).
        self._loaded = checkpoint.get(CHECKPOINT_KEY)

    def before_train(self, runner) -> None:
        state, self._loaded = self._loaded, None
        if runner.iter == 0:
            return
        if state is None:
            runner.logger.warning('resume: the checkpoint holds no random state (written '
                                  'before densekd saved it); the random streams restart from '
                                  'the seed, so training differs from an uninterrupted run')
            return

        def restore() -> None:
            pipelines = self._pipelines(runner)
            try:
                restore_random_state(state, pipelines)
            except ValueError as e:  # another dataset than the checkpoint's
                runner.logger.warning(f'resume: augmentation streams not restored ({e})')
                restore_random_state(dict(state, pipelines=[]))
            runner.logger.info(f'resume: random streams restored as of iteration {runner.iter}')
            if get_rank() > 0:
                # The checkpoint holds rank 0's streams; the other ranks must keep drawing
                # other latents and augmentations, so they reseed (distinct, not exact).
                set_random_seed(runner.seed + get_rank() + 7919 * runner.iter)

        loop = runner.train_loop
        if isinstance(loop, IterBasedTrainLoop):
            loop.dataloader_iterator = _RestoreAfter(loop, runner.iter, restore)
        else:
            restore()

    def before_val(self, runner) -> None:
        self._before_val = capture_random_state()

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self._before_val is not None:
            restore_random_state(self._before_val)
            self._before_val = None
