"""KD: distil the teacher into the student on whatever images the train loader gives.

In-domain images give the "KD-ORI" upper bound, OOD images give "blind KD", a
:class:`densekd.datasets.MixedImagesDataset` gives both. Labels are never used.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

import torch

from densekd.registry import MODELS

from .base import BaseDistiller, select_wrapper
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
        **kwargs: :class:`BaseDistiller` arguments (``data_norm``, ``eval_teacher``, ...).
    """

    def __init__(self, teacher: dict, student: dict, losses: Optional[Dict[str, dict]] = None,
                 check_input_size: Optional[Tuple[int, int]] = (64, 64), **kwargs):
        super().__init__(teacher=teacher, student=student, **kwargs)
        self.distill_losses = DistillLossSet(losses or dict(kd=dict(type='PixelKDLoss', tau=1.0)))
        self.distill_losses.attach(self.student, self.teacher, check_input_size)

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
        with select_wrapper(optim_wrapper, 'student').optim_context(self.student):
            losses = self.loss(data['inputs'])
        return self.optimize(optim_wrapper, 'student', losses)
