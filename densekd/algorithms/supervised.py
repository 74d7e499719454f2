"""Supervised training of a segmentor on labelled in-domain data (how teachers are made)."""
from __future__ import annotations

from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import nn

from densekd.registry import MODELS

from .base import BaseSegAlgorithm, build_model


def focal_loss(logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
               ignore_index: int = 255) -> torch.Tensor:
    """Focal loss (Lin et al. 2017) averaged over valid pixels, as DFAD trains its teachers.

    ``FL = mean_{valid i} (1 - p_{i,y_i})^gamma * (-log p_{i,y_i})``; ``gamma=0`` is plain CE.
    """
    ce = F.cross_entropy(logits, target, ignore_index=ignore_index, reduction='none')
    valid = target != ignore_index
    pt = torch.exp(-ce)
    loss = ((1 - pt) ** gamma * ce)[valid]
    return loss.sum() / valid.sum().clamp(min=1)


@MODELS.register_module()
class Supervised(BaseSegAlgorithm):
    """Train ``segmentor`` with cross-entropy (or focal loss) on ``seg`` labels.

    Args:
        segmentor: segmentor config, e.g. ``dict(type='SmpSegmentor', arch='DeepLabV3Plus',
            encoder_name='resnet18', classes=13)``.
        loss: ``'ce'`` or ``'focal'``.
        focal_gamma: focusing parameter of the focal loss.
        ignore_index: label value excluded from the loss.
        data_preprocessor: mmengine data preprocessor config.
        init_cfg: mmengine init config.
    """

    def __init__(self, segmentor: dict, loss: str = 'ce', focal_gamma: float = 2.0,
                 ignore_index: int = 255, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if loss not in ('ce', 'focal'):
            raise ValueError(f'model.loss={loss!r}; expected "ce" or "focal"')
        self.segmentor = build_model(segmentor)
        self.loss_type = loss
        self.focal_gamma = focal_gamma if loss == 'focal' else 0.0
        self.ignore_index = ignore_index

    @property
    def eval_network(self) -> nn.Module:
        return self.segmentor

    def loss(self, inputs: torch.Tensor,
             seg: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        if seg is None:
            raise ValueError('Supervised training needs labelled batches (a "seg" entry); '
                             'the train dataloader gave images only')
        logits = self.segmentor(inputs)
        return {f'loss_{self.loss_type}': focal_loss(logits, seg, self.focal_gamma,
                                                     self.ignore_index)}
