"""AuG-KD's encoder and anchor losses (Tang et al., ICLR 2024, github.com/IshiKura-a/AuG-KD),
made dense.

The reference (``utils/criteria.py``: ``CVAELoss``, ``AnchorLoss``) sums each term over the
batch and divides by the batch size; densekd keeps that and averages the per-pixel terms over
pixels (the dense reduction rule), so on a 1×1 map every term is the reference's.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .utils import check_tensor


def encoder_loss(z_hat: torch.Tensor, z: torch.Tensor, mu: torch.Tensor, log_var: torch.Tensor,
                 kl_weight: float = 0.00025) -> torch.Tensor:
    """The encoder's loss: squared reconstruction of ``z`` plus a small VAE prior term.

    ``L_E = (1/B) Σ_b [ Σ_j (ẑ_bj − z_bj)² + w · (−½) Σ_j (1 + log σ²_bj − μ²_bj − σ²_bj) ]``:
    the reference's ``CVAELoss`` (sums over the latent, mean over the batch), the second sum
    being KL(N(μ, σ²) ‖ N(0, I)) of each image, with ``w = 0.00025``.

    Args:
        z_hat: B×L encoder samples.
        z: B×L latent codes the images were generated from.
        mu: B×L means.
        log_var: B×L log-variances.
        kl_weight: weight of the KL term.

    Returns:
        Scalar loss.
    """
    if not z_hat.shape == z.shape == mu.shape == log_var.shape:
        raise ValueError(f'encoder_loss: shapes differ: {tuple(z_hat.shape)}, {tuple(z.shape)}, '
                         f'{tuple(mu.shape)}, {tuple(log_var.shape)}')
    rec = (z_hat - z).pow(2).flatten(1).sum(dim=1)
    kl = -0.5 * (1 + log_var - mu.pow(2) - log_var.exp()).flatten(1).sum(dim=1)
    return (rec + kl_weight * kl).mean()


def pixel_energy(logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """Energy score per pixel, ``E = −τ · logsumexp_c(f_c / τ)`` (Liu et al., NeurIPS 2020).

    Low energy = the classifier finds the input in-distribution.

    Args:
        logits: B×C×H×W (or B×C) logits.
        tau: temperature.

    Returns:
        B×H×W (or B) energies.
    """
    check_tensor(logits, 'logits')
    return -tau * torch.logsumexp(logits / tau, dim=1)


def histogram_label_loss(logits: torch.Tensor, hist: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of a target class histogram with the image's mean prediction.

    ``(1/B) Σ_b −Σ_c h_bc log p̄_bc`` with ``p̄_b = mean_{pixels} softmax(logits_b)``: the
    dense stand-in for the reference's ``CE(T(x'), y)`` (densekd has no labels; ``h`` is the
    teacher's class histogram of the real image). With one-hot ``h`` on a 1×1 map it is that CE.

    Args:
        logits: B×C×H×W (or B×C) logits of the anchored images.
        hist: B×C target histograms (rows sum to 1).

    Returns:
        Scalar loss.
    """
    check_tensor(logits, 'logits')
    if hist.shape != logits.shape[:2]:
        raise ValueError(f'hist must be B×C = {tuple(logits.shape[:2])}, got {tuple(hist.shape)}')
    p_bar = F.softmax(logits, dim=1).flatten(2).mean(dim=2)
    return -(hist * torch.log(p_bar.clamp_min(1e-12))).sum(dim=1).mean()


def anchor_mask_loss(mask: torch.Tensor, invariant: float = 0.25,
                     reduction: str = 'batch') -> torch.Tensor:
    """The anchor's mask-size term.

    ``'batch'`` (the reference, as coded): ``|Σ_{b,j} m_bj − L·(1 − invariant)| / B``, the mask
    mass of the **whole batch** against ``L·(1 − invariant)``. ``'sample'``:
    ``(1/B) Σ_b |Σ_j m_bj − L·(1 − invariant)|``, each image's mask against the target (which a
    mask in [0, 1/3) can never reach for ``invariant < 2/3``).

    Args:
        mask: B×L mask.
        invariant: fraction of the latent meant to stay domain-invariant.
        reduction: ``'batch'`` or ``'sample'``.

    Returns:
        Scalar loss.
    """
    check_tensor(mask, 'mask', ndim=2)
    target = mask.shape[1] * (1.0 - invariant)
    if reduction == 'batch':
        return (mask.sum() - target).abs() / mask.shape[0]
    if reduction == 'sample':
        return (mask.sum(dim=1) - target).abs().mean()
    raise ValueError(f"anchor mask reduction must be 'batch' or 'sample', got {reduction!r}")


def anchor_loss(t_logits: torch.Tensor, mask: torch.Tensor, hist: torch.Tensor,
                tau: float = 1.0, invariant: float = 0.25, label_weight: float = 0.1,
                mask_reduction: str = 'batch') -> dict:
    """AuG-KD's anchor loss, dense: the terms as a dict (summed by the caller).

    ``L_A = mean_{b,h,w} Energy(T(x')) + mask term + label_weight · histogram CE``
    (:func:`pixel_energy`, :func:`anchor_mask_loss`, :func:`histogram_label_loss`).

    Args:
        t_logits: teacher logits on the anchored images ``x' = G(A(E(x, h), h))``.
        mask: the AnchorNet's B×L mask.
        hist: B×C teacher class histograms of the real images ``x``.
        tau: energy temperature (1 in the reference).
        invariant: the reference's ``--invariant`` (0.25).
        label_weight: weight of the label term (0.1 in the reference).
        mask_reduction: see :func:`anchor_mask_loss`.

    Returns:
        ``dict(loss_energy=..., loss_mask=..., loss_label=...)``.
    """
    return dict(loss_energy=pixel_energy(t_logits, tau).mean(),
                loss_mask=anchor_mask_loss(mask, invariant, mask_reduction),
                loss_label=label_weight * histogram_label_loss(t_logits, hist))
