"""Placement: finding free floor and wall space for objects and putting them in the scene.

Floor space is tracked as footprints (axis-aligned floor rectangles) and wall space as
rectangles per wall (abscissa along the wall × height); an object is only added where both are
free, so furniture never interpenetrates.
"""
from __future__ import annotations

import numpy as np

from .clutter import build_clutter
from .scene import Parts, Scene, yaw_rotation

__all__ = ['place_on_wall', 'place_free', 'reserve_wall_rect', 'fill_supports',
           'shift_back_to_wall']


def _add_lamp_light(sc: Scene, parts: Parts, origin: np.ndarray, forward: float) -> None:
    """A switched-on lamp lights the room from just below its shade."""
    if parts.lamp_on:
        sc.lights.append(dict(pos=origin + np.array([0, parts.lamp_height, forward]), lamp=True))


def place_on_wall(sc: Scene, w: int, parts: Parts, width: float, depth: float, height: float,
                  s: float | None = None, tries: int = 10, ao: float = 0.5, anchor: float = 0.0,
                  clear: float = 0.0) -> tuple[np.ndarray, float, float] | None:
    """Put a floor-standing object with its back against wall ``w`` if there is room.

    Args:
        sc: The scene.
        w: Wall index.
        parts: The object (back at local z = 0).
        width: Its width along the wall.
        depth: Its depth into the room.
        height: Its height (reserved on the wall).
        s: Abscissa of its centre along the wall; random (``tries`` attempts) when None.
        tries: Attempts at random abscissas.
        ao: Contact-shadow strength.
        anchor: Weight as a camera target.
        clear: Extra floor depth in front of it that must be free (not reserved).

    Returns:
        ``(origin, yaw, s)`` of the placed object, or None when it did not fit.
    """
    L = sc.wall_length(w)
    if width + 0.04 > L:
        return None
    for _ in range(tries if s is None else 1):
        ss = s if s is not None else sc.uniform(width / 2 + 0.02, L - width / 2 - 0.02)
        origin, yaw = sc.wall_pose(w, ss, 0.0)
        box = sc.footprint(origin, yaw, -width / 2, width / 2, 0.0, depth + clear)
        if sc.floor_free(box) and sc.wall_free(w, ss - width / 2, ss + width / 2, 0, height):
            sc.footprints.append(sc.footprint(origin, yaw, -width / 2, width / 2, 0.0, depth))
            sc.wall_rects[w].append((ss - width / 2, ss + width / 2, 0.0, height))
            sc.add_object(parts, origin, yaw, ao=ao, anchor=anchor)
            _add_lamp_light(sc, parts, origin, 0.15)
            return origin, yaw, ss
    return None


def place_free(sc: Scene, parts: Parts, width: float, depth: float, center: tuple,
               yaw: float, ao: float = 0.5, anchor: float = 0.0) -> bool:
    """Place a free-standing object whose footprint centre is ``center`` (x, z).

    Args:
        sc: The scene.
        parts: The object (back at local z = 0).
        width: Its width (local x).
        depth: Its depth (local z).
        center: World ``(x, z)`` of its footprint centre.
        yaw: Its rotation.
        ao: Contact-shadow strength.
        anchor: Weight as a camera target.

    Returns:
        Whether the floor there was free (the object is added only then).
    """
    r = yaw_rotation(yaw)
    origin = np.array([center[0], 0.0, center[1]]) - r @ np.array([0, 0, depth / 2])
    box = sc.footprint(origin, yaw, -width / 2, width / 2, 0, depth)
    if not sc.floor_free(box, margin=0.02):
        return False
    sc.footprints.append(box)
    sc.add_object(parts, origin, yaw, ao=ao, anchor=anchor)
    _add_lamp_light(sc, parts, origin, 0.0)
    return True


def reserve_wall_rect(sc: Scene, w: int, width: float, y0: float, y1: float,
                      s: float | None = None, tries: int = 8) -> float | None:
    """Reserve a ``width`` × ``[y0, y1]`` rectangle on wall ``w``.

    Args:
        sc: The scene.
        w: Wall index.
        width: Width along the wall.
        y0: Bottom height.
        y1: Top height.
        s: Abscissa of its centre; random (``tries`` attempts, 0.1 from the corners) when None.
        tries: Attempts at random abscissas.

    Returns:
        The centre abscissa, or None when the wall has no room.
    """
    L = sc.wall_length(w)
    if s is None and width + 0.2 > L:
        return None
    for _ in range(tries if s is None else 1):
        ss = s if s is not None else sc.uniform(width / 2 + 0.1, L - width / 2 - 0.1)
        if sc.wall_free(w, ss - width / 2, ss + width / 2, y0, y1):
            sc.wall_rects[w].append((ss - width / 2, ss + width / 2, y0, y1))
            return ss
    return None


def fill_supports(sc: Scene, start: int = 0, density: float = 1.0) -> None:
    """Put clutter on the support surfaces registered since ``start``.

    Args:
        sc: The scene.
        start: Index into ``sc.supports`` of the first surface to fill.
        density: Scales the expected number of items per metre of surface.
    """
    for sup in sc.supports[start:]:
        origin, yaw, r, x0, x1, z0, z1, y, used = sup
        n = int(sc.rng.poisson(density * max(0.5, (x1 - x0) * 2.0)))
        for _ in range(min(n, 5)):
            parts, w, d = build_clutter(sc, 'table')
            if w > x1 - x0 or d > z1 - z0:
                continue
            for _t in range(4):
                cx = sc.uniform(x0 + w / 2, x1 - w / 2)
                if all(cx + w / 2 + 0.02 <= a or b + 0.02 <= cx - w / 2 for a, b in used):
                    break
            else:
                continue
            cz = sc.uniform(z0 + d / 2, z1 - d / 2)
            used.append((cx - w / 2, cx + w / 2))
            yaw2 = yaw + sc.uniform(-0.4, 0.4)
            o = origin + r @ np.array([cx, y, cz])
            sc.add_object(parts, o, yaw2, ao=0.45, void=sc.chance(0.03))
            _add_lamp_light(sc, parts, o, 0)


def shift_back_to_wall(parts: Parts, d: float) -> Parts:
    """Shift a centred clutter object so that its back touches z = 0 (for wall placement).

    Args:
        parts: Clutter built centred at the origin.
        d: Its depth.

    Returns:
        A shifted copy (same primitives, supports not copied, lamp fields kept).
    """
    q = Parts()
    for kind, c, h, lab, m, col, sub in parts.items:
        q.items.append((kind, (c[0], c[1], c[2] + d / 2), h, lab, m, col, sub))
    q.lamp_on, q.lamp_height = parts.lamp_on, parts.lamp_height
    return q
