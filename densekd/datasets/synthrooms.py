"""SynthRooms: procedurally rendered NYUv2-like indoor scenes, the offline in-domain data.

Every image is a box room seen by a pinhole camera (random position, yaw, pitch, small roll).
Furniture and clutter are unions of boxes, ellipsoids and vertical cylinders, ray-cast against
the camera rays with a z-buffer, so perspective and occlusion are exact and every pixel's class
is known. Shading is deferred: after visibility is resolved each material textures its own
pixels (floor planks/tiles in floor coordinates, paint, fabric, wood grain, book spines, window
skies, paintings, screens), then one lighting pass adds a warm key light with falloff, window
light, hemisphere ambient, contact shadows (distance-to-box occlusion) and room-corner occlusion,
and a camera model adds exposure, colour cast, gamma, vignetting, blur and sensor noise.

Colours are drawn from palettes *shared* across classes (a sofa, a bed cover and a wall can have
the same colour), so a network has to tell classes apart by shape and context, as on NYUv2.

The on-disk layout is the one :class:`~densekd.datasets.nyuv2.NYUv2Dataset` reads::

    <out_dir>/image/{train,test}/00000.png   RGB uint8
    <out_dir>/seg13/{train,test}/00000.png   uint8, 0..12 = NYUv2-13 classes, 255 = void
    <out_dir>/synthrooms.json                manifest (params + stats), written last

Image ``k`` of a split depends only on ``(seed, split, k)``, so generation can run in parallel,
can resume after an interruption, and re-runs produce identical bytes.
"""
from __future__ import annotations

import contextlib
import json
import math
import multiprocessing as mp
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from mmengine.logging import print_log

from densekd.registry import DATASETS

from .nyuv2 import NYUV2_CLASSES, DatasetNotFoundError, NYUv2Dataset, resolve_data_root

__all__ = ['SYNTHROOMS_VERSION', 'generate_synthrooms', 'render_synthroom', 'load_manifest',
           'ensure_synthrooms', 'synthrooms_root', 'SynthRoomsDataset']

#: Bump whenever rendering changes: cached datasets with another version are regenerated.
SYNTHROOMS_VERSION = 2
MANIFEST_NAME = 'synthrooms.json'
_PARTIAL_NAME = '.synthrooms_partial.json'
_LOCK_NAME = '.synthrooms.lock'
_SPLITS = ('train', 'test')

# NYUv2-13 label ids (methods.md §7.2).
BED, BOOKS, CEILING, CHAIR, FLOOR, FURN, OBJ, PICT, SOFA, TABLE, TV, WALL, WINDOW = range(13)
VOID = 255
NUM_CLASSES = 13

# --------------------------------------------------------------------------------------------
# Palettes (sRGB 0..1). Families are shared by every class; only the mixing weights differ, and
# every class can draw from every family, so colour alone never identifies a class.
# --------------------------------------------------------------------------------------------
_PALETTES: dict[str, np.ndarray] = {
    'paint': np.array([
        (0.93, 0.92, 0.88), (0.95, 0.94, 0.92), (0.90, 0.86, 0.78), (0.85, 0.80, 0.70),
        (0.80, 0.80, 0.80), (0.70, 0.72, 0.74), (0.78, 0.85, 0.90), (0.75, 0.85, 0.76),
        (0.95, 0.90, 0.70), (0.93, 0.80, 0.78), (0.82, 0.78, 0.88), (0.60, 0.70, 0.75),
        (0.75, 0.55, 0.45), (0.55, 0.65, 0.55), (0.96, 0.85, 0.60), (0.88, 0.88, 0.84)]),
    'wood': np.array([
        (0.80, 0.62, 0.42), (0.88, 0.74, 0.52), (0.62, 0.42, 0.26), (0.45, 0.30, 0.19),
        (0.30, 0.20, 0.13), (0.55, 0.27, 0.17), (0.70, 0.55, 0.40), (0.60, 0.55, 0.50),
        (0.22, 0.15, 0.11), (0.75, 0.66, 0.55)]),
    'fabric': np.array([
        (0.55, 0.55, 0.57), (0.30, 0.30, 0.32), (0.75, 0.68, 0.58), (0.88, 0.85, 0.78),
        (0.20, 0.25, 0.45), (0.25, 0.40, 0.70), (0.65, 0.15, 0.15), (0.45, 0.12, 0.15),
        (0.20, 0.40, 0.25), (0.45, 0.48, 0.25), (0.80, 0.62, 0.20), (0.45, 0.32, 0.22),
        (0.92, 0.92, 0.92), (0.85, 0.60, 0.65), (0.15, 0.50, 0.50), (0.42, 0.30, 0.55)]),
    'neutral': np.array([
        (0.95, 0.95, 0.95), (0.85, 0.85, 0.83), (0.60, 0.60, 0.60), (0.35, 0.35, 0.36),
        (0.15, 0.15, 0.16), (0.07, 0.07, 0.08), (0.72, 0.74, 0.76), (0.50, 0.48, 0.45)]),
    'vivid': np.array([
        (0.85, 0.15, 0.12), (0.95, 0.50, 0.10), (0.95, 0.85, 0.15), (0.20, 0.65, 0.25),
        (0.15, 0.35, 0.80), (0.50, 0.20, 0.65), (0.90, 0.40, 0.60), (0.10, 0.70, 0.75)]),
}
_MIX = {
    'wall': dict(paint=0.82, neutral=0.08, fabric=0.05, wood=0.03, vivid=0.02),
    'ceiling': dict(paint=0.75, neutral=0.2, wood=0.05),
    'floor': dict(wood=0.45, neutral=0.2, fabric=0.2, paint=0.15),
    'furn': dict(wood=0.45, neutral=0.3, paint=0.2, fabric=0.03, vivid=0.02),
    'soft': dict(fabric=0.6, neutral=0.2, paint=0.1, vivid=0.05, wood=0.05),
    'chair': dict(wood=0.35, neutral=0.3, fabric=0.2, vivid=0.1, paint=0.05),
    'table': dict(wood=0.55, neutral=0.3, paint=0.1, vivid=0.05),
    'any': dict(wood=0.2, neutral=0.2, paint=0.2, fabric=0.2, vivid=0.2),
    'book': dict(vivid=0.35, fabric=0.3, neutral=0.15, paint=0.2),
    'frame': dict(wood=0.4, neutral=0.5, paint=0.1),
}
_MIX_CUM = {k: (list(m), np.cumsum(list(m.values())) / sum(m.values())) for k, m in _MIX.items()}
_PAGES = np.array([0.85, 0.82, 0.72]) ** 2.2


def _hash2(i: np.ndarray, j: np.ndarray, salt: float = 0.0) -> np.ndarray:
    """Deterministic pseudo-random value in [0, 1) per integer cell (i, j)."""
    x = np.sin(i * 12.9898 + j * 78.233 + salt * 37.719) * 43758.5453
    return x - np.floor(x)


def _bilerp(grid: np.ndarray, u: np.ndarray, v: np.ndarray, wrap: bool = True) -> np.ndarray:
    """Sample ``grid`` (rows = v, cols = u, optional channels) at float coordinates.

    With ``wrap`` the grid tiles (value noise); otherwise coordinates are clamped (images).
    """
    g0, g1 = grid.shape[:2]
    if not wrap:
        u = np.clip(u, 0, g1 - 1.001)
        v = np.clip(v, 0, g0 - 1.001)
    fu, fv = np.floor(u), np.floor(v)
    au, av = u - fu, v - fv
    if wrap:
        au = au * au * (3 - 2 * au)  # smoothstep: no visible grid lines in value noise
        av = av * av * (3 - 2 * av)
    i0 = fv.astype(np.int64)
    j0 = fu.astype(np.int64)
    if wrap:
        i0 %= g0
        j0 %= g1
        i1, j1 = (i0 + 1) % g0, (j0 + 1) % g1
    else:
        i1, j1 = i0 + 1, j0 + 1
    if grid.ndim == 3:
        au, av = au[:, None], av[:, None]
    top = grid[i0, j0] * (1 - au) + grid[i0, j1] * au
    bot = grid[i1, j0] * (1 - au) + grid[i1, j1] * au
    return top * (1 - av) + bot * av


def _sample_img(img: np.ndarray, un: np.ndarray, vn: np.ndarray) -> np.ndarray:
    """Sample a small RGB image with face coordinates (u right, v up, both in [0, 1])."""
    h, w = img.shape[:2]
    return _bilerp(img, un * (w - 1), (1 - vn) * (h - 1), wrap=False)


def _rot(yaw: float) -> np.ndarray:
    """Rotation about +y taking local (x, y, z) to world; local +z maps to (sin, 0, cos)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


class _Parts:
    """Primitives of one object in its local frame (x centred, y up from its base, z >= 0)."""

    def __init__(self) -> None:
        self.items: list[tuple] = []   # (kind, centre, half, label, mat, colour, sub-group)
        self.supports: list[tuple] = []  # (x0, x1, z0, z1, y): surfaces clutter can stand on
        self.sub = 0

    def box(self, x0, x1, y0, y1, z0, z1, label, mat, col) -> None:  # noqa: D102
        self.items.append(('box', ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2),
                           (abs(x1 - x0) / 2, abs(y1 - y0) / 2, abs(z1 - z0) / 2),
                           label, mat, col, self.sub))

    def ell(self, cx, cy, cz, rx, ry, rz, label, mat, col) -> None:  # noqa: D102
        self.items.append(('ell', (cx, cy, cz), (rx, ry, rz), label, mat, col, self.sub))

    def cyl(self, cx, y0, y1, cz, rx, rz, label, mat, col) -> None:  # noqa: D102
        self.items.append(('cyl', (cx, (y0 + y1) / 2, cz), (rx, (y1 - y0) / 2, rz),
                           label, mat, col, self.sub))

    def new_group(self) -> None:
        """Start a new intersection group (keeps n_pixels x n_prims arrays small)."""
        self.sub += 1


# --------------------------------------------------------------------------------------------
# Scene description
# --------------------------------------------------------------------------------------------
class _Scene:
    """A room, its contents, lights and camera; filled by :func:`_build_scene`."""

    def __init__(self, rng: np.random.Generator, height: int, width: int) -> None:
        self.rng = rng
        self.H, self.W = height, width
        self.mats: list[dict] = []
        self.groups: list[dict] = []
        self.aos: list[tuple] = []
        self.foot: list[tuple] = []
        self.wallocc: dict[int, list] = {0: [], 1: [], 2: [], 3: []}
        self.supports: list[list] = []
        self.anchors: list[tuple] = []
        self.lights: list[dict] = []
        self.windows: list[int] = []
        self.n_obj = 0
        self.noise = rng.random((48, 48)).astype(np.float32)
        self._buf: list[float] = []

    # ---- random helpers ----
    # Scene building draws ~1000 scalars per image; one vectorised draw per 1024 values is ~10x
    # cheaper than a Generator call per scalar, and stays a pure function of the seed.
    def r(self) -> float:
        """Next uniform [0, 1) scalar from the buffered stream."""
        if not self._buf:
            self._buf = self.rng.random(1024).tolist()
            self._buf.reverse()
        return self._buf.pop()

    def u(self, a: float, b: float) -> float:
        return a + (max(a, b) - a) * self.r()

    def p(self, prob: float) -> bool:
        return self.r() < prob

    def color(self, mix: str | dict, jitter: float = 0.05) -> np.ndarray:
        """A linear-RGB colour from the shared palettes with a class-specific mixture."""
        if isinstance(mix, str):
            fams, cum = _MIX_CUM[mix]
        else:
            fams, cum = list(mix), np.cumsum(list(mix.values())) / sum(mix.values())
        x = self.r()
        fam = _PALETTES[fams[min(int(np.searchsorted(cum, x, side='right')), len(fams) - 1)]]
        c = fam[int(self.r() * len(fam))] * (0.8 + 0.32 * self.r())
        c = c * (1 + jitter * 3.4 * (np.array([self.r(), self.r(), self.r()]) - 0.5))
        return np.minimum(np.maximum(c, 0.02), 1.0) ** 2.2

    def mat(self, kind: str, **params: Any) -> int:
        self.mats.append(dict(kind=kind, gloss=params.pop('gloss', 0.0), **params))
        return len(self.mats) - 1

    # ---- room geometry ----
    def wall_len(self, w: int) -> float:
        return self.Wr if w % 2 == 0 else self.Dr

    def wall_pose(self, w: int, s: float, off: float = 0.0) -> tuple[np.ndarray, float]:
        """Origin/yaw of a frame on wall ``w`` at abscissa ``s``, local +z pointing inwards."""
        if w == 0:
            return np.array([s, 0.0, off]), 0.0
        if w == 1:
            return np.array([self.Wr - off, 0.0, s]), -math.pi / 2
        if w == 2:
            return np.array([self.Wr - s, 0.0, self.Dr - off]), math.pi
        return np.array([off, 0.0, self.Dr - s]), math.pi / 2

    @staticmethod
    def aabb(origin: np.ndarray, yaw: float, x0: float, x1: float, z0: float, z1: float
             ) -> tuple[float, float, float, float]:
        r = _rot(yaw)
        pts = np.array([[x0, 0, z0], [x1, 0, z0], [x0, 0, z1], [x1, 0, z1]]) @ r.T + origin
        return pts[:, 0].min(), pts[:, 0].max(), pts[:, 2].min(), pts[:, 2].max()

    def free(self, box: tuple, margin: float = 0.03) -> bool:
        x0, x1, z0, z1 = box
        if x0 < -1e-6 or z0 < -1e-6 or x1 > self.Wr + 1e-6 or z1 > self.Dr + 1e-6:
            return False
        return all(x1 + margin <= a0 or a1 + margin <= x0 or z1 + margin <= b0 or b1 + margin <= z0
                   for a0, a1, b0, b1 in self.foot)

    def wall_free(self, w: int, s0: float, s1: float, y0: float, y1: float,
                  margin: float = 0.05) -> bool:
        if s0 < 0 or s1 > self.wall_len(w):
            return False
        return all(s1 + margin <= a0 or a1 + margin <= s0 or y1 + margin <= b0 or b1 + margin <= y0
                   for a0, a1, b0, b1 in self.wallocc[w])

    # ---- adding objects ----
    def add(self, parts: _Parts, origin: np.ndarray, yaw: float, ao: float = 0.5,
            void: bool = False, anchor: float = 0.0) -> int:
        """Add ``parts`` at ``origin``/``yaw``; returns the object id (for AO and supports)."""
        self.n_obj += 1
        oid = self.n_obj
        origin = np.asarray(origin, dtype=float)
        by_group: dict[tuple, list] = {}
        for it in parts.items:
            by_group.setdefault((it[0], it[6]), []).append(it)
        for (kind, _), items in by_group.items():
            c = np.array([it[1] for it in items], dtype=np.float32)
            h = np.maximum(np.array([it[2] for it in items], dtype=np.float32), 1e-3)
            lab = np.array([VOID if void else it[3] for it in items], dtype=np.uint8)
            self.groups.append(dict(
                kind=kind, origin=origin, yaw=yaw, rot=_rot(yaw), c=c, h=h, lab=lab,
                lo=(c - h).min(0), hi=(c + h).max(0),
                mat=np.array([it[4] for it in items], dtype=np.int16),
                col=np.array([it[5] for it in items], dtype=np.float32), obj=oid))
        if parts.items:
            c = np.array([it[1] for it in parts.items])
            h = np.array([it[2] for it in parts.items])
            lo, hi = (c - h).min(0), (c + h).max(0)
            if ao > 0:
                rad = float(np.clip(0.35 * min(hi[0] - lo[0], hi[2] - lo[2]), 0.04, 0.25))
                self.aos.append((origin, yaw, (lo + hi) / 2, (hi - lo) / 2, ao, rad, oid))
            if anchor > 0:
                self.anchors.append((origin + _rot(yaw) @ ((lo + hi) / 2), anchor))
        r = _rot(yaw)
        for x0, x1, z0, z1, y in parts.supports:
            self.supports.append([origin, yaw, r, x0, x1, z0, z1, y, []])
        return oid


# --------------------------------------------------------------------------------------------
# Content images (window views, paintings, screens, rugs)
# --------------------------------------------------------------------------------------------
def _sky_image(sc: _Scene, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Outdoor view through a window: albedo-free radiance image and an emission weight map."""
    h, w = 24, 24
    rng = sc.rng
    r = np.linspace(0, 1, h)[:, None, None]
    if kind == 'day':
        top = np.array([0.30, 0.50, 0.90]) * sc.u(0.7, 1.1)
        hor = np.array([0.80, 0.88, 0.97])
    elif kind == 'overcast':
        g = sc.u(0.7, 0.95)
        top, hor = np.array([g, g, g * 1.03]), np.array([g, g, g]) * 1.05
    elif kind == 'dusk':
        top, hor = np.array([0.25, 0.30, 0.55]), np.array([0.95, 0.60, 0.35])
    else:  # night: dark glass reflecting the room, barely emissive
        top, hor = np.array([0.02, 0.03, 0.06]), np.array([0.06, 0.06, 0.08])
    img = np.broadcast_to(top + (hor - top) * r ** 0.8, (h, w, 3)).copy()
    emit = np.ones((h, w))
    # Silhouettes of buildings / trees in the lower part of the view.
    if kind != 'night' and sc.p(0.7):
        cols = np.sort(rng.integers(0, w, rng.integers(2, 6)))
        edges = np.concatenate([[0], cols, [w]])
        for a, b in zip(edges[:-1], edges[1:]):
            if b <= a or sc.p(0.3):
                continue
            top_row = int(rng.integers(h // 3, h))
            bc = sc.color(dict(neutral=0.5, paint=0.3, wood=0.2)) ** (1 / 2.2) * 0.8
            img[top_row:, a:b] = bc
            emit[top_row:, a:b] = 0.55
    if kind in ('day', 'overcast') and sc.p(0.4):
        tree = cv2.resize(rng.random((4, 4)), (w, h), interpolation=cv2.INTER_CUBIC)
        mask = (tree + r[..., 0] * 0.8) > 1.05
        img[mask] = np.array([0.15, 0.30, 0.12]) * sc.u(0.6, 1.3)
        emit[mask] = 0.45
    return np.clip(img, 0, 1) ** 2.2, emit


def _painting(sc: _Scene) -> np.ndarray:
    """A small random 'painting' / photo / poster (linear RGB)."""
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


# --------------------------------------------------------------------------------------------
# Object builders. Local frame: x centred, y up from the base, back at z = 0, front at +z.
# --------------------------------------------------------------------------------------------
def _wood_or_matte(sc: _Scene, col: np.ndarray) -> int:
    return sc.mat('wood', scale=sc.u(0.5, 1.5)) if sc.p(0.6) else sc.mat('matte', amp=0.1)


def _build_bed(sc: _Scene) -> tuple[_Parts, float, float, float]:
    p = _Parts()
    W = float(sc.rng.choice([0.95, 1.2, 1.45, 1.6, 1.8])) * sc.u(0.95, 1.05)
    L = sc.u(1.95, 2.15)
    leg = sc.u(0.0, 0.15) if sc.p(0.5) else 0.0
    fh = leg + sc.u(0.12, 0.25)
    mh = sc.u(0.16, 0.28)
    fcol = sc.style_wood if sc.p(0.5) else sc.color(dict(wood=0.5, fabric=0.3, neutral=0.2))
    fmat = _wood_or_matte(sc, fcol)
    p.box(-W / 2, W / 2, leg, fh, 0.05, L, BED, fmat, fcol)
    if leg > 0:
        for sx in (-1, 1):
            for z in (0.1, L - 0.05):
                p.box(sx * W / 2 - sx * 0.06, sx * W / 2, 0, leg, z - 0.05, z, BED, fmat, fcol)
    top = fh + mh
    mcol = sc.color(dict(neutral=0.5, paint=0.3, fabric=0.2))
    fab = sc.mat('fabric', amp=0.12)
    p.box(-W / 2 + 0.02, W / 2 - 0.02, fh, top, 0.07, L - 0.02, BED, fab, mcol)
    # Duvet: wider than the mattress and hanging over its sides.
    bcol = sc.color('soft')
    bmat = sc.mat('fabric', amp=0.2, folds=sc.u(3, 9))
    z0 = L * sc.u(0.22, 0.45)
    hang = sc.u(0.1, 0.3)
    p.box(-W / 2 - 0.04, W / 2 + 0.04, max(top - hang, 0.03), top + sc.u(0.02, 0.07), z0,
          L + 0.04, BED, bmat, bcol)
    if sc.p(0.85):
        hh = top + sc.u(0.3, 0.8)
        p.box(-W / 2 - 0.03, W / 2 + 0.03, 0, hh, 0, sc.u(0.04, 0.1), BED,
              fmat if sc.p(0.6) else fab, fcol if sc.p(0.6) else sc.color('soft'))
    if sc.p(0.25):
        p.box(-W / 2 - 0.03, W / 2 + 0.03, 0, top + sc.u(0.0, 0.25), L - 0.05, L, BED, fmat, fcol)
    # Pillows are 'objects' in NYUv2-13 (pillow -> objects).
    pcol = sc.color('soft') if sc.p(0.5) else mcol
    pm = sc.mat('fabric', amp=0.1)
    n = 1 if W < 1.1 else 2
    for i in range(n):
        x = 0 if n == 1 else (i - 0.5) * W / 2
        p.ell(x, top + 0.06, sc.u(0.22, 0.3), min(0.32, W / (2 * n) - 0.04), 0.08, 0.17,
              OBJ, pm, pcol)
    if sc.p(0.3):  # clothes / a bag lying on the bed
        p.ell(sc.u(-W / 3, W / 3), top + 0.06, sc.u(0.8, L - 0.4), sc.u(0.12, 0.3), 0.07,
              sc.u(0.1, 0.25), OBJ, sc.mat('fabric', amp=0.2), sc.color('any'))
    return p, W, L, top + 0.8


def _build_sofa(sc: _Scene, W: float | None = None, label: int = SOFA
                ) -> tuple[_Parts, float, float, float]:
    p = _Parts()
    W = W or sc.u(1.5, 2.4)
    D = sc.u(0.78, 1.0)
    leg = sc.u(0.03, 0.14)
    sh = sc.u(0.38, 0.46)
    bh = sc.u(0.7, 0.92)
    aw = sc.u(0.08, 0.22) if sc.p(0.85) else 0.0
    ah = sc.u(0.52, 0.68)
    bt = sc.u(0.14, 0.26)
    col = sc.color('soft')
    fab = sc.mat('fabric', amp=sc.u(0.05, 0.2))
    p.box(-W / 2 + aw, W / 2 - aw, leg, sh - 0.12, bt, D, label, fab, col)
    p.box(-W / 2, W / 2, leg, bh, 0, bt, label, fab, col)
    n = max(1, int(round((W - 2 * aw) / sc.u(0.55, 0.9))))
    cw = (W - 2 * aw) / n
    for i in range(n):
        x0 = -W / 2 + aw + i * cw
        p.box(x0 + 0.01, x0 + cw - 0.01, sh - 0.13, sh, bt, D + 0.01, label, fab, col)
        if sc.p(0.4):
            p.box(x0 + 0.02, x0 + cw - 0.02, sh, bh - 0.05, bt, bt + 0.12, label, fab, col)
    if aw > 0:
        for sx in (-1, 1):
            p.box(sx * W / 2 - sx * aw, sx * W / 2, leg, ah, 0, D, label, fab, col)
    if leg > 0.02:
        lc = sc.style_wood
        lm = sc.mat('matte', amp=0.05)
        for sx in (-1, 1):
            for z in (0.06, D - 0.02):
                p.box(sx * (W / 2 - 0.07), sx * (W / 2 - 0.02), 0, leg, z - 0.05, z, label, lm, lc)
    if label == SOFA and sc.p(0.6):
        for _ in range(sc.rng.integers(1, 4)):
            x = sc.u(-W / 2 + aw + 0.2, W / 2 - aw - 0.2)
            p.ell(x, sh + 0.18, bt + 0.08, 0.2, 0.2, 0.07, OBJ, sc.mat('fabric', amp=0.15),
                  sc.color('any'))
    return p, W, D, bh


def _build_chair(sc: _Scene, col: np.ndarray | None = None) -> tuple[_Parts, float, float, float]:
    p = _Parts()
    kind = sc.rng.choice(['plain', 'office', 'stool', 'arm'], p=[0.55, 0.25, 0.1, 0.1])
    if kind == 'arm':
        return _build_sofa(sc, W=sc.u(0.75, 1.0), label=CHAIR)
    sw, sd = sc.u(0.4, 0.52), sc.u(0.4, 0.5)
    sh = sc.u(0.42, 0.5)
    col = col if col is not None else sc.color('chair')
    m = sc.mat('wood', scale=1.0) if sc.p(0.5) else sc.mat('matte', amp=0.08, gloss=0.15)
    if kind == 'office':
        fab = sc.mat('fabric', amp=0.1)
        dark = sc.color(dict(neutral=0.8, vivid=0.1, fabric=0.1))
        p.box(-sw / 2, sw / 2, sh - 0.08, sh, 0.03, sd, CHAIR, fab, col)
        p.box(-sw / 2 + 0.02, sw / 2 - 0.02, sh + 0.08, sh + sc.u(0.4, 0.6), 0, 0.06, CHAIR, fab,
              col)
        p.box(-0.03, 0.03, sh - 0.02, sh + 0.12, 0.0, 0.04, CHAIR, m, dark)
        p.cyl(0, 0.06, sh - 0.08, sd / 2, 0.025, 0.025, CHAIR, m, dark)
        p.box(-0.3, 0.3, 0.03, 0.07, sd / 2 - 0.025, sd / 2 + 0.025, CHAIR, m, dark)
        p.box(-0.025, 0.025, 0.03, 0.07, sd / 2 - 0.3, sd / 2 + 0.3, CHAIR, m, dark)
        if sc.p(0.5):
            for sx in (-1, 1):
                p.box(sx * sw / 2, sx * (sw / 2 + 0.05), sh + 0.16, sh + 0.2, 0.08, sd - 0.05,
                      CHAIR, m, dark)
        return p, sw, sd, sh + 0.5
    st = sc.u(0.025, 0.06)
    lw = sc.u(0.025, 0.045)
    if kind == 'stool' and sc.p(0.5):
        p.cyl(0, sh - st, sh, sd / 2, sw / 2, sw / 2, CHAIR, m, col)
    else:
        p.box(-sw / 2, sw / 2, sh - st, sh, 0, sd, CHAIR, m, col)
    for sx in (-1, 1):
        for z in (lw, sd - 0.005):
            p.box(sx * (sw / 2 - 0.01) - sx * lw, sx * (sw / 2 - 0.01), 0, sh - st, z - lw, z,
                  CHAIR, m, col)
    if kind == 'stool':
        return p, sw, sd, sh
    bh = sh + sc.u(0.35, 0.5)
    if sc.p(0.5):
        p.box(-sw / 2, sw / 2, sh, bh, 0, sc.u(0.02, 0.04), CHAIR, m, col)
    else:
        for sx in (-1, 1):
            p.box(sx * (sw / 2 - 0.01) - sx * lw, sx * (sw / 2 - 0.01), sh, bh, 0, lw, CHAIR, m,
                  col)
        p.box(-sw / 2, sw / 2, bh - sc.u(0.06, 0.14), bh, 0, 0.025, CHAIR, m, col)
        if sc.p(0.5):
            p.box(-sw / 2, sw / 2, sh + 0.12, sh + 0.17, 0, 0.02, CHAIR, m, col)
    return p, sw, sd, bh


def _build_table(sc: _Scene, kind: str) -> tuple[_Parts, float, float, float]:
    p = _Parts()
    if kind == 'coffee':
        W, D, H = sc.u(0.8, 1.3), sc.u(0.45, 0.7), sc.u(0.35, 0.48)
    elif kind == 'side':
        W, D, H = sc.u(0.4, 0.6), sc.u(0.4, 0.55), sc.u(0.5, 0.65)
    elif kind == 'desk':
        W, D, H = sc.u(1.0, 1.6), sc.u(0.55, 0.8), sc.u(0.72, 0.77)
    else:
        W, D, H = sc.u(0.9, 1.9), sc.u(0.75, 1.0), sc.u(0.72, 0.78)
    col = sc.style_wood if sc.p(0.5) else sc.color('table')
    m = sc.mat('wood', scale=sc.u(0.7, 1.5), gloss=0.25) if sc.p(0.7) else \
        sc.mat('matte', amp=0.06, gloss=0.3)
    tt = sc.u(0.025, 0.05)
    lw = sc.u(0.035, 0.07)
    if kind in ('dining', 'side') and sc.p(0.3):  # round pedestal table
        r = min(W, D) / 2 if kind == 'side' else sc.u(0.4, 0.6)
        W = D = 2 * r
        p.cyl(0, H - tt, H, r, r, r, TABLE, m, col)
        p.cyl(0, 0.02, H - tt, r, 0.05, 0.05, TABLE, m, col)
        p.cyl(0, 0.0, 0.03, r, r * 0.5, r * 0.5, TABLE, m, col)
        p.supports.append((-r * 0.6, r * 0.6, r * 0.4, r * 1.6, H))
        return p, W, D, H
    p.box(-W / 2, W / 2, H - tt, H, 0, D, TABLE, m, col)
    lc = col if sc.p(0.7) else sc.color(dict(neutral=0.8, wood=0.2))
    for sx in (-1, 1):
        for z in (0.03 + lw, D - 0.03):
            p.box(sx * (W / 2 - 0.03) - sx * lw, sx * (W / 2 - 0.03), 0, H - tt, z - lw, z,
                  TABLE, m, lc)
    if sc.p(0.5):
        ah = sc.u(0.05, 0.1)
        p.box(-W / 2 + 0.03, W / 2 - 0.03, H - tt - ah, H - tt, 0.04, 0.06, TABLE, m, lc)
        p.box(-W / 2 + 0.03, W / 2 - 0.03, H - tt - ah, H - tt, D - 0.06, D - 0.04, TABLE, m, lc)
    if kind == 'desk' and sc.p(0.5):  # drawer pedestal (desk -> table)
        sx = 1 if sc.p(0.5) else -1
        pw = sc.u(0.35, 0.45)
        pm = sc.mat('cabinet', cols=1, rows=int(sc.rng.integers(2, 4)), handle=sc.p(0.7))
        p.box(sx * (W / 2 - 0.03 - pw), sx * (W / 2 - 0.03), 0, H - tt, 0.02, D - 0.03, TABLE, pm,
              col)
    if kind == 'coffee' and sc.p(0.4):
        p.box(-W / 2 + 0.03, W / 2 - 0.03, 0.08, 0.1, 0.03, D - 0.03, TABLE, m, col)
    p.supports.append((-W / 2 + 0.05, W / 2 - 0.05, 0.05, D - 0.05, H))
    return p, W, D, H


def _build_cabinet(sc: _Scene, kind: str) -> tuple[_Parts, float, float, float]:
    p = _Parts()
    dims = {
        'dresser': ((0.8, 1.6), (0.42, 0.55), (0.75, 1.05)),
        'wardrobe': ((0.8, 2.0), (0.55, 0.65), (1.8, 2.2)),
        'nightstand': ((0.4, 0.55), (0.35, 0.45), (0.48, 0.65)),
        'low': ((1.0, 2.0), (0.38, 0.5), (0.4, 0.65)),
        'counter': ((1.2, 2.8), (0.58, 0.65), (0.86, 0.92)),
        'fridge': ((0.6, 0.8), (0.65, 0.75), (1.6, 1.9)),
        'filing': ((0.4, 0.5), (0.55, 0.65), (0.7, 1.35)),
    }[kind]
    W, D, H = (sc.u(*d) for d in dims)
    if kind == 'fridge':
        col = sc.color(dict(neutral=0.8, paint=0.2))
        rows, cols = 2, 1
    elif kind == 'filing':
        col = sc.color(dict(neutral=0.7, paint=0.2, wood=0.1))
        rows, cols = max(2, int(H / 0.33)), 1
    else:
        col = sc.style_wood if sc.p(0.4) else sc.color('furn')
        cols = max(1, int(round(W / sc.u(0.4, 0.6))))
        rows = {'dresser': int(sc.rng.integers(3, 5)), 'nightstand': int(sc.rng.integers(1, 3)),
                'wardrobe': 1, 'low': int(sc.rng.integers(1, 3)), 'counter': 1}[kind]
    base = 'wood' if sc.p(0.5) and kind not in ('fridge', 'filing') else 'matte'
    m = sc.mat('cabinet', cols=cols, rows=rows, handle=sc.p(0.8), base=base,
               scale=sc.u(0.6, 1.4), gap=sc.u(0.4, 0.7), gloss=0.1)
    toe = sc.u(0.0, 0.1) if kind in ('dresser', 'wardrobe', 'low', 'counter') else 0.0
    top = H
    if kind == 'counter':
        top = H - 0.04
    p.box(-W / 2, W / 2, toe, top, 0, D, FURN, m, col)
    if toe > 0.01:
        p.box(-W / 2 + 0.02, W / 2 - 0.02, 0, toe, 0, D - 0.06, FURN, sc.mat('matte', amp=0.05),
              col * 0.5)
    if kind == 'counter':
        ccol = sc.color(dict(neutral=0.6, wood=0.2, paint=0.2))
        p.box(-W / 2 - 0.01, W / 2 + 0.01, top, H, 0, D + 0.03, FURN,
              sc.mat('matte', amp=0.15, gloss=0.4), ccol)
    if H < 1.3:
        p.supports.append((-W / 2 + 0.04, W / 2 - 0.04, 0.05, D - 0.05, H))
    return p, W, D, H


def _add_books_run(sc: _Scene, p: _Parts, x0: float, x1: float, y: float, zb: float, zf: float,
                   hmax: float, fill: float = 0.9) -> None:
    """Fill [x0, x1] on a shelf board at height y with upright books (one intersection group)."""
    p.new_group()
    bm = sc.mat('books', band=sc.p(0.6))
    x = x0 + sc.u(0.0, 0.05)
    series = None
    while x < x1 - 0.015:
        if sc.p(1 - fill):  # gap, sometimes with a lying stack or an object
            gw = sc.u(0.05, 0.25)
            if sc.p(0.3) and gw > 0.12:
                yy = y
                for _ in range(sc.rng.integers(2, 6)):
                    th = sc.u(0.02, 0.05)
                    if yy + th > y + hmax:
                        break
                    d = sc.u(0.6, 0.95) * (zf - zb)
                    p.box(x, min(x + gw * sc.u(0.7, 1.0), x1), yy, yy + th, zf - d, zf, BOOKS, bm,
                          sc.color('book'))
                    yy += th
            elif sc.p(0.3) and gw > 0.08:
                ow = min(gw * 0.8, x1 - x)
                h = min(hmax * sc.u(0.4, 0.9), ow * 2.5)
                p.box(x, x + ow, y, y + h, zf - ow * sc.u(0.6, 1.0), zf, OBJ,
                      sc.mat('matte', amp=0.1), sc.color('any'))
            x += gw
            continue
        w = sc.u(0.015, 0.055)
        if series is None or sc.p(0.35):
            series = sc.color('book') if sc.p(0.7) else None
        col = series if series is not None else sc.color('book')
        h = min(hmax * sc.u(0.55, 0.95), 0.38)
        d = (zf - zb) * sc.u(0.65, 0.98)
        front = zf - sc.u(0.0, 0.03)
        p.box(x, min(x + w, x1), y, y + h, front - d, front, BOOKS, bm, col)
        x += w + (0.002 if sc.p(0.7) else sc.u(0.005, 0.02))
    p.new_group()


def _build_bookshelf(sc: _Scene, wall: bool = False) -> tuple[_Parts, float, float, float]:
    p = _Parts()
    W = sc.u(0.6, 1.8)
    D = sc.u(0.25, 0.4)
    H = sc.u(0.8, 2.2)
    th = sc.u(0.018, 0.04)
    col = sc.style_wood if sc.p(0.5) else sc.color('furn')
    m = _wood_or_matte(sc, col)
    n = max(2, int(round(H / sc.u(0.28, 0.4))))
    ys = np.linspace(0.06, H - th, n + 1)
    p.box(-W / 2, -W / 2 + th, 0, H, 0, D, FURN, m, col)
    p.box(W / 2 - th, W / 2, 0, H, 0, D, FURN, m, col)
    p.box(-W / 2, W / 2, H - th, H, 0, D, FURN, m, col)
    p.box(-W / 2 + th, W / 2 - th, 0, 0.06, 0.0, D - 0.01, FURN, m, col)
    if sc.p(0.85):
        bcol = col if sc.p(0.6) else sc.color('furn')
        p.box(-W / 2 + th, W / 2 - th, 0.06, H - th, 0, 0.012, FURN, m, bcol)
    nbays = 1 if W < 1.0 else int(sc.rng.integers(1, 3))
    bx = np.linspace(-W / 2 + th, W / 2 - th, nbays + 1)
    for i in range(1, nbays):
        p.box(bx[i] - th / 2, bx[i] + th / 2, 0, H, 0, D, FURN, m, col)
    fill = sc.u(0.65, 0.97)
    for k in range(n):
        y = ys[k] + (th if k > 0 else 0)
        if k > 0:
            p.box(-W / 2 + th, W / 2 - th, ys[k], ys[k] + th, 0.01, D - 0.005, FURN, m, col)
        gap = ys[k + 1] - y
        for b in range(nbays):
            if sc.p(0.85):
                _add_books_run(sc, p, bx[b] + th / 2, bx[b + 1] - th / 2, y, 0.015, D - 0.01,
                               gap - 0.02, fill)
    return p, W, D, H


def _build_wall_shelf(sc: _Scene) -> tuple[_Parts, float, float, float]:
    """Floating shelves (furniture) carrying books; placed on a wall at some height."""
    p = _Parts()
    W = sc.u(0.6, 1.4)
    D = sc.u(0.18, 0.3)
    col = sc.color('furn')
    m = _wood_or_matte(sc, col)
    n = int(sc.rng.integers(1, 4))
    gap = sc.u(0.3, 0.38)
    for k in range(n):
        y = k * gap
        p.box(-W / 2, W / 2, y, y + 0.025, 0, D, FURN, m, col)
        if sc.p(0.85):
            _add_books_run(sc, p, -W / 2 + 0.02, W / 2 - 0.02, y + 0.025, 0.0, D - 0.01,
                           gap - 0.04, sc.u(0.5, 0.95))
    return p, W, D, (n - 1) * gap + 0.3


def _build_tv(sc: _Scene, stand: bool) -> tuple[_Parts, float, float, float]:
    p = _Parts()
    W = sc.u(0.7, 1.5)
    Hs = W * 9 / 16
    bez = sc.u(0.01, 0.04)
    th = sc.u(0.03, 0.08)
    col = sc.color(dict(neutral=0.85, paint=0.05, vivid=0.05, wood=0.05)) * 0.6
    on = sc.p(0.15)
    m = sc.mat('screen', bezel=bez / W, bezel_v=bez / (Hs + 2 * bez), on=on,
               content=_painting(sc) if on else None, gloss=0.5)
    y0 = sc.u(0.06, 0.15) if stand else 0.0
    zc = 0.12 if stand else 0.0
    p.box(-W / 2 - bez, W / 2 + bez, y0, y0 + Hs + 2 * bez, zc, zc + th, TV, m, col)
    if stand:
        bm = sc.mat('matte', amp=0.05, gloss=0.3)
        p.box(-0.04, 0.04, 0.0, y0 + 0.05, zc - 0.02, zc + 0.02, TV, bm, col)
        p.box(-min(0.3, W / 3), min(0.3, W / 3), 0, 0.02, zc - 0.1, zc + 0.12, TV, bm, col)
    return p, W + 2 * bez, zc + 0.12, y0 + Hs + 2 * bez


# ---- clutter (local frame centred at the origin, standing at y = 0) ----
def _clutter(sc: _Scene, where: str) -> tuple[_Parts, float, float]:
    """A small object; returns its parts and footprint (width, depth)."""
    p = _Parts()
    rng = sc.rng
    col = sc.color('any')
    m = sc.mat('matte', amp=0.1, gloss=0.2)
    if where == 'floor':
        kind = rng.choice(['box', 'bin', 'bag', 'plant', 'floorlamp', 'pile', 'ball'],
                          p=[0.25, 0.15, 0.15, 0.18, 0.12, 0.1, 0.05])
    else:
        kind = rng.choice(['lamp', 'box', 'vase', 'cup', 'bowl', 'bottle', 'laptop', 'plant',
                           'books', 'monitor', 'clock'],
                          p=[0.17, 0.13, 0.1, 0.08, 0.06, 0.08, 0.07, 0.08, 0.15, 0.05, 0.03])
    if kind == 'box':
        w, d, h = (sc.u(0.12, 0.5), sc.u(0.12, 0.45), sc.u(0.08, 0.45)) if where == 'floor' else \
            (sc.u(0.08, 0.25), sc.u(0.08, 0.2), sc.u(0.04, 0.2))
        if sc.p(0.4):
            col = np.array([0.62, 0.46, 0.3]) ** 2.2 * sc.u(0.8, 1.1)  # cardboard
        p.box(-w / 2, w / 2, 0, h, -d / 2, d / 2, OBJ, m, col)
        return p, w, d
    if kind == 'bin':
        r = sc.u(0.12, 0.2)
        p.cyl(0, 0, sc.u(0.25, 0.45), 0, r, r, OBJ, m, col)
        return p, 2 * r, 2 * r
    if kind == 'bag':
        w = sc.u(0.25, 0.45)
        p.ell(0, sc.u(0.12, 0.2), 0, w / 2, sc.u(0.12, 0.25), sc.u(0.08, 0.15), OBJ,
              sc.mat('fabric', amp=0.15), col)
        return p, w, 0.25
    if kind == 'pile':
        w = sc.u(0.3, 0.6)
        fm = sc.mat('fabric', amp=0.25)
        for _ in range(rng.integers(2, 5)):
            p.ell(sc.u(-w / 4, w / 4), sc.u(0.03, 0.08), sc.u(-w / 4, w / 4), sc.u(0.1, 0.25),
                  sc.u(0.04, 0.1), sc.u(0.1, 0.25), OBJ, fm, sc.color('any'))
        return p, w, w
    if kind == 'ball':
        r = sc.u(0.08, 0.15)
        p.ell(0, r, 0, r, r, r, OBJ, m, sc.color(dict(vivid=0.8, neutral=0.2)))
        return p, 2 * r, 2 * r
    if kind in ('plant',):
        big = where == 'floor'
        r = sc.u(0.12, 0.22) if big else sc.u(0.05, 0.1)
        ph = r * sc.u(1.0, 2.0)
        p.cyl(0, 0, ph, 0, r, r, OBJ, m, col)
        leaf = sc.mat('leaves')
        g = np.array([sc.u(0.15, 0.35), sc.u(0.35, 0.55), sc.u(0.1, 0.25)]) ** 2.2
        fh = r * sc.u(2.0, 5.0) if big else r * sc.u(1.5, 3.0)
        for _ in range(rng.integers(2, 5)):
            rr = r * sc.u(0.9, 1.8)
            p.ell(sc.u(-r, r) * 0.6, ph + sc.u(0.3, 0.8) * fh, sc.u(-r, r) * 0.6, rr,
                  fh * sc.u(0.35, 0.6), rr, OBJ, leaf, g * sc.u(0.7, 1.3))
        return p, 2 * r, 2 * r
    if kind in ('lamp', 'floorlamp'):
        big = kind == 'floorlamp'
        hh = sc.u(1.3, 1.75) if big else sc.u(0.3, 0.6)
        r = sc.u(0.15, 0.25) if big else sc.u(0.1, 0.18)
        bcol = sc.color(dict(neutral=0.6, wood=0.2, vivid=0.2))
        if big:
            p.cyl(0, 0, 0.03, 0, 0.15, 0.15, OBJ, m, bcol)
            p.cyl(0, 0.03, hh - 0.25, 0, 0.015, 0.015, OBJ, m, bcol)
        else:
            p.ell(0, hh * 0.2, 0, r * 0.6, hh * 0.2, r * 0.6, OBJ, m, bcol)
            p.cyl(0, hh * 0.3, hh * 0.6, 0, 0.012, 0.012, OBJ, m, bcol)
        on = sc.p(0.5)
        scol = sc.color(dict(paint=0.6, fabric=0.3, neutral=0.1))
        p.cyl(0, hh - (0.3 if big else hh * 0.45), hh, 0, r, r, OBJ,
              sc.mat('shade', on=on, gain=sc.u(0.5, 1.2)), scol)
        p.lamp_on = on
        p.lamp_h = hh - 0.1
        return p, 2 * r, 2 * r
    if kind == 'vase':
        r = sc.u(0.04, 0.09)
        p.cyl(0, 0, sc.u(0.12, 0.35), 0, r, r, OBJ, m, col)
        if sc.p(0.5):
            p.ell(0, sc.u(0.3, 0.4), 0, r * 1.8, r * 1.5, r * 1.8, OBJ, sc.mat('leaves'),
                  sc.color('any'))
        return p, 2 * r, 2 * r
    if kind == 'cup':
        r = sc.u(0.03, 0.05)
        p.cyl(0, 0, sc.u(0.07, 0.12), 0, r, r, OBJ, m, col)
        return p, 2 * r, 2 * r
    if kind == 'bowl':
        r = sc.u(0.07, 0.14)
        p.ell(0, 0.0, 0, r, sc.u(0.04, 0.08), r, OBJ, m, col)
        return p, 2 * r, 2 * r
    if kind == 'bottle':
        r = sc.u(0.025, 0.045)
        h = sc.u(0.18, 0.32)
        p.cyl(0, 0, h * 0.7, 0, r, r, OBJ, m, col)
        p.cyl(0, h * 0.7, h, 0, r * 0.4, r * 0.4, OBJ, m, col)
        return p, 2 * r, 2 * r
    if kind == 'laptop':
        w, d = sc.u(0.3, 0.38), sc.u(0.2, 0.26)
        lc = sc.color(dict(neutral=0.9, vivid=0.1))
        p.box(-w / 2, w / 2, 0, 0.02, -d / 2, d / 2, OBJ, m, lc)
        on = sc.p(0.5)
        p.box(-w / 2, w / 2, 0.02, 0.02 + d, -d / 2, -d / 2 + 0.012, OBJ,
              sc.mat('screen', bezel=0.05, bezel_v=0.06, on=on,
                     content=_painting(sc) if on else None, gloss=0.4), lc)
        return p, w, d
    if kind == 'monitor':  # computer monitors are 'objects' (otherprop), not 'tv'
        w = sc.u(0.4, 0.6)
        h = w * sc.u(0.56, 0.75)
        lc = sc.color(dict(neutral=0.9, vivid=0.1)) * 0.5
        on = sc.p(0.5)
        p.box(-w / 2, w / 2, 0.1, 0.1 + h, -0.02, 0.02, OBJ,
              sc.mat('screen', bezel=0.03, bezel_v=0.04, on=on,
                     content=_painting(sc) if on else None, gloss=0.4), lc)
        p.box(-0.03, 0.03, 0, 0.12, -0.06, -0.02, OBJ, m, lc)
        p.box(-0.1, 0.1, 0, 0.015, -0.1, 0.05, OBJ, m, lc)
        return p, w, 0.2
    if kind == 'clock':
        r = sc.u(0.06, 0.12)
        p.ell(0, r, 0, r, r, 0.03, OBJ, m, col)
        return p, 2 * r, 0.06
    # 'books': a lying stack (books class) on a table / cabinet
    w = sc.u(0.14, 0.3)
    d = sc.u(0.1, 0.22)
    y = 0.0
    bm = sc.mat('books', band=False)
    for _ in range(rng.integers(1, 6)):
        t = sc.u(0.015, 0.05)
        dx = sc.u(-0.02, 0.02)
        p.box(-w / 2 + dx, w / 2 + dx, y, y + t, -d / 2, d / 2, BOOKS, bm, sc.color('book'))
        y += t
    return p, w, d


# --------------------------------------------------------------------------------------------
# Scene building
# --------------------------------------------------------------------------------------------
def _place_on_wall(sc: _Scene, w: int, parts: _Parts, width: float, depth: float, height: float,
                   s: float | None = None, tries: int = 10, ao: float = 0.5, anchor: float = 0.0,
                   clear: float = 0.0) -> tuple[np.ndarray, float, float] | None:
    """Put a floor-standing object with its back against wall ``w`` if there is room."""
    L = sc.wall_len(w)
    if width + 0.04 > L:
        return None
    for _ in range(tries if s is None else 1):
        ss = s if s is not None else sc.u(width / 2 + 0.02, L - width / 2 - 0.02)
        origin, yaw = sc.wall_pose(w, ss, 0.0)
        box = sc.aabb(origin, yaw, -width / 2, width / 2, 0.0, depth + clear)
        if sc.free(box) and sc.wall_free(w, ss - width / 2, ss + width / 2, 0, height):
            sc.foot.append(sc.aabb(origin, yaw, -width / 2, width / 2, 0.0, depth))
            sc.wallocc[w].append((ss - width / 2, ss + width / 2, 0.0, height))
            sc.add(parts, origin, yaw, ao=ao, anchor=anchor)
            if getattr(parts, 'lamp_on', False):
                sc.lights.append(dict(pos=origin + np.array([0, parts.lamp_h, 0.15]), lamp=True))
            return origin, yaw, ss
    return None


def _place_free(sc: _Scene, parts: _Parts, width: float, depth: float, center: tuple,
                yaw: float, ao: float = 0.5, anchor: float = 0.0) -> bool:
    """Place a free-standing object whose footprint centre is ``center`` (x, z)."""
    r = _rot(yaw)
    origin = np.array([center[0], 0.0, center[1]]) - r @ np.array([0, 0, depth / 2])
    box = sc.aabb(origin, yaw, -width / 2, width / 2, 0, depth)
    if not sc.free(box, margin=0.02):
        return False
    sc.foot.append(box)
    sc.add(parts, origin, yaw, ao=ao, anchor=anchor)
    if getattr(parts, 'lamp_on', False):
        sc.lights.append(dict(pos=origin + np.array([0, parts.lamp_h, 0.0]), lamp=True))
    return True


def _wall_item(sc: _Scene, w: int, width: float, y0: float, y1: float,
               s: float | None = None, tries: int = 8) -> float | None:
    """Reserve a rectangle on wall ``w``; returns its centre abscissa."""
    L = sc.wall_len(w)
    if s is None and width + 0.2 > L:
        return None
    for _ in range(tries if s is None else 1):
        ss = s if s is not None else sc.u(width / 2 + 0.1, L - width / 2 - 0.1)
        if sc.wall_free(w, ss - width / 2, ss + width / 2, y0, y1):
            sc.wallocc[w].append((ss - width / 2, ss + width / 2, y0, y1))
            return ss
    return None


def _add_window(sc: _Scene, w: int) -> bool:
    H = sc.Hr
    ww = sc.u(0.6, 2.2)
    y0 = sc.u(0.5, 1.1)
    y1 = min(H - sc.u(0.15, 0.5), y0 + sc.u(0.8, 1.7))
    curt = sc.p(0.35)
    cw = sc.u(0.2, 0.45) if curt else 0.0
    s = _wall_item(sc, w, ww + 2 * cw, 0.0 if curt else y0 - 0.1, y1 + 0.1)
    if s is None:
        return False
    kind = sc.rng.choice(['day', 'overcast', 'dusk', 'night'], p=[0.45, 0.3, 0.1, 0.15])
    sky, emit = _sky_image(sc, kind)
    fcol = sc.color(dict(neutral=0.6, wood=0.3, paint=0.1))
    nx = int(sc.rng.integers(1, 4))
    ny = int(sc.rng.integers(1, 3))
    blinds = sc.u(0.2, 1.0) if sc.p(0.25) else 0.0
    m = sc.mat('window', sky=sky, emit=emit, nx=nx, ny=ny, frame=sc.u(0.03, 0.07),
               size=(ww, y1 - y0), blinds=blinds, bcol=sc.color(dict(neutral=0.5, paint=0.5)),
               bright=sc.u(1.5, 3.5) if kind != 'night' else 0.3)
    p = _Parts()
    p.box(-ww / 2, ww / 2, y0, y1, 0, 0.03, WINDOW, m, fcol)
    if sc.p(0.5):  # sill
        p.box(-ww / 2 - 0.05, ww / 2 + 0.05, y0 - 0.04, y0, 0, sc.u(0.06, 0.2), WINDOW,
              sc.mat('matte', amp=0.05), fcol)
    if curt:  # curtains count as window (curtain -> window in the 40->13 mapping)
        ccol = sc.color('soft')
        cm = sc.mat('fabric', amp=0.1, folds=sc.u(15, 30))
        top = min(H - 0.02, y1 + sc.u(0.1, 0.3))
        bot = sc.u(0.0, 0.1) if sc.p(0.6) else y0 - 0.1
        for sx in (-1, 1):
            p.box(sx * ww / 2 - sx * 0.05, sx * (ww / 2 + cw), bot, top, 0.04, 0.1, WINDOW, cm,
                  ccol)
    origin, yaw = sc.wall_pose(w, s)
    sc.add(p, origin, yaw, ao=0.0, anchor=1.0)
    sc.windows.append(w)
    return True


def _add_picture(sc: _Scene, w: int, s: float | None = None, y: float | None = None,
                 label: int = PICT) -> bool:
    pw = sc.u(0.25, 1.1)
    ph = pw * sc.u(0.5, 1.4)
    if label == OBJ and sc.p(0.6):  # whiteboard
        pw, ph = sc.u(0.9, 2.0), sc.u(0.6, 1.1)
    yc = y if y is not None else sc.u(1.2, 1.8)
    y0, y1 = yc - ph / 2, min(yc + ph / 2, sc.Hr - 0.1)
    if y0 < 0.3:
        return False
    ss = _wall_item(sc, w, pw, y0, y1, s=s)
    if ss is None:
        return False
    if label == OBJ:
        img = np.full((4, 4, 3), sc.u(0.8, 0.95) ** 2.2) if sc.p(0.6) else \
            cv2.resize(sc.rng.random((2, 2, 3)) * 0.3 + 0.35, (8, 8)) ** 2.2  # whiteboard/mirror
    else:
        img = _painting(sc)
    m = sc.mat('picture', img=img, frame=sc.u(0.0, 0.06) if sc.p(0.8) else 0.0,
               mat_border=sc.u(0.0, 0.12) if sc.p(0.3) else 0.0, size=(pw, y1 - y0),
               mcol=sc.color(dict(neutral=0.8, paint=0.2)))
    p = _Parts()
    p.box(-pw / 2, pw / 2, y0, y1, 0, sc.u(0.01, 0.04), label, m, sc.color('frame'))
    origin, yaw = sc.wall_pose(w, ss)
    sc.add(p, origin, yaw, ao=0.0, anchor=0.3)
    return True


def _add_door(sc: _Scene, w: int) -> bool:
    dw = sc.u(0.75, 0.95)
    dh = min(sc.u(1.95, 2.15), sc.Hr - 0.15)
    s = _wall_item(sc, w, dw + 0.12, 0, dh + 0.06)
    if s is None:
        return False
    origin, yaw = sc.wall_pose(w, s)
    if not sc.free(sc.aabb(origin, yaw, -dw / 2, dw / 2, 0, 0.8)):
        sc.wallocc[w].pop()
        return False
    sc.foot.append(sc.aabb(origin, yaw, -dw / 2, dw / 2, 0, 0.6))
    col = sc.color(dict(wood=0.5, paint=0.3, neutral=0.2))
    fcol = col if sc.p(0.5) else sc.color(dict(paint=0.6, neutral=0.4))
    p = _Parts()  # doors are 'wall' in NYUv2-13 (door -> wall)
    p.box(-dw / 2, dw / 2, 0, dh, 0, 0.03, WALL,
          sc.mat('door', panels=int(sc.rng.integers(0, 4)), side=1 if sc.p(0.5) else -1,
                 base='wood' if sc.p(0.5) else 'matte'), col)
    for sx in (-1, 1):
        p.box(sx * dw / 2, sx * (dw / 2 + 0.06), 0, dh + 0.06, 0, 0.04, WALL,
              sc.mat('matte', amp=0.05), fcol)
    p.box(-dw / 2 - 0.06, dw / 2 + 0.06, dh, dh + 0.06, 0, 0.04, WALL, sc.mat('matte', amp=0.05),
          fcol)
    sc.add(p, origin, yaw, ao=0.0)
    return True


def _fill_supports(sc: _Scene, start: int = 0, density: float = 1.0) -> None:
    """Put clutter on the support surfaces registered since ``start``."""
    for sup in sc.supports[start:]:
        origin, yaw, r, x0, x1, z0, z1, y, used = sup
        n = int(sc.rng.poisson(density * max(0.5, (x1 - x0) * 2.0)))
        for _ in range(min(n, 5)):
            parts, w, d = _clutter(sc, 'table')
            if w > x1 - x0 or d > z1 - z0:
                continue
            for _t in range(4):
                cx = sc.u(x0 + w / 2, x1 - w / 2)
                if all(cx + w / 2 + 0.02 <= a or b + 0.02 <= cx - w / 2 for a, b in used):
                    break
            else:
                continue
            cz = sc.u(z0 + d / 2, z1 - d / 2)
            used.append((cx - w / 2, cx + w / 2))
            yaw2 = yaw + sc.u(-0.4, 0.4)
            o = origin + r @ np.array([cx, y, cz])
            sc.add(parts, o, yaw2, ao=0.45, void=sc.p(0.03))
            if getattr(parts, 'lamp_on', False):
                sc.lights.append(dict(pos=o + np.array([0, parts.lamp_h, 0]), lamp=True))


def _build_scene(rng: np.random.Generator, height: int, width: int) -> _Scene:
    sc = _Scene(rng, height, width)
    sc.Wr, sc.Dr, sc.Hr = sc.u(2.8, 6.0), sc.u(2.8, 6.5), sc.u(2.4, 3.0)
    sc.style_wood = sc.color(dict(wood=0.8, neutral=0.2))

    # Camera: standing near one wall ('back'), looking into the room.
    back = int(rng.integers(4))
    front = (back + 2) % 4
    Lb = sc.wall_len(back)
    depth = sc.wall_len(back + 1)
    cs = sc.u(0.45, Lb - 0.45)
    coff = sc.u(0.25, min(1.6, depth * 0.35))
    corigin, cyaw = sc.wall_pose(back, cs, coff)
    sc.cam = corigin + np.array([0.0, sc.u(1.0, 1.7), 0.0])
    sc.foot.append((sc.cam[0] - 0.5, sc.cam[0] + 0.5, sc.cam[2] - 0.5, sc.cam[2] + 0.5))
    # Keep the first metre in front of the camera clear: no sofa filling the whole frame.
    sc.foot.append(sc.aabb(corigin, cyaw, -0.6, 0.6, 0.0, 1.3))
    sides = [(back + 1) % 4, (back + 3) % 4]
    walls = [front, sides[0], sides[1]]

    # Room surfaces.
    floor_kind = rng.choice(['planks', 'tiles', 'carpet', 'plain'], p=[0.4, 0.25, 0.25, 0.1])
    sc.floor_col = sc.color('floor')
    sc.floor_mat = sc.mat(str(floor_kind), size=sc.u(0.25, 0.6), plank=sc.u(0.09, 0.2),
                          length=sc.u(0.6, 1.5), grout=sc.color(dict(neutral=0.7, paint=0.3)),
                          rot=sc.p(0.5), gloss=0.35 if floor_kind in ('planks', 'tiles') else 0.0)
    room = rng.choice(['bedroom', 'living', 'kitchen', 'office', 'library'],
                      p=[0.3, 0.27, 0.13, 0.18, 0.12])
    wall_col = sc.color('wall')
    wall_kind = rng.choice(['paint', 'wallpaper', 'panel', 'tiles'],
                           p=[0.35, 0.1, 0.05, 0.5] if room == 'kitchen' else [0.8, 0.14, 0.06, 0])
    base_mat = sc.mat(str(wall_kind), baseboard=sc.u(0.0, 0.14) if sc.p(0.7) else 0.0,
                      bcol=sc.color(dict(paint=0.5, wood=0.3, neutral=0.2)),
                      col2=sc.color('wall'), size=sc.u(0.1, 0.3), half=sc.p(0.7),
                      grout=sc.color(dict(neutral=0.7, paint=0.3)))
    sc.wall_mats, sc.wall_cols = [], []
    accent = int(rng.integers(4)) if sc.p(0.25) else -1
    for w in range(4):
        if w == accent:
            sc.wall_mats.append(sc.mat('paint', baseboard=0.0, bcol=wall_col))
            sc.wall_cols.append(sc.color('wall'))
        else:
            sc.wall_mats.append(base_mat)
            sc.wall_cols.append(wall_col)
    sc.ceil_col = wall_col if sc.p(0.35) else sc.color('ceiling')
    sc.ceil_mat = sc.mat('panels' if sc.p(0.35) else 'paint', baseboard=0.0, bcol=sc.ceil_col,
                         size=sc.u(0.55, 1.2))

    # Anchor furniture by room type.
    rng.shuffle(walls)
    if room == 'bedroom':
        parts, W, D, H = _build_bed(sc)
        res = None
        for w in walls:
            res = _place_on_wall(sc, w, parts, W, D, H, ao=0.6, anchor=2.0)
            if res is not None:
                break
        if res is not None and sc.p(0.8):
            origin, yaw, s = res
            for sx in (-1, 1):
                if sc.p(0.75):
                    pp, w2, d2, h2 = _build_cabinet(sc, 'nightstand')
                    k0 = len(sc.supports)
                    if _place_on_wall(sc, w, pp, w2, d2, h2, s=s + sx * (W / 2 + w2 / 2 + 0.05)):
                        _fill_supports(sc, k0, 0.8)
        for w in walls:
            if sc.p(0.45):
                pp, w2, d2, h2 = _build_cabinet(sc, 'wardrobe' if sc.p(0.4) else 'dresser')
                k0 = len(sc.supports)
                if _place_on_wall(sc, w, pp, w2, d2, h2, clear=0.4):
                    _fill_supports(sc, k0)
        if sc.p(0.3):
            _add_desk(sc, walls)
        if sc.p(0.45):
            _add_tv(sc, walls)
    elif room == 'living':
        pp, W, D, H = _build_sofa(sc)
        placed = None
        for w in walls:
            placed = _place_on_wall(sc, w, pp, W, D, H, ao=0.6, anchor=2.0, clear=0.5)
            if placed is not None:
                break
        if placed is not None and sc.p(0.75):
            origin, yaw, s = placed
            tp, tw, td, th = _build_table(sc, 'coffee')
            k0 = len(sc.supports)
            c = origin + _rot(yaw) @ np.array([sc.u(-0.2, 0.2), 0, D + sc.u(0.35, 0.6) + td / 2])
            if _place_free(sc, tp, tw, td, (c[0], c[2]), yaw, anchor=1.0):
                _fill_supports(sc, k0)
        if sc.p(0.9):
            _add_tv(sc, walls)
        for _ in range(rng.integers(0, 3)):
            cp, cw, cd, ch = _build_sofa(sc, W=sc.u(0.75, 1.0), label=CHAIR) if sc.p(0.5) else \
                _build_sofa(sc)
            for w in walls:
                if _place_on_wall(sc, w, cp, cw, cd, ch, ao=0.6, anchor=1.0, clear=0.3):
                    break
        if sc.p(0.5):
            sp, sw, sd, sh = _build_table(sc, 'side')
            k0 = len(sc.supports)
            for w in walls:
                if _place_on_wall(sc, w, sp, sw, sd, sh):
                    _fill_supports(sc, k0)
                    break
    elif room == 'kitchen':
        _add_dining(sc)
        for w in walls:
            if sc.p(0.6):
                pp, w2, d2, h2 = _build_cabinet(sc, 'counter')
                k0 = len(sc.supports)
                res = _place_on_wall(sc, w, pp, w2, d2, h2, clear=0.5, anchor=0.5)
                if res is not None:
                    _fill_supports(sc, k0, 1.2)
                    if sc.p(0.6):  # upper cabinets, wall-mounted
                        _add_upper(sc, w, res[2], w2)
        if sc.p(0.5):
            pp, w2, d2, h2 = _build_cabinet(sc, 'fridge')
            for w in walls:
                if _place_on_wall(sc, w, pp, w2, d2, h2, clear=0.4):
                    break
    elif room == 'office':
        for _ in range(rng.integers(1, 3)):
            _add_desk(sc, walls)
        if sc.p(0.4):
            _add_dining(sc, chairs_only=False)
        for w in walls:
            if sc.p(0.35):
                pp, w2, d2, h2 = _build_cabinet(sc, 'filing')
                k0 = len(sc.supports)
                if _place_on_wall(sc, w, pp, w2, d2, h2, clear=0.3):
                    _fill_supports(sc, k0)
        if sc.p(0.25):
            _add_tv(sc, walls)
        if sc.p(0.2):
            pp, W, D, H = _build_sofa(sc)
            for w in walls:
                if _place_on_wall(sc, w, pp, W, D, H, ao=0.6, anchor=1.0, clear=0.3):
                    break
    else:  # library / study: shelves everywhere plus a reading table
        for w in walls:
            for _ in range(rng.integers(1, 4)):
                bp, bw, bd, bh = _build_bookshelf(sc)
                _place_on_wall(sc, w, bp, bw, bd, bh, clear=0.3, anchor=1.0)
        if sc.p(0.7):
            _add_dining(sc)
    # Extra furniture and decoration for every room type (keeps all classes frequent).
    for w in walls:
        if sc.p(0.45 if room != 'library' else 0.15):
            bp, bw, bd, bh = _build_bookshelf(sc)
            _place_on_wall(sc, w, bp, bw, bd, bh, clear=0.3, anchor=0.8)
        if sc.p(0.3):
            kind = str(rng.choice(['dresser', 'low', 'wardrobe', 'filing']))
            pp, w2, d2, h2 = _build_cabinet(sc, kind)
            k0 = len(sc.supports)
            if _place_on_wall(sc, w, pp, w2, d2, h2, clear=0.3, anchor=0.3):
                _fill_supports(sc, k0)
        if sc.p(0.25):
            cp, cw, cd, ch = _build_chair(sc)
            _place_on_wall(sc, w, cp, cw, cd, ch, clear=0.1, anchor=0.5)
        if sc.p(0.06) and room != 'bedroom':
            pp, W, D, H = _build_bed(sc)
            _place_on_wall(sc, w, pp, W, D, H, ao=0.6, anchor=1.0)
    if sc.p(0.1) and room not in ('living',):
        pp, W, D, H = _build_sofa(sc)
        for w in walls:
            if _place_on_wall(sc, w, pp, W, D, H, ao=0.6, anchor=1.0, clear=0.3):
                break
    if sc.p(0.15) and room not in ('living', 'bedroom'):
        _add_tv(sc, walls)
    # Windows and doors first (they need wall space), then pictures / whiteboards / shelves.
    for w in walls + [back]:
        if sc.p(0.4 if w != back else 0.2):
            _add_window(sc, w)
    if not sc.windows and sc.p(0.5):
        _add_window(sc, walls[0])
    for w in walls:
        if sc.p(0.25):
            _add_door(sc, w)
    for w in walls:
        for _ in range(rng.integers(0, 3)):
            if sc.p(0.5):
                _add_picture(sc, w)
        if sc.p(0.12):
            _add_picture(sc, w, label=OBJ)
        if sc.p(0.3):
            _add_wall_shelf(sc, w)
    # Floor clutter, rugs, ceiling lights.
    for _ in range(rng.poisson(1.2)):  # stray chairs
        cp, cw, cd, ch = _build_chair(sc)
        _place_free(sc, cp, cw, cd, (sc.u(0.4, sc.Wr - 0.4), sc.u(0.4, sc.Dr - 0.4)),
                    sc.u(0, 6.28), anchor=0.3)
    for _ in range(rng.poisson(2.5)):
        parts, w2, d2 = _clutter(sc, 'floor')
        if sc.p(0.6):
            w = walls[int(rng.integers(3))]
            _place_on_wall(sc, w, _parts_shift(parts, d2), w2, d2, 0.5, ao=0.5)
        else:
            _place_free(sc, parts, w2, d2, (sc.u(0.3, sc.Wr - 0.3), sc.u(0.3, sc.Dr - 0.3)),
                        sc.u(0, 6.28))
    if sc.p(0.35):
        _add_rug(sc)
    _add_ceiling_lights(sc)
    _aim_camera(sc, back)
    return sc


def _parts_shift(parts: _Parts, d: float) -> _Parts:
    """Shift a centred clutter object so that its back touches z = 0 (for wall placement)."""
    q = _Parts()
    for kind, c, h, lab, m, col, sub in parts.items:
        q.items.append((kind, (c[0], c[1], c[2] + d / 2), h, lab, m, col, sub))
    for attr in ('lamp_on', 'lamp_h'):
        if hasattr(parts, attr):
            setattr(q, attr, getattr(parts, attr))
    return q


def _add_desk(sc: _Scene, walls: Sequence[int]) -> None:
    tp, tw, td, th = _build_table(sc, 'desk')
    k0 = len(sc.supports)
    for w in walls:
        res = _place_on_wall(sc, w, tp, tw, td, th, clear=0.6, anchor=1.0)
        if res is None:
            continue
        origin, yaw, s = res
        _fill_supports(sc, k0, 1.3)
        if sc.p(0.85):
            cp, cw, cd, ch = _build_chair(sc)
            c = origin + _rot(yaw) @ np.array([sc.u(-0.2, 0.2), 0, td + sc.u(-0.05, 0.3)])
            _place_free(sc, cp, cw, cd, (c[0], c[2]), yaw + math.pi + sc.u(-0.5, 0.5))
        return


def _add_dining(sc: _Scene, chairs_only: bool = False) -> None:
    tp, tw, td, th = _build_table(sc, 'dining')
    k0 = len(sc.supports)
    yaw = 0.0 if sc.p(0.5) else math.pi / 2
    if sc.p(0.3):
        yaw += sc.u(-0.3, 0.3)
    for _ in range(6):
        cx, cz = sc.u(0.9, sc.Wr - 0.9), sc.u(0.9, sc.Dr - 0.9)
        if _place_free(sc, tp, tw, td, (cx, cz), yaw, ao=0.6, anchor=2.0):
            break
    else:
        return
    _fill_supports(sc, k0, 1.0)
    r = _rot(yaw)
    ccol = sc.color('chair')
    n = int(sc.rng.integers(2, 7))
    seats = [(-tw / 4, -1), (tw / 4, -1), (-tw / 4, 1), (tw / 4, 1), (0, 2), (0, -2)]
    sc.rng.shuffle(seats)
    for x, side in seats[:n]:
        cp, cw, cd, ch = _build_chair(sc, ccol if sc.p(0.85) else None)
        if abs(side) == 2:
            local = np.array([np.sign(side) * (tw / 2 + 0.2), 0, 0])
            cyaw = yaw - np.sign(side) * math.pi / 2
        else:
            local = np.array([x, 0, side * (td / 2 + sc.u(0.1, 0.3))])
            cyaw = yaw + (0 if side < 0 else math.pi)
        c = np.array([cx, 0, cz]) + r @ local
        _place_free(sc, cp, cw, cd, (c[0], c[2]), cyaw + sc.u(-0.3, 0.3))


def _add_tv(sc: _Scene, walls: Sequence[int]) -> None:
    on_stand = sc.p(0.65)
    for w in walls:
        if on_stand:
            pp, w2, d2, h2 = _build_cabinet(sc, 'low')
            res = _place_on_wall(sc, w, pp, w2, d2, h2, clear=0.8, anchor=1.0)
            if res is None:
                continue
            origin, yaw, s = res
            tp, tw, td, th = _build_tv(sc, stand=True)
            o = origin + np.array([0.0, h2, 0.0])
            sc.wallocc[w].append((s - tw / 2, s + tw / 2, h2, h2 + th))
            sc.add(tp, o, yaw, ao=0.3, anchor=2.0)
            return
        tp, tw, td, th = _build_tv(sc, stand=False)
        y0 = sc.u(0.9, 1.4)
        s = _wall_item(sc, w, tw, y0, y0 + th)
        if s is None:
            continue
        origin, yaw = sc.wall_pose(w, s)
        sc.add(tp, origin + np.array([0.0, y0, 0.0]), yaw, ao=0.0, anchor=2.0)
        if sc.p(0.6):
            pp, w2, d2, h2 = _build_cabinet(sc, 'low')
            _place_on_wall(sc, w, pp, w2, d2, min(h2, y0 - 0.05), s=s)
        return


def _add_upper(sc: _Scene, w: int, s: float, width: float) -> None:
    y0, y1 = sc.u(1.4, 1.6), sc.u(2.0, min(2.3, sc.Hr - 0.05))
    if _wall_item(sc, w, width, y0, y1, s=s) is None:
        return
    p = _Parts()
    col = sc.color('furn')
    m = sc.mat('cabinet', cols=max(1, int(round(width / 0.5))), rows=1, handle=sc.p(0.7),
               base='matte', scale=1.0, gap=0.5)
    p.box(-width / 2, width / 2, y0, y1, 0, sc.u(0.3, 0.38), FURN, m, col)
    origin, yaw = sc.wall_pose(w, s)
    sc.add(p, origin, yaw, ao=0.3)


def _add_wall_shelf(sc: _Scene, w: int) -> None:
    p, W, D, H = _build_wall_shelf(sc)
    y0 = sc.u(0.9, 1.6)
    if y0 + H > sc.Hr - 0.1:
        return
    s = _wall_item(sc, w, W, y0, y0 + H)
    if s is None:
        return
    origin, yaw = sc.wall_pose(w, s)
    sc.add(p, origin + np.array([0.0, y0, 0.0]), yaw, ao=0.3, anchor=0.5)


def _add_rug(sc: _Scene) -> None:
    """A rug is 'floor' in NYUv2-13 (floor mat -> floor)."""
    rw, rd = min(sc.u(1.0, 2.5), sc.Wr - 0.5), min(sc.u(0.8, 2.0), sc.Dr - 0.5)
    cx, cz = sc.u(rw / 2 + 0.2, sc.Wr - rw / 2 - 0.2), sc.u(rd / 2 + 0.2, sc.Dr - rd / 2 - 0.2)
    if cx < 0 or cz < 0:
        return
    img = _painting(sc) if sc.p(0.4) else None
    m = sc.mat('rug', img=img, col2=sc.color('soft'), border=sc.u(0.03, 0.15))
    p = _Parts()
    p.box(-rw / 2, rw / 2, 0.0, 0.008, -rd / 2, rd / 2, FLOOR, m, sc.color('soft'))
    sc.add(p, np.array([cx, 0.0, cz]), 0.0 if sc.p(0.5) else math.pi / 2, ao=0.0)


def _add_ceiling_lights(sc: _Scene) -> None:
    n = int(sc.rng.integers(0, 3))
    on = sc.p(0.8)
    p = _Parts()
    lm = sc.mat('light', on=on)
    col = np.array([0.9, 0.9, 0.88])
    positions = []
    for _ in range(n):
        x, z = sc.u(0.5, sc.Wr - 0.5), sc.u(0.5, sc.Dr - 0.5)
        positions.append((x, z))
        if sc.p(0.5):
            p.box(x - 0.3, x + 0.3, sc.Hr - 0.03, sc.Hr, z - 0.3, z + 0.3, OBJ, lm, col)
        else:  # pendant lamp: cord + shade
            r = sc.u(0.12, 0.25)
            y = sc.Hr - sc.u(0.4, 0.9)
            p.cyl(x, y + 0.1, sc.Hr, z, 0.006, 0.006, OBJ, sc.mat('matte'), col * 0.2)
            p.cyl(x, y - 0.05, y + 0.12, z, r, r, OBJ, sc.mat('shade', on=on, gain=0.8),
                  sc.color(dict(paint=0.5, neutral=0.3, vivid=0.2)))
    if n:
        sc.add(p, np.zeros(3), 0.0, ao=0.0)
    x, z = positions[0] if positions else (sc.u(0.3, 0.7) * sc.Wr, sc.u(0.3, 0.7) * sc.Dr)
    sc.lights.insert(0, dict(pos=np.array([x, sc.Hr - 0.15, z]), lamp=False))


def _aim_camera(sc: _Scene, back: int) -> None:
    rng = sc.rng
    _, inward_yaw = sc.wall_pose(back, 0.0)
    fwd_in = _rot(inward_yaw) @ np.array([0.0, 0.0, 1.0])
    # Aim at something in front and not too close (no frame-filling close-ups of a picture).
    cands = [(pt, w) for pt, w in sc.anchors
             if np.dot(pt - sc.cam, fwd_in) > 0.6 and math.hypot(*(pt - sc.cam)[[0, 2]]) > 1.6]
    if cands and sc.p(0.8):
        wts = np.array([w for _, w in cands])
        tgt = cands[int(np.searchsorted(np.cumsum(wts) / wts.sum(), rng.random()))][0].copy()
        tgt[1] = float(np.clip(tgt[1], 0.7, 1.3))
    else:
        front = (back + 2) % 4
        o, _ = sc.wall_pose(front, sc.u(0.2, 0.8) * sc.wall_len(front))
        tgt = o + np.array([0.0, sc.u(0.6, 1.4), 0.0])
    v = tgt - sc.cam
    yaw = math.atan2(v[0], v[2]) + rng.normal(0, 0.15)
    # Stay within +-65 degrees of the inward direction (do not stare at a nearby side wall).
    rel = (yaw - inward_yaw + math.pi) % (2 * math.pi) - math.pi
    yaw = inward_yaw + float(np.clip(rel, -1.1, 1.1))
    dist = math.hypot(v[0], v[2])
    pitch = math.atan2(v[1], dist) + rng.normal(0.0, 0.09)
    sc.pitch = float(np.clip(pitch, -0.55, 0.2))
    sc.yaw = yaw
    sc.roll = float(rng.normal(0, 0.035))
    sc.hfov = math.radians(sc.u(54, 66))


# --------------------------------------------------------------------------------------------
# Ray casting
# --------------------------------------------------------------------------------------------
_U_AX = np.array([2, 0, 0])
_V_AX = np.array([1, 2, 1])


def _isect_group(kind: str, o: np.ndarray, d: np.ndarray, c: np.ndarray, h: np.ndarray,
                 near: float = 0.05) -> tuple:
    """Nearest hit of local rays (origin ``o``, dirs ``d`` n×3) with k primitives.

    Returns:
        ``(t, j, nrm, uvm, uvn, face)`` for every ray (t = inf where nothing is hit).
    """
    n = d.shape[0]
    r = np.arange(n)
    oc = (o[None, :] - c).astype(np.float32)  # ray origin relative to each primitive's centre
    if kind == 'box':
        inv = 1.0 / np.where(np.abs(d) < 1e-7, 1e-7, d)
        tn = tf = None
        for ax in range(3):  # per axis on contiguous n×k arrays: much faster than n×k×3 reduces
            ta = (-h[:, ax] - oc[:, ax])[None] * inv[:, ax:ax + 1]
            tb = (h[:, ax] - oc[:, ax])[None] * inv[:, ax:ax + 1]
            lo, hi = np.minimum(ta, tb), np.maximum(ta, tb)
            tn = lo if tn is None else np.maximum(tn, lo)
            tf = hi if tf is None else np.minimum(tf, hi)
        tn = np.where((tf >= tn) & (tn > near), tn, np.inf)
        j = tn.argmin(1)
        t = tn[r, j]
        # Entry face of the winning box: the axis whose slab is entered last.
        ocj = oc[j]
        tlo = np.minimum((-h[j] - ocj) * inv, (h[j] - ocj) * inv)
        axis = tlo.argmax(1)
        p = oc[j] + t[:, None] * d
        hj = h[j]
        sgn = np.where(d[r, axis] > 0, -1.0, 1.0).astype(np.float32)
        nrm = np.zeros((n, 3), np.float32)
        nrm[r, axis] = sgn
        ua, va = _U_AX[axis], _V_AX[axis]
        uvm = np.stack([p[r, ua] + hj[r, ua], p[r, va] + hj[r, va]], 1)
        uvn = uvm / (2 * np.stack([hj[r, ua], hj[r, va]], 1))
        face = (axis * 2 + (sgn > 0)).astype(np.int8)
        return t, j, nrm, uvm, uvn, face
    if kind == 'ell':
        os_ = oc / h
        ds = d[:, None, :] / h[None]
        a = (ds * ds).sum(2)
        b = 2 * (ds * os_[None]).sum(2)
        cc = (os_ * os_).sum(1)[None] - 1
        disc = b * b - 4 * a * cc
        tt = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a)
        tt = np.where((disc > 0) & (tt > near), tt, np.inf)
        j = tt.argmin(1)
        t = tt[r, j]
        p = oc[j] + np.where(np.isfinite(t), t, 0)[:, None] * d
        hj = h[j]
        nrm = p / (hj * hj)
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-9
        uvm = np.stack([p[:, 0] + hj[:, 0], p[:, 1] + hj[:, 1]], 1)
        uvn = np.stack([np.arctan2(p[:, 0], p[:, 2]) / (2 * np.pi) + 0.5,
                        (p[:, 1] / hj[:, 1] + 1) / 2], 1)
        return t, j, nrm, uvm, uvn, np.full(n, 6, np.int8)
    # vertical cylinder
    hx, hy, hz = h[:, 0], h[:, 1], h[:, 2]
    osx, osz = oc[:, 0] / hx, oc[:, 2] / hz
    dsx, dsz = d[:, 0:1] / hx[None], d[:, 2:3] / hz[None]
    a = dsx * dsx + dsz * dsz
    b = 2 * (osx[None] * dsx + osz[None] * dsz)
    cc = (osx * osx + osz * osz)[None] - 1
    disc = b * b - 4 * a * cc
    ts = (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a + 1e-12)
    ys = oc[None, :, 1] + ts * d[:, 1:2]
    ts = np.where((disc > 0) & (ts > near) & (np.abs(ys) <= hy[None]), ts, np.inf)
    dy = np.where(np.abs(d[:, 1:2]) < 1e-7, 1e-7, d[:, 1:2])
    above = oc[:, 1] > hy
    below = oc[:, 1] < -hy
    cap_y = np.where(above, hy, -hy)
    tc = (cap_y[None] - oc[None, :, 1]) / dy
    xc, zc = osx[None] + tc * dsx, osz[None] + tc * dsz
    tc = np.where((above | below)[None] & (xc * xc + zc * zc <= 1) & (tc > near), tc, np.inf)
    tt = np.minimum(ts, tc)
    j = tt.argmin(1)
    t = tt[r, j]
    is_cap = tc[r, j] <= ts[r, j]
    p = oc[j] + np.where(np.isfinite(t), t, 0)[:, None] * d
    hj = h[j]
    nrm = np.stack([p[:, 0] / hj[:, 0] ** 2, np.zeros(n, np.float32), p[:, 2] / hj[:, 2] ** 2], 1)
    nrm /= np.linalg.norm(nrm, axis=1, keepdims=True) + 1e-9
    capn = np.where(above[j], 1.0, -1.0).astype(np.float32)
    nrm[is_cap] = 0
    nrm[is_cap, 1] = capn[is_cap]
    ang = np.arctan2(p[:, 0], p[:, 2])
    uvm = np.where(is_cap[:, None], np.stack([p[:, 0], p[:, 2]], 1),
                   np.stack([ang * hj[:, 0], p[:, 1] + hj[:, 1]], 1))
    uvn = np.where(is_cap[:, None],
                   np.stack([(p[:, 0] / hj[:, 0] + 1) / 2, (p[:, 2] / hj[:, 2] + 1) / 2], 1),
                   np.stack([ang / (2 * np.pi) + 0.5, (p[:, 1] / hj[:, 1] + 1) / 2], 1))
    face = np.where(is_cap, np.where(capn > 0, 3, 2), 6).astype(np.int8)
    return t, j, nrm, uvm, uvn, face


class _Buffers:
    """Per-pixel G-buffer (flattened H*W)."""

    def __init__(self, n: int) -> None:
        self.t = np.full(n, np.inf, np.float32)
        self.lab = np.full(n, WALL, np.uint8)
        self.mat = np.zeros(n, np.int16)
        self.col = np.zeros((n, 3), np.float32)
        self.nrm = np.zeros((n, 3), np.float32)
        self.uvm = np.zeros((n, 2), np.float32)
        self.uvn = np.zeros((n, 2), np.float32)
        self.face = np.zeros(n, np.int8)
        self.obj = np.zeros(n, np.int16)
        self.surf = np.full(n, -1, np.int8)  # room surface: 0..3 walls, 4 floor, 5 ceiling


def _camera(sc: _Scene) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    cp, sp = math.cos(sc.pitch), math.sin(sc.pitch)
    fwd = np.array([math.sin(sc.yaw) * cp, sp, math.cos(sc.yaw) * cp])
    right = np.cross(fwd, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(fwd, right)
    cr, sr = math.cos(sc.roll), math.sin(sc.roll)
    right, down = cr * right + sr * down, -sr * right + cr * down
    f = (sc.W / 2) / math.tan(sc.hfov / 2)
    return fwd, right, down, f


def _rect(sc: _Scene, corners: np.ndarray, cam: tuple) -> tuple[int, int, int, int] | None:
    """Pixel rectangle covering the projection of ``corners`` (None when not visible)."""
    fwd, right, down, f = cam
    q = corners - sc.cam
    zc = q @ fwd
    if (zc < 0.05).all():
        return None
    if (zc < 0.05).any():
        return 0, sc.H, 0, sc.W
    uu = f * (q @ right) / zc + sc.W / 2
    vv = f * (q @ down) / zc + sc.H / 2
    c0, c1 = max(int(uu.min()) - 1, 0), min(int(uu.max()) + 2, sc.W)
    r0, r1 = max(int(vv.min()) - 1, 0), min(int(vv.max()) + 2, sc.H)
    if c0 >= c1 or r0 >= r1:
        return None
    return r0, r1, c0, c1


_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], np.float64)


def _trace(sc: _Scene) -> tuple[_Buffers, np.ndarray, tuple]:
    H, W = sc.H, sc.W
    cam = _camera(sc)
    fwd, right, down, f = cam
    jj, ii = np.meshgrid(np.arange(W) + 0.5 - W / 2, np.arange(H) + 0.5 - H / 2)
    D = (fwd[None, None] + (jj / f)[..., None] * right + (ii / f)[..., None] * down)
    D = D.reshape(-1, 3).astype(np.float32)
    C = sc.cam.astype(np.float32)
    buf = _Buffers(H * W)

    # Room: the camera is inside the box, so each ray exits through exactly one face.
    Ds = np.where(np.abs(D) < 1e-7, 1e-7, D)
    hi = np.array([sc.Wr, sc.Hr, sc.Dr], np.float32)
    tax = np.where(Ds > 0, (hi - C) / Ds, -C / Ds)
    axis = tax.argmin(1)
    t = tax[np.arange(len(D)), axis]
    P = C + t[:, None] * D
    pos = D[np.arange(len(D)), axis] > 0
    # surf: x=0 -> wall 3, x=W -> wall 1, z=0 -> wall 0, z=D -> wall 2, y=0 floor, y=H ceiling
    surf = np.select([(axis == 0) & ~pos, (axis == 0) & pos, (axis == 2) & ~pos, (axis == 2) & pos,
                      (axis == 1) & ~pos], [3, 1, 0, 2, 4], 5).astype(np.int8)
    buf.t[:] = t
    buf.surf[:] = surf
    buf.lab[:] = np.where(surf == 4, FLOOR, np.where(surf == 5, CEILING, WALL))
    wall_s = np.select([surf == 0, surf == 1, surf == 2], [P[:, 0], P[:, 2], sc.Wr - P[:, 0]],
                       sc.Dr - P[:, 2])
    is_fc = surf >= 4
    buf.uvm[:, 0] = np.where(is_fc, P[:, 0], wall_s)
    buf.uvm[:, 1] = np.where(is_fc, P[:, 2], P[:, 1])
    mats = np.array(sc.wall_mats + [sc.floor_mat, sc.ceil_mat], np.int16)
    cols = np.array(sc.wall_cols + [sc.floor_col, sc.ceil_col], np.float32)
    buf.mat[:] = mats[surf]
    buf.col[:] = cols[surf]
    normals = np.array([[0, 0, 1], [-1, 0, 0], [0, 0, -1], [1, 0, 0], [0, 1, 0], [0, -1, 0]],
                       np.float32)
    buf.nrm[:] = normals[surf]
    buf.face[:] = np.where(surf == 4, 3, np.where(surf == 5, 2, 5))

    for g in sc.groups:
        c, h, lo, hi_ = g['c'], g['h'], g['lo'], g['hi']
        rot = g['rot']
        corners = ((lo + hi_) / 2 + _CORNERS * (hi_ - lo) / 2) @ rot.T + g['origin']
        rc = _rect(sc, corners, cam)
        if rc is None:
            continue
        r0, r1, c0, c1 = rc
        idx = (np.arange(r0, r1)[:, None] * W + np.arange(c0, c1)[None]).ravel()
        o = (rot.T @ (sc.cam - g['origin'])).astype(np.float32)
        d = D[idx] @ rot.astype(np.float32)   # world -> local: R^T d, row-vector form
        # Cull rays that miss the group's bounding box or meet it behind the z-buffer.
        inv = 1.0 / np.where(np.abs(d) < 1e-7, 1e-7, d)
        ta, tb = (lo - o) * inv, (hi_ - o) * inv
        tl, th = np.minimum(ta, tb), np.maximum(ta, tb)
        tn = np.maximum(np.maximum(tl[:, 0], tl[:, 1]), tl[:, 2])  # column ops: reduces over a
        tf = np.minimum(np.minimum(th[:, 0], th[:, 1]), th[:, 2])  # length-3 axis are slow
        keep = (tf >= np.maximum(tn, 0.05)) & (tn < buf.t[idx])
        if not keep.any():
            continue
        idx, d = idx[keep], d[keep]
        tt, j, nrm, uvm, uvn, face = _isect_group(g['kind'], o, d, c, h)
        hit = tt < buf.t[idx]
        if not hit.any():
            continue
        sel = idx[hit]
        jh = j[hit]
        buf.t[sel] = tt[hit]
        buf.lab[sel] = g['lab'][jh]
        buf.mat[sel] = g['mat'][jh]
        buf.col[sel] = g['col'][jh]
        buf.nrm[sel] = nrm[hit] @ rot.T.astype(np.float32)
        buf.uvm[sel] = uvm[hit]
        buf.uvn[sel] = uvn[hit]
        buf.face[sel] = face[hit]
        buf.obj[sel] = g['obj']
        buf.surf[sel] = -1
    return buf, D, cam


# --------------------------------------------------------------------------------------------
# Materials (albedo + emission per pixel)
# --------------------------------------------------------------------------------------------
def _shade_material(sc: _Scene, m: dict, col: np.ndarray, uvm: np.ndarray, uvn: np.ndarray,
                    face: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    kind = m['kind']
    nz = sc.noise
    u, v = uvm[:, 0], uvm[:, 1]
    n = len(u)
    emit = None
    fs = face.astype(np.float32) * 7.3  # decorrelate noise between faces
    if kind == 'matte':
        a = col * (1 + m.get('amp', 0.1) * (_bilerp(nz, u * 4 + fs, v * 4) - 0.5))[:, None]
    elif kind == 'wood':
        s = m.get('scale', 1.0)
        streak = _bilerp(nz, u * 0.7 * s + fs, v * 25 * s)
        a = col * (0.82 + 0.3 * streak)[:, None]
    elif kind == 'fabric':
        g = 0.9 + m.get('amp', 0.1) * (_bilerp(nz, u * 30, v * 30 + fs) - 0.5) * 2
        g = g * (0.92 + 0.16 * _bilerp(nz, u * 3 + 11, v * 3 + fs))
        if 'folds' in m:  # vertical folds (curtains) / creases (duvets)
            g = g * (0.85 + 0.15 * np.sin(u * m['folds'] * 2 * np.pi + 3 * _bilerp(nz, u, v)))
        a = col * g[:, None]
    elif kind in ('paint', 'wallpaper', 'panel', 'tiles', 'panels'):
        a = _wall_like(sc, m, kind, col, u, v)
    elif kind in ('planks', 'carpet', 'plain'):
        a = _floor_like(sc, m, kind, col, u, v)
    elif kind == 'cabinet':
        grain = _bilerp(nz, u * 0.7 * m.get('scale', 1.0) + fs, v * 25)
        base = col * (0.85 + 0.3 * grain[:, None]) \
            if m.get('base') == 'wood' else \
            col * (0.95 + 0.1 * _bilerp(nz, u * 4, v * 4 + fs))[:, None]
        front = face == 5
        cu, cv = uvn[:, 0] * m['cols'], uvn[:, 1] * m['rows']
        fu, fv = cu - np.floor(cu), cv - np.floor(cv)
        w_u = 0.012 * m['cols'] / np.maximum(uvm[:, 0] / np.maximum(uvn[:, 0], 1e-3), 0.2)
        w_v = 0.012 * m['rows'] / np.maximum(uvm[:, 1] / np.maximum(uvn[:, 1], 1e-3), 0.2)
        gap = (np.minimum(fu, 1 - fu) < w_u) | (np.minimum(fv, 1 - fv) < w_v)
        g = np.where(front & gap, m.get('gap', 0.5), 1.0)
        if m.get('handle'):
            hu = np.abs(fu - (0.5 if m['rows'] > 1 else 0.85)) < 0.08
            hv = np.abs(fv - (0.8 if m['rows'] > 1 else 0.5)) < (0.04 if m['rows'] > 1 else 0.12)
            g = np.where(front & hu & hv, 0.35, g)
        a = base * g[:, None]
    elif kind == 'books':
        a = col * (0.9 + 0.2 * _bilerp(nz, u * 10, v * 10 + fs))[:, None]
        spine = face == 5
        vv = uvn[:, 1]
        if m.get('band'):
            band = ((vv > 0.1) & (vv < 0.16)) | ((vv > 0.82) & (vv < 0.88))
            a = np.where((spine & band)[:, None], np.clip(a * 0.4 + 0.35, 0, 1), a)
        label = spine & (vv > 0.45) & (vv < 0.7) & (np.abs(uvn[:, 0] - 0.5) < 0.3)
        a = np.where(label[:, None], a * 0.6 + 0.25, a)
        a = np.where((face == 3)[:, None], _PAGES, a)  # page edges on top
    elif kind == 'picture':
        w, h = m['size']
        bu, bv = m['frame'] / w, m['frame'] / h
        mu, mv = (m['frame'] + m['mat_border']) / w, (m['frame'] + m['mat_border']) / h
        un, vn = uvn[:, 0], uvn[:, 1]
        content = _sample_img(m['img'], (un - mu) / max(1 - 2 * mu, 1e-3),
                              (vn - mv) / max(1 - 2 * mv, 1e-3))
        in_frame = (np.minimum(un, 1 - un) < bu) | (np.minimum(vn, 1 - vn) < bv)
        in_mat = (np.minimum(un, 1 - un) < mu) | (np.minimum(vn, 1 - vn) < mv)
        a = np.where(in_mat[:, None], m['mcol'], content)
        a = np.where(in_frame[:, None] | (face != 5)[:, None], col, a)
    elif kind == 'window':
        w, h = m['size']
        fr = m['frame']
        un, vn = uvn[:, 0], uvn[:, 1]
        pu, pv = un * w, vn * h
        edge = (np.minimum(pu, w - pu) < fr) | (np.minimum(pv, h - pv) < fr)
        gu, gv = un * m['nx'], vn * m['ny']
        mull = (np.abs(gu - np.round(gu)) * w / m['nx'] < fr * 0.4) | \
            (np.abs(gv - np.round(gv)) * h / m['ny'] < fr * 0.4)
        frame = edge | mull | (face != 5)
        sky = _sample_img(m['sky'], un, vn)
        ew = _bilerp(m['emit'], un * (m['emit'].shape[1] - 1), (1 - vn) * (m['emit'].shape[0] - 1),
                     wrap=False)
        blind = (vn > 1 - m['blinds']) & ~frame
        slat = (np.sin(vn * h * 2 * np.pi / 0.04) > -0.6)
        a = np.where(frame[:, None], col, 0.0)
        a = np.where((blind & slat)[:, None], m['bcol'], a)
        e = np.where((frame | (blind & slat))[:, None], 0.0, sky * (ew * m['bright'])[:, None])
        emit = e
        a = np.where((~frame & ~(blind & slat))[:, None], sky * 0.05, a)
    elif kind == 'screen':
        un, vn = uvn[:, 0], uvn[:, 1]
        bez = (np.minimum(un, 1 - un) < m['bezel']) | (np.minimum(vn, 1 - vn) < m['bezel_v'])
        bez |= face != 5
        scr = ~bez
        dark = np.array([0.012, 0.013, 0.016]) * (1 + 1.5 * (1 - vn) * un)[:, None]
        a = np.where(bez[:, None], col, dark)
        if m['on']:
            emit = np.where(scr[:, None], _sample_img(m['content'], un, vn) * 1.2, 0.0)
    elif kind == 'door':
        base = col * (0.85 + 0.3 * _bilerp(nz, u * 0.6 + fs, v * 20)[:, None]) \
            if m['base'] == 'wood' else col
        un, vn = uvn[:, 0], uvn[:, 1]
        g = np.ones(n)
        if m['panels']:
            k = m['panels']
            pv = vn * k
            fv = pv - np.floor(pv)
            groove = ((np.abs(un - 0.15) < 0.02) | (np.abs(un - 0.85) < 0.02)) & (fv > 0.08) & \
                (fv < 0.92) | (((np.abs(fv - 0.08) < 0.02) | (np.abs(fv - 0.92) < 0.02)) &
                               (un > 0.15) & (un < 0.85))
            g = np.where(groove & (face == 5), 0.7, g)
        hx = 0.9 if m['side'] > 0 else 0.1
        knob = (np.abs(un - hx) < 0.035) & (np.abs(vn - 0.48) < 0.02) & (face == 5)
        a = np.where(knob[:, None], np.array([0.6, 0.58, 0.5]) ** 2.2, base * g[:, None])
    elif kind == 'shade':
        a = col * (0.95 + 0.1 * _bilerp(nz, u * 10, v * 10))[:, None]
        if m['on']:
            emit = col * m['gain'] * 0.8 + 0.3 * m['gain']
    elif kind == 'light':
        a = col
        if m['on']:
            emit = np.broadcast_to(np.array([2.0, 1.95, 1.8]), (n, 3))
    elif kind == 'leaves':
        g = _bilerp(nz, u * 25 + fs, v * 25)
        a = col * (0.5 + 0.9 * g)[:, None]
    elif kind == 'rug':
        un, vn = uvn[:, 0], uvn[:, 1]
        if m['img'] is not None:
            a = _sample_img(m['img'], un, vn) * 0.8
        else:
            a = np.where((np.sin(un * 20) > 0.3)[:, None], m['col2'], col)
        bw = m['border'] * 0.3
        bd = (np.minimum(un, 1 - un) < bw) | (np.minimum(vn, 1 - vn) < bw)
        a = np.where(bd[:, None], m['col2'], a)
        a = a * (0.9 + 0.2 * _bilerp(nz, u * 30, v * 30))[:, None]
    else:
        a = col
    return np.asarray(a, np.float32), emit


def _wall_like(sc: _Scene, m: dict, kind: str, col: np.ndarray, u: np.ndarray, v: np.ndarray
               ) -> np.ndarray:
    nz = sc.noise
    low = _bilerp(nz, u * 0.6 + 20, v * 0.6)
    a = col * (0.94 + 0.12 * low)[:, None]
    if kind == 'wallpaper':
        s = m['size']
        stripe = np.sin(u * 2 * np.pi / s) > 0.2
        a = np.where(stripe[:, None], a, m['col2'] * (0.94 + 0.12 * low)[:, None])
    elif kind == 'panel':
        s = m['size'] * 2
        fu = u / s - np.floor(u / s)
        a = a * (0.85 + 0.3 * _bilerp(nz, u * 0.6, v * 20))[:, None]
        a = np.where((fu < 0.03)[:, None], a * 0.6, a)
    elif kind == 'tiles':
        s = max(m['size'], 0.15)  # smaller tiles alias into a maze pattern at 96x128
        fu, fv = u / s - np.floor(u / s), v / s - np.floor(v / s)
        grout = (np.minimum(fu, 1 - fu) < 0.025) | (np.minimum(fv, 1 - fv) < 0.025)
        tiled = v < 1.3 if m.get('half') else np.ones_like(v, bool)
        a = np.where((grout & tiled)[:, None], 0.35 * m['grout'] + 0.65 * a, a)
    elif kind == 'panels':  # suspended ceiling grid
        s = m['size']
        fu, fv = u / s - np.floor(u / s), v / s - np.floor(v / s)
        grid = (np.minimum(fu, 1 - fu) < 0.02) | (np.minimum(fv, 1 - fv) < 0.02)
        a = a * (0.95 + 0.1 * _bilerp(nz, u * 40, v * 40))[:, None]
        a = np.where(grid[:, None], a * 0.75, a)
    bb = m.get('baseboard', 0.0)
    if bb > 0:
        a = np.where((v < bb)[:, None], m['bcol'], a)
    return a


def _floor_like(sc: _Scene, m: dict, kind: str, col: np.ndarray, u: np.ndarray, v: np.ndarray
                ) -> np.ndarray:
    nz = sc.noise
    if m.get('rot'):
        u, v = v, u
    if kind == 'planks':
        pw, pl = m['plank'], m['length']
        row = np.floor(v / pw)
        off = _hash2(row, row * 0.0, 1.0) * pl
        cell = np.floor((u + off) / pl)
        tint = 0.78 + 0.4 * _hash2(row, cell, 2.0)
        grain = 0.88 + 0.24 * _bilerp(nz, (u + off) * 0.8, v * 30)
        fv = v / pw - row
        fu = (u + off) / pl - cell
        seam = (np.minimum(fv, 1 - fv) < 0.06) | (np.minimum(fu, 1 - fu) * pl / pw < 0.05)
        g = tint * grain * np.where(seam, 0.6, 1.0)
        return col * g[:, None]
    if kind == 'tiles':
        s = m['size']
        iu, iv = np.floor(u / s), np.floor(v / s)
        fu, fv = u / s - iu, v / s - iv
        grout = (np.minimum(fu, 1 - fu) < 0.03) | (np.minimum(fv, 1 - fv) < 0.03)
        tint = 0.9 + 0.2 * _hash2(iu, iv, 3.0)
        if _hash2(np.array([m['size']]), np.array([1.0]))[0] < 0.3:  # checkerboard
            tint = tint * np.where((iu + iv) % 2 == 0, 1.0, 0.55)
        a = col * tint[:, None]
        return np.where(grout[:, None], m['grout'], a)
    if kind == 'carpet':
        g = 0.85 + 0.3 * _bilerp(nz, u * 40, v * 40) * 0.5 + 0.15 * _bilerp(nz, u * 2, v * 2 + 5)
        return col * g[:, None]
    return col * (0.9 + 0.2 * _bilerp(nz, u * 1.5, v * 1.5))[:, None]


# --------------------------------------------------------------------------------------------
# Lighting and camera model
# --------------------------------------------------------------------------------------------
def _shade(sc: _Scene, buf: _Buffers, D: np.ndarray, cam: tuple) -> np.ndarray:
    rng = sc.rng
    n = len(buf.t)
    albedo = np.zeros((n, 3), np.float32)
    emit = np.zeros((n, 3), np.float32)
    gloss = np.zeros(n, np.float32)
    for mid in np.unique(buf.mat):
        sel = np.flatnonzero(buf.mat == mid)
        m = sc.mats[mid]
        a, e = _shade_material(sc, m, buf.col[sel], buf.uvm[sel], buf.uvn[sel], buf.face[sel])
        albedo[sel] = a
        if e is not None:
            emit[sel] = e
        gloss[sel] = m['gloss']

    f32 = np.float32
    P = sc.cam.astype(f32)[None] + buf.t[:, None] * D
    N = buf.nrm

    # Occlusion: room edges (floor/wall and wall/wall creases) ...
    dist = np.stack([P[:, 2], f32(sc.Wr) - P[:, 0], f32(sc.Dr) - P[:, 2], P[:, 0], P[:, 1],
                     f32(sc.Hr) - P[:, 1]], 1)
    room = buf.surf >= 0
    dist[np.flatnonzero(room), buf.surf[room]] = np.inf  # a surface does not occlude itself
    occ = 1 - f32(0.3) * np.exp(np.maximum(dist, 0) * f32(-4.0))
    ao = occ[:, 0] * occ[:, 1] * occ[:, 2] * occ[:, 3] * occ[:, 4] * occ[:, 5]
    # ... and contact shadows: distance to each object's bounding box.
    for origin, yaw, cb, hb, strength, rad, oid in sc.aos:
        rot = _rot(yaw)
        corners = (cb + _CORNERS * (hb + 2 * rad)) @ rot.T + origin
        rc = _rect(sc, corners, cam)
        if rc is None:
            continue
        r0, r1, c0, c1 = rc
        idx = (np.arange(r0, r1)[:, None] * sc.W + np.arange(c0, c1)[None]).ravel()
        idx = idx[buf.obj[idx] != oid]
        q = np.maximum(np.abs((P[idx] - origin.astype(f32)) @ rot.astype(f32) - cb.astype(f32))
                       - hb.astype(f32), 0)
        dd = np.sqrt(q[:, 0] ** 2 + q[:, 1] ** 2 + q[:, 2] ** 2)
        ao[idx] *= 1 - f32(strength) * np.exp(dd * f32(-1 / rad))

    warm = np.array([1.0, sc.u(0.78, 0.95), sc.u(0.55, 0.8)], f32)
    hemi = 0.75 + 0.25 * N[:, 1]
    amb = sc.u(0.25, 0.5)
    light = np.repeat((f32(amb) * hemi * ao)[:, None], 3, axis=1)
    spec = np.zeros(n, np.float32)
    view = -D / np.sqrt((D * D).sum(1, keepdims=True))
    for k, lt in enumerate(sc.lights[:3]):
        L = lt['pos'].astype(f32) - P
        dl = np.sqrt((L * L).sum(1)) + f32(1e-6)
        L = L / dl[:, None]
        ndl = np.maximum((N * L).sum(1), 0)
        inten = sc.u(0.8, 1.5) if k == 0 else sc.u(0.3, 0.6)
        r0 = sc.u(1.8, 3.5) if k == 0 else 0.8
        fall = f32(inten) / (1 + (dl * f32(1 / r0)) ** 2)
        light += ((ndl * fall) * (0.4 + 0.6 * ao))[:, None] * warm
        hv = L + view
        hv /= np.sqrt((hv * hv).sum(1, keepdims=True)) + f32(1e-6)
        spec += gloss * fall * np.maximum((N * hv).sum(1), 0) ** 30
    if sc.windows:
        _, wyaw = sc.wall_pose(sc.windows[0], 0.0)
        ld = _rot(wyaw) @ np.array([0.0, 0.0, 1.0])
        ld = (ld * math.cos(0.6) + np.array([0.0, -math.sin(0.6), 0.0])).astype(f32)
        ndl = np.maximum(-(N @ ld), 0)
        light += (ndl * f32(sc.u(0.1, 0.5)) * ao)[:, None] * np.array([0.9, 0.95, 1.05], f32)
    rad_ = albedo * light + emit + spec[:, None]

    # Camera: auto exposure, white balance cast, vignetting, gamma, blur, noise.
    lum = rad_ @ np.array([0.3, 0.59, 0.11], f32)
    k90 = int(0.9 * (n - 1))
    expo = sc.u(0.55, 0.85) / max(float(np.partition(lum, k90)[k90]), 1e-3)
    img = rad_ * f32(expo)
    cast = np.array([sc.u(0.9, 1.12), 1.0, sc.u(0.8, 1.08)], f32)
    img = img * cast
    img = img.reshape(sc.H, sc.W, 3)
    yy, xx = np.mgrid[0:sc.H, 0:sc.W]
    rr = ((yy - sc.H / 2) / sc.H) ** 2 + ((xx - sc.W / 2) / sc.W) ** 2
    img *= (1 - sc.u(0.2, 0.6) * rr).astype(f32)[..., None]
    img = np.clip(img, 0, 1) ** f32(1 / sc.u(2.0, 2.4))
    sig = sc.u(0.35, 0.8)
    img = cv2.GaussianBlur(img, (0, 0), sig)
    img += rng.standard_normal(img.shape, dtype=f32) * f32(sc.u(0.004, 0.02))
    img += rng.standard_normal(img.shape[:2] + (1,), dtype=f32) * f32(sc.u(0.0, 0.01))
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)


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
    code = _SPLITS.index(split) if split in _SPLITS else \
        int.from_bytes(split.encode()[:8].ljust(8, b'\0'), 'little') % (2 ** 31)
    rng = np.random.default_rng([int(seed), code, int(index), 0x5ED])
    sc = _build_scene(rng, height, width)
    buf, D, cam = _trace(sc)
    img = _shade(sc, buf, D, cam)
    return img, buf.lab.reshape(height, width).copy()


# --------------------------------------------------------------------------------------------
# Writing datasets
# --------------------------------------------------------------------------------------------
def _write_png_atomic(path: Path, array: np.ndarray) -> None:
    """Encode first, write to a temporary name, then rename: readers never see half a file."""
    ok, enc = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'could not encode PNG for {path}')
    tmp = path.with_name(f'{path.name}.{os.getpid()}.tmp')
    with open(tmp, 'wb') as fh:
        fh.write(enc.tobytes())
    os.replace(tmp, path)


def _render_chunk(args: tuple) -> list[tuple[str, int, np.ndarray]]:
    out_dir, split, indices, seed, height, width, resume = args
    cv2.setNumThreads(1)  # parallelism comes from the process pool
    out = Path(out_dir)
    results = []
    for k in indices:
        name = f'{k:05d}.png'
        ip, sp = out / 'image' / split / name, out / 'seg13' / split / name
        if resume and ip.is_file() and sp.is_file():
            seg = cv2.imread(str(sp), cv2.IMREAD_UNCHANGED)
            if seg is not None and seg.shape == (height, width):
                results.append((split, k, np.bincount(seg.ravel(), minlength=256)))
                continue
        img, seg = render_synthroom(seed, split, k, height, width)
        _write_png_atomic(ip, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        _write_png_atomic(sp, seg)
        results.append((split, k, np.bincount(seg.ravel(), minlength=256)))
    return results


def _params(num_train: int, num_test: int, height: int, width: int, seed: int) -> dict:
    return dict(version=SYNTHROOMS_VERSION, num_train=int(num_train), num_test=int(num_test),
                height=int(height), width=int(width), seed=int(seed))


def load_manifest(out_dir: str | os.PathLike) -> dict | None:
    """Read ``synthrooms.json`` from ``out_dir``; None if absent or unreadable."""
    path = Path(out_dir) / MANIFEST_NAME
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _manifest_matches(out_dir: Path, params: dict) -> bool:
    man = load_manifest(out_dir)
    if man is None or man.get('params') != params:
        return False
    for split, n in (('train', params['num_train']), ('test', params['num_test'])):
        for sub in ('image', 'seg13'):
            folder = out_dir / sub / split
            if n and (not folder.is_dir() or
                      sum(1 for f in folder.iterdir() if f.suffix == '.png') != n):
                return False
    return True


def generate_synthrooms(out_dir: str | os.PathLike, num_train: int = 800, num_test: int = 200,
                        height: int = 96, width: int = 128, seed: int = 0, num_workers: int = 1,
                        resume: bool = True, verbose: bool = False) -> dict:
    """Render a SynthRooms dataset in the NYUv2 (VainF toolkit) layout.

    Files are written atomically and the manifest ``synthrooms.json`` last, so a directory
    without a manifest is an incomplete generation. A partial generation with the same
    parameters is resumed (finished files are kept); other SynthRooms files are replaced.

    Args:
        out_dir: Output root (created if needed).
        num_train: Number of training images.
        num_test: Number of test images.
        height: Image height.
        width: Image width.
        seed: Dataset seed; image k of a split depends only on (seed, split, k).
        num_workers: Processes to render with (1 = in this process).
        resume: Keep finished files of an interrupted generation with the same parameters.
        verbose: Log progress.

    Returns:
        Statistics: ``params``, ``counts`` per split, ``pixel_share`` and ``image_share`` per
        class (over both splits), ``void_share``, ``seconds`` and ``images_per_second``.

    Raises:
        ValueError: bad sizes or counts.
        FileExistsError: ``out_dir`` holds an ``image/`` or ``seg13/`` folder that SynthRooms
            did not write (e.g. real NYUv2): it is never overwritten.
    """
    if num_train < 0 or num_test < 0 or num_train + num_test == 0:
        raise ValueError(f'num_train/num_test must be >= 0 and not both 0, got '
                         f'{num_train}/{num_test}')
    if height < 8 or width < 8:
        raise ValueError(f'height/width must be >= 8, got {height}x{width}')
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params = _params(num_train, num_test, height, width, seed)
    t0 = time.perf_counter()

    man_path, part_path = out / MANIFEST_NAME, out / _PARTIAL_NAME
    ours = man_path.exists() or part_path.exists()
    if not ours and any((out / sub).exists() for sub in ('image', 'seg13')):
        raise FileExistsError(
            f'{str(out)!r} already holds image/ or seg13/ folders but no {MANIFEST_NAME} or '
            f'{_PARTIAL_NAME}: refusing to overwrite data SynthRooms did not write; choose an '
            f'empty out_dir')
    can_resume = False
    if part_path.exists():
        try:
            can_resume = resume and json.loads(part_path.read_text()).get('params') == params
        except ValueError:
            can_resume = False
    # Invalidate the old manifest *before* touching files: an interrupted run stays incomplete.
    if man_path.exists():
        old = load_manifest(out)
        can_resume = can_resume or (resume and old is not None and old.get('params') == params)
        man_path.unlink()
    part_path.write_text(json.dumps(dict(params=params)))
    if not can_resume:
        for sub in ('image', 'seg13'):
            shutil.rmtree(out / sub, ignore_errors=True)
    wanted = {'train': num_train, 'test': num_test}
    for sub in ('image', 'seg13'):
        for split in _SPLITS:
            folder = out / sub / split
            folder.mkdir(parents=True, exist_ok=True)
            for f in folder.iterdir():  # stale temporaries and files beyond the new counts
                if f.name.endswith('.tmp') or (f.suffix == '.png' and f.stem.isdigit()
                                               and int(f.stem) >= wanted[split]):
                    f.unlink()

    chunk = 20
    tasks = [(str(out), split, list(range(i, min(i + chunk, n))), seed, height, width, can_resume)
             for split, n in wanted.items() for i in range(0, n, chunk)]
    counts = np.zeros(256, np.int64)
    present = np.zeros(256, np.int64)
    done = 0
    total = num_train + num_test
    with _pool(num_workers, len(tasks)) as imap:
        for res in imap(_render_chunk, tasks):
            for _, _, c in res:
                counts += c
                present += c > 0
            done += len(res)
            if verbose and (done % 200 < chunk or done == total):
                print_log(f'SynthRooms: {done}/{total} images', logger='current')
    secs = time.perf_counter() - t0
    npx = counts.sum()
    stats = dict(
        params=params,
        counts=dict(train=num_train, test=num_test),
        classes=list(NYUV2_CLASSES),
        pixel_share={c: round(float(counts[i] / npx), 5) for i, c in enumerate(NYUV2_CLASSES)},
        image_share={c: round(float(present[i] / total), 4) for i, c in enumerate(NYUV2_CLASSES)},
        void_share=round(float(counts[VOID] / npx), 5),
        seconds=round(secs, 2),
        images_per_second=round(total / max(secs, 1e-9), 1),
        num_workers=int(num_workers),
    )
    manifest = dict(generator='densekd.datasets.synthrooms', **stats)
    tmp = man_path.with_name(man_path.name + '.tmp')
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, man_path)  # the manifest appears last and atomically
    part_path.unlink(missing_ok=True)
    return stats


@contextlib.contextmanager
def _pool(num_workers: int, num_tasks: int) -> Iterator[Callable]:
    """``imap`` over a process pool (fork where available: no re-import cost), or in-process."""
    if num_workers <= 1 or num_tasks <= 1:
        yield map
        return
    methods = mp.get_all_start_methods()
    ctx = mp.get_context('fork' if 'fork' in methods else 'spawn')
    with ctx.Pool(min(num_workers, num_tasks)) as pool:
        yield lambda fn, it: pool.imap(fn, it)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock (POSIX flock; a no-op where fcntl does not exist)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, 'a+') as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def synthrooms_root(data_root: str | os.PathLike) -> Path:
    """Where a SynthRooms ``data_root`` lives or will be generated.

    An existing directory is found like NYUv2's (``~``/``$VARS`` expanded, relative paths also
    looked up under ``$DENSEKD_DATA``, see :func:`resolve_data_root`). When none exists yet, a
    relative path is generated under ``$DENSEKD_DATA`` (without a leading ``data/`` or
    ``datasets/``) if that variable is set, else relative to the working directory.

    Args:
        data_root: Path from the config.

    Returns:
        The directory to read or generate.
    """
    try:
        return resolve_data_root(data_root, 'SynthRoomsDataset')
    except DatasetNotFoundError:
        pass
    path = Path(os.path.expandvars(os.path.expanduser(str(data_root))))
    env = os.environ.get('DENSEKD_DATA')
    if env and not path.is_absolute():
        parts = path.parts[1:] if len(path.parts) > 1 and path.parts[0] in ('data', 'datasets') \
            else path.parts
        return Path(env).joinpath(*parts)
    return path


def ensure_synthrooms(data_root: str | os.PathLike, num_train: int = 800, num_test: int = 200,
                      height: int = 96, width: int = 128, seed: int = 0,
                      num_workers: int | None = None) -> dict:
    """Make sure ``data_root`` holds a complete SynthRooms dataset with these parameters.

    Generates it (under an inter-process file lock, so concurrent callers wait for one
    generation) when the manifest is missing or was written with other parameters.

    Args:
        data_root: Dataset root.
        num_train: Number of training images.
        num_test: Number of test images.
        height: Image height.
        width: Image width.
        seed: Dataset seed.
        num_workers: Processes for generation; None = up to 4, one per 200 images.

    Returns:
        The manifest (parameters and statistics).
    """
    root = synthrooms_root(data_root)
    params = _params(num_train, num_test, height, width, seed)
    if _manifest_matches(root, params):
        return load_manifest(root)
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / _LOCK_NAME):
        if _manifest_matches(root, params):  # another process finished while we waited
            return load_manifest(root)
        if num_workers is None:
            num_workers = max(1, min(4, os.cpu_count() or 1, (num_train + num_test) // 200))
        print_log(f'SynthRooms: generating {num_train}+{num_test} images of {height}x{width} '
                  f'(seed {seed}) in {root} with {num_workers} worker(s)', logger='current')
        stats = generate_synthrooms(root, num_train, num_test, height, width, seed, num_workers)
        print_log(f'SynthRooms: done in {stats["seconds"]:.1f} s', logger='current')
    return load_manifest(root)


@DATASETS.register_module()
class SynthRoomsDataset(NYUv2Dataset):
    """SynthRooms in the NYUv2 layout, generated on first use.

    Behaves exactly like :class:`NYUv2Dataset` on ``data_root`` once the data exist; if
    ``data_root`` has no manifest with the same generation parameters, the data are generated
    there first (see :func:`ensure_synthrooms`).

    Args:
        data_root: Where the dataset lives / is generated.
        split: ``'train'`` or ``'test'``.
        pipeline: albumentations transform dicts (see :class:`NYUv2Dataset`).
        label_dir: Must be ``'seg13'`` (SynthRooms has the 13 NYUv2 classes only).
        max_samples: Keep only the first ``max_samples`` images.
        num_train: Generated training images.
        num_test: Generated test images.
        height: Generated image height.
        width: Generated image width.
        seed: Generation seed (the augmentation seed is ``pipeline_seed``).
        pipeline_seed: Seed for the augmentation pipeline (``NYUv2Dataset``'s ``seed``).
        num_workers: Generation processes (None = automatic).
        **kwargs: Other :class:`NYUv2Dataset` arguments.
    """

    def __init__(self,
                 data_root: str | os.PathLike = 'data/synthrooms',
                 split: str = 'train',
                 pipeline: Sequence[dict[str, Any]] | Callable | None = None,
                 label_dir: str = 'seg13',
                 max_samples: int | None = None,
                 num_train: int = 800,
                 num_test: int = 200,
                 height: int = 96,
                 width: int = 128,
                 seed: int = 0,
                 pipeline_seed: int | None = None,
                 num_workers: int | None = None,
                 **kwargs: Any) -> None:
        if label_dir != 'seg13':
            raise ValueError(f'SynthRoomsDataset: label_dir={label_dir!r}; SynthRooms only has '
                             f"'seg13' labels")
        root = synthrooms_root(data_root)
        self.generation = ensure_synthrooms(root, num_train, num_test, height, width, seed,
                                            num_workers)
        super().__init__(root, split=split, pipeline=pipeline, label_dir=label_dir,
                         max_samples=max_samples, seed=pipeline_seed, **kwargs)

    @staticmethod
    def _missing_root_hint() -> str:
        return 'SynthRooms generates its data_root on first use.'
