"""Materials: per-pixel albedo and emission of every surface kind, from procedural textures.

Textures are evaluated in face coordinates (metres and normalised, from the G-buffer) with a
shared value-noise grid and integer-cell hashes: wood grain, fabric, paint and wallpaper, tiles,
planks, cabinet fronts, book spines, pictures, window views, screens, doors, lamp shades, leaves
and rugs. Materials draw nothing from the random stream; all their randomness was drawn into
their parameters while the scene was built.
"""
from __future__ import annotations

import numpy as np

from .palettes import PAGE_EDGE_COLOR
from .raycast import GBuffer
from .scene import Scene

__all__ = ['shade_material', 'surface_albedo']


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


def surface_albedo(sc: Scene, buf: GBuffer) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Albedo, emission and gloss of every pixel, one material at a time.

    Args:
        sc: The scene (its materials and noise).
        buf: The G-buffer from :func:`~.raycast.trace`.

    Returns:
        ``(albedo, emission, gloss)``: n×3, n×3 and n float32 arrays.
    """
    n = len(buf.t)
    albedo = np.zeros((n, 3), np.float32)
    emit = np.zeros((n, 3), np.float32)
    gloss = np.zeros(n, np.float32)
    for mid in np.unique(buf.mat):
        sel = np.flatnonzero(buf.mat == mid)
        m = sc.materials[mid]
        a, e = shade_material(sc, m, buf.col[sel], buf.uvm[sel], buf.uvn[sel], buf.face[sel])
        albedo[sel] = a
        if e is not None:
            emit[sel] = e
        gloss[sel] = m['gloss']
    return albedo, emit, gloss


def shade_material(sc: Scene, m: dict, col: np.ndarray, uvm: np.ndarray, uvn: np.ndarray,
                   face: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Albedo and emission of the pixels of one material.

    Args:
        sc: The scene (its noise grid).
        m: The material's parameters (``kind`` selects the texture).
        col: n×3 base colours (linear RGB).
        uvm: n×2 face coordinates in metres.
        uvn: n×2 face coordinates normalised to [0, 1].
        face: n face codes (see :class:`~.raycast.GBuffer`).

    Returns:
        ``(albedo, emission)``: n×3 float32 and n×3 (or None when it does not emit).
    """
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
        a = np.where((face == 3)[:, None], PAGE_EDGE_COLOR, a)  # page edges on top
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


def _wall_like(sc: Scene, m: dict, kind: str, col: np.ndarray, u: np.ndarray, v: np.ndarray
               ) -> np.ndarray:
    """Walls and ceilings: paint, wallpaper stripes, panelling, tiles, ceiling grid, baseboard."""
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


def _floor_like(sc: Scene, m: dict, kind: str, col: np.ndarray, u: np.ndarray, v: np.ndarray
                ) -> np.ndarray:
    """Floors: planks (staggered rows), tiles (sometimes a checkerboard), carpet, plain."""
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
