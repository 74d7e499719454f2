"""The scene container: a room's size, objects, materials, lights and camera pose.

:class:`Parts` collects the primitives of one object in its own frame; :class:`Scene` holds the
whole room in world coordinates (x along the width, y up, z along the depth, floor at y = 0,
walls 0..3 at z = 0, x = width, z = depth, x = 0) together with the buffered random stream that
every scene-building step draws from.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from .palettes import MIX_CUMULATIVE, PALETTES, VOID

__all__ = ['yaw_rotation', 'Parts', 'Support', 'ShadowCaster', 'Scene']


def yaw_rotation(yaw: float) -> np.ndarray:
    """Rotation about +y taking local (x, y, z) to world; local +z maps to (sin, 0, cos).

    Args:
        yaw: Angle in radians.

    Returns:
        3×3 rotation matrix.
    """
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


class Parts:
    """Primitives of one object in its local frame (x centred, y up from its base, z >= 0).

    Attributes:
        items: ``(kind, centre, half_size, label, material, colour, group)`` per primitive,
            ``kind`` one of ``'box'``, ``'ell'`` (ellipsoid), ``'cyl'`` (vertical cylinder).
        supports: ``(x0, x1, z0, z1, y)`` surfaces that clutter can stand on.
        group: Intersection group of the primitives added next.
        lamp_on: Whether the object is a lamp that is switched on (it then adds a light).
        lamp_height: Height of that light above the object's base.
    """

    def __init__(self) -> None:
        self.items: list[tuple] = []
        self.supports: list[tuple] = []
        self.group = 0
        self.lamp_on = False
        self.lamp_height = 0.0

    def box(self, x0, x1, y0, y1, z0, z1, label, mat, col) -> None:
        """Add the axis-aligned box ``[x0, x1] × [y0, y1] × [z0, z1]``."""
        self.items.append(('box', ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2),
                           (abs(x1 - x0) / 2, abs(y1 - y0) / 2, abs(z1 - z0) / 2),
                           label, mat, col, self.group))

    def ell(self, cx, cy, cz, rx, ry, rz, label, mat, col) -> None:
        """Add the ellipsoid centred at ``(cx, cy, cz)`` with radii ``(rx, ry, rz)``."""
        self.items.append(('ell', (cx, cy, cz), (rx, ry, rz), label, mat, col, self.group))

    def cyl(self, cx, y0, y1, cz, rx, rz, label, mat, col) -> None:
        """Add the vertical elliptic cylinder on axis ``(cx, cz)`` from ``y0`` to ``y1``."""
        self.items.append(('cyl', (cx, (y0 + y1) / 2, cz), (rx, (y1 - y0) / 2, rz),
                           label, mat, col, self.group))

    def new_group(self) -> None:
        """Start a new intersection group (keeps n_pixels x n_prims arrays small)."""
        self.group += 1


class Support(NamedTuple):
    """A surface of a placed object that clutter can stand on (local rectangle at height y)."""

    origin: np.ndarray
    yaw: float
    rot: np.ndarray
    x0: float
    x1: float
    z0: float
    z1: float
    y: float
    used: list  # (x0, x1) intervals already taken by clutter


class ShadowCaster(NamedTuple):
    """An object's bounding box in its local frame, for contact shadows."""

    origin: np.ndarray
    yaw: float
    centre: np.ndarray
    half: np.ndarray
    strength: float
    radius: float
    obj: int  # object id: an object does not shadow itself


class Scene:
    """A room, its contents, lights and camera; filled by :func:`~.layout.build_scene`.

    Args:
        rng: The image's generator. Its first draw is the texture noise; afterwards it feeds
            both the buffered scalar stream (:meth:`random`) and direct array draws.
        height: Image height in pixels.
        width: Image width in pixels.

    Attributes:
        room_width, room_depth, room_height: Room extent along x, z and y (metres).
        style_wood: Wood colour shared by several pieces of furniture.
        eye: Camera position (world).
        yaw, pitch, roll, hfov: Camera orientation and horizontal field of view (radians).
        wall_materials, wall_colors: Material id and colour of walls 0..3.
        floor_material, floor_color, ceiling_material, ceiling_color: The same for the floor
            and ceiling.
        materials: Material parameter dicts; a material id indexes this list.
        groups: Primitive groups to ray-cast (one per object, primitive kind and group).
        shadow_casters: Boxes that darken what is near them.
        footprints: Floor rectangles ``(x0, x1, z0, z1)`` already taken.
        wall_rects: Per wall, rectangles ``(s0, s1, y0, y1)`` already taken.
        supports: Surfaces clutter can stand on.
        aim_targets: ``(point, weight)`` the camera may look at.
        lights: Point lights ``dict(pos, lamp)``; the first is the main ceiling light.
        windows: Walls that have a window.
        num_objects: Objects added so far (object ids are 1..num_objects).
        noise: 48×48 value-noise grid shared by all textures.
    """

    def __init__(self, rng: np.random.Generator, height: int, width: int) -> None:
        self.rng = rng
        self.height, self.width = height, width
        self.room_width = self.room_depth = self.room_height = 0.0
        self.style_wood: np.ndarray | None = None
        self.eye: np.ndarray | None = None
        self.yaw = self.pitch = self.roll = self.hfov = 0.0
        self.wall_materials: list[int] = []
        self.wall_colors: list[np.ndarray] = []
        self.floor_material = self.ceiling_material = -1
        self.floor_color: np.ndarray | None = None
        self.ceiling_color: np.ndarray | None = None
        self.materials: list[dict] = []
        self.groups: list[dict] = []
        self.shadow_casters: list[ShadowCaster] = []
        self.footprints: list[tuple] = []
        self.wall_rects: dict[int, list] = {0: [], 1: [], 2: [], 3: []}
        self.supports: list[Support] = []
        self.aim_targets: list[tuple] = []
        self.lights: list[dict] = []
        self.windows: list[int] = []
        self.num_objects = 0
        self.noise = rng.random((48, 48)).astype(np.float32)
        self._uniforms: list[float] = []

    # ---- random helpers ----
    # Scene building draws ~1000 scalars per image; one vectorised draw per 1024 values is ~10x
    # cheaper than a Generator call per scalar, and stays a pure function of the seed.
    def random(self) -> float:
        """Next uniform [0, 1) scalar from the buffered stream."""
        if not self._uniforms:
            self._uniforms = self.rng.random(1024).tolist()
            self._uniforms.reverse()
        return self._uniforms.pop()

    def uniform(self, a: float, b: float) -> float:
        """Uniform scalar in ``[a, max(a, b))`` (an empty range gives ``a``)."""
        return a + (max(a, b) - a) * self.random()

    def chance(self, prob: float) -> bool:
        """True with probability ``prob``."""
        return self.random() < prob

    def color(self, mix: str | dict, jitter: float = 0.05) -> np.ndarray:
        """A linear-RGB colour from the shared palettes with a class-specific mixture.

        Args:
            mix: A key of :data:`~.palettes.MIXES`, or a ``{family: weight}`` dict.
            jitter: Per-channel relative perturbation.

        Returns:
            Linear RGB in [0.02 ** 2.2, 1].
        """
        if isinstance(mix, str):
            fams, cum = MIX_CUMULATIVE[mix]
        else:
            fams, cum = list(mix), np.cumsum(list(mix.values())) / sum(mix.values())
        x = self.random()
        fam = PALETTES[fams[min(int(np.searchsorted(cum, x, side='right')), len(fams) - 1)]]
        c = fam[int(self.random() * len(fam))] * (0.8 + 0.32 * self.random())
        c = c * (1 + jitter * 3.4 * (np.array([self.random(), self.random(), self.random()])
                                     - 0.5))
        return np.minimum(np.maximum(c, 0.02), 1.0) ** 2.2

    def material(self, kind: str, **params: Any) -> int:
        """Register a material (``gloss`` defaults to 0) and return its id."""
        self.materials.append(dict(kind=kind, gloss=params.pop('gloss', 0.0), **params))
        return len(self.materials) - 1

    # ---- room geometry ----
    def wall_length(self, w: int) -> float:
        """Length of wall ``w`` (walls 0 and 2 span the width, 1 and 3 the depth)."""
        return self.room_width if w % 2 == 0 else self.room_depth

    def wall_pose(self, w: int, s: float, off: float = 0.0) -> tuple[np.ndarray, float]:
        """Origin/yaw of a frame on wall ``w`` at abscissa ``s``, local +z pointing inwards.

        Args:
            w: Wall index, 0..3.
            s: Distance along the wall from its left end (seen from inside the room).
            off: Distance from the wall into the room.

        Returns:
            ``(origin, yaw)`` of the frame.
        """
        if w == 0:
            return np.array([s, 0.0, off]), 0.0
        if w == 1:
            return np.array([self.room_width - off, 0.0, s]), -math.pi / 2
        if w == 2:
            return np.array([self.room_width - s, 0.0, self.room_depth - off]), math.pi
        return np.array([off, 0.0, self.room_depth - s]), math.pi / 2

    @staticmethod
    def footprint(origin: np.ndarray, yaw: float, x0: float, x1: float, z0: float, z1: float
                  ) -> tuple[float, float, float, float]:
        """World floor rectangle ``(x0, x1, z0, z1)`` covering a local rectangle once posed."""
        r = yaw_rotation(yaw)
        pts = np.array([[x0, 0, z0], [x1, 0, z0], [x0, 0, z1], [x1, 0, z1]]) @ r.T + origin
        return pts[:, 0].min(), pts[:, 0].max(), pts[:, 2].min(), pts[:, 2].max()

    def floor_free(self, box: tuple, margin: float = 0.03) -> bool:
        """Whether floor rectangle ``box`` is inside the room and ``margin`` away from others."""
        x0, x1, z0, z1 = box
        if (x0 < -1e-6 or z0 < -1e-6 or x1 > self.room_width + 1e-6
                or z1 > self.room_depth + 1e-6):
            return False
        return all(x1 + margin <= a0 or a1 + margin <= x0 or z1 + margin <= b0 or b1 + margin <= z0
                   for a0, a1, b0, b1 in self.footprints)

    def wall_free(self, w: int, s0: float, s1: float, y0: float, y1: float,
                  margin: float = 0.05) -> bool:
        """Whether ``[s0, s1] × [y0, y1]`` on wall ``w`` is on the wall and not taken."""
        if s0 < 0 or s1 > self.wall_length(w):
            return False
        return all(s1 + margin <= a0 or a1 + margin <= s0 or y1 + margin <= b0 or b1 + margin <= y0
                   for a0, a1, b0, b1 in self.wall_rects[w])

    # ---- adding objects ----
    def add_object(self, parts: Parts, origin: np.ndarray, yaw: float, ao: float = 0.5,
                   void: bool = False, anchor: float = 0.0) -> int:
        """Add ``parts`` posed at ``origin``/``yaw``.

        Args:
            parts: The object's primitives and support surfaces.
            origin: World position of the local origin.
            yaw: Rotation about +y.
            ao: Strength of the contact shadow it casts (0 = none).
            void: Label all its pixels void (255).
            anchor: Weight as a camera target (0 = never aimed at).

        Returns:
            The object id.
        """
        self.num_objects += 1
        oid = self.num_objects
        origin = np.asarray(origin, dtype=float)
        by_group: dict[tuple, list] = {}
        for it in parts.items:
            by_group.setdefault((it[0], it[6]), []).append(it)
        for (kind, _), items in by_group.items():
            c = np.array([it[1] for it in items], dtype=np.float32)
            h = np.maximum(np.array([it[2] for it in items], dtype=np.float32), 1e-3)
            lab = np.array([VOID if void else it[3] for it in items], dtype=np.uint8)
            self.groups.append(dict(
                kind=kind, origin=origin, yaw=yaw, rot=yaw_rotation(yaw), c=c, h=h, lab=lab,
                lo=(c - h).min(0), hi=(c + h).max(0),
                mat=np.array([it[4] for it in items], dtype=np.int16),
                col=np.array([it[5] for it in items], dtype=np.float32), obj=oid))
        if parts.items:
            c = np.array([it[1] for it in parts.items])
            h = np.array([it[2] for it in parts.items])
            lo, hi = (c - h).min(0), (c + h).max(0)
            if ao > 0:
                rad = float(np.clip(0.35 * min(hi[0] - lo[0], hi[2] - lo[2]), 0.04, 0.25))
                self.shadow_casters.append(
                    ShadowCaster(origin, yaw, (lo + hi) / 2, (hi - lo) / 2, ao, rad, oid))
            if anchor > 0:
                self.aim_targets.append((origin + yaw_rotation(yaw) @ ((lo + hi) / 2), anchor))
        r = yaw_rotation(yaw)
        for x0, x1, z0, z1, y in parts.supports:
            self.supports.append(Support(origin, yaw, r, x0, x1, z0, z1, y, []))
        return oid
