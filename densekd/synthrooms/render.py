"""Rendering one sample: seed the generator, build the scene, ray-cast it, shade it."""
from __future__ import annotations

import numpy as np

from .layout import build_scene
from .lighting import shade
from .raycast import trace

__all__ = ['SYNTHROOMS_VERSION', 'SPLITS', 'render_synthroom']

#: Bump whenever rendering changes: cached datasets with another version are regenerated.
SYNTHROOMS_VERSION = 2
#: The splits of a generated dataset; their index is part of each image's seed.
SPLITS = ('train', 'test')


def render_synthroom(seed: int, split: str, index: int, height: int = 96, width: int = 128
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Render one SynthRooms sample.

    Args:
        seed: Dataset seed.
        split: ``'train'`` or ``'test'`` (any string works; it is hashed into the seed).
        index: Image index within the split.
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        ``(image, label)``: H×W×3 uint8 RGB and H×W uint8 (0..12, 255 = void).
    """
    code = SPLITS.index(split) if split in SPLITS else \
        int.from_bytes(split.encode()[:8].ljust(8, b'\0'), 'little') % (2 ** 31)
    rng = np.random.default_rng([int(seed), code, int(index), 0x5ED])
    sc = build_scene(rng, height, width)
    buf, D, cam = trace(sc)
    img = shade(sc, buf, D, cam)
    return img, buf.lab.reshape(height, width).copy()
