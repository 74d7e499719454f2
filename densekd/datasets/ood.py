"""Out-of-domain (OOD) image sources: image folders and photos bundled with installed packages.

OOD items are dicts ``inputs`` (3×H×W float32, normalised by the pipeline) and ``img_path``
(str); there are no labels.
"""
from __future__ import annotations

import importlib.util
import logging
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from mmengine.logging import print_log
from torch.utils.data import Dataset

from densekd.registry import DATASETS

from .checks import image_header_problem, thread_map
from .nyuv2 import (IMG_EXTENSIONS, DatasetError, _short_list, evenly_spaced, read_image_rgb,
                    resolve_data_root)
from .transforms import build_pipeline, default_pipeline_cfg

__all__ = ['ImageFolderDataset', 'BundledPhotosDataset', 'bundled_photo_files',
           'SKIMAGE_EXCLUDED']


def _make_pipeline(pipeline: Sequence[dict[str, Any]] | Callable | None,
                   seed: int | None = None) -> Callable:
    if pipeline is None:
        pipeline = default_pipeline_cfg()
    return pipeline if callable(pipeline) else build_pipeline(pipeline, seed=seed)


@DATASETS.register_module()
class ImageFolderDataset(Dataset):
    """All images under a folder, recursively (e.g. an ImageNet or Places subset).

    Files are listed with ``os.walk`` (following symlinks) and sorted by relative path. The
    pipeline must produce a fixed size (e.g. ``RandomResizedCrop``) for images to batch.

    Bad files do not stop a run and are never fed as images:

    * at construction every kept file's header is opened (:func:`image_header_problem`, no
      pixel decode, about 0.1 ms a file: seconds per 100k files); files that cannot be opened
      are left out, logged with a count and the first names, and listed in ``skipped`` as
      ``(path, reason)``;
    * an image that fails to decode when an item is read (e.g. a truncated JPEG, which OpenCV
      would return with grey rows) is replaced by the next readable index, ``idx + 1, idx + 2,
      ...`` (wrapping around), so the replacement is deterministic; its path is logged once per
      process (each dataloader worker logs once) and kept in ``bad_paths``. When no image can be
      decoded at all, :class:`DatasetError` is raised.

    ``tools/train.py CONFIG --check-data`` decodes every file beforehand and lists the bad ones.

    Args:
        data_root: Folder to scan (``~``, ``$VARS`` and ``DENSEKD_DATA`` honoured).
        pipeline: albumentations transform dicts (see :func:`build_pipeline`); None means
            ImageNet ``Normalize`` only.
        extensions: File extensions to keep (case-insensitive).
        max_samples: Keep at most this many files, evenly spaced over the sorted list (class
            folders stay represented); None keeps all.
        pipeline_seed: Optional seed for the augmentation pipeline.

    Raises:
        DatasetNotFoundError: missing folder.
        DatasetError: no image file found, or none that can be opened.
    """

    def __init__(self,
                 data_root: str | os.PathLike,
                 pipeline: Sequence[dict[str, Any]] | Callable | None = None,
                 extensions: Sequence[str] = IMG_EXTENSIONS,
                 max_samples: int | None = None,
                 pipeline_seed: int | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.data_root = resolve_data_root(data_root, name)
        exts = tuple(e.lower() if e.startswith('.') else '.' + e.lower() for e in extensions)
        files: list[str] = []
        other = 0
        for dirpath, dirnames, filenames in os.walk(self.data_root, followlinks=True):
            dirnames.sort()
            for fn in filenames:
                if fn.lower().endswith(exts):
                    files.append(os.path.join(dirpath, fn))
                else:
                    other += 1
        files.sort(key=lambda p: os.path.relpath(p, self.data_root))
        if not files:
            raise DatasetError(f'{name}: no image files under {str(self.data_root)!r} (searched '
                               f'recursively for {", ".join(exts)})')
        kept = evenly_spaced(files, max_samples, name)
        problems = list(thread_map(image_header_problem, kept))
        self.img_paths = [p for p, problem in zip(kept, problems) if problem is None]
        #: ``(path, reason)`` of the files left out because their header cannot be read.
        self.skipped = [(p, problem) for p, problem in zip(kept, problems) if problem]
        #: Paths that failed to decode in this process (replaced by another index).
        self.bad_paths: set[str] = set()
        if self.skipped:
            listed = _short_list([f'{os.path.relpath(p, self.data_root)} ({why})'
                                  for p, why in self.skipped])
            if not self.img_paths:
                raise DatasetError(f'{name}: none of the {len(kept)} image files under '
                                   f'{str(self.data_root)!r} can be opened: {listed}')
            print_log(f'{name}: skipped {len(self.skipped)} of {len(kept)} files under '
                      f'{self.data_root} that cannot be opened as images: {listed}',
                      logger='current', level=logging.WARNING)
        self.pipeline = _make_pipeline(pipeline, pipeline_seed)
        print_log(f'{name}: {len(self.img_paths)} images under {self.data_root}'
                  + (f' ({other} other files ignored)' if other else ''), logger='current')

    def __len__(self) -> int:
        return len(self.img_paths)

    def read_image(self, idx: int) -> tuple[np.ndarray, str]:
        """Decode image ``idx``, or the next decodable one (see the class docstring).

        Args:
            idx: Item index.

        Returns:
            ``(image, path)``: H×W×3 uint8 RGB and the file it was read from.

        Raises:
            DatasetError: when no image of the dataset can be decoded.
        """
        n = len(self.img_paths)
        for k in range(n):
            path = self.img_paths[(idx + k) % n]
            if path in self.bad_paths:
                continue
            try:
                return read_image_rgb(path), path
            except DatasetError as exc:
                self.bad_paths.add(path)
                print_log(f'{type(self).__name__}: skipping an image that cannot be decoded, '
                          f'replaced by the next readable one: {exc}', logger='current',
                          level=logging.WARNING)
        raise DatasetError(f'{type(self).__name__}: none of the {n} images under '
                           f'{str(self.data_root)!r} can be decoded (see the warnings above)')

    def __getitem__(self, idx: int) -> dict[str, Any]:
        img, path = self.read_image(idx)
        inputs, _ = self.pipeline(img)
        return dict(inputs=inputs, img_path=path)


#: Files in scikit-image's ``data`` folder that are not photographs (or duplicates), skipped on
#: purpose. Anything else with a photo extension and a shorter side >= ``MIN_PHOTO_SIZE`` is used.
SKIMAGE_EXCLUDED = {
    'chessboard_GRAY.png': 'synthetic pattern',
    'chessboard_RGB.png': 'synthetic pattern',
    'color.png': 'synthetic colour chart',
    'horse.png': 'binary silhouette (mask)',
    'logo.png': 'logo graphic',
    'page.png': 'scanned text page',
    'text.png': 'text on a plain background',
    'phantom.png': 'synthetic Shepp-Logan phantom',
    'motorcycle_right.png': 'near duplicate of motorcycle_left.png (stereo pair)',
    'microaneurysms.png': 'tiny medical crop',
    'multipage.tif': 'file-format test data',
    'multipage_rgb.tif': 'file-format test data',
    'no_time_for_that_tiny.gif': 'tiny animation',
}
#: Shorter image side below which a bundled file is skipped (too small to crop from).
MIN_PHOTO_SIZE = 128
_PHOTO_EXTENSIONS = ('.png', '.jpg', '.jpeg')


def _package_dir(package: str, *sub: str) -> Path | None:
    """Folder inside an installed package, found without importing it (no pooch, no downloads)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*sub)
    return path if path.is_dir() else None


def bundled_photo_files(sources: Sequence[str] = ('skimage', 'sklearn')
                        ) -> list[tuple[str, Path]]:
    """List candidate photo files shipped inside installed packages.

    Args:
        sources: ``'skimage'`` (scikit-image's ``data`` folder, only the files present on disk),
            ``'sklearn'`` (``sklearn/datasets/images``: china.jpg, flower.jpg), or a folder path
            (searched recursively; ``ood_root`` in a config sets it, see
            :mod:`densekd.utils.ood_root`).

    Returns:
        ``(source, file)`` pairs, sorted within each source. Size is not checked here.

    Raises:
        DatasetError: for an unknown source that is not a folder either.
    """
    out: list[tuple[str, Path]] = []
    for src in sources:
        if src == 'skimage':
            folder = _package_dir('skimage', 'data')
            excluded = SKIMAGE_EXCLUDED
        elif src == 'sklearn':
            folder = _package_dir('sklearn', 'datasets', 'images')
            excluded = {}
        elif os.path.isdir(os.path.expanduser(src)):
            folder, excluded = Path(os.path.expanduser(src)), {}
        else:
            raise DatasetError(f'BundledPhotosDataset: source {src!r} is neither '
                               f"'skimage', 'sklearn' nor an existing folder (check ood_root)")
        if folder is None:
            print_log(f'BundledPhotosDataset: source {src!r} not available (package not '
                      f'installed)', logger='current', level=30)
            continue
        # A user's folder is searched recursively (like ImageFolderDataset); packages are flat.
        files = folder.rglob('*') if src not in ('skimage', 'sklearn') else folder.iterdir()
        for f in sorted(files):
            if f.suffix.lower() in _PHOTO_EXTENSIONS and f.name not in excluded and f.is_file():
                out.append((src, f))
    return out


@DATASETS.register_module()
class BundledPhotosDataset(Dataset):
    """A fixed pool of random multi-scale crops of real photos that ship inside installed packages.

    Item ``i`` picks a photo and a crop window from ``np.random.default_rng([seed, i])``: the crop
    covers a fraction of the photo area drawn from ``scale_range``, has the aspect ratio of
    ``crop_size`` (shrunk to fit the photo if needed) and is resized to ``crop_size``. The crops
    are therefore deterministic given ``(seed, i)``; the pipeline's random augmentation (e.g. a
    flip) is applied on top. Photos are decoded once at construction (about 20 MB).

    Args:
        num_samples: Dataset length.
        crop_size: Output ``(height, width)``.
        scale_range: Range of the crop's area as a fraction of the photo area, in ``(0, 1]``.
        pipeline: albumentations transform dicts applied after cropping (typically
            ``HorizontalFlip`` + ``Normalize``); None means ImageNet ``Normalize`` only.
        sources: Where to look, see :func:`bundled_photo_files`.
        seed: Seed of the crop pool (and of the pipeline).

    Raises:
        DatasetError: invalid arguments, or no photo found (says which packages to install).
    """

    def __init__(self,
                 num_samples: int = 1000,
                 crop_size: Sequence[int] = (96, 128),
                 scale_range: Sequence[float] = (0.25, 1.0),
                 pipeline: Sequence[dict[str, Any]] | Callable | None = None,
                 sources: Sequence[str] = ('skimage', 'sklearn'),
                 seed: int = 0) -> None:
        super().__init__()
        name = type(self).__name__
        if int(num_samples) < 1:
            raise DatasetError(f'{name}: num_samples must be >= 1, got {num_samples}')
        if len(crop_size) != 2 or min(crop_size) < 1:
            raise DatasetError(f'{name}: crop_size must be (height, width) > 0, got {crop_size}')
        lo, hi = (float(v) for v in scale_range)
        if not 0 < lo <= hi <= 1:
            raise DatasetError(f'{name}: scale_range must satisfy 0 < low <= high <= 1, '
                               f'got {tuple(scale_range)}')
        if int(seed) < 0:
            raise DatasetError(f'{name}: seed must be >= 0, got {seed}')
        if isinstance(sources, str):
            sources = (sources,)
        self.num_samples = int(num_samples)
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.scale_range = (lo, hi)
        self.seed = int(seed)

        self.photos: list[np.ndarray] = []
        self.photo_names: list[str] = []
        too_small = []
        for src, path in bundled_photo_files(sources):
            img = read_image_rgb(path)
            if min(img.shape[:2]) < MIN_PHOTO_SIZE:
                too_small.append(path.name)
                continue
            self.photos.append(img)
            self.photo_names.append(f'{src}:{path.name}')
        if not self.photos:
            small = (f' ({len(too_small)} images were skipped as smaller than {MIN_PHOTO_SIZE} '
                     f'px on their shorter side)' if too_small else '')
            raise DatasetError(
                f'{name}: no usable photos found in sources {list(sources)}{small}; install '
                f'scikit-image and/or scikit-learn (`pip install scikit-image scikit-learn`), or '
                f'point ood_root at a folder of photos')
        print_log(f'{name}: {len(self.photos)} photos ({", ".join(self.photo_names)})'
                  + (f'; skipped {len(too_small)} smaller than {MIN_PHOTO_SIZE} px: '
                     f'{", ".join(too_small)}' if too_small else ''), logger='current')
        self.pipeline = _make_pipeline(pipeline, self.seed)

    def __len__(self) -> int:
        return self.num_samples

    def crop(self, idx: int) -> tuple[np.ndarray, str]:
        """The deterministic crop of item ``idx`` before the pipeline.

        Args:
            idx: Item index.

        Returns:
            ``(crop, description)``: ``crop_size`` H×W×3 uint8 RGB and
            ``'<source>:<file>@(y,x,h,w)'``.
        """
        if not 0 <= idx < self.num_samples:
            raise IndexError(f'index {idx} out of range for {self.num_samples} samples')
        rng = np.random.default_rng([self.seed, idx])
        k = int(rng.integers(len(self.photos)))
        photo = self.photos[k]
        H, W = photo.shape[:2]
        out_h, out_w = self.crop_size
        aspect = out_w / out_h
        area = rng.uniform(*self.scale_range) * H * W
        h, w = math.sqrt(area / aspect), math.sqrt(area * aspect)
        shrink = min(1.0, H / h, W / w)  # keep the aspect ratio when the window would not fit
        h, w = max(1, min(H, round(h * shrink))), max(1, min(W, round(w * shrink)))
        y = int(rng.integers(0, H - h + 1))
        x = int(rng.integers(0, W - w + 1))
        window = photo[y:y + h, x:x + w]
        interp = cv2.INTER_AREA if h > out_h else cv2.INTER_LINEAR
        out = cv2.resize(window, (out_w, out_h), interpolation=interp)
        return out, f'{self.photo_names[k]}@({y},{x},{h},{w})'

    def __getitem__(self, idx: int) -> dict[str, Any]:
        img, desc = self.crop(idx)
        inputs, _ = self.pipeline(img)
        return dict(inputs=inputs, img_path=desc)
