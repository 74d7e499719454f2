"""A *related* OOD pool: collages of SynthRooms tiles (local patterns shared, room layout not).

Knowledge distillation without the training set is usually studied with two kinds of transfer
data: *unrelated* images (here :class:`~densekd.datasets.ood.BundledPhotosDataset`, real photos)
and *related* images that share low-level statistics with the task but not its semantics. DFAD
(Fang et al., "Data-Free Adversarial Distillation", 2019) reports the latter as the "KD-REL" row
of its NYUv2 table, and MosaicKD (Fang et al., "Mosaicking to Distill: Knowledge Distillation
from Out-of-Domain Data", NeurIPS 2021) is built on the observation that out-of-domain data
share *local* patterns with the in-domain data even when the *global* semantics differ.

:class:`SynthRoomsCollageDataset` makes such a pool for SynthRooms without any other data: it
renders a source set of SynthRooms rooms with a seed of its own (so no train or test image is
reused), cuts square tiles from them at random positions, scales and orientations, and pastes
the tiles at random places on a canvas until it is covered. The tiles keep SynthRooms'
materials, textures, edges, lighting and object parts; where a tile lands does not depend on
where it was cut, so the room layout (ceiling at the top, floor at the bottom, walls between,
perspective lines) does not survive.

Items have the format of the other OOD sources: ``inputs`` (3×H×W float32, after the pipeline)
and ``img_path`` (a description string); there are no labels.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
from mmengine.logging import print_log
from torch.utils.data import Dataset

from densekd.registry import DATASETS
from densekd.synthrooms import ensure_synthrooms, load_manifest, synthrooms_root
from densekd.synthrooms.cache import default_folder_name

from .nyuv2 import DatasetError, read_image_rgb
from .ood import _make_pipeline

__all__ = ['CollageTile', 'SynthRoomsCollageDataset']


class CollageTile(NamedTuple):
    """One tile of a collage, in pasting order (later tiles cover earlier ones).

    Attributes:
        source: Index of the source image.
        src_y: Top row of the window cut from the source.
        src_x: Left column of the window cut from the source.
        src_size: Side of the (square) source window, resized to ``size`` when different.
        y: Top row of the tile on the canvas.
        x: Left column of the tile on the canvas.
        size: Side of the tile on the canvas.
        rot90: Number of counter-clockwise quarter turns applied (``np.rot90``), 0..3.
        flip: Whether the tile was flipped left-right (after the rotation).
    """

    source: int
    src_y: int
    src_x: int
    src_size: int
    y: int
    x: int
    size: int
    rot90: int
    flip: bool


def _pair(value: Any, name: str, what: str, kind: type = int) -> tuple:
    """``value`` as a 2-tuple of ``kind``, or a DatasetError naming the argument."""
    try:
        a, b = value
        return kind(a), kind(b)
    except (TypeError, ValueError):
        raise DatasetError(f'SynthRoomsCollageDataset: {name} must be {what}, got {value!r}'
                           ) from None


@DATASETS.register_module()
class SynthRoomsCollageDataset(Dataset):
    """Collages of square tiles cut from SynthRooms renders: the related OOD pool (KD-REL).

    At construction, ``num_sources`` SynthRooms images of ``crop_size`` are rendered with
    ``source_seed`` into ``data_root`` (by :func:`~densekd.synthrooms.ensure_synthrooms`:
    generated once under a file lock, reused afterwards) and loaded into memory. Sources are
    rendered at the collage size so that textures keep their in-domain scale.

    Item ``i`` is built from ``np.random.default_rng([seed, i])`` only: while part of the canvas
    is uncovered, pick an uncovered pixel, a tile side in ``tile_range`` and a tile position
    covering that pixel (kept inside the canvas); cut a square window of side
    ``side / scale`` (``scale`` drawn from ``scale_range``) at a uniform position of a uniformly
    chosen source, resize it to the tile side, optionally turn and flip it (the 8 symmetries of
    a square) and paste it. The collage is therefore deterministic given ``(seed, i)``; the
    pipeline's random augmentation is applied on top.

    Args:
        data_root: Where the source rooms are generated / cached. Use a folder of its own, not
            the train data's: a folder holding SynthRooms with another seed is refused.
        num_samples: Dataset length.
        crop_size: Collage (and source) ``(height, width)``, both >= 8.
        tile_range: Smallest and largest tile side in pixels (inclusive),
            ``1 <= low <= high <= min(crop_size)``.
        num_sources: Number of source rooms to cut tiles from.
        source_seed: SynthRooms seed of the sources; keep it different from the seed of the
            train/test splits (0 in the shipped configs) so that no train image is reused.
        seed: Seed of the collage pool (and of the pipeline).
        pipeline: albumentations transform dicts applied to each collage (typically
            ``HorizontalFlip`` + ``Normalize``); None means ImageNet ``Normalize`` only.
        scale_range: Range of the tile scale (tile side / source window side), ``0 < low <=
            high``; the window is clipped to the source size. ``(1, 1)`` copies pixels exactly.
        flip_rotate: Turn each tile by a random multiple of 90 degrees and flip it with
            probability 0.5 (otherwise tiles keep the source orientation).
        num_workers: Processes for generating the sources (None = automatic).
        generate: Generating the sources at a ``data_root`` that is not their default location
            (a folder named ``synthrooms_<h>x<w>_collage_sources``), an empty folder or one
            SynthRooms generated before: True allows it, None (default) and False do not (see
            :func:`~densekd.synthrooms.cache.may_generate`).

    Raises:
        DatasetError: invalid arguments (the message names the argument), or a ``data_root``
            that holds a SynthRooms dataset with another seed or with test images.
        DatasetNotFoundError: no sources at ``data_root`` and generating there not allowed.
    """

    def __init__(self,
                 data_root: str | os.PathLike = 'data/synthrooms_96x128_collage_sources',
                 num_samples: int = 2000,
                 crop_size: Sequence[int] = (96, 128),
                 tile_range: Sequence[int] = (12, 32),
                 num_sources: int = 200,
                 source_seed: int = 1000,
                 seed: int = 0,
                 pipeline: Sequence[dict[str, Any]] | Callable | None = None,
                 scale_range: Sequence[float] = (1.0, 1.0),
                 flip_rotate: bool = True,
                 num_workers: int | None = None,
                 generate: bool | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        height, width = _pair(crop_size, 'crop_size', '(height, width)')
        if min(height, width) < 8:
            raise DatasetError(f'{name}: crop_size must be (height, width) >= 8, got '
                               f'{tuple(crop_size)}')
        lo, hi = _pair(tile_range, 'tile_range', '(low, high) in pixels')
        if not 1 <= lo <= hi <= min(height, width):
            raise DatasetError(f'{name}: tile_range must satisfy 1 <= low <= high <= '
                               f'min(crop_size) = {min(height, width)}, got {tuple(tile_range)}')
        s_lo, s_hi = _pair(scale_range, 'scale_range', '(low, high)', float)
        if not 0 < s_lo <= s_hi:
            raise DatasetError(f'{name}: scale_range must satisfy 0 < low <= high, got '
                               f'{tuple(scale_range)}')
        for arg, value in (('num_samples', num_samples), ('num_sources', num_sources)):
            if int(value) < 1:
                raise DatasetError(f'{name}: {arg} must be >= 1, got {value}')
        for arg, value in (('source_seed', source_seed), ('seed', seed)):
            if int(value) < 0:
                raise DatasetError(f'{name}: {arg} must be >= 0, got {value}')
        self.num_samples = int(num_samples)
        self.crop_size = (height, width)
        self.tile_range = (lo, hi)
        self.scale_range = (s_lo, s_hi)
        self.flip_rotate = bool(flip_rotate)
        self.source_seed = int(source_seed)
        self.seed = int(seed)

        self.data_root = synthrooms_root(data_root)
        self._check_not_other_synthrooms(self.data_root)
        self.generation = ensure_synthrooms(data_root, num_train=int(num_sources),
                                            num_test=0, height=height, width=width,
                                            seed=self.source_seed, num_workers=num_workers,
                                            generate=generate, what=name,
                                            default_name=default_folder_name(
                                                height, width, '_collage_sources'))
        folder = Path(self.data_root) / 'image' / 'train'
        self.sources = np.stack([read_image_rgb(folder / f'{k:05d}.png')
                                 for k in range(int(num_sources))])
        self.pipeline = _make_pipeline(pipeline, self.seed)
        print_log(f'{name}: {self.num_samples} collages of {height}x{width} from '
                  f'{len(self.sources)} SynthRooms sources (seed {self.source_seed}) in '
                  f'{self.data_root}', logger='current')

    def _check_not_other_synthrooms(self, root: Path) -> None:
        """Refuse a ``data_root`` holding other SynthRooms data (ensure_synthrooms replaces it)."""
        params = (load_manifest(root) or {}).get('params')
        if params and (params.get('seed') != self.source_seed or params.get('num_test')):
            raise DatasetError(
                f'{type(self).__name__}: data_root {str(root)!r} holds a SynthRooms dataset with '
                f'seed {params.get("seed")} and {params.get("num_train")} train / '
                f'{params.get("num_test")} test images (probably train/test data); the sources '
                f'(source_seed={self.source_seed}) would replace it. Use a data_root of its own.')

    def __len__(self) -> int:
        return self.num_samples

    def layout(self, idx: int) -> list[CollageTile]:
        """The tiles of collage ``idx``, in pasting order (a pure function of ``(seed, idx)``).

        Args:
            idx: Item index.

        Returns:
            The tiles; together they cover the canvas.
        """
        if not 0 <= idx < self.num_samples:
            raise IndexError(f'index {idx} out of range for {self.num_samples} samples')
        rng = np.random.default_rng([self.seed, idx])
        H, W = self.crop_size
        src_h, src_w = self.sources.shape[1:3]
        covered = np.zeros((H, W), bool)
        tiles = []
        while True:
            free = np.flatnonzero(~covered)
            if free.size == 0:
                return tiles
            py, px = divmod(int(free[rng.integers(free.size)]), W)
            size = int(rng.integers(self.tile_range[0], self.tile_range[1] + 1))
            # A tile position covering (py, px), moved inside the canvas if it sticks out.
            y = min(max(py - int(rng.integers(size)), 0), H - size)
            x = min(max(px - int(rng.integers(size)), 0), W - size)
            src_size = min(round(size / rng.uniform(*self.scale_range)), src_h, src_w)
            src_size = max(src_size, 1)
            tile = CollageTile(
                source=int(rng.integers(len(self.sources))),
                src_y=int(rng.integers(src_h - src_size + 1)),
                src_x=int(rng.integers(src_w - src_size + 1)),
                src_size=src_size, y=y, x=x, size=size,
                rot90=int(rng.integers(4)) if self.flip_rotate else 0,
                flip=bool(rng.random() < 0.5) if self.flip_rotate else False)
            covered[y:y + size, x:x + size] = True
            tiles.append(tile)

    def tile_pixels(self, tile: CollageTile) -> np.ndarray:
        """The ``size``×``size``×3 uint8 pixels of ``tile`` (cut, resized, turned, flipped)."""
        s = tile.src_size
        patch = self.sources[tile.source, tile.src_y:tile.src_y + s, tile.src_x:tile.src_x + s]
        if s != tile.size:
            patch = np.ascontiguousarray(patch)
            interp = cv2.INTER_AREA if s > tile.size else cv2.INTER_LINEAR
            patch = cv2.resize(patch, (tile.size, tile.size), interpolation=interp)
        patch = np.rot90(patch, tile.rot90)
        return patch[:, ::-1] if tile.flip else patch

    def collage(self, idx: int) -> tuple[np.ndarray, str]:
        """The deterministic collage of item ``idx`` before the pipeline.

        Args:
            idx: Item index.

        Returns:
            ``(collage, description)``: ``crop_size`` H×W×3 uint8 RGB and
            ``'synthrooms-collage:<seed>/<idx>@<number of tiles>'``.
        """
        tiles = self.layout(idx)
        canvas = np.zeros((*self.crop_size, 3), np.uint8)
        for t in tiles:
            canvas[t.y:t.y + t.size, t.x:t.x + t.size] = self.tile_pixels(t)
        return canvas, f'synthrooms-collage:{self.seed}/{idx}@{len(tiles)}'

    def __getitem__(self, idx: int) -> dict[str, Any]:
        img, desc = self.collage(idx)
        inputs, _ = self.pipeline(img)
        return dict(inputs=inputs, img_path=desc)
