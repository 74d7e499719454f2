"""The model wrapper of multi-process training (``model_wrapper_cfg`` in the default runtime).

mmengine wraps the model in ``MMDistributedDataParallel`` by default, whose ``train_step``
runs one ``forward(mode='loss')`` and one backward: densekd's adversarial regimes step
several optimizers per iteration, call their players directly and freeze some of them in
some steps, which that wrapper cannot express. This wrapper keeps each algorithm's own
``train_step``; the replicas stay identical because every optimizer step averages its
gradients over the ranks (:func:`densekd.utils.distributed.update_params`) and the buffers
are broadcast from rank 0 after each iteration.
"""
from __future__ import annotations

from typing import Any

from torch import nn

from densekd.registry import MODEL_WRAPPERS
from densekd.utils.distributed import broadcast_tensors, offset_seeds_by_rank


@MODEL_WRAPPERS.register_module()
class DistributedAlgorithmWrapper(nn.Module):
    """Run a densekd algorithm on every rank and keep the replicas identical.

    At construction, parameters and buffers are broadcast from rank 0 (one starting point) and
    every rank but 0 reseeds its random streams (:func:`offset_seeds_by_rank`), so generators,
    replay draws and augmentations differ per rank while the data samplers shard one shuffle.

    Buffers (BatchNorm running statistics, the replay pool) are computed per rank during an
    iteration, then overwritten with rank 0's after it (``DistributedDataParallel``'s
    ``broadcast_buffers`` convention): checkpoints and evaluations see one model. For running
    statistics over the global batch, set ``sync_bn = 'torch'`` in the config (mmengine
    converts BatchNorm to ``SyncBatchNorm``; CUDA only).

    Args:
        module: the algorithm (a :class:`densekd.algorithms.BaseSegAlgorithm`).
        broadcast_buffers: broadcast the buffers from rank 0 after every train step.
    """

    def __init__(self, module: nn.Module, broadcast_buffers: bool = True):
        super().__init__()
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        broadcast_tensors(list(module.parameters()) + list(module.buffers()))
        offset_seeds_by_rank()

    def train_step(self, data: Any, optim_wrapper) -> dict:
        """The algorithm's train step, then rank 0's buffers everywhere."""
        log_vars = self.module.train_step(data, optim_wrapper)
        if self.broadcast_buffers:
            broadcast_tensors(self.module.buffers())
        return log_vars

    def val_step(self, data: Any) -> list:
        return self.module.val_step(data)

    def test_step(self, data: Any) -> list:
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
