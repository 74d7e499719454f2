"""Feature-statistics prior of a frozen teacher: match its BatchNorm running statistics.

DeepInversion (Yin et al., CVPR 2020) and DFQ-style data-free KD, also the ``bn`` term of
MosaicKD's own data-free baseline (``kd_datafree.py`` in github.com/zju-vipa/MosaicKD): the
inputs of every ``BatchNorm2d`` of the teacher, computed on a batch of generated images, should
have the per-channel mean and variance the layer saw during training (its running statistics).
For dense maps the batch statistics run over all images **and pixels**, so the value does not
depend on the image size.
"""
from __future__ import annotations

from typing import ClassVar, List, Optional, Tuple

import torch
from torch import nn

from densekd.registry import MODELS

from .utils import WeightedLoss, check_tensor


def bn_statistics_loss(features: torch.Tensor, running_mean: torch.Tensor,
                       running_var: torch.Tensor) -> torch.Tensor:
    """Distance of one layer's input statistics from its BatchNorm running statistics.

    ``L = ||mean_{b,h,w} x - μ_run||_2 + ||var_{b,h,w} x - σ²_run||_2`` with the biased batch
    variance (what BatchNorm normalises with in training), as DeepInversion's
    ``DeepInversionFeatureHook`` and MosaicKD's ``kd_datafree.py``.

    Args:
        features: the layer's input B×C×H×W (or B×C).
        running_mean: C running means of the layer.
        running_var: C running variances of the layer.

    Returns:
        Scalar loss (>= 0).
    """
    check_tensor(features, 'features')
    channels = features.shape[1]
    if running_mean.shape != (channels,) or running_var.shape != (channels,):
        raise ValueError(f'running statistics must have {channels} entries (the feature '
                         f'channels), got {tuple(running_mean.shape)} and '
                         f'{tuple(running_var.shape)}')
    flat = features.transpose(0, 1).reshape(channels, -1)
    mean = flat.mean(dim=1)
    var = flat.var(dim=1, unbiased=False)
    return torch.linalg.vector_norm(mean - running_mean) + torch.linalg.vector_norm(
        var - running_var)


class BNStatisticsPrior:
    """Forward hooks on every ``BatchNorm2d`` of a (frozen) model summing
    :func:`bn_statistics_loss` over its layers while active.

    Usage::

        prior = BNStatisticsPrior(teacher)
        with prior:
            t_logits = teacher(images)
        loss = prior.loss()          # sum over BatchNorm layers, graph attached

    Outside ``with`` the hooks record nothing, so other forward passes of the model cost
    nothing extra.

    Args:
        model: the model whose BatchNorm layers (with running statistics) are matched.

    Raises:
        ValueError: the model has no BatchNorm2d layer with running statistics.
    """

    def __init__(self, model: nn.Module) -> None:
        self.layers = [m for m in model.modules()
                       if isinstance(m, nn.BatchNorm2d) and m.track_running_stats]
        if not self.layers:
            raise ValueError(f'{type(model).__name__} has no BatchNorm2d layer with running '
                             f'statistics to match')
        self._losses: List[torch.Tensor] = []
        self._active = False
        for layer in self.layers:
            layer.register_forward_hook(self._hook)

    def _hook(self, module: nn.BatchNorm2d, inputs, output) -> None:
        if self._active:
            self._losses.append(bn_statistics_loss(inputs[0], module.running_mean,
                                                   module.running_var))

    def __enter__(self) -> 'BNStatisticsPrior':
        self._losses = []
        self._active = True
        return self

    def __exit__(self, *exc) -> None:
        self._active = False

    def loss(self) -> torch.Tensor:
        """Sum over the layers of the last recorded forward pass."""
        if not self._losses:
            raise RuntimeError('BNStatisticsPrior recorded nothing: run the model inside '
                               '`with prior:` first')
        return torch.stack(self._losses).sum()


@MODELS.register_module()
class BNStatisticsLoss(WeightedLoss):
    """``loss_weight`` times the :class:`BNStatisticsPrior` of the model it is attached to.

    A generator loss with no tensor inputs: :class:`~densekd.algorithms.GeneratorLossSet`
    calls :meth:`attach` with the teacher once and runs the teacher's forward inside
    :meth:`record`; ``forward()`` then returns the weighted sum over its BatchNorm layers.
    MosaicKD's optional ``bn`` term, e.g. ``bn=dict(type='BNStatisticsLoss', loss_weight=0.01)``.

    Args:
        loss_weight: multiplier.
    """

    inputs: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__(float(loss_weight))
        self.prior: Optional[BNStatisticsPrior] = None

    def attach(self, model: nn.Module) -> None:
        """Hook every ``BatchNorm2d`` of ``model`` (see :class:`BNStatisticsPrior`)."""
        self.prior = BNStatisticsPrior(model)

    def record(self) -> BNStatisticsPrior:
        """Context manager to run the attached model's forward in."""
        if self.prior is None:
            raise RuntimeError('BNStatisticsLoss is not attached: call attach(teacher) first')
        return self.prior

    def forward(self) -> torch.Tensor:
        return self.loss_weight * self.record().loss()
