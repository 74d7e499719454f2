"""Named loss sets built from config: KD losses between taps, and generator losses.

:class:`DistillLossSet` (KD's ``losses``): each entry of ``losses`` is a registered loss
config plus where its two inputs come from::

    losses = dict(
        kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0),             # logits vs logits
        cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0,
                 student='segmentation_head.0', teacher='segmentation_head.0'),
        pa=dict(type='PairwiseAffinityLoss', student='decoder', teacher='decoder'),
    )

``student`` / ``teacher`` are module paths (``named_modules()`` names, tapped with forward
hooks) or ``'logits'`` (the model output, the default); a dict ``dict(source=..., index=...)``
picks one tensor of a module that returns a list (smp's ``encoder``). Log names are
``loss_<entry name>``. A loss that also reads the teacher's logits (its class sets
``needs_teacher_logits = True``, e.g. ``AuxVariableKDLoss``) gets them as ``teacher_logits=``,
from the entry's ``teacher_logits`` tap (default ``'logits'``)::

        aux=dict(type='AuxVariableKDLoss', student_channels=64, teacher_channels=64,
                 num_classes=13, student='decoder', teacher='decoder',
                 teacher_logits='segmentation_head.0'),

The losses run in eval mode during the build-time check, so a loss with state (a queue) is
not changed by the dummy input.

:class:`GeneratorLossSet` (``generator_losses`` of DFAD, DAFL and MosaicKD) has the same
shape: ``name -> dict(type=..., loss_weight=..., <hyper-parameters>)``, plus ``teacher=TAP``
for a loss on teacher features. Log names are ``gen.loss_<entry name>``.
"""
from __future__ import annotations

import contextlib
from typing import Dict, Iterator, Optional, Sequence, Tuple

import torch
from torch import nn

from densekd.models.recorders import RecorderManager
from densekd.registry import MODELS

LOGITS = 'logits'


def _tap_cfg(tap) -> dict:
    return dict(source=tap) if isinstance(tap, str) else dict(tap)


class DistillLossSet(nn.Module):
    """Named losses, their taps, and one call that computes all of them.

    Args:
        losses: mapping ``name -> loss cfg`` as in the module docstring.
    """

    def __init__(self, losses: Dict[str, dict]):
        super().__init__()
        if not losses:
            raise ValueError('model.losses: give at least one distillation loss, e.g. '
                             "kd=dict(type='PixelKDLoss', tau=1.0)")
        self.losses = nn.ModuleDict()
        self.sources: Dict[str, Tuple[dict, dict]] = {}
        #: ``name -> teacher_logits tap`` of the losses that read the teacher logits as well.
        self.logit_sources: Dict[str, dict] = {}
        for name, cfg in losses.items():
            cfg = dict(cfg)
            student_tap = _tap_cfg(cfg.pop('student', LOGITS))
            teacher_tap = _tap_cfg(cfg.pop('teacher', LOGITS))
            logits_tap = cfg.pop('teacher_logits', None)
            self.losses[name] = MODELS.build(cfg)
            self.sources[name] = (student_tap, teacher_tap)
            if getattr(self.losses[name], 'needs_teacher_logits', False):
                self.logit_sources[name] = _tap_cfg(logits_tap or LOGITS)
            elif logits_tap is not None:
                raise ValueError(f'model.losses.{name}.teacher_logits: '
                                 f'{type(self.losses[name]).__name__} reads no teacher logits')
        self.student_taps = RecorderManager(
            {n: s for n, (s, _) in self.sources.items() if s['source'] != LOGITS})
        teacher_taps = {n: t for n, (_, t) in self.sources.items() if t['source'] != LOGITS}
        teacher_taps.update({f'{n}.teacher_logits': t for n, t in self.logit_sources.items()
                             if t['source'] != LOGITS})
        self.teacher_taps = RecorderManager(teacher_taps)

    def attach(self, student: nn.Module, teacher: nn.Module,
               check_input_size: Tuple[int, int] | None = (64, 64)) -> None:
        """Register the forward hooks and check every loss once on a dummy input.

        Raises:
            ValueError: a tap's output does not fit its loss (e.g. teacher/student shapes
                differ); the message names the loss, both module paths and shapes.
        """
        self.student_taps.initialize(student)
        self.teacher_taps.initialize(teacher)
        if check_input_size is None:
            return
        modes = student.training, teacher.training, self.training
        student.eval()
        teacher.eval()
        self.eval()
        dummy = torch.zeros(1, 3, *check_input_size, device=next(student.parameters()).device)
        try:
            with torch.no_grad():
                with self.teacher_taps:
                    t_logits = teacher(dummy)
                with self.student_taps:
                    s_logits = student(dummy)
                for name in self.losses:
                    s, t = self._inputs(name, s_logits, t_logits)
                    try:
                        self.losses[name](s, t, **self._extra_inputs(name, t_logits))
                    except Exception as err:
                        s_src, t_src = self.sources[name]
                        raise ValueError(
                            f'model.losses.{name}: student tap {s_src["source"]!r} '
                            f'{tuple(s.shape)} and teacher tap {t_src["source"]!r} '
                            f'{tuple(t.shape)} do not fit {type(self.losses[name]).__name__}: '
                            f'{err}') from err
        finally:
            student.train(modes[0])
            teacher.train(modes[1])
            self.train(modes[2])

    def record(self) -> Tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]:
        """Context managers (student, teacher) that record the taps during a forward."""
        return self.student_taps, self.teacher_taps

    def _inputs(self, name: str, s_logits: torch.Tensor, t_logits: torch.Tensor):
        s_src, t_src = self.sources[name]
        s = s_logits if s_src['source'] == LOGITS else self.student_taps.get(name)
        t = t_logits if t_src['source'] == LOGITS else self.teacher_taps.get(name)
        return s, t

    def _extra_inputs(self, name: str, t_logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``dict(teacher_logits=...)`` for a loss that reads them, else nothing."""
        if name not in self.logit_sources:
            return {}
        if self.logit_sources[name]['source'] == LOGITS:
            return dict(teacher_logits=t_logits)
        return dict(teacher_logits=self.teacher_taps.get(f'{name}.teacher_logits'))

    def forward(self, s_logits: torch.Tensor, t_logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        """All losses, keyed ``loss_<name>``; call after forwards inside :meth:`record`."""
        return {f'loss_{name}': loss(*self._inputs(name, s_logits, t_logits),
                                     **self._extra_inputs(name, t_logits))
                for name, loss in self.losses.items()}


class GeneratorLossSet(nn.Module):
    """The named generator losses of a generative regime, and one call that computes them.

    Each entry is a registered loss config, e.g.
    ``align=dict(type='TeacherEntropyLoss', loss_weight=1.0)``. The loss module's ``inputs``
    names the tensors it reads, in order: the logits the regime's generator step computes
    (``'t_logits'``, ``'s_logits'``, ``'d_logits'``), or ``'t_features'``, the output of the teacher
    module the entry names with ``teacher=TAP`` (a module path or
    ``dict(source=..., index=...)``, recorded by a forward hook). A loss with no inputs
    (``BNStatisticsLoss``) reads hooks of its own, set by ``attach(teacher)``. An entry that
    is None is left out, so ``--cfg-options model.generator_losses.bn=None`` drops a term.

    Args:
        losses: ``name -> loss cfg``, in the order the terms are summed.
        available: the logits the regime's generator step computes.
        key: the config key, for messages.
    """

    def __init__(self, losses: Dict[str, Optional[dict]], available: Sequence[str],
                 key: str = 'model.generator_losses'):
        super().__init__()
        self.losses = nn.ModuleDict()
        taps: Dict[str, dict] = {}
        for name, cfg in (losses or {}).items():
            if cfg is None:
                continue
            cfg = dict(cfg)
            tap = cfg.pop('teacher', None)
            loss = MODELS.build(cfg)
            inputs = getattr(loss, 'inputs', None)
            if inputs is None:
                raise ValueError(f'{key}.{name}: {type(loss).__name__} is not a generator loss '
                                 f'(it names no inputs)')
            missing = [i for i in inputs if i not in (*available, 't_features')]
            if missing:
                raise ValueError(f'{key}.{name}: {type(loss).__name__} reads {missing}, which '
                                 f'this generator step does not compute (it has {list(available)})')
            if ('t_features' in inputs) != (tap is not None):
                raise ValueError(f'{key}.{name}: give teacher=<module path> exactly for a loss on '
                                 f'teacher features (\'t_features\' in its inputs)')
            self.losses[name] = loss
            if tap is not None:
                taps[name] = _tap_cfg(tap)
        if not self.losses:
            raise ValueError(f'{key}: give at least one generator loss')
        self.teacher_taps = RecorderManager(taps)

    def attach(self, teacher: nn.Module) -> None:
        """Register the teacher taps and the hooks of losses that read the teacher themselves."""
        self.teacher_taps.initialize(teacher)
        for loss in self.losses.values():
            if hasattr(loss, 'attach'):
                loss.attach(teacher)

    @contextlib.contextmanager
    def record_teacher(self) -> Iterator[None]:
        """Run the teacher's forward on the generated images inside this context."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.teacher_taps)
            for loss in self.losses.values():
                if hasattr(loss, 'record'):
                    stack.enter_context(loss.record())
            yield

    def forward(self, **tensors: torch.Tensor) -> Dict[str, torch.Tensor]:
        """All terms, keyed ``loss_<name>``; call after the teacher ran in :meth:`record_teacher`.

        Args:
            **tensors: the generator step's logits by input name (``t_logits=...``, ...).
        """
        out = {}
        for name, loss in self.losses.items():
            args = [self.teacher_taps.get(name) if i == 't_features' else tensors[i]
                    for i in loss.inputs]
            out[f'loss_{name}'] = loss(*args)
        return out
