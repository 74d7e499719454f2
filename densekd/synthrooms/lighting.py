"""Lighting and the camera's response: from albedo and emission to the final 8-bit image.

One pass adds hemisphere ambient light darkened by room-corner occlusion and contact shadows
(distance to each object's bounding box), up to three warm point lights with falloff and a
specular lobe, and the light of the first window; the camera model then applies auto exposure,
a colour cast, vignetting, gamma, blur and sensor noise.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from .camera import BOX_CORNERS, screen_rect
from .materials import surface_albedo
from .raycast import GBuffer
from .scene import Scene, yaw_rotation

__all__ = ['shade']

f32 = np.float32


def shade(sc: Scene, buf: GBuffer, D: np.ndarray, cam: tuple) -> np.ndarray:
    """Shade a traced scene into an image.

    Args:
        sc: The scene (its lighting and camera-model draws come from its random stream).
        buf: The G-buffer from :func:`~.raycast.trace`.
        D: The (H*W)×3 float32 ray directions.
        cam: :func:`~.camera.camera_basis` of the scene.

    Returns:
        H×W×3 uint8 RGB.
    """
    albedo, emit, gloss = surface_albedo(sc, buf)
    P = sc.eye.astype(f32)[None] + buf.t[:, None] * D
    ao = _occlusion(sc, buf, P, cam)
    light, spec = _direct_light(sc, buf, P, D, ao, gloss)
    return _camera_response(sc, albedo * light + emit + spec[:, None])


def _occlusion(sc: Scene, buf: GBuffer, P: np.ndarray, cam: tuple) -> np.ndarray:
    """Per-pixel ambient occlusion factor in (0, 1] at hit points ``P``."""
    # Room edges (floor/wall and wall/wall creases) ...
    W, D, H = f32(sc.room_width), f32(sc.room_depth), f32(sc.room_height)
    dist = np.stack([P[:, 2], W - P[:, 0], D - P[:, 2], P[:, 0], P[:, 1], H - P[:, 1]], 1)
    room = buf.surf >= 0
    dist[np.flatnonzero(room), buf.surf[room]] = np.inf  # a surface does not occlude itself
    occ = 1 - f32(0.3) * np.exp(np.maximum(dist, 0) * f32(-4.0))
    ao = occ[:, 0] * occ[:, 1] * occ[:, 2] * occ[:, 3] * occ[:, 4] * occ[:, 5]
    # ... and contact shadows: distance to each object's bounding box.
    for origin, yaw, cb, hb, strength, rad, oid in sc.shadow_casters:
        rot = yaw_rotation(yaw)
        corners = (cb + BOX_CORNERS * (hb + 2 * rad)) @ rot.T + origin
        rc = screen_rect(sc, corners, cam)
        if rc is None:
            continue
        r0, r1, c0, c1 = rc
        idx = (np.arange(r0, r1)[:, None] * sc.width + np.arange(c0, c1)[None]).ravel()
        idx = idx[buf.obj[idx] != oid]
        q = np.maximum(np.abs((P[idx] - origin.astype(f32)) @ rot.astype(f32) - cb.astype(f32))
                       - hb.astype(f32), 0)
        dd = np.sqrt(q[:, 0] ** 2 + q[:, 1] ** 2 + q[:, 2] ** 2)
        ao[idx] *= 1 - f32(strength) * np.exp(dd * f32(-1 / rad))
    return ao


def _direct_light(sc: Scene, buf: GBuffer, P: np.ndarray, D: np.ndarray, ao: np.ndarray,
                  gloss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Diffuse irradiance (n×3) and specular intensity (n) at hit points ``P``."""
    n = len(buf.t)
    N = buf.nrm
    warm = np.array([1.0, sc.uniform(0.78, 0.95), sc.uniform(0.55, 0.8)], f32)
    hemi = 0.75 + 0.25 * N[:, 1]
    amb = sc.uniform(0.25, 0.5)
    light = np.repeat((f32(amb) * hemi * ao)[:, None], 3, axis=1)
    spec = np.zeros(n, np.float32)
    view = -D / np.sqrt((D * D).sum(1, keepdims=True))
    for k, lt in enumerate(sc.lights[:3]):
        L = lt['pos'].astype(f32) - P
        dl = np.sqrt((L * L).sum(1)) + f32(1e-6)
        L = L / dl[:, None]
        ndl = np.maximum((N * L).sum(1), 0)
        inten = sc.uniform(0.8, 1.5) if k == 0 else sc.uniform(0.3, 0.6)
        r0 = sc.uniform(1.8, 3.5) if k == 0 else 0.8
        fall = f32(inten) / (1 + (dl * f32(1 / r0)) ** 2)
        light += ((ndl * fall) * (0.4 + 0.6 * ao))[:, None] * warm
        hv = L + view
        hv /= np.sqrt((hv * hv).sum(1, keepdims=True)) + f32(1e-6)
        spec += gloss * fall * np.maximum((N * hv).sum(1), 0) ** 30
    if sc.windows:
        _, wyaw = sc.wall_pose(sc.windows[0], 0.0)
        ld = yaw_rotation(wyaw) @ np.array([0.0, 0.0, 1.0])
        ld = (ld * math.cos(0.6) + np.array([0.0, -math.sin(0.6), 0.0])).astype(f32)
        ndl = np.maximum(-(N @ ld), 0)
        sky_blue = np.array([0.9, 0.95, 1.05], f32)
        light += (ndl * f32(sc.uniform(0.1, 0.5)) * ao)[:, None] * sky_blue
    return light, spec


def _camera_response(sc: Scene, radiance: np.ndarray) -> np.ndarray:
    """Auto exposure, white balance cast, vignetting, gamma, blur and noise; to uint8."""
    rng = sc.rng
    n = len(radiance)
    lum = radiance @ np.array([0.3, 0.59, 0.11], f32)
    k90 = int(0.9 * (n - 1))
    expo = sc.uniform(0.55, 0.85) / max(float(np.partition(lum, k90)[k90]), 1e-3)
    img = radiance * f32(expo)
    cast = np.array([sc.uniform(0.9, 1.12), 1.0, sc.uniform(0.8, 1.08)], f32)
    img = img * cast
    img = img.reshape(sc.height, sc.width, 3)
    yy, xx = np.mgrid[0:sc.height, 0:sc.width]
    rr = ((yy - sc.height / 2) / sc.height) ** 2 + ((xx - sc.width / 2) / sc.width) ** 2
    img *= (1 - sc.uniform(0.2, 0.6) * rr).astype(f32)[..., None]
    img = np.clip(img, 0, 1) ** f32(1 / sc.uniform(2.0, 2.4))
    sig = sc.uniform(0.35, 0.8)
    img = cv2.GaussianBlur(img, (0, 0), sig)
    img += rng.standard_normal(img.shape, dtype=f32) * f32(sc.uniform(0.004, 0.02))
    img += rng.standard_normal(img.shape[:2] + (1,), dtype=f32) * f32(sc.uniform(0.0, 0.01))
    return np.clip(img * 255 + 0.5, 0, 255).astype(np.uint8)
