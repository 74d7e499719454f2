"""Fixtures: windows, pictures, doors, upper cabinets, wall shelves, rugs and ceiling lights.

These are attached to a wall, the floor or the ceiling rather than standing on the floor; each
draws its size and look from the scene's random stream, reserves its wall space and adds itself
to the scene. Label conventions follow the NYUv2 40 -> 13 mapping: curtains are window, doors
are wall, rugs are floor, whiteboards, mirrors and lamps are objects.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .content import painting, sky_image
from .objects import build_wall_shelf
from .palettes import FLOOR, FURN, OBJ, PICT, WALL, WINDOW
from .placement import reserve_wall_rect
from .scene import Parts, Scene

__all__ = ['add_window', 'add_picture', 'add_door', 'add_upper_cabinets', 'add_wall_shelf',
           'add_rug', 'add_ceiling_lights']


def add_window(sc: Scene, w: int) -> bool:
    """A window (with an outdoor view, sill, blinds or curtains) on wall ``w``.

    Args:
        sc: The scene.
        w: Wall index.

    Returns:
        Whether there was room for it.
    """
    H = sc.room_height
    ww = sc.uniform(0.6, 2.2)
    y0 = sc.uniform(0.5, 1.1)
    y1 = min(H - sc.uniform(0.15, 0.5), y0 + sc.uniform(0.8, 1.7))
    curt = sc.chance(0.35)
    cw = sc.uniform(0.2, 0.45) if curt else 0.0
    s = reserve_wall_rect(sc, w, ww + 2 * cw, 0.0 if curt else y0 - 0.1, y1 + 0.1)
    if s is None:
        return False
    kind = sc.rng.choice(['day', 'overcast', 'dusk', 'night'], p=[0.45, 0.3, 0.1, 0.15])
    sky, emit = sky_image(sc, kind)
    fcol = sc.color(dict(neutral=0.6, wood=0.3, paint=0.1))
    nx = int(sc.rng.integers(1, 4))
    ny = int(sc.rng.integers(1, 3))
    blinds = sc.uniform(0.2, 1.0) if sc.chance(0.25) else 0.0
    m = sc.material('window', sky=sky, emit=emit, nx=nx, ny=ny, frame=sc.uniform(0.03, 0.07),
                    size=(ww, y1 - y0), blinds=blinds,
                    bcol=sc.color(dict(neutral=0.5, paint=0.5)),
                    bright=sc.uniform(1.5, 3.5) if kind != 'night' else 0.3)
    p = Parts()
    p.box(-ww / 2, ww / 2, y0, y1, 0, 0.03, WINDOW, m, fcol)
    if sc.chance(0.5):  # sill
        p.box(-ww / 2 - 0.05, ww / 2 + 0.05, y0 - 0.04, y0, 0, sc.uniform(0.06, 0.2), WINDOW,
              sc.material('matte', amp=0.05), fcol)
    if curt:  # curtains count as window (curtain -> window in the 40->13 mapping)
        ccol = sc.color('soft')
        cm = sc.material('fabric', amp=0.1, folds=sc.uniform(15, 30))
        top = min(H - 0.02, y1 + sc.uniform(0.1, 0.3))
        bot = sc.uniform(0.0, 0.1) if sc.chance(0.6) else y0 - 0.1
        for sx in (-1, 1):
            p.box(sx * ww / 2 - sx * 0.05, sx * (ww / 2 + cw), bot, top, 0.04, 0.1, WINDOW, cm,
                  ccol)
    origin, yaw = sc.wall_pose(w, s)
    sc.add_object(p, origin, yaw, ao=0.0, anchor=1.0)
    sc.windows.append(w)
    return True


def add_picture(sc: Scene, w: int, s: float | None = None, y: float | None = None,
                label: int = PICT) -> bool:
    """A framed picture on wall ``w``; with ``label=OBJ`` a whiteboard or a mirror.

    Args:
        sc: The scene.
        w: Wall index.
        s: Abscissa of its centre (random when None).
        y: Height of its centre (random when None).
        label: :data:`~.palettes.PICT` or :data:`~.palettes.OBJ`.

    Returns:
        Whether there was room for it.
    """
    pw = sc.uniform(0.25, 1.1)
    ph = pw * sc.uniform(0.5, 1.4)
    if label == OBJ and sc.chance(0.6):  # whiteboard
        pw, ph = sc.uniform(0.9, 2.0), sc.uniform(0.6, 1.1)
    yc = y if y is not None else sc.uniform(1.2, 1.8)
    y0, y1 = yc - ph / 2, min(yc + ph / 2, sc.room_height - 0.1)
    if y0 < 0.3:
        return False
    ss = reserve_wall_rect(sc, w, pw, y0, y1, s=s)
    if ss is None:
        return False
    if label == OBJ:
        img = np.full((4, 4, 3), sc.uniform(0.8, 0.95) ** 2.2) if sc.chance(0.6) else \
            cv2.resize(sc.rng.random((2, 2, 3)) * 0.3 + 0.35, (8, 8)) ** 2.2  # whiteboard/mirror
    else:
        img = painting(sc)
    m = sc.material('picture', img=img,
                    frame=sc.uniform(0.0, 0.06) if sc.chance(0.8) else 0.0,
                    mat_border=sc.uniform(0.0, 0.12) if sc.chance(0.3) else 0.0,
                    size=(pw, y1 - y0), mcol=sc.color(dict(neutral=0.8, paint=0.2)))
    p = Parts()
    p.box(-pw / 2, pw / 2, y0, y1, 0, sc.uniform(0.01, 0.04), label, m, sc.color('frame'))
    origin, yaw = sc.wall_pose(w, ss)
    sc.add_object(p, origin, yaw, ao=0.0, anchor=0.3)
    return True


def add_door(sc: Scene, w: int) -> bool:
    """A door with its frame on wall ``w``, keeping the floor in front of it clear.

    Args:
        sc: The scene.
        w: Wall index.

    Returns:
        Whether there was room for it (wall space and free floor in front).
    """
    dw = sc.uniform(0.75, 0.95)
    dh = min(sc.uniform(1.95, 2.15), sc.room_height - 0.15)
    s = reserve_wall_rect(sc, w, dw + 0.12, 0, dh + 0.06)
    if s is None:
        return False
    origin, yaw = sc.wall_pose(w, s)
    if not sc.floor_free(sc.footprint(origin, yaw, -dw / 2, dw / 2, 0, 0.8)):
        sc.wall_rects[w].pop()
        return False
    sc.footprints.append(sc.footprint(origin, yaw, -dw / 2, dw / 2, 0, 0.6))
    col = sc.color(dict(wood=0.5, paint=0.3, neutral=0.2))
    fcol = col if sc.chance(0.5) else sc.color(dict(paint=0.6, neutral=0.4))
    p = Parts()  # doors are 'wall' in NYUv2-13 (door -> wall)
    p.box(-dw / 2, dw / 2, 0, dh, 0, 0.03, WALL,
          sc.material('door', panels=int(sc.rng.integers(0, 4)),
                      side=1 if sc.chance(0.5) else -1,
                      base='wood' if sc.chance(0.5) else 'matte'), col)
    for sx in (-1, 1):
        p.box(sx * dw / 2, sx * (dw / 2 + 0.06), 0, dh + 0.06, 0, 0.04, WALL,
              sc.material('matte', amp=0.05), fcol)
    p.box(-dw / 2 - 0.06, dw / 2 + 0.06, dh, dh + 0.06, 0, 0.04, WALL,
          sc.material('matte', amp=0.05), fcol)
    sc.add_object(p, origin, yaw, ao=0.0)
    return True


def add_upper_cabinets(sc: Scene, w: int, s: float, width: float) -> None:
    """Wall-mounted kitchen cabinets above a counter centred at ``s`` on wall ``w``."""
    y0, y1 = sc.uniform(1.4, 1.6), sc.uniform(2.0, min(2.3, sc.room_height - 0.05))
    if reserve_wall_rect(sc, w, width, y0, y1, s=s) is None:
        return
    p = Parts()
    col = sc.color('furn')
    m = sc.material('cabinet', cols=max(1, int(round(width / 0.5))), rows=1,
                    handle=sc.chance(0.7), base='matte', scale=1.0, gap=0.5)
    p.box(-width / 2, width / 2, y0, y1, 0, sc.uniform(0.3, 0.38), FURN, m, col)
    origin, yaw = sc.wall_pose(w, s)
    sc.add_object(p, origin, yaw, ao=0.3)


def add_wall_shelf(sc: Scene, w: int) -> None:
    """Floating shelves with books on wall ``w``, if they fit below the ceiling."""
    p, W, D, H = build_wall_shelf(sc)
    y0 = sc.uniform(0.9, 1.6)
    if y0 + H > sc.room_height - 0.1:
        return
    s = reserve_wall_rect(sc, w, W, y0, y0 + H)
    if s is None:
        return
    origin, yaw = sc.wall_pose(w, s)
    sc.add_object(p, origin + np.array([0.0, y0, 0.0]), yaw, ao=0.3, anchor=0.5)


def add_rug(sc: Scene) -> None:
    """A rug somewhere on the floor; rugs are 'floor' in NYUv2-13 (floor mat -> floor)."""
    W, D = sc.room_width, sc.room_depth
    rw, rd = min(sc.uniform(1.0, 2.5), W - 0.5), min(sc.uniform(0.8, 2.0), D - 0.5)
    cx, cz = sc.uniform(rw / 2 + 0.2, W - rw / 2 - 0.2), sc.uniform(rd / 2 + 0.2, D - rd / 2 - 0.2)
    if cx < 0 or cz < 0:
        return
    img = painting(sc) if sc.chance(0.4) else None
    m = sc.material('rug', img=img, col2=sc.color('soft'), border=sc.uniform(0.03, 0.15))
    p = Parts()
    p.box(-rw / 2, rw / 2, 0.0, 0.008, -rd / 2, rd / 2, FLOOR, m, sc.color('soft'))
    sc.add_object(p, np.array([cx, 0.0, cz]), 0.0 if sc.chance(0.5) else math.pi / 2, ao=0.0)


def add_ceiling_lights(sc: Scene) -> None:
    """0..2 ceiling panels or pendant lamps, and the main light (inserted first in ``lights``).

    The main light hangs below the first fixture, or at a random spot when there is none.
    """
    W, D, H = sc.room_width, sc.room_depth, sc.room_height
    n = int(sc.rng.integers(0, 3))
    on = sc.chance(0.8)
    p = Parts()
    lm = sc.material('light', on=on)
    col = np.array([0.9, 0.9, 0.88])
    positions = []
    for _ in range(n):
        x, z = sc.uniform(0.5, W - 0.5), sc.uniform(0.5, D - 0.5)
        positions.append((x, z))
        if sc.chance(0.5):
            p.box(x - 0.3, x + 0.3, H - 0.03, H, z - 0.3, z + 0.3, OBJ, lm, col)
        else:  # pendant lamp: cord + shade
            r = sc.uniform(0.12, 0.25)
            y = H - sc.uniform(0.4, 0.9)
            p.cyl(x, y + 0.1, H, z, 0.006, 0.006, OBJ, sc.material('matte'), col * 0.2)
            p.cyl(x, y - 0.05, y + 0.12, z, r, r, OBJ, sc.material('shade', on=on, gain=0.8),
                  sc.color(dict(paint=0.5, neutral=0.3, vivid=0.2)))
    if n:
        sc.add_object(p, np.zeros(3), 0.0, ao=0.0)
    x, z = positions[0] if positions else (sc.uniform(0.3, 0.7) * W, sc.uniform(0.3, 0.7) * D)
    sc.lights.insert(0, dict(pos=np.array([x, H - 0.15, z]), lamp=False))
