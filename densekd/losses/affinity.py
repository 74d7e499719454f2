"""Pair-wise affinity distillation (the pair-wise term of Structured KD)."""
from __future__ import annotations

import math
from typing import Optional

import torch
import torch.nn.functional as F

from densekd.registry import MODELS

from .utils import WeightedDenseLoss, align_spatial, check_pair


def _check_pool_scale(pool_scale: float) -> None:
    if isinstance(pool_scale, bool) or not isinstance(pool_scale, (int, float)) \
            or not 0 < pool_scale <= 1:
        raise ValueError(f'pool_scale must be a number in (0, 1]. Got {pool_scale!r}.')


def _reject_mask(mask: Optional[torch.Tensor]) -> None:
    if mask is not None:
        raise ValueError(
            'PairwiseAffinityLoss does not support a valid-pixel mask: the affinity is computed '
            'between max-pooled nodes, not pixels. Got a mask; pass mask=None.')


def affinity_nodes(feat: torch.Tensor, pool_scale: float = 0.5) -> torch.Tensor:
    """Max-pool a feature map into graph nodes and L2-normalise each node along channels.

    The pooling kernel (= stride) is ``ceil(pool_scale · (h, w))`` with ``ceil_mode=True``,
    so a map is always cut into ``ceil(h/k_h)·ceil(w/k_w)`` nodes (4 for ``pool_scale=0.5``).

    Args:
        feat: ``(B, C, h, w)``.
        pool_scale: Kernel size as a fraction of the map size, in ``(0, 1]``.

    Returns:
        ``(B, C, n)`` unit-norm node features.
    """
    h, w = feat.shape[-2:]
    # The small tolerance keeps e.g. (1/3)*3 from rounding up to 2.
    kernel = (max(1, math.ceil(pool_scale * h - 1e-9)), max(1, math.ceil(pool_scale * w - 1e-9)))
    nodes = F.max_pool2d(feat, kernel_size=kernel, stride=kernel, ceil_mode=True)
    return F.normalize(nodes.flatten(2), p=2, dim=1, eps=1e-8)


def pairwise_affinity_loss(feat_S: torch.Tensor, feat_T: torch.Tensor, pool_scale: float = 0.5,
                           resize: Optional[str] = None) -> torch.Tensor:
    r"""Pair-wise (static affinity graph) loss of Liu et al., "Structured Knowledge
    Distillation for Semantic Segmentation", CVPR 2019 / TPAMI 2020.

    Nodes ``f_i`` come from max-pooling each feature map with kernel
    ``ceil(pool_scale·(h, w))`` and L2-normalising along channels; the affinity of image ``b``
    is ``A = FᵀF`` (``a_ij = f_i · f_j``, cosine similarity), and

    .. math::
        L_{pa} = \frac{1}{B} \sum_{b=1}^{B} \frac{1}{n^2} \sum_{i,j}
        \big(a^S_{b,ij} - a^T_{b,ij}\big)^2

    Reduction: mean over the ``n²`` node pairs and over the batch. The affinity does not depend
    on the channel count, so student and teacher widths may differ; spatial sizes must match
    (or be aligned with ``resize``). The official code floors the kernel (``int``); the ceiling
    used here is identical for even sizes with 0.5 and never yields a zero kernel.

    Args:
        feat_S: Student features ``(B, C_S, h, w)``.
        feat_T: Teacher features ``(B, C_T, h_T, w_T)`` (not detached here).
        pool_scale: Pooling kernel as a fraction of the map size, in ``(0, 1]`` (default 0.5).
        resize: ``None``, ``'student'`` or ``'teacher'`` bilinear spatial alignment.

    Returns:
        Scalar loss.
    """
    check_pair(feat_S, feat_T, same_channels=False, ndim=4)
    _check_pool_scale(pool_scale)
    feat_S, feat_T = align_spatial(feat_S, feat_T, resize)
    nodes_S = affinity_nodes(feat_S, pool_scale)
    nodes_T = affinity_nodes(feat_T, pool_scale)
    aff_S = nodes_S.transpose(1, 2) @ nodes_S  # B x n x n
    aff_T = nodes_T.transpose(1, 2) @ nodes_T
    return (aff_S - aff_T).pow(2).mean()


@MODELS.register_module()
class PairwiseAffinityLoss(WeightedDenseLoss):
    r"""SKD pair-wise loss module: ``loss_weight · mean_{b,i,j} (a^S_{b,ij} − a^T_{b,ij})²``.

    See :func:`pairwise_affinity_loss`. ``forward`` accepts ``mask`` for a uniform signature but
    raises if one is given (the loss is defined on pooled nodes, not on pixels).

    Args:
        pool_scale: Pooling kernel as a fraction of the map size, in ``(0, 1]``.
        loss_weight: Multiplier of the loss (SKD uses 1).
        resize: ``None``, ``'student'`` or ``'teacher'``.

    Example:
        >>> loss = PairwiseAffinityLoss(pool_scale=0.5)
        >>> loss(torch.randn(2, 64, 16, 16), torch.randn(2, 256, 16, 16)).shape
        torch.Size([])
    """

    hparams = ('pool_scale',)

    def __init__(self, pool_scale: float = 0.5, loss_weight: float = 1.0,
                 resize: Optional[str] = None) -> None:
        _check_pool_scale(pool_scale)
        super().__init__(loss_weight, resize)
        self.pool_scale = pool_scale

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the weighted loss (student features first, then teacher features)."""
        _reject_mask(mask)
        return self.loss_weight * pairwise_affinity_loss(
            preds_S, preds_T, self.pool_scale, self.resize)


__all__ = ['affinity_nodes', 'pairwise_affinity_loss', 'PairwiseAffinityLoss']
