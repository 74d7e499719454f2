"""A test-only hook for multi-process runs: each rank dumps what its replica holds.

Imported by the multi-process test configs through ``custom_imports``; every rank writes
``<work_dir>/replica_rank<r>.pth`` at the end of training with its model's state dict (weights
and buffers) at the start and at the end of training, the image paths of its first batch and a
latent code drawn from its generator.
"""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from densekd.registry import HOOKS


@HOOKS.register_module()
class ReplicaDumpHook(Hook):
    """Write ``<work_dir>/replica_rank<r>.pth`` on every rank after training."""

    def __init__(self):
        self.first_batch = None
        self.initial = None

    @staticmethod
    def _state(runner) -> dict:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    def before_train(self, runner):
        self.initial = self._state(runner)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if self.first_batch is None:
            self.first_batch = list(data_batch.get('img_path', []))

    def after_train(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        generator = getattr(model, 'generator', None)
        dump = dict(state_dict=self._state(runner), initial=self.initial,
                    first_batch=self.first_batch, wrapped=is_model_wrapper(runner.model),
                    latent=None if generator is None else generator.sample_latent(2).cpu())
        torch.save(dump, osp.join(runner.work_dir, f'replica_rank{get_rank()}.pth'))
