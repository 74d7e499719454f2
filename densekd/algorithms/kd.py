"""KD: distil the teacher into the student on whatever images the train loader gives.

In-domain images give the "KD-ORI" upper bound, OOD images give "blind KD", a
:class:`densekd.datasets.MixedImagesDataset` gives both. Labels are never used. With
``cutmix_pick`` each step also distils on the hardest CutMix images of its batch
(:class:`~densekd.algorithms.cutmix_pick.CutMixPick`).
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch

from densekd.registry import MODELS

from .base import BaseDistiller, select_wrapper
from .cutmix_pick import build_cutmix_pick
from .distill_losses import DistillLossSet


@MODELS.register_module()
class KD(BaseDistiller):
    """Distillation with any combination of dense losses.

    Args:
        teacher: teacher segmentor config with ``checkpoint``.
        student: student segmentor config.
        losses: named losses and their taps, see :class:`DistillLossSet`. Default: pixel-wise
            KL with τ = 1 on logits (the CIRKD convention, github.com/winycg/CIRKD).
        check_input_size: dummy input size used to validate taps at build time (``None``
            skips the check).
        cutmix_pick: ``dict(type='CutMixPick', score=..., runs=2, n_pick=None, tau=1.0)``
            (Wang et al., NeurIPS 2022): each student step distils on
            ``cat([x, CutMixPick(x)])``, both halves with the teacher's own output as target.
            With ``n_pick`` = B (the default) the pixel-mean losses of the concatenation are
            ``½ (L(x) + L(x_aug))``, the reference's ``L(x) + L(x_aug)`` halved: the same
            gradient direction, at the scale of plain KD's step. The student's BatchNorm
            sees one batch of 2B images (the reference runs two forwards). None (default)
            distils on ``x`` alone.
        **kwargs: :class:`BaseDistiller` arguments (``data_norm``, ``eval_teacher``, ...).
    """

    def __init__(self, teacher: dict, student: dict, losses: Optional[Dict[str, dict]] = None,
                 check_input_size: Optional[Tuple[int, int]] = (64, 64),
                 cutmix_pick: Optional[dict] = None, **kwargs):
        super().__init__(teacher=teacher, student=student, **kwargs)
        self.distill_losses = DistillLossSet(losses or dict(kd=dict(type='PixelKDLoss', tau=1.0)))
        self.distill_losses.attach(self.student, self.teacher, check_input_size)
        self.cutmix_pick = build_cutmix_pick(cutmix_pick)

    def loss(self, inputs: torch.Tensor,
             seg: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        student_taps, teacher_taps = self.distill_losses.record()
        with teacher_taps, torch.no_grad():
            t_logits = self.teacher(inputs)
        with student_taps:
            s_logits = self.student(inputs)
        return self.distill_losses(s_logits, t_logits)

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        data = self.data_preprocessor(data, True)
        inputs = data['inputs']
        with select_wrapper(optim_wrapper, 'student').optim_context(self.student):
            if self.cutmix_pick is not None:  # scored outside the taps' recording
                inputs = torch.cat([inputs, self.cutmix_pick(inputs, self.teacher, self.student)])
            losses = self.loss(inputs)
        return self.optimize(optim_wrapper, 'student', losses)
