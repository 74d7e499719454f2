"""MosaicKD made dense (Fang et al., NeurIPS 2021, arXiv 2110.15094;
https://github.com/zju-vipa/MosaicKD).

Four players: generator G, patch discriminator D, frozen teacher T, student S. Per iteration:

1. D step: real OOD images vs G(z) (detached), BCE on every patch logit.
2. G step on the same G(z), with D and S frozen:
   ``L_G = local·L_local + align·L_align + adv·L_adv + balance·L_balance`` where
   L_local fools D on every patch, L_align is the teacher's per-pixel entropy (confident,
   in-domain-looking mosaics), L_adv = -per-pixel KL(T || S) (hard samples for S) and
   L_balance is the negative entropy of the class prior over all pixels of the batch.
3. ``student_steps`` student steps, each on fresh mosaics concatenated with OOD images.

Every term averages over pixels / patch outputs, so the weights do not depend on image size;
``local_reduction='sum'`` gives the patch-GAN terms the reference's per-image sum instead.
"""
from __future__ import annotations

import contextlib
from typing import Dict, Optional

import torch

from densekd.losses.adversarial import (class_balance_loss, kl_adversarial_loss, patch_gan_loss,
                                        teacher_entropy_loss)
from densekd.losses.bn_statistics import BNStatisticsPrior
from densekd.registry import MODELS

from .base import select_wrapper
from .generative import BaseGenerativeDistiller, frozen


@MODELS.register_module()
class MosaicKD(BaseGenerativeDistiller):
    """Dense MosaicKD.

    The OOD loader's batch is split into ``1 + student_steps`` equal chunks: the first is
    D's real images, the others join the mosaics of each student step (``ood_in_student``).

    Args:
        discriminator: patch discriminator config (``PatchDiscriminator`` with ``patch_size``).
        local_weight: weight of L_local (and of the D loss, as the reference).
        align_weight: weight of L_align.
        adv_weight: weight of L_adv.
        balance_weight: weight of L_balance.
        ood_in_student: distil on OOD images too (reference: yes).
        local_reduction: how the patch-GAN terms (L_local and D's loss) reduce over a patch
            map: ``'mean'`` over every patch output (weights independent of the image size;
            the CPU configs are tuned with it) or ``'sum'``: summed over an image's patches and
            averaged over the batch, as the reference code does, i.e. the mean times the number
            of patches (h·w of D's map), so the reference's weights carry over unchanged.
        bn_weight: weight of an extra generator term ``L_bn`` matching the teacher's
            BatchNorm running statistics on the mosaics (DeepInversion; the ``bn`` term of
            MosaicKD's own data-free baseline). Not part of MosaicKD: 0 (the reference) turns
            it off; see the SynthRooms config for why the CPU demo uses it.
        **kwargs: :class:`BaseGenerativeDistiller` arguments (``generator``, ``batch_size``,
            ``student_steps`` = 5, ``kd_loss``, ``image_size``) and the distiller's.
    """

    uses_ood_images = True

    def __init__(self, discriminator: dict, local_weight: float = 1.0, align_weight: float = 1.0,
                 adv_weight: float = 1.0, balance_weight: float = 10.0,
                 ood_in_student: bool = True, bn_weight: float = 0.0,
                 local_reduction: str = 'mean', **kwargs):
        super().__init__(**kwargs)
        if local_reduction not in ('mean', 'sum'):
            raise ValueError(f"model.local_reduction must be 'mean' or 'sum', got "
                             f'{local_reduction!r}')
        self.local_reduction = local_reduction
        self.discriminator = MODELS.build(discriminator)
        self.to_memory_format(self.discriminator)
        self.weights = dict(local=local_weight, align=align_weight, adv=adv_weight,
                            balance=balance_weight, bn=bn_weight)
        self.bn_prior = BNStatisticsPrior(self.teacher) if bn_weight else None
        self.ood_in_student = ood_in_student

    def patch_loss(self, logits: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        """The patch-GAN BCE of a logit map, reduced as ``local_reduction`` says."""
        loss = patch_gan_loss(logits, target_is_real)
        return loss * logits[0].numel() if self.local_reduction == 'sum' else loss

    def discriminator_step(self, optim_wrapper, fake: torch.Tensor, real: torch.Tensor
                           ) -> Dict[str, torch.Tensor]:
        with select_wrapper(optim_wrapper, 'discriminator').optim_context(self.discriminator):
            w = self.weights['local'] / 2
            losses = dict(loss_fake=w * self.patch_loss(self.discriminator(fake.detach()), False),
                          loss_real=w * self.patch_loss(self.discriminator(real), True))
        return self.optimize(optim_wrapper, 'discriminator', losses, prefix='disc')

    def generator_step(self, optim_wrapper, fake: torch.Tensor) -> Dict[str, torch.Tensor]:
        with select_wrapper(optim_wrapper, 'generator').optim_context(self.generator), \
                frozen(self.discriminator, self.student):
            with self.bn_prior or contextlib.nullcontext():
                t_logits = self.teacher(fake)  # frozen, but the gradient must reach G
            s_logits = self.student(fake)
            losses = dict(
                loss_local=self.weights['local'] * self.patch_loss(self.discriminator(fake), True),
                loss_align=self.weights['align'] * teacher_entropy_loss(t_logits),
                loss_adv=self.weights['adv'] * kl_adversarial_loss(s_logits, t_logits),
                loss_balance=self.weights['balance'] * class_balance_loss(t_logits))
            if self.bn_prior is not None:
                losses['loss_bn'] = self.weights['bn'] * self.bn_prior.loss()
        return self.optimize(optim_wrapper, 'generator', losses, prefix='gen')

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        data = self.data_preprocessor(data, True)
        chunks = data['inputs'].chunk(1 + self.student_steps)
        if len(chunks) < 1 + self.student_steps and self.ood_in_student:
            raise ValueError(
                f'MosaicKD splits the OOD batch into 1 + student_steps = '
                f'{1 + self.student_steps} chunks; train_dataloader.batch_size='
                f'{data["inputs"].shape[0]} is too small')
        with select_wrapper(optim_wrapper, 'generator').optim_context(self.generator):
            fake = self.sample_images(ood=chunks[0])
        log_vars = self.discriminator_step(optim_wrapper, fake, chunks[0])
        log_vars.update(self.generator_step(optim_wrapper, fake))
        for step in range(self.student_steps_now()):
            ood: Optional[torch.Tensor] = chunks[1 + step] if self.ood_in_student else None
            sources = ood if ood is not None else chunks[0]
            log_vars.update(self.student_step(optim_wrapper, ood, sources=sources))
        return log_vars
