"""L1 (mean absolute error) between raw logits: DFAD's model discrepancy."""
from __future__ import annotations

from typing import Optional

import torch

from densekd.registry import MODELS

from .utils import WeightedDenseLoss, align_spatial, check_mask, check_pair


def l1_logit_loss(preds_S: torch.Tensor, preds_T: torch.Tensor,
                  mask: Optional[torch.Tensor] = None,
                  resize: Optional[str] = None) -> torch.Tensor:
    r"""Mean absolute error between student and teacher logits (no softmax).

    .. math::
        L_{1} = \frac{1}{|\Omega| \cdot C} \sum_{i \in \Omega} \sum_{c} |z^S_{i,c} - z^T_{i,c}|

    Reduction: mean over **all elements** of the valid pixels, i.e. over B·C·H·W without a
    mask — the model discrepancy of Fang et al., "Data-Free Adversarial Distillation",
    arXiv 1912.11006 (student loss ``L_S``; their generator maximises ``log(L_1 + 1)``).

    Args:
        preds_S: Student logits ``(B, C, *spatial)``.
        preds_T: Teacher logits, same shape after alignment (not detached here).
        mask: Optional boolean valid-pixel mask ``(B, *spatial)``; the mean runs over the
            ``C`` entries of every valid pixel (0 if there is none).
        resize: ``None``, ``'student'`` or ``'teacher'`` bilinear spatial alignment.

    Returns:
        Scalar loss.
    """
    check_pair(preds_S, preds_T)
    preds_S, preds_T = align_spatial(preds_S, preds_T, resize)
    mask = check_mask(mask, preds_S)
    diff = (preds_S - preds_T).abs()
    if mask is None:
        return diff.mean()
    total = torch.where(mask.unsqueeze(1), diff, diff.new_zeros(())).sum()
    count = mask.sum().clamp_min(1).to(diff.dtype) * preds_S.shape[1]
    return total / count


@MODELS.register_module()
class L1LogitLoss(WeightedDenseLoss):
    """L1 logit loss module: ``loss_weight · mean |S − T|``; see :func:`l1_logit_loss`.

    Args:
        loss_weight: Multiplier of the loss.
        resize: ``None``, ``'student'`` or ``'teacher'``.

    Example:
        >>> loss = L1LogitLoss()
        >>> loss(torch.randn(2, 13, 8, 8), torch.randn(2, 13, 8, 8)).shape
        torch.Size([])
    """

    def __init__(self, loss_weight: float = 1.0, resize: Optional[str] = None) -> None:
        super().__init__(loss_weight, resize)

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the weighted loss (student first, then teacher)."""
        return self.loss_weight * l1_logit_loss(preds_S, preds_T, mask, self.resize)


__all__ = ['l1_logit_loss', 'L1LogitLoss']
