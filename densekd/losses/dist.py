"""DIST: inter- and intra-class relation (Pearson correlation) distillation."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from densekd.registry import MODELS

from .utils import WeightedDenseLoss, align_spatial, check_mask, check_pair, check_tau


def pearson_correlation(a: torch.Tensor, b: torch.Tensor, dim: int = -1,
                        eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation of ``a`` and ``b`` along ``dim`` (cosine of the centred vectors).

    A constant vector has no defined correlation; the ``eps`` in the cosine makes it 0.
    """
    a = a - a.mean(dim=dim, keepdim=True)
    b = b - b.mean(dim=dim, keepdim=True)
    return F.cosine_similarity(a, b, dim=dim, eps=eps)


def _check_weight(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f'{name} must be a non-negative number. Got {value!r}.')


def dist_loss(preds_S: torch.Tensor, preds_T: torch.Tensor, beta: float = 1.0,
              gamma: float = 1.0, tau: float = 1.0, mask: Optional[torch.Tensor] = None,
              resize: Optional[str] = None) -> torch.Tensor:
    r"""DIST loss of Huang et al., "Knowledge Distillation from A Stronger Teacher",
    NeurIPS 2022 (arXiv 2205.10536), segmentation form.

    Logits are reshaped to ``Y ∈ R^{M×C}`` with one row per valid pixel (``M = B·H·W``
    without a mask), ``P = softmax(Y/τ)`` along classes, and

    .. math::
        L = \tau^2 \Big(\beta \big(1 - \tfrac{1}{M}\sum_{m} \rho(P^S_{m,:}, P^T_{m,:})\big)
        + \gamma \big(1 - \tfrac{1}{C}\sum_{c} \rho(P^S_{:,c}, P^T_{:,c})\big)\Big)

    with ``ρ`` the Pearson correlation. The inter-class term averages over pixels (rows), the
    intra-class term correlates each class's response across all valid pixels of the batch.
    Note: ``L`` is 0 when S == T only if no row/column is constant (a constant vector has
    correlation 0 here, e.g. uniform predictions or a single valid pixel give ``intra = 1``).

    Args:
        preds_S: Student logits ``(B, C, *spatial)`` with ``C >= 2``.
        preds_T: Teacher logits, same shape after alignment (not detached here).
        beta: Weight of the inter-class (per-pixel) term.
        gamma: Weight of the intra-class (per-class) term.
        tau: Temperature ``τ > 0`` (the segmentation code uses 1).
        mask: Optional boolean valid-pixel mask ``(B, *spatial)``; it selects the rows of ``Y``.
            With no valid pixel the loss is a graph-connected 0.
        resize: ``None``, ``'student'`` or ``'teacher'`` bilinear spatial alignment.

    Returns:
        Scalar loss.
    """
    check_pair(preds_S, preds_T)
    check_tau(tau)
    _check_weight(beta, 'beta')
    _check_weight(gamma, 'gamma')
    if preds_S.shape[1] < 2:
        raise ValueError(
            f'DIST needs at least 2 classes (dim 1). Got shape {tuple(preds_S.shape)}.')
    preds_S, preds_T = align_spatial(preds_S, preds_T, resize)
    mask = check_mask(mask, preds_S)
    c = preds_S.shape[1]
    y_S = preds_S.movedim(1, -1).reshape(-1, c)
    y_T = preds_T.movedim(1, -1).reshape(-1, c)
    if mask is not None:
        rows = mask.reshape(-1)
        y_S, y_T = y_S[rows], y_T[rows]
        if y_S.shape[0] == 0:  # graph-connected zero (summing the empty selection, no NaN)
            return y_S.sum() + y_T.sum()
    p_S = F.softmax(y_S / tau, dim=1)
    p_T = F.softmax(y_T / tau, dim=1)
    inter = 1.0 - pearson_correlation(p_S, p_T, dim=1).mean()
    intra = 1.0 - pearson_correlation(p_S, p_T, dim=0).mean()
    return tau ** 2 * (beta * inter + gamma * intra)


@MODELS.register_module()
class DISTLoss(WeightedDenseLoss):
    r"""DIST loss module: ``loss_weight · τ² (β·inter + γ·intra)``; see :func:`dist_loss`.

    Args:
        beta: Weight of the inter-class relation term.
        gamma: Weight of the intra-class relation term.
        tau: Temperature ``τ > 0``.
        loss_weight: Multiplier of the loss.
        resize: ``None``, ``'student'`` or ``'teacher'``.

    Example:
        >>> loss = DISTLoss(beta=1.0, gamma=1.0, tau=1.0)
        >>> loss(torch.randn(2, 13, 8, 8), torch.randn(2, 13, 8, 8)).shape
        torch.Size([])
    """

    hparams = ('beta', 'gamma', 'tau')

    def __init__(self, beta: float = 1.0, gamma: float = 1.0, tau: float = 1.0,
                 loss_weight: float = 1.0, resize: Optional[str] = None) -> None:
        _check_weight(beta, 'beta')
        _check_weight(gamma, 'gamma')
        check_tau(tau)
        super().__init__(loss_weight, resize)
        self.beta = beta
        self.gamma = gamma
        self.tau = tau

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the weighted loss (student first, then teacher)."""
        return self.loss_weight * dist_loss(preds_S, preds_T, self.beta, self.gamma, self.tau,
                                            mask, self.resize)


__all__ = ['dist_loss', 'pearson_correlation', 'DISTLoss']
