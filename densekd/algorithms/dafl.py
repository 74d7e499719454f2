"""DAFL: data-free learning of student networks (Chen et al., ICCV 2019), made dense.

Per iteration: one generator update with the one-hot (per-pixel CE to the teacher's argmax),
activation (-mean |teacher features|) and information-entropy (class balance of the batch-mean
prediction) losses, then ``student_steps`` KD updates on generated images
(reference/methods.md §2.7; weights of mmrazor's DAFL config by default).
"""
from __future__ import annotations

from typing import Dict

import torch

from densekd.losses.adversarial import activation_loss, information_entropy_loss, onehot_loss
from densekd.models.recorders import RecorderManager
from densekd.registry import MODELS

from .base import select_wrapper
from .generative import BaseGenerativeDistiller


@MODELS.register_module()
class DAFL(BaseGenerativeDistiller):
    """Data-free learning with one-hot, activation and information-entropy generator losses.

    Args:
        onehot_weight: weight of the per-pixel one-hot (pseudo-label CE) loss.
        activation_weight: weight of the activation loss on ``feature_source``.
        ie_weight: weight of the information-entropy loss.
        feature_source: teacher module path whose output feeds the activation loss
            (smp ``decoder`` by default, the features before the classifier).
        **kwargs: :class:`BaseGenerativeDistiller` arguments.
    """

    def __init__(self, onehot_weight: float = 0.05, activation_weight: float = 0.01,
                 ie_weight: float = 5.0, feature_source: str = 'decoder', **kwargs):
        kwargs.setdefault('student_steps', 1)
        super().__init__(**kwargs)
        self.weights = dict(onehot=onehot_weight, activation=activation_weight, ie=ie_weight)
        self.teacher_features = RecorderManager({'features': feature_source})
        self.teacher_features.initialize(self.teacher)

    def generator_step(self, optim_wrapper) -> Dict[str, torch.Tensor]:
        with select_wrapper(optim_wrapper, 'generator').optim_context(self.generator):
            images = self.sample_images()
            with self.teacher_features:
                t_logits = self.teacher(images)
            features = self.teacher_features.get('features')
            losses = dict(
                loss_onehot=self.weights['onehot'] * onehot_loss(t_logits),
                loss_activation=self.weights['activation'] * activation_loss(features),
                loss_ie=self.weights['ie'] * information_entropy_loss(t_logits))
        return self.optimize(optim_wrapper, 'generator', losses, prefix='gen')

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        log_vars = self.generator_step(optim_wrapper)
        for _ in range(self.student_steps_now()):
            log_vars.update(self.student_step(optim_wrapper))
        return log_vars
