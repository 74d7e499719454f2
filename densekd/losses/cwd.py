"""Channel-wise distillation (CWD): KL between per-channel spatial distributions."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from densekd.registry import MODELS

from .utils import TemperatureDenseLoss, align_spatial, check_mask, check_pair, check_tau


def channel_wise_divergence(preds_S: torch.Tensor, preds_T: torch.Tensor, tau: float = 1.0,
                            mask: Optional[torch.Tensor] = None,
                            resize: Optional[str] = None) -> torch.Tensor:
    r"""Channel-wise divergence of Shu et al., "Channel-wise Knowledge Distillation for Dense
    Prediction", ICCV 2021 (arXiv 2011.13256).

    Each channel map ``y^{n,c} ∈ R^{H·W}`` becomes a distribution over *locations*,
    ``φ(y^{n,c})_i = exp(y^{n,c}_i/τ) / Σ_j exp(y^{n,c}_j/τ)``, and

    .. math::
        L_{cwd} = \frac{\tau^2}{N \cdot C} \sum_{n=1}^{N} \sum_{c=1}^{C} \sum_{i}
        \varphi(y_T^{n,c})_i \big[\log \varphi(y_T^{n,c})_i - \log \varphi(y_S^{n,c})_i\big]

    Reduction: the KL is **summed over locations** and **averaged over the N·C channel maps**
    (as in the paper and mmrazor's ``ChannelWiseDivergence``) — a per-channel-map mean, not a
    per-pixel mean, so its scale does not shrink with the image size (published weights:
    ``τ=4, λ=3`` official, ``τ=1, λ=5`` mmrazor).

    Args:
        preds_S: Student logits or features ``(N, C, H, W)``.
        preds_T: Teacher tensor ``(N, C, H_T, W_T)``, same channel count (not detached here).
        tau: Temperature ``τ > 0``.
        mask: Optional boolean valid-pixel mask ``(N, H, W)`` at the (aligned) size. Masked
            locations are removed from every spatial softmax; images with no valid location are
            skipped and the average runs over the ``N_valid · C`` remaining channel maps.
        resize: ``None`` (sizes must match), ``'student'`` or ``'teacher'`` bilinear alignment.

    Returns:
        Scalar loss.
    """
    check_pair(preds_S, preds_T, ndim=4)
    check_tau(tau)
    preds_S, preds_T = align_spatial(preds_S, preds_T, resize)
    mask = check_mask(mask, preds_S)
    n, c = preds_S.shape[:2]
    s = preds_S.flatten(2) / tau
    t = preds_T.flatten(2) / tau
    if mask is None:
        log_p_S = F.log_softmax(s, dim=-1)
        log_p_T = F.log_softmax(t, dim=-1)
        kl = F.kl_div(log_p_S, log_p_T, reduction='none', log_target=True).sum(-1)  # N x C
        return tau ** 2 * kl.sum() / (n * c)

    m = mask.flatten(1)  # N x HW
    valid_img = m.any(dim=1)
    # An all-masked image would make every softmax empty (NaN); compute it unmasked, drop it.
    m = (m | ~valid_img[:, None])[:, None, :]  # N x 1 x HW
    log_p_S = F.log_softmax(s.masked_fill(~m, float('-inf')), dim=-1)
    log_p_T = F.log_softmax(t.masked_fill(~m, float('-inf')), dim=-1)
    # Zero the -inf entries before any product so neither value nor gradient becomes NaN.
    zero = s.new_zeros(())
    log_p_S = torch.where(m, log_p_S, zero)
    log_p_T = torch.where(m, log_p_T, zero)
    p_T = torch.where(m, log_p_T.exp(), zero)
    kl = (p_T * (log_p_T - log_p_S)).sum(-1)  # N x C
    kl = kl * valid_img[:, None].to(kl.dtype)
    denom = valid_img.sum().clamp_min(1).to(kl.dtype) * c
    return tau ** 2 * kl.sum() / denom


@MODELS.register_module()
class ChannelWiseDivergence(TemperatureDenseLoss):
    r"""CWD loss module: ``loss_weight · τ²/(N·C) · Σ_n Σ_c KL(φ(y_T^{n,c}) || φ(y_S^{n,c}))``.

    See :func:`channel_wise_divergence` (normalised per channel map, not per pixel).

    Args:
        tau: Temperature ``τ > 0``.
        loss_weight: Multiplier of the loss.
        resize: ``None``, ``'student'`` or ``'teacher'``.

    Example:
        >>> loss = ChannelWiseDivergence(tau=4.0, loss_weight=3.0)
        >>> loss(torch.randn(2, 13, 8, 8), torch.randn(2, 13, 8, 8)).shape
        torch.Size([])
    """

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the weighted loss (student first, then teacher)."""
        return self.loss_weight * channel_wise_divergence(
            preds_S, preds_T, self.tau, mask, self.resize)


__all__ = ['channel_wise_divergence', 'ChannelWiseDivergence']
