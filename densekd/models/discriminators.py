"""Patch discriminator (PatchGAN) for MosaicKD's local-authenticity game."""
from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn

from densekd.registry import MODELS

from .generators import dcgan_init_

# Each stride-2 4×4 conv grows the receptive field by 3·(current stride): 4, 10, 22, 46, 94, 190.
_MAX_DOWNSAMPLES = 6


def _receptive_field_of(convs: List[nn.Conv2d]) -> Tuple[int, int]:
    """Receptive field and stride of a chain of convolutions (standard recurrence).

    ``r_l = r_{l-1} + (k_l - 1)·d_l·j_{l-1}``, ``j_l = j_{l-1}·s_l`` with ``r_0 = j_0 = 1``
    (Araujo et al., "Computing Receptive Fields of CNNs", Distill 2019).
    """
    rf, jump = 1, 1
    for conv in convs:
        k, d, s = conv.kernel_size[0], conv.dilation[0], conv.stride[0]
        rf += (k - 1) * d * jump
        jump *= s
    return rf, jump


def _num_downsamples_for(patch_size: int) -> int:
    """Fewest stride-2 4×4 convs whose receptive field is >= ``patch_size``."""
    rf, jump = 1, 1
    for n in range(1, _MAX_DOWNSAMPLES + 1):
        rf += 3 * jump
        jump *= 2
        if rf >= patch_size:
            return n
    raise AssertionError('unreachable: patch_size is validated before')  # pragma: no cover


@MODELS.register_module()
class PatchDiscriminator(nn.Module):
    """PatchGAN discriminator giving one real/fake logit per image patch.

    MosaicKD (Fang et al., NeurIPS 2021; ``engine/models/generator.py`` in
    github.com/zju-vipa/MosaicKD) judges *local* authenticity with stacks of stride-2 4×4
    convolutions followed by a 1×1 convolution to one logit::

        Conv4×4 s2 p1 (C -> ndf, bias) -> LReLU(0.2)
        (n-1) × [Conv4×4 s2 p1 (-> 2× channels, capped at 8ndf) -> Norm -> LReLU(0.2)]
        Conv1×1 (-> 1)

    The number of stride-2 convs ``n`` is the smallest whose receptive field is at least
    ``patch_size``: n = 1, 2, 3, 4, 5, 6 give receptive fields 4, 10, 22, 46, 94, 190 px and
    output strides 2, 4, 8, 16, 32, 64. ``patch_size`` = 10, 22, 46 reproduce exactly MosaicKD's
    ``PatchDiscriminator`` / ``DeepPatchDiscriminator`` / ``DeeperPatchDiscriminator``
    (the reference uses ``ndf=128``). :attr:`receptive_field` is computed from the layers.

    Args:
        in_channels: image channels.
        ndf: channels of the first conv.
        patch_size: wanted receptive field in pixels, 1..190.
        norm: ``'batch'`` (reference), ``'instance'`` or ``'none'`` for the inner convs.
        slope: LeakyReLU negative slope.

    Shape:
        input B×C×H×W (H, W divisible by :attr:`output_stride` for an exact tiling),
        output B×1×(H/stride)×(W/stride) logits (not probabilities).
    """

    _NORMS = ('batch', 'instance', 'none')

    def __init__(self, in_channels: int = 3, ndf: int = 64, patch_size: int = 16,
                 norm: str = 'batch', slope: float = 0.2) -> None:
        super().__init__()
        if isinstance(patch_size, bool) or not isinstance(patch_size, int):
            raise TypeError(f'patch_size must be an int (pixels), got {patch_size!r}')
        max_rf = _receptive_field_of([nn.Conv2d(1, 1, 4, 2, 1)] * _MAX_DOWNSAMPLES)[0]
        if not 1 <= patch_size <= max_rf:
            raise ValueError(f'patch_size must be in [1, {max_rf}] pixels, got {patch_size}')
        if norm not in self._NORMS:
            raise ValueError(f'norm must be one of {self._NORMS}, got {norm!r}')
        if in_channels <= 0 or ndf <= 0:
            raise ValueError(f'in_channels and ndf must be positive, got {in_channels}, {ndf}')
        self.patch_size = patch_size
        self.num_downsamples = _num_downsamples_for(patch_size)

        layers: List[nn.Module] = [nn.Conv2d(in_channels, ndf, 4, 2, 1, bias=True),
                                   nn.LeakyReLU(slope, inplace=True)]
        cin = ndf
        for i in range(1, self.num_downsamples):
            cout = ndf * 2 ** min(i, 3)
            # A bias right before a (batch/instance) norm is cancelled by its mean subtraction.
            layers.append(nn.Conv2d(cin, cout, 4, 2, 1, bias=norm == 'none'))
            if norm == 'batch':
                layers.append(nn.BatchNorm2d(cout))
            elif norm == 'instance':
                layers.append(nn.InstanceNorm2d(cout, affine=True))
            layers.append(nn.LeakyReLU(slope, inplace=True))
            cin = cout
        layers.append(nn.Conv2d(cin, 1, 1))
        self.main = nn.Sequential(*layers)
        dcgan_init_(self)

    def _convs(self) -> List[nn.Conv2d]:
        return [m for m in self.main if isinstance(m, nn.Conv2d)]

    @property
    def receptive_field(self) -> int:
        """Side in pixels of the input patch that one output logit sees."""
        return _receptive_field_of(self._convs())[0]

    @property
    def output_stride(self) -> int:
        """Input pixels between neighbouring output logits."""
        return _receptive_field_of(self._convs())[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-patch logits B×1×h×w."""
        if x.dim() != 4:
            raise ValueError(f'expected B×C×H×W images, got shape {tuple(x.shape)}')
        return self.main(x)
