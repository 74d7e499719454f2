"""Content images drawn on surfaces: window views and paintings (also screens and rugs).

Both are small linear-RGB images drawn from the scene's random stream; materials sample them
with face coordinates.
"""
from __future__ import annotations

import cv2
import numpy as np

from .scene import Scene

__all__ = ['sky_image', 'painting']


def sky_image(sc: Scene, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Outdoor view through a window: albedo-free radiance image and an emission weight map.

    Args:
        sc: The scene (its random stream and generator are drawn from).
        kind: ``'day'``, ``'overcast'``, ``'dusk'`` or ``'night'``.

    Returns:
        ``(radiance, emission)``: 24×24×3 linear RGB and the 24×24 weight of its emission
        (buildings and trees glow less than the sky).
    """
    h, w = 24, 24
    rng = sc.rng
    r = np.linspace(0, 1, h)[:, None, None]
    if kind == 'day':
        top = np.array([0.30, 0.50, 0.90]) * sc.uniform(0.7, 1.1)
        hor = np.array([0.80, 0.88, 0.97])
    elif kind == 'overcast':
        g = sc.uniform(0.7, 0.95)
        top, hor = np.array([g, g, g * 1.03]), np.array([g, g, g]) * 1.05
    elif kind == 'dusk':
        top, hor = np.array([0.25, 0.30, 0.55]), np.array([0.95, 0.60, 0.35])
    else:  # night: dark glass reflecting the room, barely emissive
        top, hor = np.array([0.02, 0.03, 0.06]), np.array([0.06, 0.06, 0.08])
    img = np.broadcast_to(top + (hor - top) * r ** 0.8, (h, w, 3)).copy()
    emit = np.ones((h, w))
    # Silhouettes of buildings / trees in the lower part of the view.
    if kind != 'night' and sc.chance(0.7):
        cols = np.sort(rng.integers(0, w, rng.integers(2, 6)))
        edges = np.concatenate([[0], cols, [w]])
        for a, b in zip(edges[:-1], edges[1:]):
            if b <= a or sc.chance(0.3):
                continue
            top_row = int(rng.integers(h // 3, h))
            bc = sc.color(dict(neutral=0.5, paint=0.3, wood=0.2)) ** (1 / 2.2) * 0.8
            img[top_row:, a:b] = bc
            emit[top_row:, a:b] = 0.55
    if kind in ('day', 'overcast') and sc.chance(0.4):
        tree = cv2.resize(rng.random((4, 4)), (w, h), interpolation=cv2.INTER_CUBIC)
        mask = (tree + r[..., 0] * 0.8) > 1.05
        img[mask] = np.array([0.15, 0.30, 0.12]) * sc.uniform(0.6, 1.3)
        emit[mask] = 0.45
    return np.clip(img, 0, 1) ** 2.2, emit


def painting(sc: Scene) -> np.ndarray:
    """A small random painting / photo / poster: 20×20×3 linear RGB.

    Args:
        sc: The scene (its random stream and generator are drawn from).

    Returns:
        The image.
    """
    rng = sc.rng
    h, w = 20, 20
    style = rng.integers(4)
    if style == 0:  # smooth photo-like colour field
        img = cv2.resize(rng.random((3, 3, 3)), (w, h), interpolation=cv2.INTER_CUBIC)
    elif style == 1:  # landscape: sky, horizon, ground
        hz = int(rng.integers(6, 14))
        img = np.empty((h, w, 3))
        img[:hz] = sc.color('any') ** (1 / 2.2)
        img[hz:] = sc.color('any') ** (1 / 2.2)
        img[:hz] *= np.linspace(0.8, 1.1, hz)[:, None, None]
    else:  # abstract: background + rectangles / discs
        img = np.empty((h, w, 3))
        img[:] = sc.color('any') ** (1 / 2.2)
        yy, xx = np.mgrid[0:h, 0:w]
        for _ in range(rng.integers(2, 6)):
            c = sc.color('any') ** (1 / 2.2)
            y0, x0 = rng.integers(0, h), rng.integers(0, w)
            if style == 2:
                img[y0:y0 + rng.integers(3, 12), x0:x0 + rng.integers(3, 12)] = c
            else:
                rr = rng.uniform(2, 7)
                img[(yy - y0) ** 2 + (xx - x0) ** 2 < rr * rr] = c
    return np.clip(img, 0, 1) ** 2.2
