"""DAFL: data-free learning of student networks (Chen et al., ICCV 2019), made dense.

Per iteration: one generator update with the one-hot (per-pixel CE to the teacher's argmax),
activation (-mean |teacher features|) and information-entropy (class balance of the batch-mean
prediction) losses, then ``student_steps`` KD updates. By default the first KD update is on the
generator step's own images and teacher outputs (detached), as in the official code
(https://github.com/huawei-noah/Efficient-Computing, ``Data-Efficient-Model-Compression/DAFL``:
one ``G(z)``, one backward for generator and student), and the weights are the official
1 / 0.1 / 5; further KD updates draw fresh images.
"""
from __future__ import annotations

from typing import Dict, Tuple

import torch

from densekd.registry import MODELS

from .base import select_wrapper
from .generative import BaseGenerativeDistiller


@MODELS.register_module()
class DAFL(BaseGenerativeDistiller):
    """Data-free learning with one-hot, activation and information-entropy generator losses.

    The generator losses (``generator_losses``, see :class:`GeneratorLossSet`) default to the
    official terms and weights (mmrazor's DAFL config: 0.05, 0.01, 5)::

        generator_losses=dict(
            onehot=dict(type='OnehotLoss', loss_weight=1.0),        # per-pixel pseudo-label CE
            activation=dict(type='ActivationLoss', loss_weight=0.1,
                            teacher='decoder'),                     # smp decoder features
            ie=dict(type='InformationEntropyLoss', loss_weight=5.0))

    ``teacher`` is the module whose output feeds the activation loss (smp's ``decoder``: the
    features before the classifier).

    Args:
        shared_batch: the first student update reuses the generator step's images and teacher
            logits (detached), as the official loop does, saving a generator and a teacher
            forward per iteration; False draws fresh images for every student update (mmrazor).
        **kwargs: :class:`BaseGenerativeDistiller` arguments.
    """

    default_generator_losses = dict(
        onehot=dict(type='OnehotLoss', loss_weight=1.0),
        activation=dict(type='ActivationLoss', loss_weight=0.1, teacher='decoder'),
        ie=dict(type='InformationEntropyLoss', loss_weight=5.0))
    generator_inputs = ('t_logits',)

    def __init__(self, shared_batch: bool = True, **kwargs):
        kwargs.setdefault('student_steps', 1)
        super().__init__(**kwargs)
        self.shared_batch = shared_batch

    def generator_step(self, optim_wrapper) -> Tuple[Dict[str, torch.Tensor], torch.Tensor,
                                                      torch.Tensor]:
        """The generator update; returns its log, and its images and teacher logits detached."""
        with select_wrapper(optim_wrapper, 'generator').optim_context(self.generator):
            images = self.sample_images()
            with self.generator_losses.record_teacher():
                t_logits = self.teacher(images)
            losses = self.generator_losses(t_logits=t_logits)
        log_vars = self.optimize(optim_wrapper, 'generator', losses, prefix='gen')
        return log_vars, images.detach(), t_logits.detach()

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        log_vars, images, t_logits = self.generator_step(optim_wrapper)
        steps = self.student_steps_now()
        if self.shared_batch and steps:
            inputs = self.with_replay(images)
            if inputs.shape[0] > images.shape[0]:  # replayed images need their teacher logits
                with torch.no_grad():
                    replayed = self.teacher(inputs[images.shape[0]:])
                t_logits = torch.cat([t_logits, replayed], dim=0)
            log_vars.update(self.kd_step(optim_wrapper, inputs, t_logits))
            steps -= 1
        for _ in range(steps):
            log_vars.update(self.student_step(optim_wrapper))
        return log_vars
