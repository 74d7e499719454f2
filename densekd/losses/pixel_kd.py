"""Pixel-wise knowledge distillation (Hinton KD applied to every pixel).

The small input checks shared by the dense losses of this package (:func:`check_pair`,
:func:`align_spatial`, :func:`check_mask`, :func:`masked_mean`, ...) live in
:mod:`densekd.losses.utils`.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from densekd.registry import MODELS

from .utils import (TemperatureDenseLoss, align_spatial, check_mask, check_pair, check_tau,
                    masked_mean)


# --------------------------------------------------------------------------------------------
# Pixel-wise KL
# --------------------------------------------------------------------------------------------
def pixel_kl(preds_S: torch.Tensor, preds_T: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    r"""Per-pixel KL divergence ``KL(softmax(T/τ) || softmax(S/τ))`` over the class dim.

    .. math::
        \mathrm{KL}_i = \sum_c p^T_{i,c}\,(\log p^T_{i,c} - \log p^S_{i,c}),
        \quad p = \mathrm{softmax}(z/\tau)

    No ``τ²`` factor and no reduction: callers combine the map as they need (pixel KD,
    MosaicKD's adversarial ``-KL``, ...). Gradients flow into both inputs; detach the teacher
    yourself where it must not receive any.

    Args:
        preds_S: Student logits ``(B, C, *spatial)``.
        preds_T: Teacher logits, same shape.
        tau: Softmax temperature ``τ > 0``.

    Returns:
        The KL map ``(B, *spatial)``.
    """
    check_pair(preds_S, preds_T)
    check_tau(tau)
    if preds_S.shape != preds_T.shape:
        raise ValueError(
            f'preds_S and preds_T must have the same shape. Got {tuple(preds_S.shape)} and '
            f'{tuple(preds_T.shape)}.')
    log_p_S = F.log_softmax(preds_S / tau, dim=1)
    log_p_T = F.log_softmax(preds_T / tau, dim=1)
    return F.kl_div(log_p_S, log_p_T, reduction='none', log_target=True).sum(dim=1)


def pixel_kd_loss(preds_S: torch.Tensor, preds_T: torch.Tensor, tau: float = 1.0,
                  mask: Optional[torch.Tensor] = None,
                  resize: Optional[str] = None) -> torch.Tensor:
    r"""Pixel-wise KD: temperature-scaled KL averaged over valid pixels.

    .. math::
        L_{pi} = \tau^2 \cdot \frac{1}{|\Omega|} \sum_{i \in \Omega}
        \mathrm{KL}\big(\mathrm{softmax}(z^T_i/\tau) \,\|\, \mathrm{softmax}(z^S_i/\tau)\big)

    Reduction: sum over classes, **mean over the valid pixels** Ω (all B·H·W pixels when
    ``mask`` is None), i.e. the CIRKD convention (``batchmean`` over ``(B·H·W, C)``). With a
    1×1 map this is exactly the classification ``KL·τ²`` with ``batchmean``. Hinton et al.,
    "Distilling the Knowledge in a Neural Network", 2015; per-pixel form as in Liu et al.,
    "Structured Knowledge Distillation for Semantic Segmentation", CVPR 2019.

    Args:
        preds_S: Student logits ``(B, C, *spatial)``.
        preds_T: Teacher logits ``(B, C, *spatial_T)`` (not detached here).
        tau: Temperature ``τ > 0``.
        mask: Optional boolean valid-pixel mask ``(B, *spatial)`` at the (aligned) logit size.
            Masked pixels do not contribute; the mean is over valid pixels only (0 if none).
        resize: ``None`` (sizes must match), ``'student'`` (teacher resized to the student
            size) or ``'teacher'`` (student resized to the teacher size), bilinear.

    Returns:
        Scalar loss.

    Example:
        >>> s, t = torch.randn(2, 13, 8, 8), torch.randn(2, 13, 8, 8)
        >>> pixel_kd_loss(s, t, tau=4.0).shape
        torch.Size([])
    """
    check_pair(preds_S, preds_T)
    check_tau(tau)
    preds_S, preds_T = align_spatial(preds_S, preds_T, resize)
    mask = check_mask(mask, preds_S)
    return tau ** 2 * masked_mean(pixel_kl(preds_S, preds_T, tau), mask)


@MODELS.register_module()
class PixelKDLoss(TemperatureDenseLoss):
    r"""Pixel-wise KD loss module: ``loss_weight · τ² · mean_{i∈Ω} KL(p^T_i || p^S_i)``.

    See :func:`pixel_kd_loss` for the formula and the reduction (mean over valid pixels).

    Args:
        tau: Temperature ``τ > 0`` (methods.md §6.1 suggests 1 or 4).
        loss_weight: Multiplier of the loss.
        resize: ``None``, ``'student'`` or ``'teacher'``; see :func:`align_spatial`.

    Example:
        >>> loss = PixelKDLoss(tau=1.0, loss_weight=1.0)
        >>> loss(torch.randn(2, 13, 8, 8), torch.randn(2, 13, 8, 8)).shape
        torch.Size([])
    """

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the weighted loss (student first, then teacher)."""
        return self.loss_weight * pixel_kd_loss(preds_S, preds_T, self.tau, mask, self.resize)


__all__ = ['pixel_kd_loss', 'pixel_kl', 'PixelKDLoss']
