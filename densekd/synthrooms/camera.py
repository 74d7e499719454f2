"""The pinhole camera: aiming it into the room, its basis, and projecting boxes to pixels.

The camera looks along ``fwd`` with image rows along ``down`` and columns along ``right``;
``f`` is the focal length in pixels. Pixel rectangles bound the projection of 3-D boxes so
that ray casting and contact shadows only touch the pixels a box can cover.
"""
from __future__ import annotations

import math

import numpy as np

from .scene import Scene, yaw_rotation

__all__ = ['aim_camera', 'camera_basis', 'screen_rect', 'BOX_CORNERS']

#: The 8 corners of the cube [-1, 1]^3 (scale by a half-size and add a centre).
BOX_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)


def aim_camera(sc: Scene, back: int) -> None:
    """Point the camera (yaw, pitch, roll, field of view) into the room from wall ``back``.

    Usually at a weighted random aim target in front of it, otherwise at a random spot on the
    opposite wall; the yaw is kept within about 65 degrees of the inward direction.

    Args:
        sc: The scene, with ``eye`` and ``aim_targets`` set.
        back: The wall the camera stands at.
    """
    rng = sc.rng
    _, inward_yaw = sc.wall_pose(back, 0.0)
    fwd_in = yaw_rotation(inward_yaw) @ np.array([0.0, 0.0, 1.0])
    # Aim at something in front and not too close (no frame-filling close-ups of a picture).
    cands = [(pt, w) for pt, w in sc.aim_targets
             if np.dot(pt - sc.eye, fwd_in) > 0.6 and math.hypot(*(pt - sc.eye)[[0, 2]]) > 1.6]
    if cands and sc.chance(0.8):
        wts = np.array([w for _, w in cands])
        tgt = cands[int(np.searchsorted(np.cumsum(wts) / wts.sum(), rng.random()))][0].copy()
        tgt[1] = float(np.clip(tgt[1], 0.7, 1.3))
    else:
        front = (back + 2) % 4
        o, _ = sc.wall_pose(front, sc.uniform(0.2, 0.8) * sc.wall_length(front))
        tgt = o + np.array([0.0, sc.uniform(0.6, 1.4), 0.0])
    v = tgt - sc.eye
    yaw = math.atan2(v[0], v[2]) + rng.normal(0, 0.15)
    # Stay within +-65 degrees of the inward direction (do not stare at a nearby side wall).
    rel = (yaw - inward_yaw + math.pi) % (2 * math.pi) - math.pi
    yaw = inward_yaw + float(np.clip(rel, -1.1, 1.1))
    dist = math.hypot(v[0], v[2])
    pitch = math.atan2(v[1], dist) + rng.normal(0.0, 0.09)
    sc.pitch = float(np.clip(pitch, -0.55, 0.2))
    sc.yaw = yaw
    sc.roll = float(rng.normal(0, 0.035))
    sc.hfov = math.radians(sc.uniform(54, 66))


def camera_basis(sc: Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The camera's ``(fwd, right, down, f)`` from its yaw, pitch, roll and field of view.

    Args:
        sc: An aimed scene.

    Returns:
        Unit forward, right and down vectors (world) and the focal length in pixels.
    """
    cp, sp = math.cos(sc.pitch), math.sin(sc.pitch)
    fwd = np.array([math.sin(sc.yaw) * cp, sp, math.cos(sc.yaw) * cp])
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    cr, sr = math.cos(sc.roll), math.sin(sc.roll)
    right, down = cr * right + sr * down, -sr * right + cr * down
    f = (sc.width / 2) / math.tan(sc.hfov / 2)
    return fwd, right, down, f


def screen_rect(sc: Scene, corners: np.ndarray, cam: tuple) -> tuple[int, int, int, int] | None:
    """Pixel rectangle covering the projection of ``corners``.

    Args:
        sc: An aimed scene.
        corners: N×3 world points (typically a box's 8 corners).
        cam: :func:`camera_basis` of the scene.

    Returns:
        ``(r0, r1, c0, c1)`` (rows and columns, end exclusive); the whole image when some
        corner is behind the camera; None when all are behind it or the box is off-screen.
    """
    fwd, right, down, f = cam
    q = corners - sc.eye
    zc = q @ fwd
    if (zc < 0.05).all():
        return None
    if (zc < 0.05).any():
        return 0, sc.height, 0, sc.width
    uu = f * (q @ right) / zc + sc.width / 2
    vv = f * (q @ down) / zc + sc.height / 2
    c0, c1 = max(int(uu.min()) - 1, 0), min(int(uu.max()) + 2, sc.width)
    r0, r1 = max(int(vv.min()) - 1, 0), min(int(vv.max()) + 2, sc.height)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, r1, c0, c1
