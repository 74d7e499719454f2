"""AuG-KD's encoder and AnchorNet (Tang et al., ICLR 2024, arXiv 2403.07030), made dense.

AuG-KD (github.com/IshiKura-a/AuG-KD, ``models/generator.py`` and ``models/anchor_net.py``)
conditions both modules on the image's class label. A segmentation image has no single label,
so densekd conditions them on the image's **class histogram**: the fraction of pixels the
teacher assigns to each class (:func:`class_histogram`). On a 1×1 map the histogram is the
one-hot label, so both modules reduce to the reference's.

* :class:`HistogramVAEEncoder` ``E(x, h)`` inverts the generator: image + histogram → the
  latent code ``z`` the generator would have drawn the image from (a conditional VAE encoder).
* :class:`AnchorNet` ``A(z, h)`` maps the part of ``z`` selected by a histogram-dependent mask
  toward the teacher's domain and keeps the rest (the "anchor" of the mixup stage).
"""
from __future__ import annotations

from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from densekd.registry import MODELS

from .generators import SizeLike, check_divisible_size


def class_histogram(logits: torch.Tensor) -> torch.Tensor:
    """Per-image class histogram of the arg-max prediction, normalised to sum 1.

    ``h_{b,c} = (1/HW) Σ_{i} [argmax_k logits_{b,k,i} = c]``; on B×C logits (or a 1×1 map) it
    is the one-hot of the arg-max, the reference's label input. No gradient flows through it.

    Args:
        logits: B×C×H×W (or B×C) logits.

    Returns:
        B×C float tensor, rows summing to 1.
    """
    if logits.dim() < 2:
        raise ValueError(f'logits must be B×C×H×W (or B×C), got shape {tuple(logits.shape)}')
    num_classes = logits.shape[1]
    pred = logits.detach().argmax(dim=1).reshape(logits.shape[0], -1)  # B×HW (B×1 for B×C)
    counts = F.one_hot(pred, num_classes).sum(dim=1).to(logits.dtype)
    return counts / pred.shape[1]


def _uniform_init_(module: nn.Module, types: Tuple[type, ...]) -> None:
    # The reference's init: weights U(-0.08, 0.08), biases 0 (for the layer types it names).
    for m in module.modules():
        if isinstance(m, types):
            nn.init.uniform_(m.weight, -0.08, 0.08)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


@MODELS.register_module()
class HistogramVAEEncoder(nn.Module):
    """Class-histogram-conditioned VAE encoder ``E(x, h) -> (z, μ, log σ²)``.

    Layout (the reference's ``Encoder`` with 3×3 convolutions, the histogram in place of the
    one-hot label)::

        h (B×C) -> Linear(C, H·W) -> one extra H×W channel
        x (B×3×H×W) -> Conv1×1(3 -> 3)
        cat -> BN -> n × [×0.5 nearest resize -> Conv3×3 -> BN -> LReLU(0.2)]
            -> Conv3×3 -> BN -> Tanh -> flatten -> μ = Linear, log σ² = Linear (clipped [-5, 3])
        z = μ + exp(log σ² / 2) · ε,  ε ~ N(0, I) clipped to [-10, 10]

    The reference halves 32×32 images twice; at segmentation sizes ``hidden_dims`` sets the
    number of stages (all but the last are preceded by the ×0.5 resize). Images are in the
    teacher's normalised input space, as everywhere in densekd (the reference's encoder reads
    un-normalised images; a 1×1 convolution comes first either way).

    Args:
        num_classes: histogram length ``C``.
        latent_size: latent dimension ``L`` (the generator's ``nz``).
        img_size: input size (h, w), divisible by ``2^(len(hidden_dims) - 1)``.
        hidden_dims: channels of the stages; the last one is the Tanh stage.
        in_channels: image channels.
    """

    def __init__(self, num_classes: int, latent_size: int, img_size: SizeLike,
                 hidden_dims: Sequence[int] = (64, 128, 256), in_channels: int = 3) -> None:
        super().__init__()
        if num_classes < 1 or latent_size < 1 or not hidden_dims:
            raise ValueError(f'HistogramVAEEncoder: num_classes={num_classes} and latent_size='
                             f'{latent_size} must be >= 1 and hidden_dims non-empty')
        downsamples = len(hidden_dims) - 1
        h, w = check_divisible_size(img_size, 2 ** downsamples,
                                    'HistogramVAEEncoder img_size (2^(len(hidden_dims) - 1))')
        self.num_classes, self.latent_size, self.img_size = num_classes, latent_size, (h, w)
        self.embed_class = nn.Linear(num_classes, h * w)
        self.embed_data = nn.Conv2d(in_channels, in_channels, 1)
        layers = [nn.BatchNorm2d(in_channels + 1)]
        prev = in_channels + 1
        for i, dim in enumerate(hidden_dims):
            if i < downsamples:
                layers += [nn.Upsample(scale_factor=0.5, mode='nearest'),
                           nn.Conv2d(prev, dim, 3, padding=1, bias=False), nn.BatchNorm2d(dim),
                           nn.LeakyReLU(0.2, inplace=True)]
            else:
                layers += [nn.Conv2d(prev, dim, 3, padding=1), nn.BatchNorm2d(dim), nn.Tanh()]
            prev = dim
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        flat = prev * (h >> downsamples) * (w >> downsamples)
        self.fc_mu = nn.Linear(flat, latent_size)
        self.fc_var = nn.Linear(flat, latent_size)
        _uniform_init_(self, (nn.Conv2d, nn.Linear))

    def forward(self, x: torch.Tensor, hist: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode images.

        Args:
            x: B×3×H×W images (the teacher's input space).
            hist: B×C class histograms (:func:`class_histogram`).

        Returns:
            ``(z, mu, log_var)``, each B×L; ``z`` is the reparameterised sample.
        """
        if tuple(x.shape[-2:]) != self.img_size or hist.shape != (x.shape[0], self.num_classes):
            raise ValueError(f'HistogramVAEEncoder expects images of size {self.img_size} and '
                             f'B×{self.num_classes} histograms, got {tuple(x.shape)} and '
                             f'{tuple(hist.shape)}')
        cls = self.embed_class(hist).view(x.shape[0], 1, *self.img_size)
        feats = self.encoder(torch.cat([self.embed_data(x), cls], dim=1))
        mu = self.fc_mu(feats)
        log_var = self.fc_var(feats).clamp(-5.0, 3.0)
        eps = torch.randn_like(mu).clamp(-10.0, 10.0)
        return mu + eps * torch.exp(0.5 * log_var), mu, log_var


@MODELS.register_module()
class AnchorNet(nn.Module):
    """AuG-KD's AnchorNet ``A(z, h) -> (z', mask)``, conditioned on the class histogram.

    ``e = Linear(C → L)(h)``; ``mask = ReLU(Softsign(Sigmoid(BN1d(Lin(Lin(Lin(e))))) − 0.5))``
    with three Linear(L, L) and no non-linearity between them, so ``mask ∈ [0, 1/3)`` and
    depends on the histogram only. ``m(z)`` is a Conv1d stack over the latent dimension
    (1 → 4 → 8 → 4 channels, kernel 3, BN, LeakyReLU) then Linear(4L → L), applied to
    ``z ⊙ mask``; ``z' = mask ⊙ m(z ⊙ mask) + (1 − mask) ⊙ z``. Linear weights U(−0.08, 0.08),
    biases 0; the Conv1d layers keep PyTorch's default init (the reference's init loop only
    names Conv2d and Linear).

    Args:
        latent_size: latent dimension ``L``.
        num_classes: histogram length ``C``.
    """

    def __init__(self, latent_size: int, num_classes: int) -> None:
        super().__init__()
        if latent_size < 1 or num_classes < 1:
            raise ValueError(f'AnchorNet: latent_size={latent_size} and num_classes='
                             f'{num_classes} must be >= 1')
        self.latent_size, self.num_classes = latent_size, num_classes
        self.embed_class = nn.Linear(num_classes, latent_size)
        self.mask_net = nn.Sequential(
            nn.Linear(latent_size, latent_size), nn.Linear(latent_size, latent_size),
            nn.Linear(latent_size, latent_size), nn.BatchNorm1d(latent_size), nn.Sigmoid())
        convs = []
        for cin, cout in ((1, 4), (4, 8), (8, 4)):
            convs += [nn.Conv1d(cin, cout, 3, padding=1), nn.BatchNorm1d(cout), nn.LeakyReLU()]
        self.convs = nn.Sequential(*convs)
        self.project = nn.Linear(4 * latent_size, latent_size)
        _uniform_init_(self, (nn.Linear,))

    def mask(self, hist: torch.Tensor) -> torch.Tensor:
        """B×L mask in [0, 1/3) from B×C histograms."""
        return F.relu(F.softsign(self.mask_net(self.embed_class(hist)) - 0.5))

    def forward(self, z: torch.Tensor, hist: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Anchor latent codes.

        Args:
            z: B×L latent codes (the encoder's).
            hist: B×C class histograms.

        Returns:
            ``(z_anchor, mask)``, both B×L.
        """
        if z.dim() != 2 or z.shape[1] != self.latent_size or hist.shape != (
                z.shape[0], self.num_classes):
            raise ValueError(f'AnchorNet expects B×{self.latent_size} codes and '
                             f'B×{self.num_classes} histograms, got {tuple(z.shape)} and '
                             f'{tuple(hist.shape)}')
        mask = self.mask(hist)
        mapped = self.project(self.convs((z * mask).unsqueeze(1)).flatten(1))
        return mask * mapped + (1 - mask) * z, mask
