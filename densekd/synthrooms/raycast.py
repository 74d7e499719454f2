"""Ray casting: camera rays against the room box and the primitive groups, into a G-buffer.

Every pixel's ray first exits the room through a wall, the floor or the ceiling; then each
primitive group whose projected bounding box covers the pixel is intersected in its local
frame, and nearer hits overwrite the buffer (a z-buffer), so occlusion is exact.
"""
from __future__ import annotations

import numpy as np

from .camera import BOX_CORNERS, camera_basis, screen_rect
from .palettes import CEILING, FLOOR, WALL
from .scene import Scene

__all__ = ['GBuffer', 'intersect_group', 'trace']

# Face coordinates of a box face hit along each axis: (u, v) local axes per entry-face axis.
_U_AX = np.array([2, 0, 0])
_V_AX = np.array([1, 2, 1])


def intersect_group(kind: str, o: np.ndarray, d: np.ndarray, c: np.ndarray, h: np.ndarray,
                    near: float = 0.05) -> tuple:
    """Nearest hit of local rays with k primitives of one kind.

    Args:
        kind: ``'box'``, ``'ell'`` (ellipsoid) or ``'cyl'`` (vertical elliptic cylinder).
        o: Ray origin (3,), shared by all rays, in the primitives' frame.
        d: Ray directions, n×3 (not necessarily unit: ``t`` is in units of ``d``).
        c: Primitive centres, k×3.
        h: Primitive half-sizes (radii), k×3.
        near: Hits closer than this are ignored.

    Returns:
        ``(t, j, nrm, uvm, uvn, face)`` per ray: hit distance (inf where nothing is hit), index
        of the primitive hit, local unit normal, face coordinates in metres and normalised to
        [0, 1], and the face code (see :class:`GBuffer`).
    """
    oc = (o[None, :] - c).astype(np.float32)  # ray origin relative to each primitive's centre
    hit = {'box': _hit_boxes, 'ell': _hit_ellipsoids, 'cyl': _hit_cylinders}[kind]
    return hit(oc, d, h, near)


def _hit_boxes(oc: np.ndarray, d: np.ndarray, h: np.ndarray, near: float) -> tuple:
    """Slab test against axis-aligned boxes (``oc``: ray origin minus centres)."""
    n = d.shape[0]
    r = np.arange(n)
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


def _hit_ellipsoids(oc: np.ndarray, d: np.ndarray, h: np.ndarray, near: float) -> tuple:
    """Quadratic in the frame where each ellipsoid is the unit sphere."""
    n = d.shape[0]
    r = np.arange(n)
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


def _hit_cylinders(oc: np.ndarray, d: np.ndarray, h: np.ndarray, near: float) -> tuple:
    """Vertical elliptic cylinders: the side (quadratic in x, z) and the top / bottom caps."""
    n = d.shape[0]
    r = np.arange(n)
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


class GBuffer:
    """Per-pixel G-buffer (flattened H*W).

    Attributes:
        t: Hit distance along the (unnormalised) camera ray.
        lab: Class id.
        mat: Material id.
        col: Base colour (linear RGB).
        nrm: World unit normal.
        uvm: Face coordinates in metres.
        uvn: Face coordinates normalised to [0, 1].
        face: Face code: ``2 * axis + (normal > 0)`` for box faces (3 = top, 5 = front),
            6 for curved surfaces; walls use 5, the floor 3, the ceiling 2.
        obj: Object id (0 for the room).
        surf: Room surface (0..3 walls, 4 floor, 5 ceiling), -1 where an object was hit.
    """

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
        self.surf = np.full(n, -1, np.int8)


def trace(sc: Scene) -> tuple[GBuffer, np.ndarray, tuple]:
    """Cast one ray per pixel centre through the room and its objects.

    Args:
        sc: An aimed scene.

    Returns:
        ``(buffer, D, cam)``: the G-buffer, the (H*W)×3 float32 ray directions and
        :func:`~.camera.camera_basis` of the scene.
    """
    H, W = sc.height, sc.width
    cam = camera_basis(sc)
    fwd, right, down, f = cam
    jj, ii = np.meshgrid(np.arange(W) + 0.5 - W / 2, np.arange(H) + 0.5 - H / 2)
    D = (fwd[None, None] + (jj / f)[..., None] * right + (ii / f)[..., None] * down)
    D = D.reshape(-1, 3).astype(np.float32)
    buf = GBuffer(H * W)
    _hit_room(sc, D, buf)
    for g in sc.groups:
        _hit_group(sc, g, D, cam, buf)
    return buf, D, cam


def _hit_room(sc: Scene, D: np.ndarray, buf: GBuffer) -> None:
    """Fill ``buf`` with the room surfaces (the only hit where no object is in the way).

    The camera is inside the box, so each ray exits through exactly one face.
    """
    C = sc.eye.astype(np.float32)
    Ds = np.where(np.abs(D) < 1e-7, 1e-7, D)
    hi = np.array([sc.room_width, sc.room_height, sc.room_depth], np.float32)
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
    wall_s = np.select([surf == 0, surf == 1, surf == 2],
                       [P[:, 0], P[:, 2], sc.room_width - P[:, 0]], sc.room_depth - P[:, 2])
    is_fc = surf >= 4
    buf.uvm[:, 0] = np.where(is_fc, P[:, 0], wall_s)
    buf.uvm[:, 1] = np.where(is_fc, P[:, 2], P[:, 1])
    mats = np.array(sc.wall_materials + [sc.floor_material, sc.ceiling_material], np.int16)
    cols = np.array(sc.wall_colors + [sc.floor_color, sc.ceiling_color], np.float32)
    buf.mat[:] = mats[surf]
    buf.col[:] = cols[surf]
    normals = np.array([[0, 0, 1], [-1, 0, 0], [0, 0, -1], [1, 0, 0], [0, 1, 0], [0, -1, 0]],
                       np.float32)
    buf.nrm[:] = normals[surf]
    buf.face[:] = np.where(surf == 4, 3, np.where(surf == 5, 2, 5))


def _hit_group(sc: Scene, g: dict, D: np.ndarray, cam: tuple, buf: GBuffer) -> None:
    """Intersect the rays of the pixels that group ``g`` can cover; keep nearer hits."""
    W = sc.width
    c, h, lo, hi_ = g['c'], g['h'], g['lo'], g['hi']
    rot = g['rot']
    corners = ((lo + hi_) / 2 + BOX_CORNERS * (hi_ - lo) / 2) @ rot.T + g['origin']
    rc = screen_rect(sc, corners, cam)
    if rc is None:
        return
    r0, r1, c0, c1 = rc
    idx = (np.arange(r0, r1)[:, None] * W + np.arange(c0, c1)[None]).ravel()
    o = (rot.T @ (sc.eye - g['origin'])).astype(np.float32)
    d = D[idx] @ rot.astype(np.float32)   # world -> local: R^T d, row-vector form
    # Cull rays that miss the group's bounding box or meet it behind the z-buffer.
    inv = 1.0 / np.where(np.abs(d) < 1e-7, 1e-7, d)
    ta, tb = (lo - o) * inv, (hi_ - o) * inv
    tl, th = np.minimum(ta, tb), np.maximum(ta, tb)
    tn = np.maximum(np.maximum(tl[:, 0], tl[:, 1]), tl[:, 2])  # column ops: reduces over a
    tf = np.minimum(np.minimum(th[:, 0], th[:, 1]), th[:, 2])  # length-3 axis are slow
    keep = (tf >= np.maximum(tn, 0.05)) & (tn < buf.t[idx])
    if not keep.any():
        return
    idx, d = idx[keep], d[keep]
    tt, j, nrm, uvm, uvn, face = intersect_group(g['kind'], o, d, c, h)
    hit = tt < buf.t[idx]
    if not hit.any():
        return
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
