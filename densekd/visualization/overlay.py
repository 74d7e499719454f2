"""Mask colouring, overlays, side-by-side panels and legends (numpy / cv2, RGB uint8 throughout).

Everything here takes and returns RGB images; only the code that writes files converts to BGR.
"""
from __future__ import annotations

import math
from typing import Iterable, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch

from .palette import palette_lut

ArrayLike = Union[np.ndarray, torch.Tensor]

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TEXT_COLOR = (0, 0, 0)
_BG_VALUE = 255  # white bands / padding


def _to_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _as_rgb(image: ArrayLike) -> np.ndarray:
    img = _to_numpy(image)
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'expected an H×W×3 (or H×W) image, got shape {img.shape}')
    if img.dtype != np.uint8:
        img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return img


def colorize_mask(mask: ArrayLike, palette: Sequence[Sequence[int]]) -> np.ndarray:
    """Colour a label map through a palette.

    Args:
        mask: H×W integer class ids; ids outside ``[0, C)`` (255 = void, -1, ...) are black.
        palette: C RGB triplets.

    Returns:
        uint8 H×W×3 RGB image.
    """
    m = _to_numpy(mask)
    if m.ndim != 2:
        raise ValueError(f'mask must be H×W, got shape {m.shape}')
    lut = palette_lut(palette)
    num_classes = lut.shape[0] - 1
    m = m.astype(np.int64)
    # Route every id outside the palette to the void row of the LUT (black).
    idx = np.where((m >= 0) & (m < num_classes), m, num_classes)
    return lut[idx]


def overlay_mask(image: ArrayLike, mask: ArrayLike, palette: Sequence[Sequence[int]],
                 alpha: float = 0.5) -> np.ndarray:
    """Alpha-blend a coloured label map onto an image: ``image*(1-alpha) + colour*alpha``.

    Void / out-of-range pixels keep the image untouched (blending black over them would hide
    the picture exactly where there is no label).

    Args:
        image: H×W×3 uint8 RGB (or H×W grey) image.
        mask: H×W integer class ids, same H×W as ``image``.
        palette: C RGB triplets.
        alpha: Weight of the mask colour, in [0, 1].

    Returns:
        uint8 H×W×3 RGB image.

    Raises:
        ValueError: If the sizes differ or ``alpha`` is outside [0, 1].
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'alpha must be in [0, 1], got {alpha}')
    img = _as_rgb(image)
    m = _to_numpy(mask)
    if m.shape != img.shape[:2]:
        raise ValueError(f'mask shape {m.shape} does not match image size {img.shape[:2]}; '
                         f'resize one of them (nearest for masks)')
    color = colorize_mask(m, palette)
    num_classes = len(palette)
    valid = (m >= 0) & (m < num_classes)
    blended = img.astype(np.float32) * (1.0 - alpha) + color.astype(np.float32) * alpha
    out = img.copy()
    out[valid] = np.clip(np.rint(blended[valid]), 0, 255).astype(np.uint8)
    return out


def _title_band(width: int, title: str, height: int, font_scale: float) -> np.ndarray:
    band = np.full((height, width, 3), _BG_VALUE, dtype=np.uint8)
    if title:
        (tw, th), _ = cv2.getTextSize(title, _FONT, font_scale, 1)
        x = max(2, (width - tw) // 2)
        y = (height + th) // 2
        cv2.putText(band, title, (x, y), _FONT, font_scale, _TEXT_COLOR, 1, cv2.LINE_AA)
    return band


def side_by_side(images: Sequence[ArrayLike], titles: Optional[Sequence[str]] = None,
                 pad: int = 4, height: Optional[int] = None, font_scale: float = 0.5
                 ) -> np.ndarray:
    """Concatenate images horizontally, with optional titles on a white band above each.

    Args:
        images: H×W×3 (or H×W) uint8 RGB images; sizes may differ.
        titles: One title per image, or None for no title band.
        pad: Width in pixels of the white gap between images.
        height: Common height; the tallest image's height when None. Images are resized with
            nearest-neighbour interpolation so label boundaries stay crisp, keeping aspect ratio.
        font_scale: cv2 font scale of the titles.

    Returns:
        uint8 RGB image.

    Raises:
        ValueError: If ``images`` is empty or ``titles`` has the wrong length.
    """
    if not images:
        raise ValueError('side_by_side needs at least one image')
    if titles is not None and len(titles) != len(images):
        raise ValueError(f'got {len(titles)} titles for {len(images)} images')
    imgs = [_as_rgb(im) for im in images]
    h = int(height) if height is not None else max(im.shape[0] for im in imgs)
    resized = []
    for im in imgs:
        if im.shape[0] != h:
            w = max(1, int(round(im.shape[1] * h / im.shape[0])))
            im = cv2.resize(im, (w, h), interpolation=cv2.INTER_NEAREST)
        resized.append(im)

    if titles is not None:
        (_, th), base = cv2.getTextSize('Ag', _FONT, font_scale, 1)
        band_h = th + base + 8
        resized = [np.concatenate([_title_band(im.shape[1], str(t), band_h, font_scale), im], 0)
                   for im, t in zip(resized, titles)]

    parts: List[np.ndarray] = []
    for i, im in enumerate(resized):
        if i and pad > 0:
            parts.append(np.full((im.shape[0], pad, 3), _BG_VALUE, dtype=np.uint8))
        parts.append(im)
    return np.concatenate(parts, axis=1)


def draw_legend(class_names: Sequence[str], palette: Sequence[Sequence[int]],
                present: Optional[Iterable[int]] = None, width: Optional[int] = None,
                swatch: int = 14, font_scale: float = 0.45) -> np.ndarray:
    """Draw colour swatches with class names on a white band.

    Args:
        class_names: C class names in label-id order.
        palette: C RGB triplets.
        present: Class ids to show (e.g. ``np.unique`` of the masks); ids outside ``[0, C)``
            such as 255 are ignored. All classes when None.
        width: Width of the band; entries wrap into as many columns as fit. When None, a single
            column just wide enough for the longest name.
        swatch: Side of a colour square in pixels.
        font_scale: cv2 font scale of the names.

    Returns:
        uint8 H×W×3 RGB image (never empty: shows ``(no classes)`` when nothing is present).
    """
    if len(class_names) != len(palette):
        raise ValueError(f'got {len(class_names)} class names for {len(palette)} palette colours')
    num_classes = len(class_names)
    if present is None:
        ids = list(range(num_classes))
    else:
        arr = (_to_numpy(present) if isinstance(present, (np.ndarray, torch.Tensor))
               else np.asarray(list(present), dtype=np.int64))
        ids = sorted({int(k) for k in arr.ravel() if 0 <= int(k) < num_classes})
    entries = [(str(class_names[k]), tuple(int(c) for c in palette[k])) for k in ids]

    margin, gap = 4, 6
    (_, th), base = cv2.getTextSize('Ag', _FONT, font_scale, 1)
    row_h = max(swatch, th + base) + 4
    if not entries:
        text = '(no classes)'
        (tw, _), _ = cv2.getTextSize(text, _FONT, font_scale, 1)
        w = width or tw + 2 * margin
        band = np.full((row_h + 2 * margin, w, 3), _BG_VALUE, dtype=np.uint8)
        cv2.putText(band, text, (margin, margin + (row_h + th) // 2), _FONT, font_scale,
                    _TEXT_COLOR, 1, cv2.LINE_AA)
        return band

    text_w = max(cv2.getTextSize(n, _FONT, font_scale, 1)[0][0] for n, _ in entries)
    cell_w = swatch + gap + text_w + 2 * gap
    if width is None:
        ncols = 1
        width = cell_w + 2 * margin
    else:
        ncols = max(1, (int(width) - 2 * margin) // cell_w)
    nrows = math.ceil(len(entries) / ncols)
    band = np.full((nrows * row_h + 2 * margin, int(width), 3), _BG_VALUE, dtype=np.uint8)
    for i, (name, color) in enumerate(entries):
        r, c = divmod(i, ncols)
        x = margin + c * cell_w
        y = margin + r * row_h
        sy = y + (row_h - swatch) // 2
        cv2.rectangle(band, (x, sy), (x + swatch - 1, sy + swatch - 1), color, thickness=-1)
        # Thin outline so dark / white swatches stay visible on the white band.
        cv2.rectangle(band, (x, sy), (x + swatch - 1, sy + swatch - 1), (96, 96, 96), 1)
        cv2.putText(band, name, (x + swatch + gap, y + (row_h + th) // 2 - 1), _FONT,
                    font_scale, _TEXT_COLOR, 1, cv2.LINE_AA)
    return band


def denormalize(tensor: ArrayLike, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """Undo albumentations ``Normalize(mean, std, max_pixel_value=255)`` for display.

    Args:
        tensor: 3×H×W normalised image (torch or numpy), i.e. ``(x/255 - mean) / std``.
        mean: Per-channel mean in [0, 1] units.
        std: Per-channel std in [0, 1] units.

    Returns:
        uint8 H×W×3 RGB image.
    """
    x = _to_numpy(tensor).astype(np.float32)
    if x.ndim != 3 or x.shape[0] != 3:
        raise ValueError(f'expected a 3×H×W tensor, got shape {x.shape}')
    m = np.asarray(mean, dtype=np.float32).reshape(3, 1, 1)
    s = np.asarray(std, dtype=np.float32).reshape(3, 1, 1)
    img = (x * s + m) * 255.0
    return np.clip(np.rint(img), 0, 255).astype(np.uint8).transpose(1, 2, 0).copy()
