"""Helpers shared by the loss modules of :mod:`densekd.losses`.

* the small input checks of the dense losses (:func:`check_pair`, :func:`align_spatial`,
  :func:`check_mask`, :func:`masked_mean`, ...) and :func:`pixel_entropy`;
* :class:`WeightedLoss` / :class:`WeightedDenseLoss`, the bases of the registered loss modules:
  they hold ``loss_weight`` (and ``resize``) and build ``extra_repr`` from the hyper-parameter
  names a subclass lists in ``hparams``.
"""
from __future__ import annotations

from typing import ClassVar, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

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


def pixel_entropy(logits: torch.Tensor, tau: float = 1.0, *, dim: int = 1) -> torch.Tensor:
    r"""Per-pixel Shannon entropy ``H_i = -\sum_c p_{i,c} \log p_{i,c}``, ``p = softmax(z/τ)``.

    Computed from ``log_softmax`` (no ``log 0`` for saturated pixels). MosaicKD's ``L_align``
    (:func:`~densekd.losses.adversarial.teacher_entropy_loss`) and the OOD-subset scores
    (:func:`~densekd.datasets.score_images_by_entropy`) both use it.

    Args:
        logits: ``(B, C, *spatial)`` (classes along ``dim``).
        tau: Softmax temperature ``τ > 0``.
        dim: The class dimension.

    Returns:
        The entropy map (``logits`` without ``dim``) in nats.

    Example:
        >>> pixel_entropy(torch.zeros(1, 4, 2, 2))  # uniform over 4 classes: log 4 everywhere
        tensor([[[1.3863, 1.3863],
                 [1.3863, 1.3863]]])
    """
    check_tensor(logits, 'logits')
    check_tau(tau)
    if tau != 1:  # the common τ = 1 path runs no extra division
        logits = logits / tau
    log_p = F.log_softmax(logits, dim=dim)
    return -(log_p.exp() * log_p).sum(dim=dim)


# --------------------------------------------------------------------------------------------
# Bases of the registered loss modules
# --------------------------------------------------------------------------------------------
class WeightedLoss(nn.Module):
    """Base of a loss module that multiplies its functional form by ``loss_weight``.

    The weight is stored as given (no check); subclasses validate it if they need to.
    ``extra_repr`` lists the attributes named in ``hparams`` (the subclass's own
    hyper-parameters, in constructor order) followed by ``loss_weight``; string values are
    shown with ``repr``, everything else with ``str``.

    Args:
        loss_weight: Multiplier of the loss.
    """

    #: Names of the subclass's own hyper-parameters, shown first by :meth:`extra_repr`.
    hparams: ClassVar[tuple[str, ...]] = ()
    #: Attributes of the base shown after ``hparams`` by :meth:`extra_repr`.
    _base_hparams: ClassVar[tuple[str, ...]] = ('loss_weight',)

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def extra_repr(self) -> str:
        parts = []
        for name in (*self.hparams, *self._base_hparams):
            value = getattr(self, name)
            parts.append(f'{name}={value!r}' if isinstance(value, str) else f'{name}={value}')
        return ', '.join(parts)


class WeightedDenseLoss(WeightedLoss):
    """Base of the dense student/teacher losses: a validated ``loss_weight`` and ``resize``.

    Subclasses validate and store their own hyper-parameters (listed in ``hparams``), call
    ``super().__init__(loss_weight, resize)`` and implement ``forward`` with their functional
    form. Checks run in the order hyper-parameters, ``loss_weight``, ``resize``.

    Args:
        loss_weight: Multiplier of the loss (any real number, negative allowed).
        resize: ``None``, ``'student'`` or ``'teacher'``; see :func:`align_spatial`.
    """

    _base_hparams: ClassVar[tuple[str, ...]] = ('loss_weight', 'resize')

    def __init__(self, loss_weight: float = 1.0, resize: Optional[str] = None) -> None:
        check_loss_weight(loss_weight)
        check_resize(resize)
        super().__init__(loss_weight)
        self.resize = resize


class TemperatureDenseLoss(WeightedDenseLoss):
    """Base of the dense losses on softened distributions: a validated temperature ``tau``.

    Args:
        tau: Temperature ``τ > 0``.
        loss_weight: Multiplier of the loss.
        resize: ``None``, ``'student'`` or ``'teacher'``; see :func:`align_spatial`.
    """

    hparams = ('tau',)

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0,
                 resize: Optional[str] = None) -> None:
        check_tau(tau)
        super().__init__(loss_weight, resize)
        self.tau = tau


__all__ = [
    'RESIZE_MODES', 'check_tensor', 'check_resize', 'check_tau', 'check_loss_weight',
    'align_spatial', 'check_pair', 'check_mask', 'masked_mean', 'pixel_entropy', 'WeightedLoss',
    'WeightedDenseLoss', 'TemperatureDenseLoss',
]
