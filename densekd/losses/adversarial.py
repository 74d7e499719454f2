"""Generator / discriminator losses of the adversarial data-free and OOD KD methods.

Dense versions of the terms of MosaicKD (Fang et al., NeurIPS 2021), DFAD (Fang et al.,
arXiv 1912.11006) and DAFL (Chen et al., ICCV 2019); ``docs/methods.md`` gives their formulas
and where densekd departs from the reference code. Every term takes logit maps B×C×H×W (any
``B×C×…`` works; a plain B×C classification batch is the 1×1 case) and **averages over
pixels**, so the value does not depend on the image size; with H = W = 1 each term equals the
classification formula of the reference code.

Each loss is a function plus a registered ``nn.Module`` with a ``loss_weight``. The modules
are what the generative regimes build from their ``generator_losses`` config
(:class:`densekd.algorithms.GeneratorLossSet`); each names in ``inputs`` the tensors of the
generator step it reads, in ``forward``'s order: ``'t_logits'`` / ``'s_logits'`` (teacher /
student logits on the generated images), ``'d_logits'`` (the patch discriminator's map) or
``'t_features'`` (a tapped teacher feature map).
"""
from __future__ import annotations

import math
from typing import ClassVar, Tuple

import torch
import torch.nn.functional as F

from densekd.registry import MODELS

from .utils import WeightedLoss, pixel_entropy


def _check_logits(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'{name} must be a tensor, got {type(x).__name__}')
    if x.dim() < 2:
        raise ValueError(f'{name} must be B×C×H×W (or B×C), got shape {tuple(x.shape)}')
    if not x.is_floating_point():
        raise TypeError(f'{name} must be floating point, got {x.dtype}')


def _check_pair(s_logits: torch.Tensor, t_logits: torch.Tensor) -> None:
    _check_logits(s_logits, 's_logits')
    _check_logits(t_logits, 't_logits')
    if s_logits.shape != t_logits.shape:
        raise ValueError(f'student and teacher logits must have the same shape, got '
                         f'{tuple(s_logits.shape)} and {tuple(t_logits.shape)} (resize the '
                         f'student logits to the teacher size first)')


def _check_reduction(reduction: str) -> None:
    if reduction not in ('mean', 'sum'):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")


def _mean_class_probs(logits: torch.Tensor) -> torch.Tensor:
    """Class prior ``p̄_c``: softmax averaged over all images and pixels, shape C."""
    probs = F.softmax(logits, dim=1)
    return probs.transpose(0, 1).reshape(probs.shape[1], -1).mean(dim=1)


# --------------------------------------------------------------------------------------------
# MosaicKD: L_local (patch GAN), L_align (teacher entropy), L_balance, L_adv (DRO)
# --------------------------------------------------------------------------------------------
def patch_gan_loss(logits: torch.Tensor, target_is_real: bool,
                   reduction: str = 'mean') -> torch.Tensor:
    """PatchGAN binary cross-entropy of a discriminator logit map.

    ``reduction='mean'``: ``L = mean_{b,h,w} BCEWithLogits(D(x)_{b,h,w}, y)`` with ``y = 1``
    (real) or ``0`` (fake), so ``local`` weights do not depend on the image size.
    ``reduction='sum'``: summed over an image's patch outputs and averaged over the batch, the
    ``sum / B`` of MosaicKD's code (``kd_mosaic.py``, Eqn. 3), i.e. the mean times ``h·w``; it
    grows with the image size, but the reference's weights keep their meaning
    (``docs/methods.md``, MosaicKD). D's loss is
    ``(patch_gan_loss(D(fake), False) + patch_gan_loss(D(real), True)) / 2``; G's ``L_local`` is
    ``patch_gan_loss(D(G(z)), True)``.

    Args:
        logits: discriminator logit map B×1×h×w (any shape).
        target_is_real: True for the "real" label.
        reduction: ``'mean'`` or ``'sum'``.

    Returns:
        Scalar loss.
    """
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError('logits must be a floating-point tensor')
    if not isinstance(target_is_real, bool):
        raise TypeError(f'target_is_real must be a bool, got {target_is_real!r}')
    _check_reduction(reduction)
    target = torch.full_like(logits, 1.0 if target_is_real else 0.0)
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction='mean')
    # The mean times the outputs per image, rather than a 'sum' reduction: both are sum / B.
    return loss * logits[0].numel() if reduction == 'sum' else loss


def teacher_entropy_loss(t_logits: torch.Tensor) -> torch.Tensor:
    """MosaicKD ``L_align``: mean per-pixel entropy of the teacher (natural log).

    ``L = mean_{b,h,w} [ -Σ_c p_{bchw} log p_{bchw} ]``, ``p = softmax_c(t)``. Minimising it makes
    the teacher confident on generated images (globally legitimate, in-domain looking).
    Reference (classification): ``mean_b -Σ_c p log p`` (``kd_mosaic.py``, Eqn. 4).

    Args:
        t_logits: teacher logits B×C×H×W (or B×C).

    Returns:
        Scalar loss in nats, in ``[0, log C]``.
    """
    _check_logits(t_logits, 't_logits')
    return pixel_entropy(t_logits).mean()


def class_balance_loss(t_logits: torch.Tensor, base: float = 2.0) -> torch.Tensor:
    """MosaicKD ``L_balance``: negative entropy of the pixel-level class prior.

    ``L = Σ_c p̄_c log_base p̄_c`` with ``p̄_c = mean_{b,h,w} softmax_c(t)`` over **all pixels
    and images** of the batch. Minimising it spreads the teacher's predictions over classes
    (against mode collapse). Reference: ``Σ_c p̄_c log2 p̄_c`` with ``p̄`` the batch mean
    (``kd_mosaic.py``); ``base=10`` gives DAFL's information-entropy loss.

    Args:
        t_logits: teacher logits B×C×H×W (or B×C).
        base: logarithm base (2 in MosaicKD, 10 in DAFL, ``math.e`` for nats).

    Returns:
        Scalar loss in ``[-log_base C, 0]``.
    """
    _check_logits(t_logits, 't_logits')
    if not base > 0 or base == 1:
        raise ValueError(f'base must be positive and != 1, got {base}')
    p_bar = _mean_class_probs(t_logits)
    # xlogy gives 0·log 0 = 0 when a class prior underflows to exactly 0.
    return torch.special.xlogy(p_bar, p_bar).sum() / math.log(base)


def kl_adversarial_loss(s_logits: torch.Tensor, t_logits: torch.Tensor) -> torch.Tensor:
    """MosaicKD ``L_adv`` (DRO term): minus the per-pixel teacher→student KL divergence.

    ``L = -mean_{b,h,w} KL(p_T || p_S) = -mean_{b,h,w} Σ_c p_T (log p_T - log p_S)`` at
    temperature 1. The generator minimises it, i.e. seeks images where the student disagrees
    with the teacher. Reference: ``-kldiv(s, t)`` with ``reduction='batchmean'``
    (``kd_mosaic.py``, Eqn. 7); on 4-D maps we divide by B·H·W, not B
    (``docs/methods.md``, MosaicKD). Gradients flow into both logit maps (the teacher is frozen
    but its input, the generated image, is not).

    Args:
        s_logits: student logits B×C×H×W (or B×C).
        t_logits: teacher logits, same shape.

    Returns:
        Scalar loss (<= 0).
    """
    _check_pair(s_logits, t_logits)
    log_t = F.log_softmax(t_logits, dim=1)
    log_s = F.log_softmax(s_logits, dim=1)
    kl = (log_t.exp() * (log_t - log_s)).sum(dim=1)
    return -kl.mean()


# --------------------------------------------------------------------------------------------
# DFAD
# --------------------------------------------------------------------------------------------
def dfad_generator_loss(s_logits: torch.Tensor, t_logits: torch.Tensor) -> torch.Tensor:
    """DFAD generator loss: ``-log(1 + mean_{b,c,h,w} |S - T|)`` on raw logits.

    The mean absolute error is over every element (B·C·H·W), as in DFAD's NYUv2 / CamVid
    scripts (``DFAD_nyu_deeplab.py``); the log damps the gradient once the gap is large
    (``docs/methods.md``, DFAD). The CIFAR script's plain ``-mean|S - T|`` is
    ``-l1`` of this mean.

    Args:
        s_logits: student logits B×C×H×W (or B×C).
        t_logits: teacher logits, same shape.

    Returns:
        Scalar loss (<= 0).
    """
    _check_pair(s_logits, t_logits)
    return -torch.log1p((s_logits - t_logits).abs().mean())


# --------------------------------------------------------------------------------------------
# DAFL (mmrazor ``mmrazor/models/losses/dafl_loss.py`` conventions)
# --------------------------------------------------------------------------------------------
def onehot_loss(t_logits: torch.Tensor) -> torch.Tensor:
    """DAFL one-hot loss: cross-entropy of the teacher with its own arg-max, per pixel.

    ``L = mean_{b,h,w} CE(t_{b,:,h,w}, argmax_c t_{b,:,h,w})``. The pseudo label carries no
    gradient (as ``preds_T.data.max(1)[1]`` in mmrazor's ``OnehotLikeLoss``).

    Args:
        t_logits: teacher logits B×C×H×W (or B×C).

    Returns:
        Scalar loss in nats.
    """
    _check_logits(t_logits, 't_logits')
    pseudo = t_logits.detach().argmax(dim=1)
    return F.cross_entropy(t_logits, pseudo, reduction='mean')


def activation_loss(features: torch.Tensor) -> torch.Tensor:
    """DAFL activation loss: ``-mean |features|`` over every element.

    For dense features B×C×H×W the mean over all elements keeps the term size-independent
    (mmrazor ``ActivationLoss(norm_type='abs')``; DAFL applies it to the penultimate features).

    Args:
        features: teacher features, any shape.

    Returns:
        Scalar loss (<= 0).
    """
    if not isinstance(features, torch.Tensor) or not features.is_floating_point():
        raise TypeError('features must be a floating-point tensor')
    if features.numel() == 0:
        raise ValueError('features is empty')
    return -features.abs().mean()


def information_entropy_loss(t_logits: torch.Tensor) -> torch.Tensor:
    """DAFL information-entropy loss ``Σ_c p̄_c log10 p̄_c``, ``p̄`` over all images and pixels.

    mmrazor ``InformationEntropyLoss`` (and DAFL's code) use ``log10`` of the batch-mean softmax;
    here the mean also runs over pixels. Equal to ``class_balance_loss(t_logits, base=10)``.

    Args:
        t_logits: teacher logits B×C×H×W (or B×C).

    Returns:
        Scalar loss in ``[-log10 C, 0]``.
    """
    return class_balance_loss(t_logits, base=10.0)


# --------------------------------------------------------------------------------------------
# Registered modules
# --------------------------------------------------------------------------------------------
class _WeightedLoss(WeightedLoss):
    """:class:`WeightedLoss` whose ``loss_weight`` is converted with ``float`` (no other check).

    Subclasses set ``inputs``, the generator-step tensors ``forward`` takes, in order.
    """

    inputs: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__(float(loss_weight))


@MODELS.register_module()
class PatchGANLoss(_WeightedLoss):
    """Module form of :func:`patch_gan_loss` times ``loss_weight``.

    MosaicKD's ``L_local`` (``target_is_real=True``: fool D) and, with both labels, D's loss.

    Args:
        reduction: ``'mean'`` over every patch output (default) or ``'sum'`` over an image's
            patches, averaged over the batch (the reference's reduction).
        loss_weight: multiplier.
    """

    inputs = ('d_logits',)
    hparams = ('reduction',)

    def __init__(self, reduction: str = 'mean', loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        _check_reduction(reduction)
        self.reduction = reduction

    def forward(self, logits: torch.Tensor, target_is_real: bool = True) -> torch.Tensor:
        return self.loss_weight * patch_gan_loss(logits, target_is_real, self.reduction)


@MODELS.register_module()
class TeacherEntropyLoss(_WeightedLoss):
    """Module form of :func:`teacher_entropy_loss` (MosaicKD ``L_align``)."""

    inputs = ('t_logits',)

    def forward(self, t_logits: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * teacher_entropy_loss(t_logits)


@MODELS.register_module()
class ClassBalanceLoss(_WeightedLoss):
    """Module form of :func:`class_balance_loss` (MosaicKD ``L_balance``).

    Args:
        base: logarithm base (2 as in MosaicKD).
        loss_weight: multiplier.
    """

    inputs = ('t_logits',)
    hparams = ('base',)

    def __init__(self, base: float = 2.0, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if not base > 0 or base == 1:
            raise ValueError(f'base must be positive and != 1, got {base}')
        self.base = float(base)

    def forward(self, t_logits: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * class_balance_loss(t_logits, self.base)


@MODELS.register_module()
class KLAdversarialLoss(_WeightedLoss):
    """Module form of :func:`kl_adversarial_loss` (MosaicKD ``L_adv``)."""

    inputs = ('s_logits', 't_logits')

    def forward(self, s_logits: torch.Tensor, t_logits: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * kl_adversarial_loss(s_logits, t_logits)


@MODELS.register_module()
class DFADGeneratorLoss(_WeightedLoss):
    """Module form of :func:`dfad_generator_loss`."""

    inputs = ('s_logits', 't_logits')

    def forward(self, s_logits: torch.Tensor, t_logits: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * dfad_generator_loss(s_logits, t_logits)


@MODELS.register_module()
class OnehotLoss(_WeightedLoss):
    """Module form of :func:`onehot_loss` (DAFL)."""

    inputs = ('t_logits',)

    def forward(self, t_logits: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * onehot_loss(t_logits)


@MODELS.register_module()
class ActivationLoss(_WeightedLoss):
    """Module form of :func:`activation_loss` (DAFL), on a tapped teacher feature map.

    Its :class:`~densekd.algorithms.GeneratorLossSet` entry names the module with ``teacher``,
    e.g. ``dict(type='ActivationLoss', loss_weight=0.1, teacher='decoder')``.
    """

    inputs = ('t_features',)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * activation_loss(features)


@MODELS.register_module()
class InformationEntropyLoss(_WeightedLoss):
    """Module form of :func:`information_entropy_loss` (DAFL, log10)."""

    inputs = ('t_logits',)

    def forward(self, t_logits: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * information_entropy_loss(t_logits)
