r"""Dense KD with an auxiliary variable: pixel membership in a queue of teacher pixels.

Peng, Fang, Zhang and Lu, "Knowledge Distillation with Auxiliary Variable", ICML 2024
(PMLR v235, proceedings.mlr.press/v235/peng24a.html) rewrite the student's predictive
distribution through an auxiliary variable related to the target. The published abstract says
only that much; no code is public. The parameterisation here (instance membership as the
variable, a von Mises-Fisher likelihood on normalised features, a queue of teacher features, a
Bayes-rule classifier) follows a secondary summary of the paper and is made per pixel:

* the auxiliary variable ``j`` is *which queued teacher pixel* a pixel belongs to;
* the queue holds ``L`` L2-normalised teacher embeddings ``t_j`` of pixels sampled from past
  batches, each with the teacher's class posterior there, ``q_j(y) = softmax(z^T_j / τ)_y``;
* with a shared concentration κ, a vMF likelihood gives the membership posterior
  ``p(j | s_i) = softmax_j(κ · cos(s_i, t_j))`` (the equal vMF normalisers cancel);
* total probability over ``j`` gives the membership-aware predictive distribution
  ``p_S(y | x_i) = Σ_j p(j | s_i) q_j(y)``.

The per-pixel loss is

.. math::
    \ell_i = \beta\,\mathrm{KL}\big(p_T(y \mid x_i) \,\|\, p_S(y \mid x_i)\big)
           + \alpha\,\mathrm{KL}\big(p(j \mid t_i) \,\|\, p(j \mid s_i)\big),

averaged over the valid pixels, with ``p_T = softmax(z^T_i / τ)`` and ``p(j | t_i)`` the
teacher's own membership posterior over the queue. docs/methods.md ("KD with an auxiliary
variable (dense)") has the derivation and what is and is not taken from the paper.
"""
from __future__ import annotations

from typing import ClassVar, Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

from densekd.registry import MODELS

from .utils import WeightedDenseLoss, align_spatial, check_mask, check_pair, check_tau

#: Floor of ``p_S`` before its log: a mixture of softmax outputs underflows only in float32
#: corner cases (every queued posterior ~0 for a class), which would otherwise give ``log 0``.
_EPS = 1e-12


def _fp32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 unless it is float32 or float64 already."""
    return x if x.dtype in (torch.float32, torch.float64) else x.float()


def membership_log_posterior(emb: torch.Tensor, queue_emb: torch.Tensor,
                             kappa: float) -> torch.Tensor:
    r"""``log p(j | e_i) = log_softmax_j(κ · e_i · t_j)`` for unit-norm rows ``e_i`` and ``t_j``.

    Args:
        emb: ``(N, D)`` L2-normalised embeddings.
        queue_emb: ``(M, D)`` L2-normalised queue embeddings.
        kappa: vMF concentration κ > 0.

    Returns:
        ``(N, M)`` log membership posteriors.
    """
    return F.log_softmax(kappa * emb @ queue_emb.t(), dim=1)


def membership_predictive(emb: torch.Tensor, queue_emb: torch.Tensor, queue_prob: torch.Tensor,
                          kappa: float) -> torch.Tensor:
    r"""``p_S(y | x_i) = Σ_j p(j | s_i) q_j(y)``, the membership-aware predictive distribution.

    Args:
        emb: ``(N, D)`` L2-normalised student embeddings.
        queue_emb: ``(M, D)`` L2-normalised teacher embeddings of the queue.
        queue_prob: ``(M, C)`` the teacher's class posteriors of the queued pixels.
        kappa: vMF concentration κ > 0.

    Returns:
        ``(N, C)`` class distributions (rows sum to 1).
    """
    return membership_log_posterior(emb, queue_emb, kappa).exp() @ queue_prob


def aux_variable_terms(s_emb: torch.Tensor, t_emb: torch.Tensor, t_log_prob: torch.Tensor,
                       queue_emb: torch.Tensor, queue_prob: torch.Tensor,
                       kappa: float) -> Dict[str, torch.Tensor]:
    r"""The two per-pixel KL terms of the auxiliary-variable loss (no weights, no reduction).

    Args:
        s_emb: ``(N, D)`` L2-normalised student embeddings (with graph).
        t_emb: ``(N, D)`` L2-normalised teacher embeddings of the same pixels.
        t_log_prob: ``(N, C)`` ``log softmax(z^T_i / τ)``, the teacher's posterior at each pixel.
        queue_emb: ``(M, D)`` queue embeddings.
        queue_prob: ``(M, C)`` queue class posteriors.
        kappa: vMF concentration κ > 0.

    Returns:
        ``dict(predictive=(N,), membership=(N,))``: ``KL(p_T(y|x_i) || p_S(y|x_i))`` and
        ``KL(p(j|t_i) || p(j|s_i))``.
    """
    log_m_s = membership_log_posterior(s_emb, queue_emb, kappa)
    log_p_s = (log_m_s.exp() @ queue_prob).clamp_min(_EPS).log()
    predictive = (t_log_prob.exp() * (t_log_prob - log_p_s)).sum(1)
    with torch.no_grad():  # the teacher side: target only (its entropy is a constant)
        log_m_t = membership_log_posterior(t_emb, queue_emb, kappa)
        m_t = log_m_t.exp()
        neg_entropy = (m_t * log_m_t).sum(1)
    membership = neg_entropy - (m_t * log_m_s).sum(1)
    return dict(predictive=predictive, membership=membership)


def sample_pixels(mask: torch.Tensor, k: int) -> torch.Tensor:
    """Flat indices of up to ``k`` random valid pixels of each image (fewer where fewer are valid).

    The scores come from torch's global CPU generator, so a run draws the same pixels on any
    device and a resumed run (whose random state is restored) the same as an uninterrupted one.

    Args:
        mask: ``(B, P)`` boolean valid-pixel mask.
        k: pixels per image.

    Returns:
        Indices into the ``B·P`` flattened pixels, on ``mask``'s device.
    """
    b, p = mask.shape
    k = min(k, p)
    scores = torch.rand(b, p)
    scores[~mask.cpu()] = -1.0  # invalid pixels are ranked last and dropped
    top, idx = scores.topk(k, dim=1)
    flat = (idx + p * torch.arange(b)[:, None]).reshape(-1)[top.reshape(-1) >= 0]
    return flat.to(mask.device)


@MODELS.register_module()
class AuxVariableKDLoss(WeightedDenseLoss):
    r"""Dense KD with an auxiliary variable (pixel membership in a teacher queue).

    ``loss_weight · mean_{i∈Ω} [β · KL(p_T(y|x_i) || p_S(y|x_i)) + α · KL(p(j|t_i) || p(j|s_i))]``
    over the pixels of the feature map (see the module docstring for ``p_S`` and ``p(j|·)``).

    Inputs: the student feature ``(B, student_channels, h, w)`` (a learnable 1×1 conv maps it to
    ``teacher_channels``), the teacher feature ``(B, teacher_channels, h, w)`` and the teacher
    logits ``(B, num_classes, H, W)``, resized bilinearly to the feature size when they differ.
    In a :class:`~densekd.algorithms.DistillLossSet` the logits come from the entry's
    ``teacher_logits`` tap (default: the teacher output). Called with two tensors only (e.g. as
    the ``kd_loss`` of a generative regime, which passes student and teacher logits), the teacher
    input is both the teacher feature and the logits: then ``student_channels`` and
    ``teacher_channels`` are the class count.

    The queue (``L = queue_size`` entries, registered buffers: checkpointed and resumed exactly)
    is read *before* the current batch joins it, so a pixel never finds its own entry (its
    teacher membership would be one-hot on itself and ``p_S`` could copy its own posterior).
    While it is empty the loss is a zero with a graph. In training mode every call then
    enqueues ``pixels_per_image`` random valid pixels of each image (:func:`sample_pixels`);
    in eval mode the queue is left as it is. In a multi-process run the buffers are broadcast
    from rank 0 after every iteration, so every rank uses rank 0's queue.

    The projection has parameters: they must be in an optimizer, e.g.
    ``optim_wrapper.student.with_children=['distill_losses']`` with the
    ``SubmoduleOptimConstructor`` (``['kd_loss']`` in the generative regimes).

    Args:
        student_channels: channels of the student input.
        teacher_channels: channels of the teacher feature (the embedding dim D).
        num_classes: classes of the teacher logits.
        queue_size: queue length L.
        pixels_per_image: pixels of each image enqueued per call.
        kappa: vMF concentration κ (a choice: the paper's value is not known).
        tau: temperature of the teacher posteriors ``p_T`` and ``q_j``.
        alpha: weight α of the membership term.
        beta: weight β of the predictive term.
        loss_weight: multiplier of the whole loss.
        resize: ``None``, ``'student'`` or ``'teacher'``: aligns the two feature maps (see
            :func:`~densekd.losses.utils.align_spatial`).
        anchors_per_image: in training mode, average the loss over this many random valid
            pixels of each image instead of all of them (a speed option; None: all pixels).
    """

    hparams: ClassVar[tuple] = ('student_channels', 'teacher_channels', 'num_classes',
                                'queue_size', 'pixels_per_image', 'kappa', 'tau', 'alpha', 'beta',
                                'anchors_per_image')
    #: Tells :class:`~densekd.algorithms.DistillLossSet` to pass ``teacher_logits=``.
    needs_teacher_logits: ClassVar[bool] = True

    def __init__(self, student_channels: int, teacher_channels: int, num_classes: int,
                 queue_size: int = 4096, pixels_per_image: int = 16, kappa: float = 10.0,
                 tau: float = 1.0, alpha: float = 1.0, beta: float = 1.0,
                 loss_weight: float = 1.0, resize: Optional[str] = None,
                 anchors_per_image: Optional[int] = None) -> None:
        for key, value in dict(student_channels=student_channels,
                               teacher_channels=teacher_channels, num_classes=num_classes,
                               queue_size=queue_size, pixels_per_image=pixels_per_image,
                               anchors_per_image=anchors_per_image or 1).items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f'{key} must be a positive int. Got {value!r}.')
        if isinstance(kappa, bool) or not isinstance(kappa, (int, float)) or not kappa > 0:
            raise ValueError(f'kappa must be a positive number. Got {kappa!r}.')
        check_tau(tau)
        for key, value in dict(alpha=alpha, beta=beta).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f'{key} must be a number >= 0. Got {value!r}.')
        super().__init__(loss_weight, resize)
        self.student_channels, self.teacher_channels = student_channels, teacher_channels
        self.num_classes, self.queue_size = num_classes, queue_size
        self.pixels_per_image, self.kappa, self.tau = pixels_per_image, kappa, tau
        self.alpha, self.beta = alpha, beta
        self.anchors_per_image = anchors_per_image
        self.projection = nn.Conv2d(student_channels, teacher_channels, kernel_size=1)
        self.register_buffer('queue_emb', torch.zeros(queue_size, teacher_channels))
        self.register_buffer('queue_prob', torch.zeros(queue_size, num_classes))
        self.register_buffer('queue_ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('queue_filled', torch.zeros((), dtype=torch.long))

    def _check_channels(self, x: torch.Tensor, expected: int, name: str, key: str) -> None:
        if x.shape[1] != expected:
            raise ValueError(f'{name} has {x.shape[1]} channels {tuple(x.shape)}, but the loss '
                             f'was built with {key}={expected}')

    def forward(self, preds_S: torch.Tensor, preds_T: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                teacher_logits: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The weighted loss; in training mode the batch's teacher pixels then join the queue.

        Args:
            preds_S: student feature ``(B, student_channels, h, w)``.
            preds_T: teacher feature ``(B, teacher_channels, h', w')``.
            mask: optional boolean valid-pixel mask ``(B, h, w)`` at the aligned feature size.
            teacher_logits: teacher logits ``(B, num_classes, H, W)``; None uses ``preds_T``.
        """
        check_pair(preds_S, preds_T, same_channels=False, ndim=4)
        if teacher_logits is None:
            teacher_logits = preds_T
        self._check_channels(preds_S, self.student_channels, 'preds_S', 'student_channels')
        self._check_channels(preds_T, self.teacher_channels, 'preds_T', 'teacher_channels')
        self._check_channels(teacher_logits, self.num_classes, 'teacher_logits', 'num_classes')
        s, t = align_spatial(self.projection(preds_S), preds_T, self.resize)
        mask = check_mask(mask, s)
        if teacher_logits.shape[2:] != t.shape[2:]:
            teacher_logits = F.interpolate(teacher_logits, size=t.shape[2:], mode='bilinear',
                                           align_corners=False)
        b, dim = t.shape[:2]
        s_emb = F.normalize(s.movedim(1, -1).reshape(-1, dim), dim=1)
        t_emb = F.normalize(t.detach().movedim(1, -1).reshape(-1, dim), dim=1)
        t_log_prob = F.log_softmax(
            teacher_logits.detach().movedim(1, -1).reshape(-1, self.num_classes) / self.tau, dim=1)
        valid = (torch.ones(b, s_emb.shape[0] // b, dtype=torch.bool, device=s.device)
                 if mask is None else mask.reshape(b, -1))
        if self.training and self.anchors_per_image is not None:
            rows = sample_pixels(valid, self.anchors_per_image)
        else:  # every valid pixel (indexed, so masked pixels take no part at all)
            rows = None if mask is None else valid.reshape(-1).nonzero().squeeze(1)
        filled = int(self.queue_filled)
        if filled == 0 or (rows is not None and rows.numel() == 0):
            loss = s_emb.sum() * 0.0  # nothing to belong to (or no pixel): zero, with a graph
        else:
            anchors = [s_emb, t_emb, t_log_prob] if rows is None else [
                x[rows] for x in (s_emb, t_emb, t_log_prob)]
            # In float32 even under AMP (p_S is floored at 1e-12 before its log). The queue is
            # cloned: its buffers change in place below, after autograd saved what it reads.
            with torch.autocast(device_type=s.device.type, enabled=False):
                terms = aux_variable_terms(*(_fp32(x) for x in anchors),
                                           _fp32(self.queue_emb[:filled]).clone(),
                                           _fp32(self.queue_prob[:filled]).clone(), self.kappa)
            loss = (self.beta * terms['predictive'] + self.alpha * terms['membership']).mean()
        if self.training:
            rows = sample_pixels(valid, self.pixels_per_image)
            self.push(t_emb[rows], t_log_prob[rows].exp())
        return self.loss_weight * loss

    @torch.no_grad()
    def push(self, emb: torch.Tensor, prob: torch.Tensor) -> None:
        """Write rows ``(n, D)`` / ``(n, C)`` at the queue pointer, wrapping around (FIFO)."""
        n = emb.shape[0]
        if n == 0:
            return
        ptr = int(self.queue_ptr)
        # More rows than slots: as if written one by one, only the newest L survive.
        skip = max(n - self.queue_size, 0)
        slots = (ptr + skip + torch.arange(n - skip, device=emb.device)) % self.queue_size
        self.queue_emb[slots] = emb[skip:].to(self.queue_emb.dtype)
        self.queue_prob[slots] = prob[skip:].to(self.queue_prob.dtype)
        self.queue_ptr.fill_((ptr + n) % self.queue_size)
        self.queue_filled.fill_(min(int(self.queue_filled) + n, self.queue_size))


__all__ = ['AuxVariableKDLoss', 'aux_variable_terms', 'membership_log_posterior',
           'membership_predictive', 'sample_pixels']
