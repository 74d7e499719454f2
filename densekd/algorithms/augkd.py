"""AuG-KD: anchor-based mixup generation for out-of-domain KD (Tang et al., ICLR 2024,
arXiv 2403.07030; github.com/IshiKura-a/AuG-KD), made dense and label-free.

Three stages in one training run, switched by the runner's iteration
(``stage_iters=dict(data_free=N1, anchor=N2)``, the mixup stage for the rest of
``train_cfg.max_iters``):

1. **data_free** (iterations ``[0, N1)``): a generator ``G`` learns teacher-domain images
   without data (1 G step: ``−KL(T‖S_aux) + CE(T, argmax T) + w·info-entropy + BN statistics``),
   then ``aux_steps`` × (an auxiliary student ``S_aux`` distils ``T`` on ``G(z)``; the encoder
   ``E(x, h)`` learns to invert ``G``: ``‖E(G(z), h) − z‖² + 0.00025·KL``).
2. **anchor** (``[N1, N1 + N2)``): on the OOD images ``x``, with ``T``, ``E``, ``G`` frozen,
   the AnchorNet learns ``z' = A(E(x, h), h)`` so that ``G(z')`` looks in-domain to the teacher
   (low energy), re-mapping a bounded part of the latent, keeping ``x``'s class histogram.
3. **mixup** (the rest): ``s(t) = min((1 − b)·t/(a·T) + b, 1)``;
   ``x_mix = (1 − s)·G((1 − s)·z' + s·z) + s·x``; the student distils the teacher on
   ``cat[x, x_mix]``.

``h`` is the teacher's per-image class histogram of ``x`` (:func:`class_histogram`), the dense
stand-in for the reference's class label. Departures (``docs/methods.md``, AuG-KD): no labels
anywhere (the reference's CE terms become the teacher's histograms or are dropped); the mixup
stage's KD targets come from the teacher (the released code computes them with the student);
``x`` and ``x_mix`` share one normalisation; the data-free stage trains a separate
``aux_student`` so the benchmark student gets exactly the mixup stage's steps.
"""
from __future__ import annotations

import copy
from typing import Dict, Optional, Tuple

import torch
from mmengine.logging import MessageHub

from densekd.losses.augkd import anchor_loss, encoder_loss
from densekd.models.augkd_modules import class_histogram
from densekd.registry import MODELS
from densekd.utils.checkpoint import load_checkpoint

from .base import select_wrapper
from .generative import BaseGenerativeDistiller, frozen

#: The stages in their order; the last runs for the rest of the iterations.
STAGES = ('data_free', 'anchor', 'mixup')
#: What each stage's checkpoint holds (submodule names).
STAGE_MODULES = {'data_free': ('generator', 'encoder'), 'anchor': ('anchor_net',)}


def mixup_ratio(t: int, total: int, a: float = 0.6, b: float = 0.2) -> float:
    """The reference's ``LinearScheduler``: ``s(t) = min((1 − b)·t / (a·T) + b, 1)``.

    ``s`` rises linearly from ``b`` at ``t = 0`` to 1 at ``t = a·T`` and stays 1.

    Args:
        t: mixup-stage iteration (0-based).
        total: the mixup stage's length ``T``.
        a: fraction of the stage over which ``s`` reaches 1.
        b: starting value.
    """
    if total < 1 or not 0 < a or not 0 <= b <= 1:
        raise ValueError(f'mixup_ratio needs total >= 1, a > 0 and 0 <= b <= 1; got total='
                         f'{total}, a={a}, b={b}')
    return min((1.0 - b) * t / (a * total) + b, 1.0)


@MODELS.register_module()
class AuGKD(BaseGenerativeDistiller):
    """Dense, label-free AuG-KD in one mmengine model (see the module docstring).

    The generator losses (``generator_losses``, :class:`GeneratorLossSet`) default to the
    reference's ``DecoderLoss`` terms and weights::

        generator_losses=dict(
            adv=dict(type='KLAdversarialLoss', loss_weight=1.0),        # -KL(T || S_aux)
            onehot=dict(type='OnehotLoss', loss_weight=1.0),            # CE(T, argmax T)
            ie=dict(type='InformationEntropyLoss', loss_weight=20.0),   # Σ p̄ log10 p̄
            bn=dict(type='BNStatisticsLoss', loss_weight=1.0))          # teacher BN statistics

    Each stage writes ``<work_dir>/augkd_<stage>.pth`` when it ends
    (:class:`densekd.engine.AuGKDStageHook`): ``G`` + ``E`` after data_free, the AnchorNet after
    anchor; ``stage_checkpoints`` loads them so that a later stage can be rerun alone.

    Args:
        encoder: :class:`HistogramVAEEncoder` config; ``num_classes``, ``latent_size`` and
            ``img_size`` default to the teacher's classes and the generator's ``nz`` and size.
        stage_iters: ``dict(data_free=N1, anchor=N2)`` iterations of the first two stages.
        anchor_net: :class:`AnchorNet` config (sizes default as for the encoder).
        stage_checkpoints: ``dict(data_free=PATH, anchor=PATH)`` (either optional): load that
            stage's weights instead of training it; its ``stage_iters`` entry must be 0.
        aux_steps: auxiliary-student + encoder steps per data-free iteration (reference 5).
        aux_kd_loss: the auxiliary student's loss (reference: KL at τ = 1).
        encoder_kl_weight: weight of the encoder's KL term (reference 0.00025).
        anchor_loss_cfg: ``dict(tau=1.0, invariant=0.25, label_weight=0.1,
            mask_reduction='batch')`` (:func:`densekd.losses.augkd.anchor_loss`).
        mixup: ``dict(a=0.6, b=0.2)`` of :func:`mixup_ratio` (the reference README's).
        **kwargs: :class:`BaseGenerativeDistiller` arguments: ``generator`` (a latent-vector
            generator, ``DCGANGenerator``), ``batch_size`` (generated images per data-free
            step), ``kd_loss`` (the student's mixup-stage loss), ``generator_losses``,
            ``teacher``, ``student``, ``data_norm``. ``student_steps`` must be 1 (one student
            step per mixup iteration); ``replay`` and ``generator_warmup_iters`` are refused.
    """

    default_generator_losses = dict(
        adv=dict(type='KLAdversarialLoss', loss_weight=1.0),
        onehot=dict(type='OnehotLoss', loss_weight=1.0),
        ie=dict(type='InformationEntropyLoss', loss_weight=20.0),
        bn=dict(type='BNStatisticsLoss', loss_weight=1.0))
    generator_inputs = ('t_logits', 's_logits')

    def __init__(self, encoder: dict, stage_iters: dict, anchor_net: Optional[dict] = None,
                 stage_checkpoints: Optional[dict] = None, aux_steps: int = 5,
                 aux_kd_loss: Optional[dict] = None, encoder_kl_weight: float = 0.00025,
                 anchor_loss_cfg: Optional[dict] = None, mixup: Optional[dict] = None,
                 **kwargs):
        kwargs.setdefault('student_steps', 1)
        if kwargs['student_steps'] != 1:
            raise ValueError(f'model.student_steps={kwargs["student_steps"]}: AuGKD takes one '
                             f'student step per mixup iteration; the data-free stage\'s '
                             f'steps are model.aux_steps')
        if kwargs.get('replay') or kwargs.get('generator_warmup_iters'):
            raise ValueError('model.replay and model.generator_warmup_iters are not AuGKD '
                             'options (its stages are model.stage_iters)')
        super().__init__(**kwargs)
        z = self.generator.sample_latent(1)
        if z.dim() != 2:
            raise ValueError(f'model.generator: AuGKD inverts a latent-vector generator '
                             f'(DCGANGenerator); {type(self.generator).__name__} draws a '
                             f'latent of shape {tuple(z.shape)}')
        num_classes = kwargs['teacher'].get('classes')
        if num_classes is None:
            raise ValueError('model.teacher.classes: AuGKD needs the number of classes (the '
                             'length of the class histograms)')
        latent = z.shape[1]
        encoder = dict(encoder)
        encoder.setdefault('num_classes', num_classes)
        encoder.setdefault('latent_size', latent)
        encoder.setdefault('img_size', self.generator.img_size)
        self.encoder = MODELS.build(encoder)
        anchor_net = dict(anchor_net or dict(type='AnchorNet'))
        anchor_net.setdefault('latent_size', latent)
        anchor_net.setdefault('num_classes', num_classes)
        self.anchor_net = MODELS.build(anchor_net)
        # The data-free stage's adversary: a copy of the student's initial weights, so that the
        # student itself takes exactly the mixup stage's steps.
        self.aux_student = copy.deepcopy(self.student)
        self.aux_kd_loss = MODELS.build(aux_kd_loss or dict(type='PixelKDLoss', tau=1.0))
        if aux_steps < 0:
            raise ValueError(f'model.aux_steps must be >= 0, got {aux_steps}')
        self.aux_steps = aux_steps
        self.encoder_kl_weight = float(encoder_kl_weight)
        self.anchor_loss_cfg = dict(tau=1.0, invariant=0.25, label_weight=0.1,
                                    mask_reduction='batch')
        unknown = set(anchor_loss_cfg or {}) - set(self.anchor_loss_cfg)
        if unknown:
            raise ValueError(f'model.anchor_loss_cfg: unknown keys {sorted(unknown)} (it takes '
                             f'{sorted(self.anchor_loss_cfg)})')
        self.anchor_loss_cfg.update(anchor_loss_cfg or {})
        self.mixup = dict(a=0.6, b=0.2)
        if set(mixup or {}) - set(self.mixup):
            raise ValueError(f'model.mixup takes a and b, got {sorted(mixup)}')
        self.mixup.update(mixup or {})
        mixup_ratio(0, 1, **self.mixup)  # checks a and b
        self.stage_iters = self._check_stages(stage_iters, stage_checkpoints or {})
        for stage, path in (stage_checkpoints or {}).items():
            self.load_stage(stage, path)
        self.to_memory_format(self.encoder, self.aux_student)

    @staticmethod
    def _check_stages(stage_iters: dict, checkpoints: dict) -> Dict[str, int]:
        if not isinstance(stage_iters, dict) or set(stage_iters) != {'data_free', 'anchor'}:
            raise ValueError(f'model.stage_iters must be dict(data_free=N1, anchor=N2), got '
                             f'{stage_iters!r}')
        iters = {k: int(v) for k, v in stage_iters.items()}
        if min(iters.values()) < 0:
            raise ValueError(f'model.stage_iters must be >= 0, got {iters}')
        unknown = set(checkpoints) - set(STAGE_MODULES)
        if unknown:
            raise ValueError(f'model.stage_checkpoints: unknown stages {sorted(unknown)} '
                             f'(data_free, anchor)')
        for stage in STAGE_MODULES:
            if checkpoints.get(stage) and iters[stage]:
                raise ValueError(f'model.stage_checkpoints.{stage} loads that stage\'s weights, '
                                 f'so model.stage_iters.{stage} must be 0 (got {iters[stage]})')
            if not checkpoints.get(stage) and not iters[stage]:
                raise ValueError(f'model.stage_iters.{stage}=0 needs model.stage_checkpoints.'
                                 f'{stage} (the weights of an earlier run\'s augkd_{stage}.pth)')
        if checkpoints.get('anchor') and iters['data_free']:
            raise ValueError('model.stage_checkpoints.anchor was trained on an earlier run\'s '
                             'generator and encoder: load them too (stage_checkpoints.data_free, '
                             'stage_iters.data_free=0)')
        return iters

    # -- stages ---------------------------------------------------------------------------
    def stage_ends(self) -> Dict[str, int]:
        """The iteration count at which each of the first two stages ends."""
        end_df = self.stage_iters['data_free']
        return dict(data_free=end_df, anchor=end_df + self.stage_iters['anchor'])

    def stage_at(self, it: int, max_iters: int) -> Tuple[str, int, int]:
        """``(stage, t, length)`` of 0-based iteration ``it``: the stage, the iteration within
        it and the stage's length."""
        ends = self.stage_ends()
        if it < ends['data_free']:
            return 'data_free', it, ends['data_free']
        if it < ends['anchor']:
            return 'anchor', it - ends['data_free'], self.stage_iters['anchor']
        return 'mixup', it - ends['anchor'], max_iters - ends['anchor']

    def check_max_iters(self, max_iters: int) -> None:
        """Raise unless ``max_iters`` leaves at least one mixup iteration."""
        pre = self.stage_ends()['anchor']
        if max_iters <= pre:
            raise ValueError(f'train_cfg.max_iters={max_iters} must exceed the pre-mixup stages '
                             f'(model.stage_iters: {pre} iterations) for AuGKD\'s student to '
                             f'train')

    def stage_state(self, stage: str) -> dict:
        """The checkpoint of ``stage``: ``{submodule: state_dict}``."""
        return {name: getattr(self, name).state_dict() for name in STAGE_MODULES[stage]}

    def load_stage(self, stage: str, path: str) -> None:
        """Load ``augkd_<stage>.pth`` written by an earlier run."""
        state = load_checkpoint(path)
        missing = [n for n in STAGE_MODULES[stage] if n not in state]
        if missing:
            raise ValueError(f'model.stage_checkpoints.{stage}={path!r} holds {sorted(state)}, '
                             f'not {list(STAGE_MODULES[stage])}: is it an augkd_{stage}.pth?')
        for name in STAGE_MODULES[stage]:
            getattr(self, name).load_state_dict(state[name])

    # -- the update order -----------------------------------------------------------------
    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        hub = MessageHub.get_current_instance()
        it, max_iters = hub.get_info('iter', 0), hub.get_info('max_iters')
        if max_iters is None:  # outside a runner: a run just long enough for the mixup stage
            max_iters = self.stage_ends()['anchor'] + 1
        stage, t, length = self.stage_at(it, max_iters)
        if stage == 'data_free':
            return self.data_free_step(optim_wrapper)
        inputs = self.data_preprocessor(data, True)['inputs']
        if stage == 'anchor':
            return self.anchor_step(optim_wrapper, inputs)
        return self.mixup_step(optim_wrapper, inputs, mixup_ratio(t, length, **self.mixup))

    def data_free_step(self, optim_wrapper) -> Dict[str, torch.Tensor]:
        """1 G step, then ``aux_steps`` × (auxiliary-student step, encoder step)."""
        for module in (self.generator, self.encoder, self.aux_student):
            module.train()
        with select_wrapper(optim_wrapper, 'generator').optim_context(self.generator), \
                frozen(self.aux_student):
            images = self.generator(self.generator.sample_latent(self.batch_size))
            with self.generator_losses.record_teacher():
                t_logits = self.teacher(images)  # frozen, but the gradient must reach G
            losses = self.generator_losses(t_logits=t_logits, s_logits=self.aux_student(images))
        log_vars = self.optimize(optim_wrapper, 'generator', losses, prefix='gen')
        for _ in range(self.aux_steps):
            with torch.no_grad():  # one fresh z for both steps, as the reference
                z = self.generator.sample_latent(self.batch_size)
                images = self.generator(z)
                t_logits = self.teacher(images)
            with select_wrapper(optim_wrapper, 'aux_student').optim_context(self.aux_student):
                loss = self.aux_kd_loss(self.aux_student(images), t_logits)
            log_vars.update(self.optimize(optim_wrapper, 'aux_student', dict(loss_kd=loss),
                                          prefix='aux'))
            with select_wrapper(optim_wrapper, 'encoder').optim_context(self.encoder):
                z_hat, mu, log_var = self.encoder(images, class_histogram(t_logits))
                loss = encoder_loss(z_hat, z, mu, log_var, self.encoder_kl_weight)
            log_vars.update(self.optimize(optim_wrapper, 'encoder', dict(loss_vae=loss),
                                          prefix='enc'))
        return log_vars

    @torch.no_grad()
    def encode(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(t_logits, hist, z)`` of real images: teacher logits, class histograms, E's code."""
        self.encoder.eval()
        self.generator.eval()
        t_logits = self.teacher(inputs)
        hist = class_histogram(t_logits)
        return t_logits, hist, self.encoder(inputs, hist)[0]

    def anchor_step(self, optim_wrapper, inputs: torch.Tensor) -> Dict[str, torch.Tensor]:
        """One AnchorNet step on OOD images, ``T``, ``E`` and ``G`` frozen."""
        _, hist, z = self.encode(inputs)
        self.anchor_net.train()
        with select_wrapper(optim_wrapper, 'anchor_net').optim_context(self.anchor_net), \
                frozen(self.generator):
            z_anchor, mask = self.anchor_net(z, hist)
            t_logits = self.teacher(self.generator(z_anchor))
            losses = anchor_loss(t_logits, mask, hist, **self.anchor_loss_cfg)
        return self.optimize(optim_wrapper, 'anchor_net', losses, prefix='anchor')

    @torch.no_grad()
    def mixup_images(self, inputs: torch.Tensor, s: float
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(cat[x, x_mix], T(cat[x, x_mix]))``; at ``s = 1`` just ``(x, T(x))``.

        ``x_mix = (1 − s)·G((1 − s)·A(z, h) + s·z) + s·x`` in the teacher's input space. At
        ``s = 1``, ``x_mix = x``: KD on ``cat[x, x]`` has the loss and gradient of KD on ``x``
        (means over pixels; the BatchNorm batch statistics are equal too), so it is skipped.
        """
        t_real, hist, z = self.encode(inputs)
        if s >= 1.0:
            return inputs, t_real
        self.anchor_net.eval()
        z_mix = (1 - s) * self.anchor_net(z, hist)[0] + s * z
        mixed = (1 - s) * self.generator(z_mix) + s * inputs
        return torch.cat([inputs, mixed]), torch.cat([t_real, self.teacher(mixed)])

    def mixup_step(self, optim_wrapper, inputs: torch.Tensor, s: float
                   ) -> Dict[str, torch.Tensor]:
        """One student step on real and mixed images, with the teacher's targets on both."""
        images, t_logits = self.mixup_images(inputs, s)
        log_vars = self.kd_step(optim_wrapper, images, t_logits)
        log_vars['mixup.s'] = torch.tensor(s)
        return log_vars
