"""Per-file integrity checks of image and label files, cheap enough to run at construction.

* :func:`image_header_problem` opens a file's header with Pillow (no pixel decode): the scan an
  image folder runs over all its files when it is built.
* :func:`jpeg_truncation_problem` tells a truncated JPEG from a complete one. OpenCV decodes a
  truncated JPEG without an error (libjpeg only prints "Premature end of JPEG file" and fills the
  missing rows with grey), so :func:`~densekd.datasets.nyuv2.read_image_rgb` asks this first.
  Other formats need no such check: OpenCV returns no image for a truncated PNG, WebP, BMP or TIFF.
* :func:`thread_map` runs such checks over many files on a few threads (OpenCV and Pillow release
  the GIL while they read and decode).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from PIL import Image, ImageFile

__all__ = ['image_header_problem', 'jpeg_truncation_problem', 'thread_map']

T = TypeVar('T')

_JPEG_SOI = b'\xff\xd8'
_JPEG_EOI = b'\xff\xd9'
#: How far from the end of a JPEG its end-of-image marker may sit (some writers pad the file).
_EOI_WINDOW = 4096


def image_header_problem(path: str | os.PathLike) -> str | None:
    """Why a file cannot be opened as an image, from its header only (no pixel decode).

    Args:
        path: Image file.

    Returns:
        None when Pillow recognises the format and reads a non-empty size; otherwise a short
        reason (e.g. ``'cannot identify image file'``).
    """
    try:
        with Image.open(path) as img:
            width, height = img.size
    except (OSError, ValueError, SyntaxError) as exc:  # Pillow's errors for unreadable files
        return _reason(exc, path)
    if width < 1 or height < 1:
        return f'empty image ({width}x{height})'
    return None


def jpeg_truncation_problem(path: str | os.PathLike) -> str | None:
    """Why a JPEG file is incomplete, or None (also for files that are not JPEGs).

    A complete JPEG ends with the end-of-image marker ``FF D9``, which the entropy-coded data
    cannot contain, so finding it near the end of the file settles it without decoding. Only a
    file without it (truncated, or a valid JPEG with trailing data appended, as some cameras
    write) is decoded in full by Pillow, which raises for a truncated file as long as
    ``PIL.ImageFile.LOAD_TRUNCATED_IMAGES`` is off (its default; densekd never turns it on).

    Args:
        path: Image file (any format).

    Returns:
        None for a complete JPEG or a non-JPEG file; otherwise the reason, e.g.
        ``'truncated JPEG: image file is truncated (12 bytes not processed)'``.
    """
    with open(path, 'rb') as fh:
        if fh.read(2) != _JPEG_SOI:
            return None
        size = fh.seek(0, os.SEEK_END)
        fh.seek(max(0, size - _EOI_WINDOW))
        if _JPEG_EOI in fh.read():
            return None
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        return 'JPEG without an end-of-image marker (PIL.ImageFile.LOAD_TRUNCATED_IMAGES is on, '\
               'so it cannot be decoded to check it)'
    try:
        with Image.open(path) as img:
            img.load()
    except (OSError, ValueError, SyntaxError) as exc:
        return f'truncated JPEG: {_reason(exc, path)}'
    return None


def thread_map(fn: Callable[[T], Any], items: Iterable[T],
               num_threads: int | None = None) -> Iterator[Any]:
    """``map(fn, items)`` on a few threads, results in input order.

    Args:
        fn: Function of one item (file checks: I/O and decoding release the GIL).
        items: The inputs.
        num_threads: Threads; None means ``min(8, os.cpu_count())``.

    Returns:
        An iterator over ``fn(item)`` in the order of ``items`` (exceptions are re-raised when
        their result is reached).
    """
    items = list(items)
    n = num_threads or min(8, os.cpu_count() or 1)
    if n <= 1 or len(items) <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(max_workers=n) as pool:
        yield from pool.map(fn, items)


def _reason(exc: BaseException, path: str | os.PathLike) -> str:
    # Pillow repeats the file name in some messages; the caller names the file already.
    text = str(exc)
    for name in (repr(str(path)), repr(os.fspath(path)), str(path)):
        text = text.replace(name, '')
    return text.strip().rstrip(':').strip() or type(exc).__name__
