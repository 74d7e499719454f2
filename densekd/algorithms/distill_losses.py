"""A named set of distillation losses between student and teacher taps.

Each entry of ``losses`` is a registered loss config plus where its two inputs come from::

    losses = dict(
        kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0),             # logits vs logits
        cwd=dict(type='ChannelWiseDivergence', tau=4.0, loss_weight=3.0,
                 student='segmentation_head.0', teacher='segmentation_head.0'),
        pa=dict(type='PairwiseAffinityLoss', student='decoder', teacher='decoder'),
    )

``student`` / ``teacher`` are module paths (``named_modules()`` names, tapped with forward
hooks) or ``'logits'`` (the model output, the default); a dict ``dict(source=..., index=...)``
picks one tensor of a module that returns a list (smp's ``encoder``). Log names are
``loss_<entry name>``.
"""
from __future__ import annotations

import contextlib
from typing import Dict, Tuple

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
        for name, cfg in losses.items():
            cfg = dict(cfg)
            student_tap = _tap_cfg(cfg.pop('student', LOGITS))
            teacher_tap = _tap_cfg(cfg.pop('teacher', LOGITS))
            self.losses[name] = MODELS.build(cfg)
            self.sources[name] = (student_tap, teacher_tap)
        self.student_taps = RecorderManager(
            {n: s for n, (s, _) in self.sources.items() if s['source'] != LOGITS})
        self.teacher_taps = RecorderManager(
            {n: t for n, (_, t) in self.sources.items() if t['source'] != LOGITS})

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
        modes = student.training, teacher.training
        student.eval()
        teacher.eval()
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
                        self.losses[name](s, t)
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

    def record(self) -> Tuple[contextlib.AbstractContextManager, contextlib.AbstractContextManager]:
        """Context managers (student, teacher) that record the taps during a forward."""
        return self.student_taps, self.teacher_taps

    def _inputs(self, name: str, s_logits: torch.Tensor, t_logits: torch.Tensor):
        s_src, t_src = self.sources[name]
        s = s_logits if s_src['source'] == LOGITS else self.student_taps.get(name)
        t = t_logits if t_src['source'] == LOGITS else self.teacher_taps.get(name)
        return s, t

    def forward(self, s_logits: torch.Tensor, t_logits: torch.Tensor) -> Dict[str, torch.Tensor]:
        """All losses, keyed ``loss_<name>``; call after forwards inside :meth:`record`."""
        return {f'loss_{name}': loss(*self._inputs(name, s_logits, t_logits))
                for name, loss in self.losses.items()}
