"""Small shared bases for every training regime.

:class:`BaseSegAlgorithm` owns what all regimes share: the mmengine ``forward`` modes, padded
inference and val/test outputs. :class:`BaseDistiller` adds a frozen teacher and a trainable
student. Each concrete algorithm only writes its losses and, when several players train,
its ``train_step`` — the one place that knows the update order.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from densekd.models.segmentors import forward_padded
from densekd.registry import MODELS
from densekd.utils.distributed import update_params
from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD


def build_model(cfg: dict) -> nn.Module:
    """Build a segmentor (or any registered model) from a config dict."""
    cfg = dict(cfg)
    cfg.setdefault('type', 'SmpSegmentor')
    return MODELS.build(cfg)


def select_wrapper(optim_wrapper: OptimWrapper | OptimWrapperDict, name: str) -> OptimWrapper:
    """The optimizer wrapper of submodule ``name`` (a single wrapper is returned as is)."""
    if not isinstance(optim_wrapper, OptimWrapperDict):
        return optim_wrapper
    if name not in optim_wrapper:
        raise KeyError(f'optim_wrapper has no entry {name!r} '
                       f'(entries: {list(optim_wrapper.keys())});'
                       f' add optim_wrapper.{name}=dict(optimizer=...) to the config')
    return optim_wrapper[name]


def check_finite_loss(total: torch.Tensor, log_vars: Dict[str, torch.Tensor],
                      prefix: Optional[str] = None) -> None:
    """Raise before an update when the summed loss is NaN/inf.

    Args:
        total: the summed loss about to be back-propagated.
        log_vars: its terms as returned by ``parse_losses`` (``loss`` is the total).
        prefix: log prefix of the terms (``student``), as they appear in the logs.

    Raises:
        FloatingPointError: names the non-finite terms and the iteration (1-based, as the
            log's ``Iter(train) [N/...]``), so a diverged run stops before the update.
    """
    if torch.isfinite(total):
        return
    bad = [k for k, v in log_vars.items() if k != 'loss' and not torch.isfinite(v)] or ['loss']
    names = ', '.join(f'{prefix}.{k}' if prefix else k for k in bad)
    it = MessageHub.get_current_instance().get_info('iter', 0) + 1
    raise FloatingPointError(f'non-finite loss {names} = {float(total.detach())} at iteration '
                             f'{it}, before its update')


class BaseSegAlgorithm(BaseModel):
    """mmengine model whose val/test evaluate one segmentor, :attr:`eval_network`.

    Batches are dicts ``inputs`` (B×3×H×W, normalised), optional ``seg`` (B×H×W, 255 =
    ignore) and ``img_path``. ``predict`` returns one dict per image with ``pred``, ``gt`` and
    ``img_path`` for :class:`densekd.evaluation.IoUMetric` and the visualisation hook.
    """

    @property
    def eval_network(self) -> nn.Module:
        """The segmentor evaluated by val/test."""
        raise NotImplementedError  # abstract

    def forward(self, inputs: torch.Tensor, seg: Optional[torch.Tensor] = None,
                img_path: Optional[List[str]] = None, mode: str = 'tensor', **kwargs):
        if mode == 'loss':
            return self.loss(inputs, seg=seg)
        if mode == 'predict':
            return self.predict(inputs, seg=seg, img_path=img_path)
        if mode == 'tensor':
            return forward_padded(self.eval_network, inputs)
        raise ValueError(f'unknown forward mode {mode!r}; expected loss, predict or tensor')

    def loss(self, inputs: torch.Tensor,
             seg: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Losses of one batch (single-optimizer regimes)."""
        raise NotImplementedError  # abstract

    def train_step(self, data: dict, optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """mmengine's single-optimizer train step, with the gradients averaged over ranks."""
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
            losses = self._run_forward(data, mode='loss')
        total, log_vars = self.parse_losses(losses)
        update_params(optim_wrapper, total)
        return log_vars

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, seg: Optional[torch.Tensor] = None,
                img_path: Optional[List[str]] = None) -> List[dict]:
        pred = forward_padded(self.eval_network, inputs).argmax(dim=1).cpu()
        outputs = []
        for i in range(pred.shape[0]):
            outputs.append(dict(pred=pred[i], gt=None if seg is None else seg[i].cpu(),
                                img_path=None if img_path is None else img_path[i]))
        return outputs

    def parse_losses(self, losses: Dict[str, torch.Tensor], prefix: Optional[str] = None
                     ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
        """mmengine's loss sum and log variables, refusing a NaN/inf sum.

        Every regime's update goes through here: mmengine's own ``train_step`` (teacher
        training; also under ``MMDistributedDataParallel``) and :meth:`optimize`.

        Args:
            losses: loss terms; every key containing ``'loss'`` is summed.
            prefix: log prefix of the terms, used in the error message.

        Raises:
            FloatingPointError: the sum is NaN/inf (:func:`check_finite_loss`).
        """
        total, log_vars = super().parse_losses(losses)
        check_finite_loss(total, log_vars, prefix)
        return total, log_vars

    def optimize(self, optim_wrapper: OptimWrapper | OptimWrapperDict, name: str,
                 losses: Dict[str, torch.Tensor], prefix: Optional[str] = None
                 ) -> Dict[str, torch.Tensor]:
        """Back-propagate ``losses`` and step the optimizer of submodule ``name``.

        Args:
            optim_wrapper: the runner's wrapper (a dict keyed by submodule, or a single one).
            name: submodule whose optimizer steps, e.g. ``'student'``.
            losses: loss terms; every key containing ``'loss'`` is summed.
            prefix: log prefix (default ``name``), e.g. ``'gen'`` for the generator.

        Returns:
            Log variables prefixed with ``prefix``: each term (``student.loss_kd``) and the
            step's total (``student.loss``); unprefixed, each step's total would overwrite
            the previous one's in mmengine's ``loss`` column.

        Raises:
            FloatingPointError: a loss is NaN/inf (:func:`check_finite_loss`).
        """
        wrapper = select_wrapper(optim_wrapper, name)
        prefix = prefix or name
        total, log_vars = self.parse_losses(losses, prefix)
        update_params(wrapper, total)  # gradients averaged over ranks in multi-process runs
        return {f'{prefix}.{k}': v for k, v in log_vars.items()}


class BaseDistiller(BaseSegAlgorithm):
    """A frozen teacher and a trainable student.

    Args:
        teacher: segmentor config with a ``checkpoint`` (required: a teacher is trained).
        student: segmentor config (random init unless it names a ``checkpoint``).
        data_norm: ``dict(mean, std)`` of the inputs, in [0, 1] units; players that create
            images (generators) map them into this space.
        eval_teacher: evaluate the teacher instead of the student in val/test (reference row).
        channels_last: keep every network's weights in channels-last memory format, a speed
            option (measured with ``tools/benchmark.py --speed --formats``; off by default).
        data_preprocessor: mmengine data preprocessor config.
        init_cfg: mmengine init config.
    """

    def __init__(self, teacher: dict, student: dict, data_norm: Optional[dict] = None,
                 eval_teacher: bool = False, channels_last: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not teacher.get('checkpoint'):
            raise ValueError('model.teacher.checkpoint: a distiller needs the trained teacher\'s '
                             'weights file (train one with configs/teacher/*.py)')
        self.teacher = build_model(teacher)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        self.student = build_model(student)
        t_classes, s_classes = teacher.get('classes'), student.get('classes')
        if t_classes is not None and s_classes is not None and t_classes != s_classes:
            raise ValueError(f'model.student.classes={s_classes} differs from '
                             f'model.teacher.classes={t_classes}')
        self.data_norm = dict(data_norm or dict(mean=IMAGENET_MEAN, std=IMAGENET_STD))
        self.eval_teacher = eval_teacher
        self.channels_last = channels_last
        self.to_memory_format(self.teacher, self.student)

    def to_memory_format(self, *modules: nn.Module) -> None:
        """Put ``modules`` in channels-last memory format when ``channels_last`` is set."""
        if self.channels_last:
            for module in modules:
                module.to(memory_format=torch.channels_last)

    @property
    def eval_network(self) -> nn.Module:
        return self.teacher if self.eval_teacher else self.student

    def train(self, mode: bool = True) -> 'BaseDistiller':
        # mmengine calls model.train() every iteration; BatchNorm statistics of the teacher
        # must never move (generated images would silently corrupt them).
        super().train(mode)
        self.teacher.eval()
        return self
