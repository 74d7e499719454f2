"""A generator that assembles its mosaics from real out-of-domain crops.

MosaicKD's generator draws images from noise and a patch discriminator teaches it, over many
thousands of steps, to make patches that look like OOD patches. :class:`OODMosaicGenerator`
takes the short cut the method's name suggests: every output pixel *is* a pixel of one of
``num_sources`` real OOD crops, chosen by learnt soft masks, so the mosaic's patches are real
OOD patches from the first step and all learning goes into the layout, i.e. where which crop
goes so that the teacher reads the whole as a confident in-domain scene. On a 2-core CPU a
noise generator still draws blobs after a few hundred steps; this one starts from random
mosaics of real texture (see the MosaicKD SynthRooms config and the README for the figures).

The output is a convex combination of the sources, pixel by pixel. The sources must already be
in the teacher's normalised input space (the OOD loader normalises them with the teacher's
mean/std), and a convex combination of normalised images is the normalised convex combination,
so the mosaics are in that space too.
"""
from __future__ import annotations

from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from densekd.registry import MODELS
from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD

from .generators import (NormalisedImageGenerator, SizeLike, StatsLike, check_divisible_size,
                         dcgan_init_, latent_grid, position_grid)


@MODELS.register_module()
class OODMosaicGenerator(NormalisedImageGenerator):
    """Soft-mask compositor of ``num_sources`` real OOD crops per image.

    For each output image and each of its sources ``k`` a small shared network scores, at
    1/``score_stride`` resolution, how much source ``k`` should show at each position::

        score_k = head([encoder(source_k), code, coords]) + layout_scale · noise_k
        masks   = softmax_k(score / temperature), bilinearly up-sampled to H×W
        mosaic  = Σ_k masks_k · source_k

    ``encoder`` sees the source's own content (two stride-2 3×3 convolutions), ``code`` is the
    latent grid (per-cell noise and a per-image code, nearest up-sampled), ``coords`` the
    normalised (y, x) position, so the network can learn "a smooth bright crop near the top"
    as well as a random but coherent layout per image. ``noise_k`` is a coarse N(0, 1) grid per
    source, bilinearly up-sampled: with the head's last convolution initialised to zero, the
    first mosaics are random patchworks of the crops, and training moves the borders.

    The latent code ``z`` (from :meth:`sample_latent`) stacks ``num_sources`` layout-noise
    channels, ``nz`` per-cell channels and ``global_nz`` per-image channels on a grid of
    ``H/grid_stride × W/grid_stride`` cells. The sources come from :meth:`pick_sources`.

    Args:
        num_sources: OOD crops per mosaic ``K``.
        nz: per-cell latent channels.
        global_nz: per-image latent channels (broadcast over the grid).
        width: channels of the scoring network.
        grid_stride: pixels per latent cell (layout granularity).
        score_stride: the masks are scored at 1/``score_stride`` resolution (4: two stride-2
            encoder convolutions).
        layout_scale: weight of the random layout noise in the scores.
        temperature: softmax temperature of the masks (lower = harder borders).
        img_size: default output size (int or (h, w)), divisible by ``grid_stride``.
        mean: teacher input normalisation mean ([0, 1] units), for :meth:`to_unit_range`.
        std: teacher input normalisation std.
        slope: LeakyReLU negative slope.
    """

    #: The generator composes real images: callers must pass OOD ``sources``.
    needs_sources = True

    def __init__(self, num_sources: int = 6, nz: int = 8, global_nz: int = 8, width: int = 32,
                 grid_stride: int = 16, score_stride: int = 4, layout_scale: float = 3.0,
                 temperature: float = 1.0, img_size: SizeLike = (96, 128),
                 mean: StatsLike = IMAGENET_MEAN, std: StatsLike = IMAGENET_STD,
                 slope: float = 0.2) -> None:
        super().__init__(3, mean, std)
        if num_sources < 2:
            raise ValueError(f'num_sources must be >= 2 (a mosaic of one crop is the crop), '
                             f'got {num_sources}')
        if nz < 0 or global_nz < 0 or width <= 0:
            raise ValueError(f'nz and global_nz must be >= 0 and width > 0, got nz={nz}, '
                             f'global_nz={global_nz}, width={width}')
        if score_stride not in (1, 2, 4, 8):
            raise ValueError(f'score_stride must be 1, 2, 4 or 8, got {score_stride}')
        if grid_stride < score_stride or grid_stride % score_stride:
            raise ValueError(f'grid_stride must be a multiple of score_stride={score_stride}, '
                             f'got {grid_stride}')
        if temperature <= 0:
            raise ValueError(f'temperature must be positive, got {temperature}')
        self.num_sources, self.nz, self.global_nz = num_sources, nz, global_nz
        self.grid_stride, self.score_stride = grid_stride, score_stride
        self.layout_scale, self.temperature = float(layout_scale), float(temperature)
        self.img_size = self._check_size(img_size, 'img_size')

        enc, cin = [], 3
        for _ in range(score_stride.bit_length() - 1):  # log2(score_stride) stride-2 convs
            enc += [nn.Conv2d(cin, width, 3, stride=2, padding=1, bias=False),
                    nn.BatchNorm2d(width), nn.LeakyReLU(slope, inplace=True)]
            cin = width
        self.encoder = nn.Sequential(*enc) if enc else nn.Identity()
        head_in = cin + nz + global_nz + 2
        self.head = nn.Sequential(
            nn.Conv2d(head_in, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
            nn.LeakyReLU(slope, inplace=True),
            nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
            nn.LeakyReLU(slope, inplace=True),
            nn.Conv2d(width, 1, 1))
        dcgan_init_(self)
        nn.init.zeros_(self.head[-1].weight)  # start from the random layouts of the noise
        nn.init.zeros_(self.head[-1].bias)

    # ------------------------------------------------------------------ latent and sources
    @property
    def latent_channels(self) -> int:
        """Channels of ``z``: layout noise per source, per-cell noise, per-image code."""
        return self.num_sources + self.nz + self.global_nz

    def _check_size(self, size: SizeLike, name: str) -> Tuple[int, int]:
        return check_divisible_size(size, self.grid_stride,
                                    f'OODMosaicGenerator {name} (grid_stride)')

    def sample_latent(self, batch_size: int, device: Optional[Union[str, torch.device]] = None,
                      generator: Optional[torch.Generator] = None,
                      image_size: Optional[SizeLike] = None) -> torch.Tensor:
        """Draw ``z``: B×(num_sources + nz + global_nz)×(H/grid_stride)×(W/grid_stride).

        Args:
            batch_size: number of mosaics.
            device: device of ``z`` (the module's device when None).
            generator: optional seeded ``torch.Generator`` (must live on ``device``).
            image_size: output size; ``img_size`` when None.
        """
        h, w = self.img_size if image_size is None else self._check_size(image_size,
                                                                           'image_size')
        if device is None:
            device = self.head[0].weight.device
        grid = (h // self.grid_stride, w // self.grid_stride)
        return latent_grid(batch_size, self.num_sources + self.nz, self.global_nz, grid,
                           device, generator)

    def pick_sources(self, pool: torch.Tensor, batch_size: int,
                     generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draw ``num_sources`` crops per mosaic from a batch of OOD images.

        Args:
            pool: N×3×H×W OOD images in the teacher's input space.
            batch_size: number of mosaics B.
            generator: optional seeded ``torch.Generator`` (on the CPU).

        Returns:
            B×num_sources×3×H×W, drawn uniformly with replacement.
        """
        if pool.dim() != 4 or pool.shape[0] < 1:
            raise ValueError(f'expected a non-empty batch of OOD images N×3×H×W, got shape '
                             f'{tuple(pool.shape)}')
        idx = torch.randint(pool.shape[0], (int(batch_size) * self.num_sources,),
                            generator=generator)
        return pool[idx.to(pool.device)].view(int(batch_size), self.num_sources,
                                              *pool.shape[1:])

    # ------------------------------------------------------------------ drawing
    def masks(self, z: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
        """Soft masks B×K×H×W (summing to 1 over K at every pixel)."""
        if sources.dim() != 5 or sources.shape[1] != self.num_sources:
            raise ValueError(f'expected sources B×{self.num_sources}×3×H×W (use pick_sources), '
                             f'got shape {tuple(sources.shape)}')
        b, k, _, h, w = sources.shape
        if z.dim() != 4 or z.shape[0] != b or z.shape[1] != self.latent_channels:
            raise ValueError(f'expected z of shape {b}×{self.latent_channels}×gh×gw (use '
                             f'sample_latent), got {tuple(z.shape)}')
        if (z.shape[2] * self.grid_stride, z.shape[3] * self.grid_stride) != (h, w):
            raise ValueError(f'latent grid {tuple(z.shape[2:])} does not match sources of '
                             f'size {(h, w)} (grid_stride={self.grid_stride})')
        feats = self.encoder(sources.flatten(0, 1))                       # (B·K)×c×h'×w'
        size = feats.shape[-2:]
        noise = F.interpolate(z[:, :k], size=size, mode='bilinear', align_corners=False)
        code = F.interpolate(z[:, k:], size=size, mode='nearest')
        code = code.unsqueeze(1).expand(-1, k, -1, -1, -1).flatten(0, 1)
        x = torch.cat([feats, code, position_grid(feats)], dim=1)
        scores = self.head(x).view(b, k, *size) + self.layout_scale * noise
        masks = torch.softmax(scores / self.temperature, dim=1)
        if tuple(size) != (h, w):
            masks = F.interpolate(masks, size=(h, w), mode='bilinear', align_corners=False)
        return masks

    def forward(self, z: torch.Tensor, sources: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Mosaics B×3×H×W in the sources' (the teacher's) input space.

        Args:
            z: latent grid from :meth:`sample_latent`.
            sources: B×K×3×H×W OOD crops from :meth:`pick_sources`.
        """
        if sources is None:
            raise ValueError('OODMosaicGenerator assembles OOD crops: pass sources '
                             '(generator.pick_sources(ood_images, batch_size)); it cannot be '
                             'used by data-free methods')
        return (self.masks(z, sources).unsqueeze(2) * sources).sum(dim=1)
