"""Colour palettes (RGB, uint8) and the lookup table used to colour label maps.

All palettes in densekd are RGB; conversion to BGR happens only at ``cv2.imwrite`` time.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def voc_colormap(n: int = 256) -> np.ndarray:
    """PASCAL-VOC bit-interleaved colour map.

    Args:
        n: Number of entries.

    Returns:
        uint8 array n×3 (RGB). Entry 0 is black; NYUv2 class ``k`` uses entry ``k + 1``
        (the PASCAL VOC colour map that NYUv2-13 tools use), e.g. entry 1 = (128, 0, 0).
    """
    cmap = np.zeros((n, 3), dtype=np.uint8)
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            # Bits 0/1/2 of the id go to the top bits of R/G/B, then the next three, ...
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        cmap[i] = (r, g, b)
    return cmap


def default_palette(num_classes: int) -> np.ndarray:
    """Palette for datasets without one: VOC colours shifted by one (class k -> cmap[k + 1]).

    Args:
        num_classes: Number of classes C (at most 255).

    Returns:
        uint8 array C×3 (RGB); the same colours the NYUv2 palette uses for its 13 classes.
    """
    if not 1 <= num_classes <= 255:
        raise ValueError(f'num_classes must be in [1, 255], got {num_classes}')
    return voc_colormap(256)[1:num_classes + 1].copy()


def palette_lut(palette: Sequence[Sequence[int]], void_color: Optional[Sequence[int]] = None
                ) -> np.ndarray:
    """(C+1)×3 lookup table: rows 0..C-1 are the palette, row C is the void colour.

    Args:
        palette: C RGB triplets in 0..255.
        void_color: Colour of ignore / out-of-range labels; black when None.

    Returns:
        uint8 array (C+1)×3.

    Raises:
        ValueError: If the palette is not a list of RGB triplets.
    """
    pal = np.asarray(palette)
    if pal.ndim != 2 or pal.shape[1] != 3 or pal.shape[0] == 0:
        raise ValueError(f'palette must be a non-empty list of RGB triplets, got shape {pal.shape}')
    lut = np.zeros((pal.shape[0] + 1, 3), dtype=np.uint8)
    lut[:-1] = np.clip(pal, 0, 255).astype(np.uint8)
    if void_color is not None:
        lut[-1] = np.asarray(void_color, dtype=np.uint8)
    return lut
