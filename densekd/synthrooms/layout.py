"""Room layout: :func:`build_scene` draws a whole room, step by step, from one generator.

The steps run in a fixed order: room size, camera position, floor, room type, walls and
ceiling, the anchor furniture of the room type, extra furniture, windows and doors, wall
decoration, floor objects, ceiling lights, camera aim. Each step draws from the generator
(directly and through the scene's buffered stream) in its turn, so a scene is a pure function
of the generator's state, and reordering steps or draws changes every image.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .camera import aim_camera
from .clutter import build_clutter
from .fixtures import (add_ceiling_lights, add_door, add_picture, add_rug, add_upper_cabinets,
                       add_wall_shelf, add_window)
from .objects import (build_bed, build_bookshelf, build_cabinet, build_chair, build_sofa,
                      build_table, build_tv)
from .palettes import CHAIR, OBJ
from .placement import (fill_supports, place_free, place_on_wall, reserve_wall_rect,
                        shift_back_to_wall)
from .scene import Parts, Scene, yaw_rotation

__all__ = ['ROOM_TYPES', 'build_scene']

#: Room types and their probabilities.
ROOM_TYPES = {'bedroom': 0.3, 'living': 0.27, 'kitchen': 0.13, 'office': 0.18, 'library': 0.12}
Piece = tuple[Parts, float, float, float]  # what a furniture builder returns


def build_scene(rng: np.random.Generator, height: int, width: int) -> Scene:
    """Lay out a random furnished room and the camera looking into it.

    Args:
        rng: The image's generator (consumed).
        height: Image height in pixels.
        width: Image width in pixels.

    Returns:
        The scene, ready to be ray-cast.
    """
    sc = Scene(rng, height, width)
    sc.room_width, sc.room_depth, sc.room_height = (
        sc.uniform(2.8, 6.0), sc.uniform(2.8, 6.5), sc.uniform(2.4, 3.0))
    sc.style_wood = sc.color(dict(wood=0.8, neutral=0.2))
    back, walls = _place_camera(sc)
    _draw_floor(sc)
    room = str(rng.choice(list(ROOM_TYPES), p=list(ROOM_TYPES.values())))
    _draw_walls_and_ceiling(sc, room)
    rng.shuffle(walls)  # the order in which walls are offered to furniture
    _FURNISHERS[room](sc, walls)
    _add_extra_furniture(sc, walls, room)
    _add_windows_and_doors(sc, walls, back)
    _decorate_walls(sc, walls)
    _add_floor_objects(sc, walls)
    add_ceiling_lights(sc)
    aim_camera(sc, back)
    return sc


# ---- room shell ----
def _place_camera(sc: Scene) -> tuple[int, list[int]]:
    """Stand the camera near one wall ('back'); returns it and the three walls it can see."""
    back = int(sc.rng.integers(4))
    front = (back + 2) % 4
    along = sc.wall_length(back)
    depth = sc.wall_length(back + 1)
    cs = sc.uniform(0.45, along - 0.45)
    coff = sc.uniform(0.25, min(1.6, depth * 0.35))
    corigin, cyaw = sc.wall_pose(back, cs, coff)
    sc.eye = corigin + np.array([0.0, sc.uniform(1.0, 1.7), 0.0])
    sc.footprints.append((sc.eye[0] - 0.5, sc.eye[0] + 0.5, sc.eye[2] - 0.5, sc.eye[2] + 0.5))
    # Keep the first metre in front of the camera clear: no sofa filling the whole frame.
    sc.footprints.append(sc.footprint(corigin, cyaw, -0.6, 0.6, 0.0, 1.3))
    sides = [(back + 1) % 4, (back + 3) % 4]
    return back, [front, sides[0], sides[1]]


def _draw_floor(sc: Scene) -> None:
    """Floor colour and material (planks, tiles, carpet or plain)."""
    floor_kind = sc.rng.choice(['planks', 'tiles', 'carpet', 'plain'], p=[0.4, 0.25, 0.25, 0.1])
    sc.floor_color = sc.color('floor')
    sc.floor_material = sc.material(
        str(floor_kind), size=sc.uniform(0.25, 0.6), plank=sc.uniform(0.09, 0.2),
        length=sc.uniform(0.6, 1.5), grout=sc.color(dict(neutral=0.7, paint=0.3)),
        rot=sc.chance(0.5), gloss=0.35 if floor_kind in ('planks', 'tiles') else 0.0)


def _draw_walls_and_ceiling(sc: Scene, room: str) -> None:
    """Wall material (tiles are likely in kitchens), an optional accent wall, the ceiling."""
    wall_col = sc.color('wall')
    wall_kind = sc.rng.choice(
        ['paint', 'wallpaper', 'panel', 'tiles'],
        p=[0.35, 0.1, 0.05, 0.5] if room == 'kitchen' else [0.8, 0.14, 0.06, 0])
    base_mat = sc.material(
        str(wall_kind), baseboard=sc.uniform(0.0, 0.14) if sc.chance(0.7) else 0.0,
        bcol=sc.color(dict(paint=0.5, wood=0.3, neutral=0.2)), col2=sc.color('wall'),
        size=sc.uniform(0.1, 0.3), half=sc.chance(0.7),
        grout=sc.color(dict(neutral=0.7, paint=0.3)))
    sc.wall_materials, sc.wall_colors = [], []
    accent = int(sc.rng.integers(4)) if sc.chance(0.25) else -1
    for w in range(4):
        if w == accent:
            sc.wall_materials.append(sc.material('paint', baseboard=0.0, bcol=wall_col))
            sc.wall_colors.append(sc.color('wall'))
        else:
            sc.wall_materials.append(base_mat)
            sc.wall_colors.append(wall_col)
    sc.ceiling_color = wall_col if sc.chance(0.35) else sc.color('ceiling')
    sc.ceiling_material = sc.material('panels' if sc.chance(0.35) else 'paint', baseboard=0.0,
                                      bcol=sc.ceiling_color, size=sc.uniform(0.55, 1.2))


# ---- placement shorthands ----
def _on_first_free_wall(sc: Scene, walls: Sequence[int], piece: Piece, **kwargs: float
                        ) -> tuple[int, tuple] | None:
    """Offer ``piece`` to the walls in order; returns ``(wall, placement)`` of the first fit."""
    for w in walls:
        res = place_on_wall(sc, w, *piece, **kwargs)
        if res is not None:
            return w, res
    return None


def _on_wall_with_clutter(sc: Scene, w: int, piece: Piece, density: float = 1.0,
                          **kwargs: float) -> tuple | None:
    """Place ``piece`` on wall ``w`` and, if it fits, put clutter on its surfaces."""
    k0 = len(sc.supports)
    res = place_on_wall(sc, w, *piece, **kwargs)
    if res is not None:
        fill_supports(sc, k0, density)
    return res


# ---- anchor furniture per room type ----
def _furnish_bedroom(sc: Scene, walls: Sequence[int]) -> None:
    """A bed with nightstands, wardrobes / dressers, maybe a desk and a TV."""
    bed = build_bed(sc)
    found = _on_first_free_wall(sc, walls, bed, ao=0.6, anchor=2.0)
    if found is not None and sc.chance(0.8):
        w, (_, _, s) = found
        for sx in (-1, 1):
            if sc.chance(0.75):
                stand = build_cabinet(sc, 'nightstand')
                _on_wall_with_clutter(sc, w, stand, 0.8,
                                      s=s + sx * (bed[1] / 2 + stand[1] / 2 + 0.05))
    for w in walls:
        if sc.chance(0.45):
            piece = build_cabinet(sc, 'wardrobe' if sc.chance(0.4) else 'dresser')
            _on_wall_with_clutter(sc, w, piece, clear=0.4)
    if sc.chance(0.3):
        _add_desk(sc, walls)
    if sc.chance(0.45):
        _add_tv(sc, walls)


def _furnish_living_room(sc: Scene, walls: Sequence[int]) -> None:
    """A sofa with a coffee table, a TV, armchairs / more sofas, a side table."""
    sofa = build_sofa(sc)
    found = _on_first_free_wall(sc, walls, sofa, ao=0.6, anchor=2.0, clear=0.5)
    if found is not None and sc.chance(0.75):
        origin, yaw, _ = found[1]
        tp, tw, td, th = build_table(sc, 'coffee')
        k0 = len(sc.supports)
        c = origin + yaw_rotation(yaw) @ np.array(
            [sc.uniform(-0.2, 0.2), 0, sofa[2] + sc.uniform(0.35, 0.6) + td / 2])
        if place_free(sc, tp, tw, td, (c[0], c[2]), yaw, anchor=1.0):
            fill_supports(sc, k0)
    if sc.chance(0.9):
        _add_tv(sc, walls)
    for _ in range(sc.rng.integers(0, 3)):
        seat = build_sofa(sc, W=sc.uniform(0.75, 1.0), label=CHAIR) if sc.chance(0.5) else \
            build_sofa(sc)
        _on_first_free_wall(sc, walls, seat, ao=0.6, anchor=1.0, clear=0.3)
    if sc.chance(0.5):
        side = build_table(sc, 'side')
        k0 = len(sc.supports)
        if _on_first_free_wall(sc, walls, side) is not None:
            fill_supports(sc, k0)


def _furnish_kitchen(sc: Scene, walls: Sequence[int]) -> None:
    """A dining table, counters (with upper cabinets) and a fridge."""
    _add_dining(sc)
    for w in walls:
        if sc.chance(0.6):
            counter = build_cabinet(sc, 'counter')
            res = _on_wall_with_clutter(sc, w, counter, 1.2, clear=0.5, anchor=0.5)
            if res is not None and sc.chance(0.6):
                add_upper_cabinets(sc, w, res[2], counter[1])
    if sc.chance(0.5):
        _on_first_free_wall(sc, walls, build_cabinet(sc, 'fridge'), clear=0.4)


def _furnish_office(sc: Scene, walls: Sequence[int]) -> None:
    """Desks, maybe a meeting table, filing cabinets, a TV, a sofa."""
    for _ in range(sc.rng.integers(1, 3)):
        _add_desk(sc, walls)
    if sc.chance(0.4):
        _add_dining(sc)
    for w in walls:
        if sc.chance(0.35):
            _on_wall_with_clutter(sc, w, build_cabinet(sc, 'filing'), clear=0.3)
    if sc.chance(0.25):
        _add_tv(sc, walls)
    if sc.chance(0.2):
        _on_first_free_wall(sc, walls, build_sofa(sc), ao=0.6, anchor=1.0, clear=0.3)


def _furnish_library(sc: Scene, walls: Sequence[int]) -> None:
    """A library / study: shelves everywhere plus a reading table."""
    for w in walls:
        for _ in range(sc.rng.integers(1, 4)):
            place_on_wall(sc, w, *build_bookshelf(sc), clear=0.3, anchor=1.0)
    if sc.chance(0.7):
        _add_dining(sc)


_FURNISHERS = {'bedroom': _furnish_bedroom, 'living': _furnish_living_room,
               'kitchen': _furnish_kitchen, 'office': _furnish_office,
               'library': _furnish_library}


# ---- furniture, fixtures and clutter for every room type ----
def _add_extra_furniture(sc: Scene, walls: Sequence[int], room: str) -> None:
    """Shelves, cabinets, chairs, beds, sofas and TVs anywhere: keeps all classes frequent."""
    for w in walls:
        if sc.chance(0.45 if room != 'library' else 0.15):
            place_on_wall(sc, w, *build_bookshelf(sc), clear=0.3, anchor=0.8)
        if sc.chance(0.3):
            kind = str(sc.rng.choice(['dresser', 'low', 'wardrobe', 'filing']))
            _on_wall_with_clutter(sc, w, build_cabinet(sc, kind), clear=0.3, anchor=0.3)
        if sc.chance(0.25):
            place_on_wall(sc, w, *build_chair(sc), clear=0.1, anchor=0.5)
        if sc.chance(0.06) and room != 'bedroom':
            place_on_wall(sc, w, *build_bed(sc), ao=0.6, anchor=1.0)
    if sc.chance(0.1) and room not in ('living',):
        _on_first_free_wall(sc, walls, build_sofa(sc), ao=0.6, anchor=1.0, clear=0.3)
    if sc.chance(0.15) and room not in ('living', 'bedroom'):
        _add_tv(sc, walls)


def _add_windows_and_doors(sc: Scene, walls: Sequence[int], back: int) -> None:
    """Windows (rarer behind the camera; at least one in half the rooms), then doors.

    They come before the wall decoration because they need the most wall space.
    """
    for w in list(walls) + [back]:
        if sc.chance(0.4 if w != back else 0.2):
            add_window(sc, w)
    if not sc.windows and sc.chance(0.5):
        add_window(sc, walls[0])
    for w in walls:
        if sc.chance(0.25):
            add_door(sc, w)


def _decorate_walls(sc: Scene, walls: Sequence[int]) -> None:
    """Pictures, whiteboards / mirrors and wall shelves."""
    for w in walls:
        for _ in range(sc.rng.integers(0, 3)):
            if sc.chance(0.5):
                add_picture(sc, w)
        if sc.chance(0.12):
            add_picture(sc, w, label=OBJ)
        if sc.chance(0.3):
            add_wall_shelf(sc, w)


def _add_floor_objects(sc: Scene, walls: Sequence[int]) -> None:
    """Stray chairs, floor clutter (against a wall or free-standing) and maybe a rug."""
    W, D = sc.room_width, sc.room_depth
    for _ in range(sc.rng.poisson(1.2)):
        cp, cw, cd, ch = build_chair(sc)
        place_free(sc, cp, cw, cd, (sc.uniform(0.4, W - 0.4), sc.uniform(0.4, D - 0.4)),
                   sc.uniform(0, 6.28), anchor=0.3)
    for _ in range(sc.rng.poisson(2.5)):
        parts, w2, d2 = build_clutter(sc, 'floor')
        if sc.chance(0.6):
            w = walls[int(sc.rng.integers(3))]
            place_on_wall(sc, w, shift_back_to_wall(parts, d2), w2, d2, 0.5, ao=0.5)
        else:
            place_free(sc, parts, w2, d2, (sc.uniform(0.3, W - 0.3), sc.uniform(0.3, D - 0.3)),
                       sc.uniform(0, 6.28))
    if sc.chance(0.35):
        add_rug(sc)


# ---- furniture groups ----
def _add_desk(sc: Scene, walls: Sequence[int]) -> None:
    """A desk against the first wall with room, clutter on it and usually a chair at it."""
    tp, tw, td, th = build_table(sc, 'desk')
    k0 = len(sc.supports)
    for w in walls:
        res = place_on_wall(sc, w, tp, tw, td, th, clear=0.6, anchor=1.0)
        if res is None:
            continue
        origin, yaw, s = res
        fill_supports(sc, k0, 1.3)
        if sc.chance(0.85):
            cp, cw, cd, ch = build_chair(sc)
            c = origin + yaw_rotation(yaw) @ np.array(
                [sc.uniform(-0.2, 0.2), 0, td + sc.uniform(-0.05, 0.3)])
            place_free(sc, cp, cw, cd, (c[0], c[2]), yaw + math.pi + sc.uniform(-0.5, 0.5))
        return


def _add_dining(sc: Scene) -> None:
    """A free-standing table with clutter and 2..6 chairs around it (most of one colour)."""
    tp, tw, td, th = build_table(sc, 'dining')
    k0 = len(sc.supports)
    yaw = 0.0 if sc.chance(0.5) else math.pi / 2
    if sc.chance(0.3):
        yaw += sc.uniform(-0.3, 0.3)
    for _ in range(6):
        cx, cz = sc.uniform(0.9, sc.room_width - 0.9), sc.uniform(0.9, sc.room_depth - 0.9)
        if place_free(sc, tp, tw, td, (cx, cz), yaw, ao=0.6, anchor=2.0):
            break
    else:
        return
    fill_supports(sc, k0, 1.0)
    r = yaw_rotation(yaw)
    ccol = sc.color('chair')
    n = int(sc.rng.integers(2, 7))
    seats = [(-tw / 4, -1), (tw / 4, -1), (-tw / 4, 1), (tw / 4, 1), (0, 2), (0, -2)]
    sc.rng.shuffle(seats)
    for x, side in seats[:n]:
        cp, cw, cd, ch = build_chair(sc, ccol if sc.chance(0.85) else None)
        if abs(side) == 2:
            local = np.array([np.sign(side) * (tw / 2 + 0.2), 0, 0])
            cyaw = yaw - np.sign(side) * math.pi / 2
        else:
            local = np.array([x, 0, side * (td / 2 + sc.uniform(0.1, 0.3))])
            cyaw = yaw + (0 if side < 0 else math.pi)
        c = np.array([cx, 0, cz]) + r @ local
        place_free(sc, cp, cw, cd, (c[0], c[2]), cyaw + sc.uniform(-0.3, 0.3))


def _add_tv(sc: Scene, walls: Sequence[int]) -> None:
    """A TV on a low cabinet, or wall-mounted (sometimes above a low cabinet)."""
    on_stand = sc.chance(0.65)
    for w in walls:
        if on_stand:
            pp, w2, d2, h2 = build_cabinet(sc, 'low')
            res = place_on_wall(sc, w, pp, w2, d2, h2, clear=0.8, anchor=1.0)
            if res is None:
                continue
            origin, yaw, s = res
            tp, tw, td, th = build_tv(sc, stand=True)
            o = origin + np.array([0.0, h2, 0.0])
            sc.wall_rects[w].append((s - tw / 2, s + tw / 2, h2, h2 + th))
            sc.add_object(tp, o, yaw, ao=0.3, anchor=2.0)
            return
        tp, tw, td, th = build_tv(sc, stand=False)
        y0 = sc.uniform(0.9, 1.4)
        s = reserve_wall_rect(sc, w, tw, y0, y0 + th)
        if s is None:
            continue
        origin, yaw = sc.wall_pose(w, s)
        sc.add_object(tp, origin + np.array([0.0, y0, 0.0]), yaw, ao=0.0, anchor=2.0)
        if sc.chance(0.6):
            pp, w2, d2, h2 = build_cabinet(sc, 'low')
            place_on_wall(sc, w, pp, w2, d2, min(h2, y0 - 0.05), s=s)
        return
