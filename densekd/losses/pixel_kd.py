"""Pixel-wise knowledge distillation (Hinton KD applied to every pixel).

Also home of the small input checks shared by the dense losses of this package
(:func:`check_pair`, :func:`align_spatial`, :func:`check_mask`, :func:`masked_mean`).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from densekd.registry import MODELS

RESIZE_MODES = (None, 'student', 'teacher')


# --------------------------------------------------------------------------------------------
# Shared checks (used by every loss family in densekd.losses)
# --------------------------------------------------------------------------------------------
def check_tensor(x: object, name: str, min_dim: int = 2, ndim: Optional[int] = None) -> None:
    """Raise a clear error unless ``x`` is a floating-point tensor of the expected rank.

    Args:
        x: The object to check.
        name: How the error message calls it (e.g. ``'preds_S'``).
        min_dim: Smallest accepted number of dimensions.
        ndim: If given, the exact number of dimensions required (overrides ``min_dim``).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'{name} must be a torch.Tensor. Got {type(x).__name__}.')
    if not x.is_floating_point():
        raise TypeError(f'{name} must be a floating-point tensor. Got dtype {x.dtype}.')
    if ndim is not None and x.dim() != ndim:
        raise ValueError(
            f'{name} must have {ndim} dims (B, C, H, W). Got shape {tuple(x.shape)}.')
    if ndim is None and x.dim() < min_dim:
        raise ValueError(
            f'{name} must have at least {min_dim} dims (B, C, *spatial). '
            f'Got shape {tuple(x.shape)}.')


def check_resize(resize: Optional[str]) -> None:
    """Raise unless ``resize`` is one of ``None``, ``'student'``, ``'teacher'``."""
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {RESIZE_MODES}. Got {resize!r}.")


def check_tau(tau: float) -> None:
    """Raise unless the temperature is a positive number."""
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 0:
        raise ValueError(f'tau must be a positive number. Got {tau!r}.')


def check_loss_weight(loss_weight: float) -> None:
    """Raise unless ``loss_weight`` is a real number (negative weights are allowed)."""
    if isinstance(loss_weight, bool) or not isinstance(loss_weight, (int, float)):
        raise TypeError(f'loss_weight must be a number. Got {type(loss_weight).__name__}.')


def align_spatial(preds_S: torch.Tensor, preds_T: torch.Tensor,
                  resize: Optional[str] = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(preds_S, preds_T)`` with equal spatial size.

    Sizes that already match are returned untouched. Otherwise a ``ValueError`` is raised
    unless ``resize`` asks for bilinear alignment (``align_corners=False``):

    * ``'student'``: the teacher map is resized to the student's spatial size;
    * ``'teacher'``: the student map is resized to the teacher's spatial size.

    Args:
        preds_S: Student tensor ``(B, C_S, *spatial_S)``.
        preds_T: Teacher tensor ``(B, C_T, *spatial_T)``.
        resize: ``None``, ``'student'`` or ``'teacher'``.
    """
    check_resize(resize)
    size_S, size_T = tuple(preds_S.shape[2:]), tuple(preds_T.shape[2:])
    if size_S == size_T:
        return preds_S, preds_T
    if resize is None:
        raise ValueError(
            f'Student and teacher spatial sizes differ: student {size_S} vs teacher {size_T}. '
            "Pass resize='student' (resize the teacher to the student size) or "
            "resize='teacher' (resize the student to the teacher size) to align them bilinearly.")
    if preds_S.dim() != 4 or preds_T.dim() != 4:
        raise ValueError(
            'resize needs 4-D (B, C, H, W) inputs. Got student '
            f'{tuple(preds_S.shape)} and teacher {tuple(preds_T.shape)}.')
    if resize == 'student':
        preds_T = F.interpolate(preds_T, size=size_S, mode='bilinear', align_corners=False)
    else:
        preds_S = F.interpolate(preds_S, size=size_T, mode='bilinear', align_corners=False)
    return preds_S, preds_T


def check_pair(preds_S: torch.Tensor, preds_T: torch.Tensor, same_channels: bool = True,
               ndim: Optional[int] = None) -> None:
    """Check student/teacher tensors: floating point, same rank, same batch (and channels).

    Spatial sizes are not checked here; call :func:`align_spatial` for that.
    """
    check_tensor(preds_S, 'preds_S', ndim=ndim)
    check_tensor(preds_T, 'preds_T', ndim=ndim)
    if preds_S.dim() != preds_T.dim():
        raise ValueError(
            f'preds_S and preds_T must have the same number of dims. Got student '
            f'{tuple(preds_S.shape)} and teacher {tuple(preds_T.shape)}.')
    if preds_S.shape[0] != preds_T.shape[0]:
        raise ValueError(
            f'Student and teacher batch sizes differ: student {preds_S.shape[0]} vs teacher '
            f'{preds_T.shape[0]}.')
    if same_channels and preds_S.shape[1] != preds_T.shape[1]:
        raise ValueError(
            f'Student and teacher channel counts differ: student {preds_S.shape[1]} vs teacher '
            f'{preds_T.shape[1]} (shapes {tuple(preds_S.shape)} and {tuple(preds_T.shape)}). '
            'Map the student to the teacher width first (e.g. a 1x1 conv connector).')


def check_mask(mask: Optional[torch.Tensor], ref: torch.Tensor) -> Optional[torch.Tensor]:
    """Validate a valid-pixel mask against a ``(B, C, *spatial)`` reference tensor.

    Args:
        mask: ``None`` or a boolean tensor ``(B, *spatial)`` (``(B, 1, *spatial)`` is accepted
            and squeezed). ``True`` marks pixels that count.
        ref: The (already spatially aligned) prediction the mask applies to.

    Returns:
        ``None`` or the mask with shape ``(B, *spatial)``.
    """
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f'mask must be a torch.Tensor or None. Got {type(mask).__name__}.')
    if mask.dtype != torch.bool:
        raise TypeError(
            f'mask must be a boolean tensor (True = valid pixel). Got dtype {mask.dtype}; '
            'build it e.g. as `seg != 255`.')
    expected = (ref.shape[0],) + tuple(ref.shape[2:])
    if mask.dim() == len(expected) + 1 and mask.shape[1] == 1:
        mask = mask.squeeze(1)
    if tuple(mask.shape) != expected:
        raise ValueError(
            f'mask must have shape (B, *spatial) = {expected} to match the predictions '
            f'{tuple(ref.shape)}. Got {tuple(mask.shape)}. Resize a label-resolution mask with '
            "F.interpolate(mask[:, None].float(), size, mode='nearest')[:, 0].bool().")
    return mask


def masked_mean(values: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    """Mean of ``values`` over the entries where ``mask`` is True (all entries if ``None``).

    Masked entries contribute neither value nor gradient, even if they hold NaN/inf. With no
    valid entry at all the result is a graph-connected zero, not NaN.
    """
    if mask is None:
        return values.mean()
    total = torch.where(mask, values, values.new_zeros(())).sum()
    return total / mask.sum().clamp_min(1).to(values.dtype)


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


def pixel_entropy(logits: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    r"""Per-pixel Shannon entropy ``H_i = -\sum_c p_{i,c} \log p_{i,c}``, ``p = softmax(z/τ)``.

    Args:
        logits: ``(B, C, *spatial)``.
        tau: Softmax temperature ``τ > 0``.

    Returns:
        The entropy map ``(B, *spatial)`` in nats.
    """
    check_tensor(logits, 'logits')
    check_tau(tau)
    log_p = F.log_softmax(logits / tau, dim=1)
    return -(log_p.exp() * log_p).sum(dim=1)


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
class PixelKDLoss(nn.Module):
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

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0,
                 resize: Optional[str] = None) -> None:
        super().__init__()
        check_tau(tau)
        check_loss_weight(loss_weight)
        check_resize(resize)
        self.tau = tau
        self.loss_weight = loss_weight
        self.resize = resize

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Compute the weighted loss (student first, then teacher)."""
        return self.loss_weight * pixel_kd_loss(preds_S, preds_T, self.tau, mask, self.resize)

    def extra_repr(self) -> str:
        return f'tau={self.tau}, loss_weight={self.loss_weight}, resize={self.resize!r}'


__all__ = ['pixel_kd_loss', 'pixel_kl', 'pixel_entropy', 'PixelKDLoss']
