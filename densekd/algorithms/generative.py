"""Shared base of the regimes that synthesise their training images with a generator."""
from __future__ import annotations

import contextlib
import copy
from typing import ClassVar, Dict, Optional, Sequence, Tuple

import torch
from mmengine.logging import MessageHub
from torch import nn

from densekd.models.replay_pool import ReplayPool
from densekd.registry import MODELS

from .base import BaseDistiller, select_wrapper
from .distill_losses import GeneratorLossSet


@contextlib.contextmanager
def frozen(*modules: nn.Module):
    """Temporarily switch off ``requires_grad`` of ``modules``.

    In a generator step the loss flows *through* the student/discriminator; freezing them
    keeps their ``.grad`` clean for their own next step and skips needless weight gradients.
    """
    states = [[p.requires_grad for p in m.parameters()] for m in modules]
    for m in modules:
        m.requires_grad_(False)
    try:
        yield
    finally:
        for m, state in zip(modules, states):
            for p, flag in zip(m.parameters(), state):
                p.requires_grad_(flag)


class BaseGenerativeDistiller(BaseDistiller):
    """A distiller with a generator whose images live in the teacher's input space.

    Args:
        generator: generator config (``DCGANGenerator``, ``PatchGenerator``, or for regimes
            with OOD images ``OODMosaicGenerator``); its ``mean`` and ``std`` default to
            ``data_norm`` so every player sees one normalisation.
        batch_size: number of generated images per step.
        student_steps: student updates per iteration (each on fresh latent codes).
        kd_loss: the student's distillation loss config.
        image_size: generated image size (H, W); ``None`` keeps the generator's own size.
        generator_losses: the generator's loss terms, ``name -> loss cfg`` (see
            :class:`GeneratorLossSet`); None gives the method's own, the reference's terms and
            weights (:attr:`default_generator_losses`). A config that sets it lists every term.
        generator_warmup_iters: first iterations in which only the generator (and, where
            there is one, the discriminator) is updated; the student waits for images worth
            learning from. 0 (the references) starts the student at once.
        replay: a bounded pool of generated images (:class:`~densekd.models.ReplayPool`),
            ``dict(size=N, batch=M, refresh='fifo'|'random')``: every student step trains on
            its fresh images plus ``M`` images drawn from the pool, then adds its fresh images
            to the pool. None (the references) trains on fresh images only, exactly as they do.
        **kwargs: :class:`BaseDistiller` arguments (``teacher``, ``student``, ``data_norm``).
    """

    #: Whether the regime has OOD images to give a source-assembling generator.
    uses_ood_images = False
    #: The method's generator losses, used when the config gives no ``generator_losses``.
    default_generator_losses: ClassVar[Dict[str, dict]] = {}
    #: The logits the method's generator step computes for its losses.
    generator_inputs: ClassVar[Tuple[str, ...]] = ()

    def __init__(self, generator: dict, batch_size: int = 16, student_steps: int = 5,
                 kd_loss: Optional[dict] = None, image_size: Optional[Sequence[int]] = None,
                 generator_losses: Optional[Dict[str, Optional[dict]]] = None,
                 generator_warmup_iters: int = 0, replay: Optional[dict] = None, **kwargs):
        super().__init__(**kwargs)
        if batch_size < 1 or student_steps < 0 or generator_warmup_iters < 0:
            raise ValueError(f'model.batch_size={batch_size} must be >= 1, '
                             f'model.student_steps={student_steps} >= 0 and '
                             f'model.generator_warmup_iters={generator_warmup_iters} >= 0')
        generator = dict(generator)
        generator.setdefault('mean', self.data_norm['mean'])
        generator.setdefault('std', self.data_norm['std'])
        self.generator = MODELS.build(generator)
        self.to_memory_format(self.generator)
        if self.generator_needs_sources and not self.uses_ood_images:
            raise ValueError(f'model.generator.type={generator["type"]!r} assembles OOD '
                             f'images, but {type(self).__name__} is data-free; use '
                             f'DCGANGenerator or PatchGenerator')
        self.kd_loss = MODELS.build(kd_loss or dict(type='PixelKDLoss', tau=1.0))
        self.generator_losses = GeneratorLossSet(
            copy.deepcopy(self.default_generator_losses) if generator_losses is None
            else generator_losses, self.generator_inputs)
        self.generator_losses.attach(self.teacher)
        self.batch_size = batch_size
        self.student_steps = student_steps
        self.generator_warmup_iters = generator_warmup_iters
        self.image_size: Optional[Tuple[int, int]] = (tuple(image_size) if image_size is not None
                                                      else None)
        self.replay_pool, self.replay_batch = self._build_replay(replay)

    @staticmethod
    def _build_replay(replay: Optional[dict]) -> Tuple[Optional[ReplayPool], int]:
        if not replay:
            return None, 0
        unknown = set(replay) - {'size', 'batch', 'refresh'}
        if unknown or 'size' not in replay:
            raise ValueError(f'model.replay takes size, batch and refresh (size required); '
                             f'got {sorted(replay)}')
        batch = int(replay.get('batch', 0))
        if batch < 1:
            raise ValueError(f'model.replay.batch must be >= 1, got {batch}')
        return ReplayPool(replay['size'], refresh=replay.get('refresh', 'fifo')), batch

    def student_steps_now(self) -> int:
        """Student updates in the current iteration: none while the generator warms up.

        The iteration is the runner's (``MessageHub`` ``'iter'``, set by mmengine's
        ``RuntimeInfoHook``), so a resumed run keeps its place; outside a runner it counts as 0.
        """
        if self.generator_warmup_iters == 0:
            return self.student_steps
        it = MessageHub.get_current_instance().get_info('iter', 0)
        return 0 if it < self.generator_warmup_iters else self.student_steps

    @property
    def generator_needs_sources(self) -> bool:
        """Whether the generator assembles real images (``OODMosaicGenerator``)."""
        return bool(getattr(self.generator, 'needs_sources', False))

    def sample_images(self, batch_size: Optional[int] = None,
                      ood: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Generated images (with graph) for fresh latent codes.

        Args:
            batch_size: number of images (``self.batch_size`` when None).
            ood: OOD images the generator picks its sources from, for generators that
                assemble real crops (ignored by the others).
        """
        z = self.generator.sample_latent(batch_size or self.batch_size, image_size=self.image_size)
        if not self.generator_needs_sources:
            return self.generator(z)
        if ood is None:
            raise ValueError(f'{type(self.generator).__name__} assembles OOD images, but '
                             f'{type(self).__name__} gave it none')
        return self.generator(z, self.generator.pick_sources(ood, z.shape[0]))

    @torch.no_grad()
    def with_replay(self, fresh: torch.Tensor) -> torch.Tensor:
        """``fresh`` plus ``replay.batch`` pool images; ``fresh`` then joins the pool.

        Without a pool, ``fresh`` itself (the references' loop).
        """
        if self.replay_pool is None:
            return fresh
        replayed = (self.replay_pool.sample(self.replay_batch, dtype=fresh.dtype)
                    if len(self.replay_pool) else None)
        self.replay_pool.push(fresh)
        return fresh if replayed is None else torch.cat([fresh, replayed], dim=0)

    def student_step(self, optim_wrapper, extra_inputs: Optional[torch.Tensor] = None,
                     sources: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """One student update on fresh generated images (plus ``extra_inputs``, e.g. OOD).

        With a replay pool, ``replay.batch`` pool images join the fresh ones, which then go
        into the pool.

        ``sources`` are the OOD images a source-assembling generator draws from.
        """
        with torch.no_grad():
            inputs = self.with_replay(self.sample_images(ood=sources))
            if extra_inputs is not None:
                inputs = torch.cat([inputs, extra_inputs], dim=0)
            t_logits = self.teacher(inputs)
        return self.kd_step(optim_wrapper, inputs, t_logits)

    def kd_step(self, optim_wrapper, inputs: torch.Tensor, t_logits: torch.Tensor
                ) -> Dict[str, torch.Tensor]:
        """One student update distilling ``t_logits`` on ``inputs`` (both without graph)."""
        with select_wrapper(optim_wrapper, 'student').optim_context(self.student):
            loss = self.kd_loss(self.student(inputs), t_logits)
        return self.optimize(optim_wrapper, 'student', dict(loss_kd=loss))
