"""Label maps as paletted PNGs (the PASCAL VOC convention).

A paletted ("P" mode) PNG stores one byte per pixel, the class id, plus a colour table. Any
image viewer shows it in colour, while every program that reads the pixel values (PIL's
``np.array(Image.open(path))``, densekd's dataset loaders) gets the class ids back unchanged.
Raw single-channel PNGs of small ids (0..12) look black in a viewer.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Sequence

import numpy as np
from PIL import Image

from densekd.utils.atomic import atomic_open

from .palette import default_palette

#: Colour of ids without a class (e.g. 255 = ignore): black, as in VOC.
VOID_COLOR = (0, 0, 0)


def write_label_png(path: str, mask: np.ndarray,
                    palette: Sequence[Sequence[int]] | None = None) -> str:
    """Write ``mask`` (H×W class ids in 0..255) as a paletted PNG, atomically.

    Args:
        path: output file (``.png``); its folder is created.
        mask: H×W integer class ids; 255 (ignore) is allowed and shown black.
        palette: RGB triplet per class (``palette[k]`` colours id ``k``); the VOC-style
            :func:`~densekd.visualization.palette.default_palette` when None.

    Returns:
        ``path``.

    Raises:
        ValueError: ``mask`` is not 2-D or holds ids outside 0..255.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f'{path}: a label map must be H×W, got shape {mask.shape}')
    if mask.size and (mask.min() < 0 or mask.max() > 255):
        raise ValueError(f'{path}: class ids span [{mask.min()}, {mask.max()}]; a PNG label map '
                         f'holds 0..255')
    colors = default_palette(255) if palette is None else palette
    colors = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)[:255]
    table = np.tile(np.asarray(VOID_COLOR, dtype=np.uint8), (256, 1))
    table[:len(colors)] = colors
    image = Image.fromarray(mask.astype(np.uint8), mode='P')
    image.putpalette(table.flatten().tolist())
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with atomic_open(path) as f:
        image.save(f, format='PNG')
    return path


def read_label_png(path: str) -> np.ndarray:
    """Read a label PNG's class ids: the indices of a paletted PNG, or a grey PNG's values.

    Raises:
        ValueError: the PNG holds colours (RGB/RGBA), not class ids.
    """
    with Image.open(path) as image:
        if image.mode not in ('P', 'L'):
            raise ValueError(f'{path}: a label PNG must be paletted or single-channel 8-bit, '
                             f'got mode {image.mode}')
        return np.array(image)
