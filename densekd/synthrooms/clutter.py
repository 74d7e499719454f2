"""Clutter: the small objects that stand on the floor, on tables and on cabinets.

Clutter is built centred at the local origin (x and z centred, standing at y = 0); wall
placement first moves its back to z = 0 (:func:`~.placement.shift_back_to_wall`).
"""
from __future__ import annotations

import numpy as np

from .content import painting
from .palettes import BOOKS, OBJ
from .scene import Parts, Scene

__all__ = ['build_clutter']


def build_clutter(sc: Scene, where: str) -> tuple[Parts, float, float]:
    """A small object for the floor or for a table / cabinet top.

    Floor: box, bin, bag, pile of clothes, ball, plant or floor lamp. Elsewhere: lamp, box,
    vase, cup, bowl, bottle, laptop, plant, book stack, monitor or clock.

    Args:
        sc: The scene.
        where: ``'floor'`` or anything else for a table / cabinet top.

    Returns:
        ``(parts, width, depth)``: its primitives (centred, standing at y = 0) and footprint.
    """
    p = Parts()
    rng = sc.rng
    col = sc.color('any')
    m = sc.material('matte', amp=0.1, gloss=0.2)
    if where == 'floor':
        kind = rng.choice(['box', 'bin', 'bag', 'plant', 'floorlamp', 'pile', 'ball'],
                          p=[0.25, 0.15, 0.15, 0.18, 0.12, 0.1, 0.05])
    else:
        kind = rng.choice(['lamp', 'box', 'vase', 'cup', 'bowl', 'bottle', 'laptop', 'plant',
                           'books', 'monitor', 'clock'],
                          p=[0.17, 0.13, 0.1, 0.08, 0.06, 0.08, 0.07, 0.08, 0.15, 0.05, 0.03])
    return _BUILDERS[str(kind)](sc, p, str(kind), where, col, m)


def _box(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
         ) -> tuple[Parts, float, float]:
    """A box (often cardboard): bigger on the floor."""
    if where == 'floor':
        w, d, h = sc.uniform(0.12, 0.5), sc.uniform(0.12, 0.45), sc.uniform(0.08, 0.45)
    else:
        w, d, h = sc.uniform(0.08, 0.25), sc.uniform(0.08, 0.2), sc.uniform(0.04, 0.2)
    if sc.chance(0.4):
        col = np.array([0.62, 0.46, 0.3]) ** 2.2 * sc.uniform(0.8, 1.1)  # cardboard
    p.box(-w / 2, w / 2, 0, h, -d / 2, d / 2, OBJ, m, col)
    return p, w, d


def _bin(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
         ) -> tuple[Parts, float, float]:
    """A waste bin."""
    r = sc.uniform(0.12, 0.2)
    p.cyl(0, 0, sc.uniform(0.25, 0.45), 0, r, r, OBJ, m, col)
    return p, 2 * r, 2 * r


def _bag(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
         ) -> tuple[Parts, float, float]:
    """A bag."""
    w = sc.uniform(0.25, 0.45)
    p.ell(0, sc.uniform(0.12, 0.2), 0, w / 2, sc.uniform(0.12, 0.25), sc.uniform(0.08, 0.15),
          OBJ, sc.material('fabric', amp=0.15), col)
    return p, w, 0.25


def _pile(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
          ) -> tuple[Parts, float, float]:
    """A pile of clothes."""
    rng = sc.rng
    w = sc.uniform(0.3, 0.6)
    fm = sc.material('fabric', amp=0.25)
    for _ in range(rng.integers(2, 5)):
        p.ell(sc.uniform(-w / 4, w / 4), sc.uniform(0.03, 0.08), sc.uniform(-w / 4, w / 4),
              sc.uniform(0.1, 0.25), sc.uniform(0.04, 0.1), sc.uniform(0.1, 0.25), OBJ, fm,
              sc.color('any'))
    return p, w, w


def _ball(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
          ) -> tuple[Parts, float, float]:
    """A ball."""
    r = sc.uniform(0.08, 0.15)
    p.ell(0, r, 0, r, r, r, OBJ, m, sc.color(dict(vivid=0.8, neutral=0.2)))
    return p, 2 * r, 2 * r


def _plant(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
           ) -> tuple[Parts, float, float]:
    """A potted plant: a pot and a few leafy blobs; bigger on the floor."""
    rng = sc.rng
    big = where == 'floor'
    r = sc.uniform(0.12, 0.22) if big else sc.uniform(0.05, 0.1)
    ph = r * sc.uniform(1.0, 2.0)
    p.cyl(0, 0, ph, 0, r, r, OBJ, m, col)
    leaf = sc.material('leaves')
    g = np.array([sc.uniform(0.15, 0.35), sc.uniform(0.35, 0.55),
                  sc.uniform(0.1, 0.25)]) ** 2.2
    fh = r * sc.uniform(2.0, 5.0) if big else r * sc.uniform(1.5, 3.0)
    for _ in range(rng.integers(2, 5)):
        rr = r * sc.uniform(0.9, 1.8)
        p.ell(sc.uniform(-r, r) * 0.6, ph + sc.uniform(0.3, 0.8) * fh,
              sc.uniform(-r, r) * 0.6, rr, fh * sc.uniform(0.35, 0.6), rr, OBJ, leaf,
              g * sc.uniform(0.7, 1.3))
    return p, 2 * r, 2 * r


def _lamp(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
          ) -> tuple[Parts, float, float]:
    """A table lamp or a floor lamp; switched-on ones light the room."""
    big = kind == 'floorlamp'
    hh = sc.uniform(1.3, 1.75) if big else sc.uniform(0.3, 0.6)
    r = sc.uniform(0.15, 0.25) if big else sc.uniform(0.1, 0.18)
    bcol = sc.color(dict(neutral=0.6, wood=0.2, vivid=0.2))
    if big:
        p.cyl(0, 0, 0.03, 0, 0.15, 0.15, OBJ, m, bcol)
        p.cyl(0, 0.03, hh - 0.25, 0, 0.015, 0.015, OBJ, m, bcol)
    else:
        p.ell(0, hh * 0.2, 0, r * 0.6, hh * 0.2, r * 0.6, OBJ, m, bcol)
        p.cyl(0, hh * 0.3, hh * 0.6, 0, 0.012, 0.012, OBJ, m, bcol)
    on = sc.chance(0.5)
    scol = sc.color(dict(paint=0.6, fabric=0.3, neutral=0.1))
    p.cyl(0, hh - (0.3 if big else hh * 0.45), hh, 0, r, r, OBJ,
          sc.material('shade', on=on, gain=sc.uniform(0.5, 1.2)), scol)
    p.lamp_on = on
    p.lamp_height = hh - 0.1
    return p, 2 * r, 2 * r


def _vase(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
          ) -> tuple[Parts, float, float]:
    """A vase, sometimes with flowers."""
    r = sc.uniform(0.04, 0.09)
    p.cyl(0, 0, sc.uniform(0.12, 0.35), 0, r, r, OBJ, m, col)
    if sc.chance(0.5):
        p.ell(0, sc.uniform(0.3, 0.4), 0, r * 1.8, r * 1.5, r * 1.8, OBJ,
              sc.material('leaves'), sc.color('any'))
    return p, 2 * r, 2 * r


def _cup(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
         ) -> tuple[Parts, float, float]:
    """A cup."""
    r = sc.uniform(0.03, 0.05)
    p.cyl(0, 0, sc.uniform(0.07, 0.12), 0, r, r, OBJ, m, col)
    return p, 2 * r, 2 * r


def _bowl(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
          ) -> tuple[Parts, float, float]:
    """A bowl."""
    r = sc.uniform(0.07, 0.14)
    p.ell(0, 0.0, 0, r, sc.uniform(0.04, 0.08), r, OBJ, m, col)
    return p, 2 * r, 2 * r


def _bottle(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
            ) -> tuple[Parts, float, float]:
    """A bottle."""
    r = sc.uniform(0.025, 0.045)
    h = sc.uniform(0.18, 0.32)
    p.cyl(0, 0, h * 0.7, 0, r, r, OBJ, m, col)
    p.cyl(0, h * 0.7, h, 0, r * 0.4, r * 0.4, OBJ, m, col)
    return p, 2 * r, 2 * r


def _laptop(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
            ) -> tuple[Parts, float, float]:
    """An open laptop, its screen sometimes on."""
    w, d = sc.uniform(0.3, 0.38), sc.uniform(0.2, 0.26)
    lc = sc.color(dict(neutral=0.9, vivid=0.1))
    p.box(-w / 2, w / 2, 0, 0.02, -d / 2, d / 2, OBJ, m, lc)
    on = sc.chance(0.5)
    p.box(-w / 2, w / 2, 0.02, 0.02 + d, -d / 2, -d / 2 + 0.012, OBJ,
          sc.material('screen', bezel=0.05, bezel_v=0.06, on=on,
                      content=painting(sc) if on else None, gloss=0.4), lc)
    return p, w, d


def _monitor(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
             ) -> tuple[Parts, float, float]:
    """A computer monitor on a foot: 'objects' (otherprop), not 'tv'."""
    w = sc.uniform(0.4, 0.6)
    h = w * sc.uniform(0.56, 0.75)
    lc = sc.color(dict(neutral=0.9, vivid=0.1)) * 0.5
    on = sc.chance(0.5)
    p.box(-w / 2, w / 2, 0.1, 0.1 + h, -0.02, 0.02, OBJ,
          sc.material('screen', bezel=0.03, bezel_v=0.04, on=on,
                      content=painting(sc) if on else None, gloss=0.4), lc)
    p.box(-0.03, 0.03, 0, 0.12, -0.06, -0.02, OBJ, m, lc)
    p.box(-0.1, 0.1, 0, 0.015, -0.1, 0.05, OBJ, m, lc)
    return p, w, 0.2


def _clock(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
           ) -> tuple[Parts, float, float]:
    """A round clock standing on its edge."""
    r = sc.uniform(0.06, 0.12)
    p.ell(0, r, 0, r, r, 0.03, OBJ, m, col)
    return p, 2 * r, 0.06


def _books(sc: Scene, p: Parts, kind: str, where: str, col: np.ndarray, m: int
           ) -> tuple[Parts, float, float]:
    """A lying stack of books (the books class)."""
    rng = sc.rng
    w = sc.uniform(0.14, 0.3)
    d = sc.uniform(0.1, 0.22)
    y = 0.0
    bm = sc.material('books', band=False)
    for _ in range(rng.integers(1, 6)):
        t = sc.uniform(0.015, 0.05)
        dx = sc.uniform(-0.02, 0.02)
        p.box(-w / 2 + dx, w / 2 + dx, y, y + t, -d / 2, d / 2, BOOKS, bm, sc.color('book'))
        y += t
    return p, w, d


# Every kind that build_clutter can draw.
_BUILDERS = {'box': _box, 'bin': _bin, 'bag': _bag, 'pile': _pile, 'ball': _ball,
             'plant': _plant, 'lamp': _lamp, 'floorlamp': _lamp, 'vase': _vase, 'cup': _cup,
             'bowl': _bowl, 'bottle': _bottle, 'laptop': _laptop, 'monitor': _monitor,
             'clock': _clock, 'books': _books}
