"""MosaicKD made dense (Fang et al., NeurIPS 2021, arXiv 2110.15094;
https://github.com/zju-vipa/MosaicKD).

Four players: generator G, patch discriminator D, frozen teacher T, student S. Per iteration:

1. D step: real OOD images vs G(z) (detached), ``discriminator_loss`` on every patch logit.
2. G step on the same G(z), with D and S frozen, on the ``generator_losses``; by default
   ``L_G = local·L_local + align·L_align + adv·L_adv + balance·L_balance`` where
   L_local fools D on every patch, L_align is the teacher's per-pixel entropy (confident,
   in-domain-looking mosaics), L_adv = -per-pixel KL(T || S) (hard samples for S) and
   L_balance is the negative entropy of the class prior over all pixels of the batch.
3. ``student_steps`` student steps, each on fresh mosaics concatenated with OOD images (and,
   with ``cutmix_pick``, the picked CutMix images of those OOD images).

Every term averages over pixels / patch outputs, so the weights do not depend on image size;
``PatchGANLoss(reduction='sum')`` gives the patch-GAN terms the reference's per-image sum.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch

from densekd.registry import MODELS

from .base import select_wrapper
from .cutmix_pick import build_cutmix_pick
from .generative import BaseGenerativeDistiller, frozen


@MODELS.register_module()
class MosaicKD(BaseGenerativeDistiller):
    """Dense MosaicKD.

    The OOD loader's batch is split into ``1 + student_steps`` equal chunks: the first is
    D's real images, the others join the mosaics of each student step (``ood_in_student``).

    The generator losses (``generator_losses``, see :class:`GeneratorLossSet`) default to the
    reference README's terms and weights::

        generator_losses=dict(
            local=dict(type='PatchGANLoss', loss_weight=1.0),         # fool D on every patch
            align=dict(type='TeacherEntropyLoss', loss_weight=1.0),   # confident teacher
            adv=dict(type='KLAdversarialLoss', loss_weight=1.0),      # -KL(T || S)
            balance=dict(type='ClassBalanceLoss', loss_weight=10.0))  # balanced class prior

    and take ``bn=dict(type='BNStatisticsLoss', loss_weight=...)``, a term not in MosaicKD that
    matches the teacher's BatchNorm running statistics on the mosaics (DeepInversion; the
    ``bn`` term of MosaicKD's own data-free baseline).

    Args:
        discriminator: patch discriminator config (``PatchDiscriminator`` with ``patch_size``).
        discriminator_loss: D's loss, ``½ [L(D(fake), fake) + L(D(real), real)]`` with a
            ``PatchGANLoss`` config (default weight 1, mean reduction). The reference scales it
            with the ``local`` weight, so a config that changes that weight or the reduction
            changes both.
        ood_in_student: distil on OOD images too (reference: yes).
        cutmix_pick: ``dict(type='CutMixPick', ...)`` (Wang et al., NeurIPS 2022, see
            :class:`~densekd.algorithms.cutmix_pick.CutMixPick`): each student step also
            distils on the picked CutMix images of its OOD chunk (``n_pick`` of them, default
            the chunk's size), with the teacher's output on them as target. Needs
            ``ood_in_student``. None (default, the reference) adds nothing.
        **kwargs: :class:`BaseGenerativeDistiller` arguments (``generator``, ``batch_size``,
            ``student_steps`` = 5, ``kd_loss``, ``generator_losses``, ``image_size``) and the
            distiller's.
    """

    uses_ood_images = True
    default_generator_losses = dict(
        local=dict(type='PatchGANLoss', loss_weight=1.0),
        align=dict(type='TeacherEntropyLoss', loss_weight=1.0),
        adv=dict(type='KLAdversarialLoss', loss_weight=1.0),
        balance=dict(type='ClassBalanceLoss', loss_weight=10.0))
    generator_inputs = ('t_logits', 's_logits', 'd_logits')

    def __init__(self, discriminator: dict, discriminator_loss: Optional[dict] = None,
                 ood_in_student: bool = True, cutmix_pick: Optional[dict] = None, **kwargs):
        super().__init__(**kwargs)
        if cutmix_pick is not None and not ood_in_student:
            raise ValueError('model.cutmix_pick mixes the OOD images of each student step; it '
                             'needs model.ood_in_student=True')
        self.cutmix_pick = build_cutmix_pick(cutmix_pick)
        self.discriminator = MODELS.build(discriminator)
        self.to_memory_format(self.discriminator)
        self.discriminator_loss = MODELS.build(
            discriminator_loss or dict(type='PatchGANLoss', loss_weight=1.0))
        if getattr(self.discriminator_loss, 'inputs', None) != ('d_logits',):
            raise ValueError(f'model.discriminator_loss: a loss on the discriminator\'s logits '
                             f'(PatchGANLoss), got {type(self.discriminator_loss).__name__}')
        self.ood_in_student = ood_in_student

    def discriminator_step(self, optim_wrapper, fake: torch.Tensor, real: torch.Tensor
                           ) -> Dict[str, torch.Tensor]:
        with select_wrapper(optim_wrapper, 'discriminator').optim_context(self.discriminator):
            loss = self.discriminator_loss
            losses = dict(loss_fake=0.5 * loss(self.discriminator(fake.detach()), False),
                          loss_real=0.5 * loss(self.discriminator(real), True))
        return self.optimize(optim_wrapper, 'discriminator', losses, prefix='disc')

    def generator_step(self, optim_wrapper, fake: torch.Tensor) -> Dict[str, torch.Tensor]:
        with select_wrapper(optim_wrapper, 'generator').optim_context(self.generator), \
                frozen(self.discriminator, self.student):
            with self.generator_losses.record_teacher():
                t_logits = self.teacher(fake)  # frozen, but the gradient must reach G
            s_logits = self.student(fake)
            losses = self.generator_losses(t_logits=t_logits, s_logits=s_logits,
                                           d_logits=self.discriminator(fake))
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
            extra = ood
            if self.cutmix_pick is not None:  # the chunk plus its hardest CutMixes
                extra = torch.cat([ood, self.cutmix_pick(ood, self.teacher, self.student)])
            log_vars.update(self.student_step(optim_wrapper, extra, sources=sources))
        return log_vars
