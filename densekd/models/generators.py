"""Image generators for data-free / OOD distillation (DFAD, DAFL, MosaicKD).

Common contract (``docs/interfaces.md``):

* ``generator.sample_latent(batch_size, device=None, generator=None, image_size=None)`` draws
  the latent code, so callers never need to know its shape;
* ``generator(z)`` returns images **already in the teacher's normalised input space**: the
  network ends in a sigmoid giving RGB in [0, 1] and the single function
  :func:`to_input_space` maps them with the config's ``data_norm`` mean/std (the same
  albumentations ``Normalize`` the real images went through), so teacher, student and
  discriminator all see one input space;
* :func:`to_unit_range` is the exact inverse, for visualisation.

Two generators:

* :class:`DCGANGenerator`: DFAD's ``GeneratorB`` (global, Linear-projected latent vector),
  fixed output size, non-square allowed.
* :class:`PatchGenerator`: fully convolutional from a spatial latent grid; each latent cell
  drives a local patch and the output size follows the grid, so one set of weights draws
  128×128 training mosaics and full 480×640 scenes.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch
from torch import nn

from densekd.registry import MODELS
from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD

SizeLike = Union[int, Sequence[int]]
StatsLike = Union[Sequence[float], torch.Tensor]


def _stats_tensor(values: StatsLike, like: torch.Tensor, name: str) -> torch.Tensor:
    """Per-channel statistics as a tensor broadcastable over ``like`` (channel dim = -3)."""
    t = torch.as_tensor(values, dtype=like.dtype, device=like.device).flatten()
    channels = like.shape[-3] if like.dim() >= 3 else None
    if channels is None:
        raise ValueError(f'expected images with a channel dim (…×C×H×W), got shape '
                         f'{tuple(like.shape)}')
    if t.numel() == 1:
        t = t.expand(channels)
    if t.numel() != channels:
        raise ValueError(f'{name} has {t.numel()} values but the images have {channels} '
                         f'channels')
    return t.view(-1, 1, 1)


def to_input_space(x01: torch.Tensor, mean: StatsLike, std: StatsLike) -> torch.Tensor:
    """Map images in [0, 1] to the teacher's normalised input space.

    ``x = (x01 - mean) / std`` per channel, with ``mean``/``std`` in [0, 1] units exactly like
    albumentations ``Normalize(mean, std, max_pixel_value=255)`` applied to uint8 images (which
    computes ``(img/255 - mean) / std``). This is the only place generated images are
    normalised, so every player (teacher, student, discriminator) sees the same space as the
    real images of the config's ``data_norm``.

    Args:
        x01: ``…×C×H×W`` images in [0, 1].
        mean: C per-channel means (or one value for all channels).
        std: C per-channel standard deviations (positive).

    Returns:
        Normalised images, same shape, dtype and device as ``x01``.
    """
    # Only plain numbers are checked here: testing a tensor would sync the device on every
    # generator forward (generators validate their own std once, at construction).
    if not isinstance(std, torch.Tensor) and min(
            float(v) for v in ((std,) if isinstance(std, (int, float)) else std)) <= 0:
        raise ValueError(f'std must be positive, got {std}')
    return (x01 - _stats_tensor(mean, x01, 'mean')) / _stats_tensor(std, x01, 'std')


def to_unit_range(x: torch.Tensor, mean: StatsLike, std: StatsLike) -> torch.Tensor:
    """Inverse of :func:`to_input_space`: ``x * std + mean`` (no clamping).

    Args:
        x: ``…×C×H×W`` normalised images.
        mean: C per-channel means, [0, 1] units.
        std: C per-channel standard deviations.

    Returns:
        Images in [0, 1] units (real images may leave [0, 1] slightly after augmentation;
        clamp before display).
    """
    return x * _stats_tensor(std, x, 'std') + _stats_tensor(mean, x, 'mean')


def _pair(size: SizeLike, name: str) -> Tuple[int, int]:
    if isinstance(size, bool):
        raise TypeError(f'{name} must be an int or (h, w), got {size!r}')
    if isinstance(size, int):
        return size, size
    try:
        h, w = (int(v) for v in size)
    except (TypeError, ValueError):
        raise TypeError(f'{name} must be an int or a (h, w) pair, got {size!r}') from None
    return h, w


def check_divisible_size(size: SizeLike, divisor: int, what: str) -> Tuple[int, int]:
    """``size`` as ``(h, w)``, both positive and divisible by ``divisor``.

    Args:
        size: an int or ``(h, w)``.
        divisor: what both sides must be a multiple of.
        what: how the error names the argument and the divisor, e.g.
            ``'PatchGenerator img_size ... 2^num_upsamples = 8'`` is built from it.
    """
    h, w = _pair(size, what)
    if h <= 0 or w <= 0 or h % divisor or w % divisor:
        raise ValueError(f'{what} must be positive and divisible by {divisor}, got {(h, w)}')
    return h, w


def latent_grid(batch_size: int, local_channels: int, shared_channels: int,
                grid: Tuple[int, int], device, generator: Optional[torch.Generator] = None
                ) -> torch.Tensor:
    """B×(local + shared)×gh×gw N(0, 1) latent grid.

    The first ``local_channels`` are drawn independently per cell; the last
    ``shared_channels`` once per image and repeated over the grid.
    """
    b, (gh, gw) = int(batch_size), grid
    local = torch.randn(b, local_channels, gh, gw, device=device, generator=generator)
    if shared_channels == 0:
        return local
    shared = torch.randn(b, shared_channels, 1, 1, device=device, generator=generator)
    return torch.cat([local, shared.expand(-1, -1, gh, gw)], dim=1)


def position_grid(like: torch.Tensor) -> torch.Tensor:
    """B×2×h×w normalised positions (y, x) of the cell centres, in (-1, 1), for ``like``.

    ``like`` is B×C×h×w; a 1-cell axis sits at 0, so nothing depends on the grid size alone.
    """
    b, _, h, w = like.shape
    ys = (torch.arange(h, device=like.device, dtype=like.dtype) + 0.5) * (2 / h) - 1
    xs = (torch.arange(w, device=like.device, dtype=like.dtype) + 0.5) * (2 / w) - 1
    grid = torch.stack(torch.meshgrid(ys, xs, indexing='ij'))
    return grid.unsqueeze(0).expand(b, -1, -1, -1)


def dcgan_init_(module: nn.Module) -> None:
    """DCGAN initialisation (Radford et al. 2016; DFAD ``network/gan.py``).

    Conv / linear weights ~ N(0, 0.02), norm-layer weights ~ N(1, 0.02), all biases 0.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.weight is not None:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class NormalisedImageGenerator(nn.Module):
    """Base: holds mean/std and turns the network's [0, 1] output into the input space.

    Subclasses implement ``forward_unit(z) -> images in [0, 1]`` and ``sample_latent``.
    ``mean``/``std`` are non-persistent buffers: they follow ``.to(device)`` but are not saved
    in checkpoints (they belong to the config's ``data_norm``, not to the learnt weights).
    """

    def __init__(self, out_channels: int, mean: StatsLike, std: StatsLike) -> None:
        super().__init__()
        mean_t = torch.as_tensor(mean, dtype=torch.float32).flatten()
        std_t = torch.as_tensor(std, dtype=torch.float32).flatten()
        if mean_t.numel() != out_channels or std_t.numel() != out_channels:
            raise ValueError(f'mean and std need {out_channels} values (one per output '
                             f'channel), got mean={tuple(mean_t.tolist())}, '
                             f'std={tuple(std_t.tolist())}')
        if bool((std_t <= 0).any()):
            raise ValueError(f'std must be positive, got {tuple(std_t.tolist())}')
        self.out_channels = out_channels
        self.register_buffer('mean', mean_t, persistent=False)
        self.register_buffer('std', std_t, persistent=False)

    def forward_unit(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError  # abstract: subclasses draw the images

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Generate images in the teacher's normalised input space.

        Args:
            z: latent code from :meth:`sample_latent`.

        Returns:
            B×C×H×W images ``to_input_space(sigmoid(net(z)), mean, std)``.
        """
        return to_input_space(self.forward_unit(z), self.mean, self.std)

    def to_unit_range(self, x: torch.Tensor) -> torch.Tensor:
        """Map this generator's outputs (or any image in the same space) back to [0, 1]."""
        return to_unit_range(x, self.mean, self.std)


@MODELS.register_module()
class DCGANGenerator(NormalisedImageGenerator):
    """DCGAN generator: DFAD's ``GeneratorB`` with a sigmoid head.

    Layout (Fang et al., "Data-Free Adversarial Distillation", arXiv 1912.11006,
    ``network/gan.py::GeneratorB`` in github.com/VainF/Data-Free-Adversarial-Distillation)::

        z (B×nz) -> Linear(nz, 8ngf·h/16·w/16) -> reshape (8ngf, h/16, w/16) -> BN
          -> 4 × [ConvTranspose4×4 s2 p1 (no bias) -> BN -> LeakyReLU(0.2)]
             channels 8ngf -> 4ngf -> 2ngf -> ngf -> ngf
          -> Conv3×3(ngf -> C) -> Sigmoid -> to_input_space(mean, std)

    The reference ends in ``tanh``, which only matches data normalised with mean = std = 0.5.
    We end in a sigmoid (as MosaicKD's generators do) and map [0, 1] to the teacher's
    normalisation explicitly with :func:`to_input_space`, so any ``data_norm`` works and the
    generator cannot produce values the real pipeline never produces.

    Args:
        nz: latent dimension.
        ngf: base channel width.
        img_size: output size, an int or ``(h, w)``; both divisible by 16.
        out_channels: image channels.
        mean: per-channel mean of the teacher's input normalisation ([0, 1] units).
        std: per-channel std of the teacher's input normalisation.
        slope: LeakyReLU negative slope.
    """

    def __init__(self, nz: int = 256, ngf: int = 64, img_size: SizeLike = (128, 128),
                 out_channels: int = 3, mean: StatsLike = IMAGENET_MEAN,
                 std: StatsLike = IMAGENET_STD, slope: float = 0.2) -> None:
        super().__init__(out_channels, mean, std)
        h, w = _pair(img_size, 'img_size')
        if h <= 0 or w <= 0 or h % 16 or w % 16:
            raise ValueError(f'DCGANGenerator img_size must be positive and divisible by 16 '
                             f'(four ×2 up-sampling stages), got {(h, w)}')
        if nz <= 0 or ngf <= 0:
            raise ValueError(f'nz and ngf must be positive, got nz={nz}, ngf={ngf}')
        self.nz, self.ngf = nz, ngf
        self.img_size = (h, w)
        self.init_size = (h // 16, w // 16)
        self.project = nn.Linear(nz, 8 * ngf * self.init_size[0] * self.init_size[1])
        chans = [8 * ngf, 4 * ngf, 2 * ngf, ngf, ngf]
        layers = [nn.BatchNorm2d(chans[0])]
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False),
                       nn.BatchNorm2d(cout), nn.LeakyReLU(slope, inplace=True)]
        layers += [nn.Conv2d(ngf, out_channels, 3, padding=1), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)
        dcgan_init_(self)

    def sample_latent(self, batch_size: int, device: Optional[Union[str, torch.device]] = None,
                      generator: Optional[torch.Generator] = None,
                      image_size: Optional[SizeLike] = None) -> torch.Tensor:
        """Draw ``z ~ N(0, I)`` of shape B×nz.

        Args:
            batch_size: number of latent codes.
            device: device of ``z`` (the module's device when None).
            generator: optional seeded ``torch.Generator`` (must live on ``device``).
            image_size: must be None or this generator's ``img_size``: a global DCGAN cannot
                change its output size.
        """
        if image_size is not None and _pair(image_size, 'image_size') != self.img_size:
            raise ValueError(f'DCGANGenerator draws {self.img_size} images only (got '
                             f'image_size={image_size}); use PatchGenerator for other sizes')
        if device is None:
            device = self.project.weight.device
        return torch.randn(int(batch_size), self.nz, device=device, generator=generator)

    def forward_unit(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from z (B×nz or B×nz×1×1)."""
        z = z.flatten(1)
        if z.shape[1] != self.nz:
            raise ValueError(f'expected z with {self.nz} features, got shape {tuple(z.shape)}')
        x = self.project(z).view(z.shape[0], 8 * self.ngf, *self.init_size)
        return self.main(x)


@MODELS.register_module()
class PatchGenerator(NormalisedImageGenerator):
    """Fully convolutional generator from a spatial latent grid (MosaicKD's noise generator).

    The latent code is a grid ``z``: B×(nz + global_nz)×gh×gw and the output is
    ``(gh·2^k)×(gw·2^k)`` with ``k = num_upsamples``. There is no Linear layer, so the image
    size follows the grid and the same weights draw 128×128 training mosaics (8×8 grid with
    k = 4) and full 480×640 scenes (30×40 grid)::

        z -> Conv3×3(nz+global_nz -> c0) -> BN -> LReLU
          -> k × [Up×2 (nearest | bilinear) -> Conv3×3 -> BN -> LReLU]   (or ConvT4×4 s2)
             channels halve from c0 = ngf·2^min(k, 3) down to ngf
          -> Conv3×3(ngf -> C) -> Sigmoid -> to_input_space(mean, std)

    Latent design (our choice, documented here): each cell carries ``nz`` channels of
    **independent** N(0, 1) noise that drives its own ``2^k × 2^k`` patch (neighbouring cells
    blend through the 3×3 convolutions, so there are no seams), plus ``global_nz`` channels of
    a **shared** code, drawn once per image and broadcast to every cell. The shared code lets
    the generator keep image-level consistency (colour scheme, lighting, scene type) while the
    per-cell noise gives a different local arrangement everywhere, which is what MosaicKD's
    patch discriminator judges. ``global_nz=0`` gives a purely local (stationary) generator.
    Both parts live in the one tensor ``z``, so ``forward(z)`` stays a plain convolution stack
    and callers only ever use :meth:`sample_latent`.

    ``coords=True`` appends two channels holding each cell's normalised position (y, x in
    (-1, 1) across the grid) to the latent grid. Without them the convolutions are translation
    equivariant and the generator cannot learn where things go in a scene (ceiling at the top,
    floor at the bottom), which a segmentation teacher reads from position as much as from
    texture. Positions are relative, so the same weights still draw any size.

    Nearest up-sampling + 3×3 convolution (the default) avoids the checkerboard artefacts of
    transposed convolutions (Odena et al., Distill 2016); ``upsample='deconv'`` gives the
    DCGAN-style ConvTranspose4×4 s2 blocks instead.

    Args:
        nz: per-cell latent channels (independent noise per cell).
        ngf: channel width of the last block.
        num_upsamples: number of ×2 stages ``k``; each latent cell maps to ``2^k`` pixels.
        global_nz: channels of the per-image code shared by all cells (0 disables it).
        img_size: default output size (int or (h, w)) used by :meth:`sample_latent` when no
            ``image_size`` is given; both divisible by ``2^k``.
        upsample: ``'nearest'``, ``'bilinear'`` or ``'deconv'``.
        out_channels: image channels.
        mean: per-channel mean of the teacher's input normalisation ([0, 1] units).
        std: per-channel std of the teacher's input normalisation.
        slope: LeakyReLU negative slope.
        coords: append the cells' normalised (y, x) positions to the latent grid.
    """

    _UPSAMPLE_MODES = ('nearest', 'bilinear', 'deconv')

    def __init__(self, nz: int = 64, ngf: int = 64, num_upsamples: int = 4,
                 global_nz: int = 16, img_size: SizeLike = (128, 128),
                 upsample: str = 'nearest', out_channels: int = 3,
                 mean: StatsLike = IMAGENET_MEAN, std: StatsLike = IMAGENET_STD,
                 slope: float = 0.2, coords: bool = False) -> None:
        super().__init__(out_channels, mean, std)
        if nz <= 0 or ngf <= 0:
            raise ValueError(f'nz and ngf must be positive, got nz={nz}, ngf={ngf}')
        if global_nz < 0:
            raise ValueError(f'global_nz must be >= 0, got {global_nz}')
        if not isinstance(num_upsamples, int) or num_upsamples < 0:
            raise ValueError(f'num_upsamples must be an int >= 0, got {num_upsamples!r}')
        if upsample not in self._UPSAMPLE_MODES:
            raise ValueError(f'upsample must be one of {self._UPSAMPLE_MODES}, got {upsample!r}')
        self.nz, self.global_nz, self.ngf = nz, global_nz, ngf
        self.num_upsamples = num_upsamples
        self.scale = 2 ** num_upsamples
        self.upsample = upsample
        self.coords = bool(coords)
        self.img_size = self._check_size(img_size, 'img_size')

        chans = [ngf * 2 ** min(num_upsamples - i, 3) for i in range(num_upsamples + 1)]
        in_channels = nz + global_nz + (2 if self.coords else 0)
        layers = [nn.Conv2d(in_channels, chans[0], 3, padding=1, bias=False),
                  nn.BatchNorm2d(chans[0]), nn.LeakyReLU(slope, inplace=True)]
        for cin, cout in zip(chans[:-1], chans[1:]):
            if upsample == 'deconv':
                layers.append(nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False))
            else:
                align = False if upsample == 'bilinear' else None
                layers += [nn.Upsample(scale_factor=2, mode=upsample, align_corners=align),
                           nn.Conv2d(cin, cout, 3, padding=1, bias=False)]
            layers += [nn.BatchNorm2d(cout), nn.LeakyReLU(slope, inplace=True)]
        layers += [nn.Conv2d(chans[-1], out_channels, 3, padding=1), nn.Sigmoid()]
        self.main = nn.Sequential(*layers)
        dcgan_init_(self)

    @property
    def latent_channels(self) -> int:
        """Channels of ``z``: per-cell noise plus the shared code."""
        return self.nz + self.global_nz

    def _check_size(self, size: SizeLike, name: str) -> Tuple[int, int]:
        return check_divisible_size(size, self.scale, f'PatchGenerator {name} (2^num_upsamples)')

    def grid_size(self, image_size: Optional[SizeLike] = None) -> Tuple[int, int]:
        """Latent grid ``(H/2^k, W/2^k)`` for an output size (default: ``img_size``)."""
        h, w = self.img_size if image_size is None else self._check_size(image_size,
                                                                           'image_size')
        return h // self.scale, w // self.scale

    def sample_latent(self, batch_size: int, device: Optional[Union[str, torch.device]] = None,
                      generator: Optional[torch.Generator] = None,
                      image_size: Optional[SizeLike] = None) -> torch.Tensor:
        """Draw a latent grid for images of ``image_size`` (default ``img_size``).

        ``z[:, :nz]`` is i.i.d. N(0, 1) per cell; ``z[:, nz:]`` is one N(0, 1) vector per image
        repeated over the grid.

        Args:
            batch_size: number of images.
            device: device of ``z`` (the module's device when None).
            generator: optional seeded ``torch.Generator`` (must live on ``device``).
            image_size: output size (int or (h, w)), divisible by ``2^num_upsamples``.

        Returns:
            B×(nz + global_nz)×gh×gw latent grid.
        """
        if device is None:
            device = self.main[0].weight.device
        return latent_grid(batch_size, self.nz, self.global_nz, self.grid_size(image_size),
                           device, generator)

    def forward_unit(self, z: torch.Tensor) -> torch.Tensor:
        """Images in [0, 1] from a latent grid B×(nz+global_nz)×gh×gw."""
        if z.dim() != 4 or z.shape[1] != self.latent_channels:
            raise ValueError(f'expected a latent grid B×{self.latent_channels}×gh×gw '
                             f'(use sample_latent), got shape {tuple(z.shape)}')
        if self.coords:
            z = torch.cat([z, position_grid(z)], dim=1)
        return self.main(z)
