"""Grids of what a config feeds its model: dataset samples (masks coloured) or generated images.

A split's dataset is built from the config exactly as training builds it (the dataloader's
``dataset`` through the ``DATASETS`` registry, pipeline and augmentations included), and its
images are de-normalised for display with the config's ``data_norm``. Labelled items show the
image above its mask in the dataset's palette, with a legend of the classes present;
unlabelled ones (the OOD pools) show the image alone. For a generative config (a
``model.generator``: DFAD, DAFL, MosaicKD) the ``generator`` split draws the generator's images,
from a training checkpoint or from its random initialisation.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD

from .overlay import colorize_mask, denormalize, draw_legend
from .palette import default_palette

#: ``--split`` -> the config key of its dataloader; ``ood`` is the data family's OOD pool.
DATALOADERS = {'train': 'train_dataloader', 'val': 'val_dataloader', 'test': 'test_dataloader'}
SPLITS = ('train', 'val', 'test', 'ood', 'generator')
BORDER = 2  # px of white around every tile
_WHITE = 255


def data_norm_of(cfg) -> dict:
    """The ``dict(mean, std)`` the config's pipelines normalise with.

    The data family's ``data_norm``, else ``model.data_norm``, else ImageNet's statistics for
    a distiller (its default, as :func:`densekd.utils.config.load_config` assumes).

    Raises:
        ValueError: a non-distiller config without ``data_norm``.
    """
    model = cfg.get('model') or {}
    norm = cfg.get('data_norm') or model.get('data_norm')
    if norm is None and 'teacher' in model and 'student' in model:
        norm = dict(mean=IMAGENET_MEAN, std=IMAGENET_STD)
    if norm is None:
        raise ValueError(f'{cfg.filename}: no data_norm (nor model.data_norm) to de-normalise '
                         'the images with')
    return dict(mean=tuple(norm['mean']), std=tuple(norm['std']))


def dataset_config(cfg, split: str) -> dict:
    """The dataset config of ``split`` (``train``, ``val``, ``test`` or ``ood``).

    Raises:
        ValueError: an unknown split, or the config has no such dataset (names the key).
    """
    if split == 'ood':
        key, dataset = 'ood_dataset', cfg.get('ood_dataset')
    elif split in DATALOADERS:
        key = f'{DATALOADERS[split]}.dataset'
        dataset = (cfg.get(DATALOADERS[split]) or {}).get('dataset')
    else:
        raise ValueError(f'unknown split {split!r}; choose from {", ".join(SPLITS[:-1])}')
    if not dataset:
        raise ValueError(f'{cfg.filename}: no {key} for --split {split}')
    return {k: v for k, v in dict(dataset).items() if k != '_delete_'}


def build_dataset(cfg, split: str):
    """Build ``split``'s dataset through the ``DATASETS`` registry."""
    from densekd.registry import DATASETS
    return DATASETS.build(dataset_config(cfg, split))


#: The legend of a grid: class names, palette and the class ids present.
Legend = Tuple[List[str], np.ndarray, np.ndarray]


def _palette_and_names(dataset, labels: Sequence[np.ndarray]) -> Tuple[np.ndarray, List[str]]:
    meta = getattr(dataset, 'metainfo', None) or {}
    palette, names = meta.get('palette'), meta.get('classes')
    if palette is None:  # a labelled dataset without metainfo: VOC colours, numbered classes
        num_classes = max(int(m[m != 255].max(initial=0)) for m in labels) + 1
        palette = default_palette(min(num_classes, 255))
    if names is None or len(names) != len(palette):
        names = [f'class {k}' for k in range(len(palette))]
    return np.asarray(palette, dtype=np.uint8), list(names)


def dataset_tiles(dataset, num: int, data_norm: dict
                  ) -> Tuple[List[np.ndarray], Optional[Legend]]:
    """The first ``num`` items as RGB tiles: the image, above its coloured mask when labelled.

    Args:
        dataset: items with ``inputs`` (3×H×W, normalised) and optionally ``seg`` (H×W).
        num: how many items (fewer when the dataset is smaller).
        data_norm: ``dict(mean, std)`` of the pipeline's ``Normalize``.

    Returns:
        The tiles, and the legend (the dataset's class names and palette, the ids present) or
        None when no item has a mask.

    Raises:
        ValueError: the dataset's items have no images (a data-free placeholder).
    """
    if len(dataset) == 0:
        raise ValueError(f'{type(dataset).__name__} is empty')
    items = []
    for index in range(min(num, len(dataset))):
        item = dataset[index]
        inputs = item['inputs']
        if inputs.dim() != 3 or inputs.numel() == 0:
            raise ValueError(f'{type(dataset).__name__} items hold no images (shape '
                             f'{tuple(inputs.shape)}); a data-free config: use --split generator')
        seg = item.get('seg')
        items.append((denormalize(inputs, data_norm['mean'], data_norm['std']),
                      None if seg is None else np.asarray(seg)))
    labels = [seg for _, seg in items if seg is not None]
    if not labels:
        return [image for image, _ in items], None
    palette, names = _palette_and_names(dataset, labels)
    tiles = [image if seg is None else np.concatenate([image, colorize_mask(seg, palette)], 0)
             for image, seg in items]
    return tiles, (names, palette, np.unique(np.concatenate([m.ravel() for m in labels])))


def build_generator(cfg, checkpoint: Optional[str] = None, seed: int = 0) -> torch.nn.Module:
    """The config's generator, as its distiller builds it, with a checkpoint's weights.

    Args:
        cfg: a generative config (``model.generator``).
        checkpoint: a training checkpoint of the config (``generator.*`` keys) or a plain
            generator state dict; None keeps the random initialisation (seeded by ``seed``).
        seed: torch seed of the initialisation.

    Raises:
        ValueError: the config has no ``model.generator``, or the checkpoint does not fit it.
    """
    from densekd.models.segmentors import load_state, segmentor_state
    from densekd.registry import MODELS
    from densekd.utils.checkpoint import load_checkpoint

    generator_cfg = (cfg.get('model') or {}).get('generator')
    if not generator_cfg:
        raise ValueError(f'{cfg.filename}: no model.generator; --split generator is for '
                         'DFAD, DAFL and MosaicKD configs')
    generator_cfg = {k: v for k, v in dict(generator_cfg).items() if k != '_delete_'}
    norm = data_norm_of(cfg)
    generator_cfg.setdefault('mean', norm['mean'])  # as BaseGenerativeDistiller does
    generator_cfg.setdefault('std', norm['std'])
    torch.manual_seed(seed)
    generator = MODELS.build(generator_cfg)
    if checkpoint is not None:
        state = segmentor_state(load_checkpoint(checkpoint, map_location='cpu'), checkpoint)
        prefix = 'generator.' if any(k.startswith('generator.') for k in state) else None
        load_state(generator, state, checkpoint, prefix=prefix)
    return generator


def generator_tiles(cfg, num: int, checkpoint: Optional[str] = None, seed: int = 0
                    ) -> List[np.ndarray]:
    """``num`` generated images (RGB tiles) from fixed latent noise.

    The generator runs in train mode under ``no_grad``, its batch-norm layers using the
    batch's statistics, as the images the teacher sees in training are made. A generator
    that assembles OOD crops (``needs_sources``) takes them from the config's train split.
    """
    generator = build_generator(cfg, checkpoint, seed)
    image_size = (cfg.get('model') or {}).get('image_size')
    rng = torch.Generator().manual_seed(seed)
    kwargs = {} if image_size is None else dict(image_size=tuple(image_size))
    z = generator.sample_latent(max(num, 2), device='cpu', generator=rng, **kwargs)
    generator.train()
    with torch.no_grad():
        if getattr(generator, 'needs_sources', False):
            pool_data = build_dataset(cfg, 'train')
            pool = torch.stack([pool_data[i]['inputs']
                                for i in range(min(len(pool_data), 4 * max(num, 2)))])
            images = generator(z, generator.pick_sources(pool, len(z), generator=rng))
        else:
            images = generator(z)
        images = generator.to_unit_range(images)[:num]
    return [np.rint(x.clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
            for x in images]


def grid_shape(num: int, cols: Optional[int] = None) -> Tuple[int, int]:
    """``(rows, cols)`` of a grid of ``num`` tiles: ``cols`` or about square."""
    if num < 1:
        raise ValueError(f'need at least one tile, got {num}')
    cols = min(num, cols or math.ceil(math.sqrt(num)))
    return math.ceil(num / cols), cols


def tile_grid(tiles: Sequence[np.ndarray], cols: Optional[int] = None, scale: int = 1
              ) -> np.ndarray:
    """Tiles (RGB, resized to the first's size) in rows of ``cols`` (:func:`grid_shape`).

    Each tile is scaled by the integer ``scale`` (nearest neighbour keeps mask edges exact) and
    framed by :data:`BORDER` white pixels; missing tiles of the last row are white.
    """
    if scale < 1:
        raise ValueError(f'scale must be >= 1, got {scale}')
    rows, cols = grid_shape(len(tiles), cols)
    h, w = tiles[0].shape[:2]
    framed = []
    for tile in tiles:
        if tile.shape[:2] != (h, w):
            tile = cv2.resize(tile, (w, h), interpolation=cv2.INTER_NEAREST)
        if scale != 1:
            tile = cv2.resize(tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        framed.append(cv2.copyMakeBorder(tile, BORDER, BORDER, BORDER, BORDER,
                                         cv2.BORDER_CONSTANT, value=(_WHITE,) * 3))
    framed += [np.full_like(framed[0], _WHITE)] * (rows * cols - len(framed))
    return np.concatenate([np.concatenate(framed[r * cols:(r + 1) * cols], 1)
                           for r in range(rows)], 0)


def browse(cfg, split: str, num: int = 16, cols: Optional[int] = None, scale: int = 1,
           checkpoint: Optional[str] = None, seed: int = 0) -> np.ndarray:
    """The grid of ``num`` samples of ``split`` (RGB uint8), a legend below labelled ones.

    Args:
        cfg: a loaded config (:func:`densekd.utils.config.load_config`).
        split: one of :data:`SPLITS`; ``generator`` draws the config's generator.
        num: number of samples.
        cols: tiles per row; about square when None.
        scale: integer upscaling of every tile.
        checkpoint: ``generator`` only: a training checkpoint (or generator state dict);
            None draws the randomly initialised generator.
        seed: ``generator`` only: seed of the initialisation and of the latent noise.

    Raises:
        ValueError: bad arguments, or the config lacks what the split needs (names the key).
    """
    if num < 1:
        raise ValueError(f'-n must be >= 1, got {num}')
    if split not in SPLITS:
        raise ValueError(f'unknown split {split!r}; choose from {", ".join(SPLITS)}')
    if checkpoint is not None and split != 'generator':
        raise ValueError('--checkpoint is for --split generator (the generator\'s weights)')
    if split == 'generator':
        tiles, legend = generator_tiles(cfg, num, checkpoint, seed), None
    else:
        tiles, legend = dataset_tiles(build_dataset(cfg, split), num, data_norm_of(cfg))
    grid = tile_grid(tiles, cols, scale)
    if legend is not None:
        names, palette, present = legend
        grid = np.concatenate([grid, draw_legend(names, palette, present=present,
                                                 width=grid.shape[1])], 0)
    return grid


def default_split(cfg) -> str:
    """``generator`` for a generative config, else ``train``."""
    return 'generator' if (cfg.get('model') or {}).get('generator') else 'train'
