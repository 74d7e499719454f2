"""DFAD: data-free adversarial distillation (Fang et al., arXiv 1912.11006).

Per iteration (as the reference code, github.com/VainF/Data-Free-Adversarial-Distillation):
``student_steps`` student updates minimising the L1
logit discrepancy on G(z), then one generator update maximising it with
``L_G = -log(1 + mean|S(G(z)) - T(G(z))|)``. No real images are used.
"""
from __future__ import annotations

from typing import Dict

import torch

from densekd.registry import MODELS

from .generative import BaseGenerativeDistiller, frozen
from .base import select_wrapper


@MODELS.register_module()
class DFAD(BaseGenerativeDistiller):
    """Data-free adversarial distillation.

    The generator loss (``generator_losses``, see :class:`GeneratorLossSet`) defaults to the
    reference's ``adv=dict(type='DFADGeneratorLoss', loss_weight=1.0)``, ``-log(1 + L1)``.

    Args:
        kd_loss: student loss; the reference's L1 on logits by default.
        **kwargs: :class:`BaseGenerativeDistiller` arguments (``generator``, ``batch_size``,
            ``student_steps`` = 5 as in the reference, ``generator_losses``, ...).
    """

    default_generator_losses = dict(adv=dict(type='DFADGeneratorLoss', loss_weight=1.0))
    generator_inputs = ('s_logits', 't_logits')

    def __init__(self, kd_loss: dict | None = None, **kwargs):
        super().__init__(kd_loss=kd_loss or dict(type='L1LogitLoss'), **kwargs)

    def generator_step(self, optim_wrapper) -> Dict[str, torch.Tensor]:
        with select_wrapper(optim_wrapper, 'generator').optim_context(self.generator), \
                frozen(self.student):
            images = self.sample_images()
            s_logits = self.student(images)
            # The teacher is frozen but not under no_grad: the gradient reaches G through it.
            with self.generator_losses.record_teacher():
                t_logits = self.teacher(images)
            losses = self.generator_losses(s_logits=s_logits, t_logits=t_logits)
        return self.optimize(optim_wrapper, 'generator', losses, prefix='gen')

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        log_vars = {}
        for _ in range(self.student_steps_now()):  # student first, as the reference
            log_vars.update(self.student_step(optim_wrapper))
        log_vars.update(self.generator_step(optim_wrapper))
        return log_vars
