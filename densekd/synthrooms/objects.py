"""Furniture builders: beds, sofas, chairs, tables, cabinets, bookshelves, shelves and TVs.

Each builder draws one piece from the scene's random stream and returns
``(parts, width, depth, height)``: its primitives in the local frame (x centred, y up from the
base, back at z = 0, front at +z) and the size of its bounding box, which placement uses.
"""
from __future__ import annotations

import numpy as np

from .content import painting
from .palettes import BED, BOOKS, CHAIR, FURN, OBJ, SOFA, TABLE, TV
from .scene import Parts, Scene

__all__ = ['build_bed', 'build_sofa', 'build_chair', 'build_table', 'build_cabinet',
           'build_bookshelf', 'build_wall_shelf', 'build_tv']


def _wood_or_matte(sc: Scene) -> int:
    """A wood-grain material, or (40 %) a lightly textured matte one."""
    if sc.chance(0.6):
        return sc.material('wood', scale=sc.uniform(0.5, 1.5))
    return sc.material('matte', amp=0.1)


def build_bed(sc: Scene) -> tuple[Parts, float, float, float]:
    """A bed: frame (maybe on legs), mattress, overhanging duvet, head / foot boards, pillows.

    Pillows and things lying on the bed are objects, the rest is bed.
    """
    p = Parts()
    W = float(sc.rng.choice([0.95, 1.2, 1.45, 1.6, 1.8])) * sc.uniform(0.95, 1.05)
    L = sc.uniform(1.95, 2.15)
    leg = sc.uniform(0.0, 0.15) if sc.chance(0.5) else 0.0
    fh = leg + sc.uniform(0.12, 0.25)
    mh = sc.uniform(0.16, 0.28)
    fcol = sc.style_wood if sc.chance(0.5) else sc.color(dict(wood=0.5, fabric=0.3, neutral=0.2))
    fmat = _wood_or_matte(sc)
    p.box(-W / 2, W / 2, leg, fh, 0.05, L, BED, fmat, fcol)
    if leg > 0:
        for sx in (-1, 1):
            for z in (0.1, L - 0.05):
                p.box(sx * W / 2 - sx * 0.06, sx * W / 2, 0, leg, z - 0.05, z, BED, fmat, fcol)
    top = fh + mh
    mcol = sc.color(dict(neutral=0.5, paint=0.3, fabric=0.2))
    fab = sc.material('fabric', amp=0.12)
    p.box(-W / 2 + 0.02, W / 2 - 0.02, fh, top, 0.07, L - 0.02, BED, fab, mcol)
    # Duvet: wider than the mattress and hanging over its sides.
    bcol = sc.color('soft')
    bmat = sc.material('fabric', amp=0.2, folds=sc.uniform(3, 9))
    z0 = L * sc.uniform(0.22, 0.45)
    hang = sc.uniform(0.1, 0.3)
    p.box(-W / 2 - 0.04, W / 2 + 0.04, max(top - hang, 0.03), top + sc.uniform(0.02, 0.07), z0,
          L + 0.04, BED, bmat, bcol)
    if sc.chance(0.85):
        hh = top + sc.uniform(0.3, 0.8)
        p.box(-W / 2 - 0.03, W / 2 + 0.03, 0, hh, 0, sc.uniform(0.04, 0.1), BED,
              fmat if sc.chance(0.6) else fab, fcol if sc.chance(0.6) else sc.color('soft'))
    if sc.chance(0.25):
        p.box(-W / 2 - 0.03, W / 2 + 0.03, 0, top + sc.uniform(0.0, 0.25), L - 0.05, L, BED, fmat,
              fcol)
    # Pillows are 'objects' in NYUv2-13 (pillow -> objects).
    pcol = sc.color('soft') if sc.chance(0.5) else mcol
    pm = sc.material('fabric', amp=0.1)
    n = 1 if W < 1.1 else 2
    for i in range(n):
        x = 0 if n == 1 else (i - 0.5) * W / 2
        p.ell(x, top + 0.06, sc.uniform(0.22, 0.3), min(0.32, W / (2 * n) - 0.04), 0.08, 0.17,
              OBJ, pm, pcol)
    if sc.chance(0.3):  # clothes / a bag lying on the bed
        p.ell(sc.uniform(-W / 3, W / 3), top + 0.06, sc.uniform(0.8, L - 0.4),
              sc.uniform(0.12, 0.3), 0.07, sc.uniform(0.1, 0.25), OBJ,
              sc.material('fabric', amp=0.2), sc.color('any'))
    return p, W, L, top + 0.8


def build_sofa(sc: Scene, W: float | None = None, label: int = SOFA
               ) -> tuple[Parts, float, float, float]:
    """A sofa (or, with ``label=CHAIR`` and a small ``W``, an armchair) with cushions.

    Args:
        sc: The scene.
        W: Width (random when None).
        label: Class of its upholstery; sofas may carry cushions, which are objects.
    """
    p = Parts()
    W = W or sc.uniform(1.5, 2.4)
    D = sc.uniform(0.78, 1.0)
    leg = sc.uniform(0.03, 0.14)
    sh = sc.uniform(0.38, 0.46)
    bh = sc.uniform(0.7, 0.92)
    aw = sc.uniform(0.08, 0.22) if sc.chance(0.85) else 0.0
    ah = sc.uniform(0.52, 0.68)
    bt = sc.uniform(0.14, 0.26)
    col = sc.color('soft')
    fab = sc.material('fabric', amp=sc.uniform(0.05, 0.2))
    p.box(-W / 2 + aw, W / 2 - aw, leg, sh - 0.12, bt, D, label, fab, col)
    p.box(-W / 2, W / 2, leg, bh, 0, bt, label, fab, col)
    n = max(1, int(round((W - 2 * aw) / sc.uniform(0.55, 0.9))))
    cw = (W - 2 * aw) / n
    for i in range(n):
        x0 = -W / 2 + aw + i * cw
        p.box(x0 + 0.01, x0 + cw - 0.01, sh - 0.13, sh, bt, D + 0.01, label, fab, col)
        if sc.chance(0.4):
            p.box(x0 + 0.02, x0 + cw - 0.02, sh, bh - 0.05, bt, bt + 0.12, label, fab, col)
    if aw > 0:
        for sx in (-1, 1):
            p.box(sx * W / 2 - sx * aw, sx * W / 2, leg, ah, 0, D, label, fab, col)
    if leg > 0.02:
        lc = sc.style_wood
        lm = sc.material('matte', amp=0.05)
        for sx in (-1, 1):
            for z in (0.06, D - 0.02):
                p.box(sx * (W / 2 - 0.07), sx * (W / 2 - 0.02), 0, leg, z - 0.05, z, label, lm, lc)
    if label == SOFA and sc.chance(0.6):
        for _ in range(sc.rng.integers(1, 4)):
            x = sc.uniform(-W / 2 + aw + 0.2, W / 2 - aw - 0.2)
            p.ell(x, sh + 0.18, bt + 0.08, 0.2, 0.2, 0.07, OBJ, sc.material('fabric', amp=0.15),
                  sc.color('any'))
    return p, W, D, bh


def build_chair(sc: Scene, col: np.ndarray | None = None) -> tuple[Parts, float, float, float]:
    """A plain chair, an office chair, a stool or an armchair.

    Args:
        sc: The scene.
        col: Colour (random when None), e.g. shared by the chairs of a dining set.
    """
    p = Parts()
    kind = sc.rng.choice(['plain', 'office', 'stool', 'arm'], p=[0.55, 0.25, 0.1, 0.1])
    if kind == 'arm':
        return build_sofa(sc, W=sc.uniform(0.75, 1.0), label=CHAIR)
    sw, sd = sc.uniform(0.4, 0.52), sc.uniform(0.4, 0.5)
    sh = sc.uniform(0.42, 0.5)
    col = col if col is not None else sc.color('chair')
    m = sc.material('wood', scale=1.0) if sc.chance(0.5) else \
        sc.material('matte', amp=0.08, gloss=0.15)
    if kind == 'office':
        fab = sc.material('fabric', amp=0.1)
        dark = sc.color(dict(neutral=0.8, vivid=0.1, fabric=0.1))
        p.box(-sw / 2, sw / 2, sh - 0.08, sh, 0.03, sd, CHAIR, fab, col)
        p.box(-sw / 2 + 0.02, sw / 2 - 0.02, sh + 0.08, sh + sc.uniform(0.4, 0.6), 0, 0.06, CHAIR,
              fab, col)
        p.box(-0.03, 0.03, sh - 0.02, sh + 0.12, 0.0, 0.04, CHAIR, m, dark)
        p.cyl(0, 0.06, sh - 0.08, sd / 2, 0.025, 0.025, CHAIR, m, dark)
        p.box(-0.3, 0.3, 0.03, 0.07, sd / 2 - 0.025, sd / 2 + 0.025, CHAIR, m, dark)
        p.box(-0.025, 0.025, 0.03, 0.07, sd / 2 - 0.3, sd / 2 + 0.3, CHAIR, m, dark)
        if sc.chance(0.5):
            for sx in (-1, 1):
                p.box(sx * sw / 2, sx * (sw / 2 + 0.05), sh + 0.16, sh + 0.2, 0.08, sd - 0.05,
                      CHAIR, m, dark)
        return p, sw, sd, sh + 0.5
    st = sc.uniform(0.025, 0.06)
    lw = sc.uniform(0.025, 0.045)
    if kind == 'stool' and sc.chance(0.5):
        p.cyl(0, sh - st, sh, sd / 2, sw / 2, sw / 2, CHAIR, m, col)
    else:
        p.box(-sw / 2, sw / 2, sh - st, sh, 0, sd, CHAIR, m, col)
    for sx in (-1, 1):
        for z in (lw, sd - 0.005):
            p.box(sx * (sw / 2 - 0.01) - sx * lw, sx * (sw / 2 - 0.01), 0, sh - st, z - lw, z,
                  CHAIR, m, col)
    if kind == 'stool':
        return p, sw, sd, sh
    bh = sh + sc.uniform(0.35, 0.5)
    if sc.chance(0.5):
        p.box(-sw / 2, sw / 2, sh, bh, 0, sc.uniform(0.02, 0.04), CHAIR, m, col)
    else:
        for sx in (-1, 1):
            p.box(sx * (sw / 2 - 0.01) - sx * lw, sx * (sw / 2 - 0.01), sh, bh, 0, lw, CHAIR, m,
                  col)
        p.box(-sw / 2, sw / 2, bh - sc.uniform(0.06, 0.14), bh, 0, 0.025, CHAIR, m, col)
        if sc.chance(0.5):
            p.box(-sw / 2, sw / 2, sh + 0.12, sh + 0.17, 0, 0.02, CHAIR, m, col)
    return p, sw, sd, bh


def build_table(sc: Scene, kind: str) -> tuple[Parts, float, float, float]:
    """A table whose top is a support surface for clutter.

    Args:
        sc: The scene.
        kind: ``'coffee'``, ``'side'``, ``'desk'`` (maybe with a drawer pedestal) or
            ``'dining'``; side and dining tables may be round pedestal tables.
    """
    p = Parts()
    if kind == 'coffee':
        W, D, H = sc.uniform(0.8, 1.3), sc.uniform(0.45, 0.7), sc.uniform(0.35, 0.48)
    elif kind == 'side':
        W, D, H = sc.uniform(0.4, 0.6), sc.uniform(0.4, 0.55), sc.uniform(0.5, 0.65)
    elif kind == 'desk':
        W, D, H = sc.uniform(1.0, 1.6), sc.uniform(0.55, 0.8), sc.uniform(0.72, 0.77)
    else:
        W, D, H = sc.uniform(0.9, 1.9), sc.uniform(0.75, 1.0), sc.uniform(0.72, 0.78)
    col = sc.style_wood if sc.chance(0.5) else sc.color('table')
    m = sc.material('wood', scale=sc.uniform(0.7, 1.5), gloss=0.25) if sc.chance(0.7) else \
        sc.material('matte', amp=0.06, gloss=0.3)
    tt = sc.uniform(0.025, 0.05)
    lw = sc.uniform(0.035, 0.07)
    if kind in ('dining', 'side') and sc.chance(0.3):  # round pedestal table
        r = min(W, D) / 2 if kind == 'side' else sc.uniform(0.4, 0.6)
        W = D = 2 * r
        p.cyl(0, H - tt, H, r, r, r, TABLE, m, col)
        p.cyl(0, 0.02, H - tt, r, 0.05, 0.05, TABLE, m, col)
        p.cyl(0, 0.0, 0.03, r, r * 0.5, r * 0.5, TABLE, m, col)
        p.supports.append((-r * 0.6, r * 0.6, r * 0.4, r * 1.6, H))
        return p, W, D, H
    p.box(-W / 2, W / 2, H - tt, H, 0, D, TABLE, m, col)
    lc = col if sc.chance(0.7) else sc.color(dict(neutral=0.8, wood=0.2))
    for sx in (-1, 1):
        for z in (0.03 + lw, D - 0.03):
            p.box(sx * (W / 2 - 0.03) - sx * lw, sx * (W / 2 - 0.03), 0, H - tt, z - lw, z,
                  TABLE, m, lc)
    if sc.chance(0.5):
        ah = sc.uniform(0.05, 0.1)
        p.box(-W / 2 + 0.03, W / 2 - 0.03, H - tt - ah, H - tt, 0.04, 0.06, TABLE, m, lc)
        p.box(-W / 2 + 0.03, W / 2 - 0.03, H - tt - ah, H - tt, D - 0.06, D - 0.04, TABLE, m, lc)
    if kind == 'desk' and sc.chance(0.5):  # drawer pedestal (desk -> table)
        sx = 1 if sc.chance(0.5) else -1
        pw = sc.uniform(0.35, 0.45)
        pm = sc.material('cabinet', cols=1, rows=int(sc.rng.integers(2, 4)), handle=sc.chance(0.7))
        p.box(sx * (W / 2 - 0.03 - pw), sx * (W / 2 - 0.03), 0, H - tt, 0.02, D - 0.03, TABLE, pm,
              col)
    if kind == 'coffee' and sc.chance(0.4):
        p.box(-W / 2 + 0.03, W / 2 - 0.03, 0.08, 0.1, 0.03, D - 0.03, TABLE, m, col)
    p.supports.append((-W / 2 + 0.05, W / 2 - 0.05, 0.05, D - 0.05, H))
    return p, W, D, H


def build_cabinet(sc: Scene, kind: str) -> tuple[Parts, float, float, float]:
    """A box of furniture with a door / drawer front texture; low ones carry clutter.

    Args:
        sc: The scene.
        kind: ``'dresser'``, ``'wardrobe'``, ``'nightstand'``, ``'low'``, ``'counter'``,
            ``'fridge'`` or ``'filing'``.
    """
    p = Parts()
    dims = {
        'dresser': ((0.8, 1.6), (0.42, 0.55), (0.75, 1.05)),
        'wardrobe': ((0.8, 2.0), (0.55, 0.65), (1.8, 2.2)),
        'nightstand': ((0.4, 0.55), (0.35, 0.45), (0.48, 0.65)),
        'low': ((1.0, 2.0), (0.38, 0.5), (0.4, 0.65)),
        'counter': ((1.2, 2.8), (0.58, 0.65), (0.86, 0.92)),
        'fridge': ((0.6, 0.8), (0.65, 0.75), (1.6, 1.9)),
        'filing': ((0.4, 0.5), (0.55, 0.65), (0.7, 1.35)),
    }[kind]
    W, D, H = (sc.uniform(*d) for d in dims)
    if kind == 'fridge':
        col = sc.color(dict(neutral=0.8, paint=0.2))
        rows, cols = 2, 1
    elif kind == 'filing':
        col = sc.color(dict(neutral=0.7, paint=0.2, wood=0.1))
        rows, cols = max(2, int(H / 0.33)), 1
    else:
        col = sc.style_wood if sc.chance(0.4) else sc.color('furn')
        cols = max(1, int(round(W / sc.uniform(0.4, 0.6))))
        rows = {'dresser': int(sc.rng.integers(3, 5)), 'nightstand': int(sc.rng.integers(1, 3)),
                'wardrobe': 1, 'low': int(sc.rng.integers(1, 3)), 'counter': 1}[kind]
    base = 'wood' if sc.chance(0.5) and kind not in ('fridge', 'filing') else 'matte'
    m = sc.material('cabinet', cols=cols, rows=rows, handle=sc.chance(0.8), base=base,
                    scale=sc.uniform(0.6, 1.4), gap=sc.uniform(0.4, 0.7), gloss=0.1)
    toe = sc.uniform(0.0, 0.1) if kind in ('dresser', 'wardrobe', 'low', 'counter') else 0.0
    top = H
    if kind == 'counter':
        top = H - 0.04
    p.box(-W / 2, W / 2, toe, top, 0, D, FURN, m, col)
    if toe > 0.01:
        p.box(-W / 2 + 0.02, W / 2 - 0.02, 0, toe, 0, D - 0.06, FURN,
              sc.material('matte', amp=0.05), col * 0.5)
    if kind == 'counter':
        ccol = sc.color(dict(neutral=0.6, wood=0.2, paint=0.2))
        p.box(-W / 2 - 0.01, W / 2 + 0.01, top, H, 0, D + 0.03, FURN,
              sc.material('matte', amp=0.15, gloss=0.4), ccol)
    if H < 1.3:
        p.supports.append((-W / 2 + 0.04, W / 2 - 0.04, 0.05, D - 0.05, H))
    return p, W, D, H


def _add_books_run(sc: Scene, p: Parts, x0: float, x1: float, y: float, zb: float, zf: float,
                   hmax: float, fill: float = 0.9) -> None:
    """Fill [x0, x1] on a shelf board at height y with upright books (one intersection group)."""
    p.new_group()
    bm = sc.material('books', band=sc.chance(0.6))
    x = x0 + sc.uniform(0.0, 0.05)
    series = None
    while x < x1 - 0.015:
        if sc.chance(1 - fill):  # gap, sometimes with a lying stack or an object
            gw = sc.uniform(0.05, 0.25)
            if sc.chance(0.3) and gw > 0.12:
                yy = y
                for _ in range(sc.rng.integers(2, 6)):
                    th = sc.uniform(0.02, 0.05)
                    if yy + th > y + hmax:
                        break
                    d = sc.uniform(0.6, 0.95) * (zf - zb)
                    p.box(x, min(x + gw * sc.uniform(0.7, 1.0), x1), yy, yy + th, zf - d, zf,
                          BOOKS, bm, sc.color('book'))
                    yy += th
            elif sc.chance(0.3) and gw > 0.08:
                ow = min(gw * 0.8, x1 - x)
                h = min(hmax * sc.uniform(0.4, 0.9), ow * 2.5)
                p.box(x, x + ow, y, y + h, zf - ow * sc.uniform(0.6, 1.0), zf, OBJ,
                      sc.material('matte', amp=0.1), sc.color('any'))
            x += gw
            continue
        w = sc.uniform(0.015, 0.055)
        if series is None or sc.chance(0.35):
            series = sc.color('book') if sc.chance(0.7) else None
        col = series if series is not None else sc.color('book')
        h = min(hmax * sc.uniform(0.55, 0.95), 0.38)
        d = (zf - zb) * sc.uniform(0.65, 0.98)
        front = zf - sc.uniform(0.0, 0.03)
        p.box(x, min(x + w, x1), y, y + h, front - d, front, BOOKS, bm, col)
        x += w + (0.002 if sc.chance(0.7) else sc.uniform(0.005, 0.02))
    p.new_group()


def build_bookshelf(sc: Scene) -> tuple[Parts, float, float, float]:
    """A floor-standing bookshelf (1..2 bays) with books on most shelves."""
    p = Parts()
    W = sc.uniform(0.6, 1.8)
    D = sc.uniform(0.25, 0.4)
    H = sc.uniform(0.8, 2.2)
    th = sc.uniform(0.018, 0.04)
    col = sc.style_wood if sc.chance(0.5) else sc.color('furn')
    m = _wood_or_matte(sc)
    n = max(2, int(round(H / sc.uniform(0.28, 0.4))))
    ys = np.linspace(0.06, H - th, n + 1)
    p.box(-W / 2, -W / 2 + th, 0, H, 0, D, FURN, m, col)
    p.box(W / 2 - th, W / 2, 0, H, 0, D, FURN, m, col)
    p.box(-W / 2, W / 2, H - th, H, 0, D, FURN, m, col)
    p.box(-W / 2 + th, W / 2 - th, 0, 0.06, 0.0, D - 0.01, FURN, m, col)
    if sc.chance(0.85):
        bcol = col if sc.chance(0.6) else sc.color('furn')
        p.box(-W / 2 + th, W / 2 - th, 0.06, H - th, 0, 0.012, FURN, m, bcol)
    nbays = 1 if W < 1.0 else int(sc.rng.integers(1, 3))
    bx = np.linspace(-W / 2 + th, W / 2 - th, nbays + 1)
    for i in range(1, nbays):
        p.box(bx[i] - th / 2, bx[i] + th / 2, 0, H, 0, D, FURN, m, col)
    fill = sc.uniform(0.65, 0.97)
    for k in range(n):
        y = ys[k] + (th if k > 0 else 0)
        if k > 0:
            p.box(-W / 2 + th, W / 2 - th, ys[k], ys[k] + th, 0.01, D - 0.005, FURN, m, col)
        gap = ys[k + 1] - y
        for b in range(nbays):
            if sc.chance(0.85):
                _add_books_run(sc, p, bx[b] + th / 2, bx[b + 1] - th / 2, y, 0.015, D - 0.01,
                               gap - 0.02, fill)
    return p, W, D, H


def build_wall_shelf(sc: Scene) -> tuple[Parts, float, float, float]:
    """Floating shelves (furniture) carrying books; placed on a wall at some height.

    The height returned is that of the shelves plus room for the books on the top one.
    """
    p = Parts()
    W = sc.uniform(0.6, 1.4)
    D = sc.uniform(0.18, 0.3)
    col = sc.color('furn')
    m = _wood_or_matte(sc)
    n = int(sc.rng.integers(1, 4))
    gap = sc.uniform(0.3, 0.38)
    for k in range(n):
        y = k * gap
        p.box(-W / 2, W / 2, y, y + 0.025, 0, D, FURN, m, col)
        if sc.chance(0.85):
            _add_books_run(sc, p, -W / 2 + 0.02, W / 2 - 0.02, y + 0.025, 0.0, D - 0.01,
                           gap - 0.04, sc.uniform(0.5, 0.95))
    return p, W, D, (n - 1) * gap + 0.3


def build_tv(sc: Scene, stand: bool) -> tuple[Parts, float, float, float]:
    """A flat TV (mostly off), on a stand or for wall mounting.

    Args:
        sc: The scene.
        stand: Give it a foot to stand on furniture (otherwise it hangs flat on the wall).
    """
    p = Parts()
    W = sc.uniform(0.7, 1.5)
    Hs = W * 9 / 16
    bez = sc.uniform(0.01, 0.04)
    th = sc.uniform(0.03, 0.08)
    col = sc.color(dict(neutral=0.85, paint=0.05, vivid=0.05, wood=0.05)) * 0.6
    on = sc.chance(0.15)
    m = sc.material('screen', bezel=bez / W, bezel_v=bez / (Hs + 2 * bez), on=on,
                    content=painting(sc) if on else None, gloss=0.5)
    y0 = sc.uniform(0.06, 0.15) if stand else 0.0
    zc = 0.12 if stand else 0.0
    p.box(-W / 2 - bez, W / 2 + bez, y0, y0 + Hs + 2 * bez, zc, zc + th, TV, m, col)
    if stand:
        bm = sc.material('matte', amp=0.05, gloss=0.3)
        p.box(-0.04, 0.04, 0.0, y0 + 0.05, zc - 0.02, zc + 0.02, TV, bm, col)
        p.box(-min(0.3, W / 3), min(0.3, W / 3), 0, 0.02, zc - 0.1, zc + 0.12, TV, bm, col)
    return p, W + 2 * bez, zc + 0.12, y0 + Hs + 2 * bez
