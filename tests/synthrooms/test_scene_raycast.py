"""Unit tests for densekd.synthrooms' scene container and ray caster, on hand-built scenes."""
import math

import numpy as np
import pytest

from densekd.synthrooms.palettes import CEILING, FLOOR, TABLE, VOID, WALL
from densekd.synthrooms.raycast import intersect_group, trace
from densekd.synthrooms.scene import Parts, Scene


def _rays(*dirs):
    return np.array(dirs, np.float32)


def test_box_hit_distance_normal_face_and_coordinates():
    o = np.zeros(3, np.float32)
    c = np.array([[0.0, 0.0, 2.0]], np.float32)
    h = np.array([[0.5, 0.25, 0.5]], np.float32)
    t, j, nrm, uvm, uvn, face = intersect_group('box', o, _rays((0, 0, 1), (1, 1, 0.05)), c, h)
    assert t[0] == pytest.approx(1.5) and np.isinf(t[1])  # front face at z = 1.5; miss
    assert j[0] == 0
    np.testing.assert_allclose(nrm[0], [0, 0, -1])  # faces the ray
    assert face[0] == 4  # 2 * axis(z) + (normal > 0)
    np.testing.assert_allclose(uvn[0], [0.5, 0.5], atol=1e-6)  # centre of the face
    np.testing.assert_allclose(uvm[0], [0.5, 0.25], atol=1e-6)  # metres from the corner


def test_nearest_of_several_primitives_wins_and_near_plane_is_respected():
    o = np.zeros(3, np.float32)
    c = np.array([[0, 0, 5.0], [0, 0, 3.0], [0, 0, 0.0]], np.float32)
    h = np.full((3, 3), 0.5, np.float32)
    t, j, *_ = intersect_group('box', o, _rays((0, 0, 1)), c, h)
    # The box around the origin is entered behind the ray (t < near): the one at z = 3 is hit.
    assert j[0] == 1 and t[0] == pytest.approx(2.5)


def test_sphere_and_cylinder_cap():
    o = np.zeros(3, np.float32)
    t, _, nrm, *_ = intersect_group('ell', o, _rays((0, 0, 1)),
                                    np.array([[0, 0, 3.0]], np.float32),
                                    np.ones((1, 3), np.float32))
    assert t[0] == pytest.approx(2.0)
    np.testing.assert_allclose(nrm[0], [0, 0, -1], atol=1e-6)
    # Looking down onto a vertical cylinder (axis y, top at y = -1): the top cap is hit.
    t, _, nrm, _, _, face = intersect_group('cyl', o, _rays((0, -1, 0)),
                                            np.array([[0, -2.0, 0]], np.float32),
                                            np.array([[0.3, 1.0, 0.3]], np.float32))
    assert t[0] == pytest.approx(1.0)
    np.testing.assert_allclose(nrm[0], [0, 1, 0])
    assert face[0] == 3  # top


def test_buffered_stream_is_the_generators_stream_after_the_noise():
    # Scene building depends on this draw order: noise grid first, then blocks of 1024.
    sc = Scene(np.random.default_rng(5), 8, 8)
    ref = np.random.default_rng(5)
    np.testing.assert_array_equal(sc.noise, ref.random((48, 48)).astype(np.float32))
    block = ref.random(1024)
    assert [sc.random() for _ in range(3)] == block[:3].tolist()
    assert sc.uniform(2.0, 4.0) == 2.0 + 2.0 * block[3]
    assert sc.uniform(3.0, 1.0) == 3.0  # empty range
    assert sc.chance(1.0) and not sc.chance(0.0)


def test_wall_poses_point_into_the_room_and_footprints_block_space():
    sc = Scene(np.random.default_rng(0), 8, 8)
    sc.room_width, sc.room_depth, sc.room_height = 4.0, 3.0, 2.5
    centre = np.array([2.0, 0.0, 1.5])
    for w in range(4):
        origin, yaw = sc.wall_pose(w, sc.wall_length(w) / 2)
        inward = np.array([math.sin(yaw), 0.0, math.cos(yaw)])
        assert np.dot(centre - origin, inward) > 0, w
        assert np.allclose(origin[[0, 2]] + inward[[0, 2]] * np.dot(centre - origin, inward),
                           centre[[0, 2]]), w  # the wall's midpoint faces the room centre
    box = sc.footprint(*sc.wall_pose(1, 1.5), -0.5, 0.5, 0.0, 0.4)
    np.testing.assert_allclose(box, (3.6, 4.0, 1.0, 2.0), atol=1e-9)
    assert sc.floor_free(box)
    sc.footprints.append(box)
    assert not sc.floor_free(box) and not sc.floor_free((3.0, 3.58, 1.0, 2.0))
    assert sc.floor_free((3.0, 3.55, 1.0, 2.0))  # 5 cm away: beyond the 3 cm margin
    assert not sc.floor_free((3.9, 4.1, 0.0, 0.5))  # through the wall


def _empty_room(height=24, width=32):
    sc = Scene(np.random.default_rng(0), height, width)
    sc.room_width, sc.room_depth, sc.room_height = 4.0, 4.0, 2.5
    sc.eye = np.array([2.0, 1.25, 0.5])
    sc.yaw, sc.pitch, sc.roll, sc.hfov = 0.0, 0.0, 0.0, math.radians(60)  # looking along +z
    m = sc.material('matte')
    sc.wall_materials, sc.wall_colors = [m] * 4, [np.full(3, 0.5)] * 4
    sc.floor_material = sc.ceiling_material = m
    sc.floor_color = sc.ceiling_color = np.full(3, 0.5)
    return sc


def test_trace_room_surfaces_and_an_occluding_object():
    sc = _empty_room()
    buf, D, _ = trace(sc)
    lab = buf.lab.reshape(24, 32)
    assert lab[0, 16] == CEILING and lab[-1, 16] == FLOOR and lab[12, 16] == WALL
    assert (buf.surf.reshape(24, 32)[12, 16]) == 2  # the wall at z = depth
    # The centre ray hits the far wall 3.5 m ahead (D is not normalised: t is depth along fwd).
    assert buf.t.reshape(24, 32)[12, 16] == pytest.approx(3.5, rel=1e-5)

    p = Parts()
    p.box(-0.3, 0.3, 1.0, 1.5, 0.0, 0.2, TABLE, sc.material('matte'), np.ones(3))
    oid = sc.add_object(p, np.array([2.0, 0.0, 2.0]), 0.0)
    q = Parts()  # a void-labelled object further back, hidden behind the first one
    q.box(-0.2, 0.2, 1.1, 1.4, 0.0, 0.1, TABLE, sc.material('matte'), np.ones(3))
    sc.add_object(q, np.array([2.0, 0.0, 3.0]), 0.0, void=True)
    buf, *_ = trace(sc)
    lab, obj = buf.lab.reshape(24, 32), buf.obj.reshape(24, 32)
    assert lab[12, 16] == TABLE and obj[12, 16] == oid
    assert buf.t.reshape(24, 32)[12, 16] == pytest.approx(1.5, rel=1e-5)
    assert not (lab == VOID).any()  # fully occluded
    assert lab[12, 0] == WALL and (lab == TABLE).sum() < lab.size / 4
