"""torchvision segmentation models (DeepLabV3, FCN, LR-ASPP) as densekd segmentors.

The DFAD and MosaicKD code bases train torchvision-style DeepLabV3 models and release their
state dicts. :class:`TorchvisionSegmentor` builds the named model of
``torchvision.models.segmentation`` offline (``weights=None, weights_backbone=None``), loads such
a file through :func:`densekd.models.segmentors.load_weights` (weights-only, every key checked)
and returns plain logits like the smp segmentors, so it can be a teacher (or a student) anywhere
a densekd segmentor goes.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import segmentation as tv_segmentation

from densekd.registry import MODELS

from .segmentors import load_weights

# The torchvision builders densekd maps, with the state-dict key of their last classifier conv
# (its weight's first dimension is the class count).
ARCHITECTURES = {
    'deeplabv3_resnet50': 'classifier.4.weight',
    'deeplabv3_resnet101': 'classifier.4.weight',
    'deeplabv3_mobilenet_v3_large': 'classifier.4.weight',
    'fcn_resnet50': 'classifier.4.weight',
    'fcn_resnet101': 'classifier.4.weight',
    'lraspp_mobilenet_v3_large': 'classifier.high_classifier.weight',
}
_AUX_PREFIX = 'aux_classifier.'


@MODELS.register_module()
class TorchvisionSegmentor(nn.Module):
    """A ``torchvision.models.segmentation`` model whose forward returns the logits tensor.

    The torchvision model's children (``backbone``, ``classifier`` and, with ``aux_loss``,
    ``aux_classifier``) become this module's children, so the state-dict keys and module paths
    are torchvision's own: a torchvision state dict loads as it is, and an exported one loads
    back into ``torchvision.models.segmentation.<arch>``. Feature taps use those paths, e.g.
    ``'backbone'`` (``index='out'``), ``'classifier.0'`` (ASPP), ``'classifier.3'`` (the 256-channel
    map before the last conv, what smp calls ``decoder``), ``'classifier.4'`` (low-resolution
    logits) for the DeepLabV3 and FCN models.

    Args:
        arch: a key of :data:`ARCHITECTURES`, e.g. ``'deeplabv3_resnet50'``.
        classes: number of output classes.
        checkpoint: optional weights file: a state dict, or a dict holding it under
            ``'model'``, ``'state_dict'`` or ``'model_state'`` (torchvision references, MosaicKD,
            DFAD), keys optionally prefixed with ``module.``.
        aux_loss: build torchvision's auxiliary FCN head (``aux_classifier``), which a file
            saved with ``aux_loss=True`` holds. It is loaded but never run: the forward returns
            the main head's logits only, and densekd trains no auxiliary loss.
        atrous_rates: the three dilated ASPP branches' rates of a ``deeplabv3_*`` model
            (torchvision: (12, 24, 36)); DFAD's NYUv2 teacher uses (12, 24, 32). Rates are not
            stored in a state dict, so they must be given to reproduce such a model.

    Raises:
        ValueError: unknown ``arch`` (the message lists the supported ones), ``atrous_rates``
            for a model without ASPP, an auxiliary head asked of LR-ASPP, or a checkpoint that
            does not match (the message names the file and the mismatching keys).
    """

    #: torchvision heads resize their logits to the input size: any H and W work.
    size_divisor = 1

    def __init__(self, arch: str = 'deeplabv3_resnet50', classes: int = 13,
                 checkpoint: Optional[str] = None, aux_loss: Optional[bool] = None,
                 atrous_rates: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        if arch not in ARCHITECTURES:
            raise ValueError(f'TorchvisionSegmentor: unknown arch {arch!r}; supported '
                             f'torchvision.models.segmentation builders: '
                             f'{", ".join(ARCHITECTURES)}')
        if aux_loss and arch.startswith('lraspp'):
            raise ValueError(f'TorchvisionSegmentor: {arch} has no auxiliary head; '
                             f'set aux_loss=None')
        net = getattr(tv_segmentation, arch)(weights=None, weights_backbone=None,
                                             num_classes=classes, aux_loss=aux_loss)
        for name, child in net.named_children():
            self.add_module(name, child)
        self.arch = arch
        self.head_weight_key = ARCHITECTURES[arch]
        # LR-ASPP's head reads both backbone outputs; DeepLabV3/FCN heads read only 'out'.
        self._head_takes_all_features = isinstance(net, tv_segmentation.LRASPP)
        if atrous_rates is not None:
            _set_atrous_rates(self, arch, atrous_rates)
        self.densekd_cfg = dict(type='TorchvisionSegmentor', arch=arch, classes=classes,
                                aux_loss=bool(aux_loss), atrous_rates=atrous_rates)
        if checkpoint is not None:
            load_weights(self, checkpoint)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """B×C×H×W logits at input resolution: torchvision's ``model(x)['out']``.

        The same computation as ``_SimpleSegmentationModel.forward`` and ``LRASPP.forward`` of
        torchvision, without the auxiliary head.
        """
        features = self.backbone(x)
        logits = self.classifier(features if self._head_takes_all_features else features['out'])
        return F.interpolate(logits, size=x.shape[-2:], mode='bilinear', align_corners=False)

    def key_mismatch_hint(self, missing: list, unexpected: list) -> str:
        """What to change when a checkpoint's keys differ only by the auxiliary head."""
        if unexpected and all(k.startswith(_AUX_PREFIX) for k in unexpected) and not missing:
            return '; the file has an auxiliary head (aux_classifier.*): set aux_loss=True'
        if missing and all(k.startswith(_AUX_PREFIX) for k in missing) and not unexpected:
            return '; the file has no auxiliary head: set aux_loss=False'
        return ''


def _set_atrous_rates(model: nn.Module, arch: str, rates: Sequence[int]) -> None:
    """Set the dilation (and the matching padding) of a torchvision ASPP's 3×3 branches."""
    if not arch.startswith('deeplabv3'):
        raise ValueError(f'TorchvisionSegmentor: atrous_rates apply to the deeplabv3_* models '
                         f'(ASPP), not to {arch}')
    rates = tuple(rates)
    if len(rates) != 3 or not all(isinstance(r, int) and r > 0 for r in rates):
        raise ValueError(f'TorchvisionSegmentor: atrous_rates must be three positive ints, '
                         f'got {rates}')
    aspp = model.classifier[0]
    # torchvision's ASPP: convs[0] is the 1×1 branch, convs[1:4] the dilated 3×3 ones.
    for branch, rate in zip(aspp.convs[1:4], rates):
        conv = branch[0]
        conv.dilation = (rate, rate)
        conv.padding = (rate, rate)
