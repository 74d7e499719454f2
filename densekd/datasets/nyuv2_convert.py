"""Convert the official NYUv2 files into the layout :class:`NYUv2Dataset` reads.

Inputs (the official files):

* ``nyu_depth_v2_labeled.mat`` — MATLAB v7.3 (HDF5). ``images``: (N, 3, 640, 480) uint8 and
  ``labels``: (N, 640, 480) uint16 with 894 raw classes (0 = unlabeled), both stored transposed.
* ``splits.mat`` — ``trainNdxs`` (795) and ``testNdxs`` (654), 1-based frame indices.
* ``classMapping40.mat`` — ``mapClass``: 894 entries mapping raw class 1..894 to 1..40.

Output (VainF/nyuv2-python-toolkit layout, ``%05d`` = 1-based frame index)::

    <out>/image/{train,test}/%05d.png   RGB 480x640
    <out>/seg13/{train,test}/%05d.png   uint8 0..12, 255 = void
    <out>/seg40/{train,test}/%05d.png   uint8 0..39, 255 = void
    <out>/splits.mat                    copy of the split file

The command-line front end is ``datasets/prepare_nyuv2.py``.
"""
from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from .nyuv2 import NYU40_CLASSES, NYUV2_CLASSES, DatasetError, DatasetNotFoundError

__all__ = ['NYU40_TO_13', 'MAP_40_TO_13', 'load_splits', 'load_class_mapping40',
           'build_label_luts', 'convert_frame', 'convert_nyuv2']

#: 40-class name -> 13-class name (methods.md §7.2, from ``class13Mapping.mat``).
NYU40_TO_13 = {
    'wall': 'wall', 'floor': 'floor', 'cabinet': 'furniture', 'bed': 'bed', 'chair': 'chair',
    'sofa': 'sofa', 'table': 'table', 'door': 'wall', 'window': 'window',
    'bookshelf': 'furniture', 'picture': 'picture', 'counter': 'furniture', 'blinds': 'window',
    'desk': 'table', 'shelves': 'furniture', 'curtain': 'window', 'dresser': 'furniture',
    'pillow': 'objects', 'mirror': 'objects', 'floor mat': 'floor', 'clothes': 'objects',
    'ceiling': 'ceiling', 'books': 'books', 'refridgerator': 'furniture', 'television': 'tv',
    'paper': 'objects', 'towel': 'objects', 'shower curtain': 'objects', 'box': 'objects',
    'whiteboard': 'objects', 'person': 'objects', 'night stand': 'furniture',
    'toilet': 'objects', 'sink': 'objects', 'lamp': 'objects', 'bathtub': 'objects',
    'bag': 'objects', 'otherstructure': 'objects', 'otherfurniture': 'furniture',
    'otherprop': 'objects',
}
#: ``MAP_40_TO_13[k]`` = 0-based 13-class id of the 0-based 40-class id ``k``.
MAP_40_TO_13 = tuple(NYUV2_CLASSES.index(NYU40_TO_13[c]) for c in NYU40_CLASSES)

VOID = 255


def _require(path: str | os.PathLike, what: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DatasetNotFoundError(f'{what} file {str(path)!r} does not exist')
    return path


def _loadmat(path: Path, what: str) -> dict:
    import scipy.io
    try:
        return scipy.io.loadmat(str(path))
    except NotImplementedError as exc:  # v7.3 files need h5py
        raise DatasetError(f'{what} {str(path)!r} is a MATLAB v7.3 file; expected the v5 .mat '
                           f'from the NYUv2 toolkit') from exc
    except Exception as exc:
        raise DatasetError(f'cannot read {what} {str(path)!r} as a MATLAB file: {exc}') from exc


def load_splits(path: str | os.PathLike, num_frames: int | None = None
                ) -> dict[str, np.ndarray]:
    """Read ``splits.mat``.

    Args:
        path: The split file (``trainNdxs``, ``testNdxs``; 1-based).
        num_frames: When given, indices must lie in ``1..num_frames``.

    Returns:
        ``dict(train=..., test=...)`` of sorted int64 1-based frame indices.

    Raises:
        DatasetError: missing keys, non-integer, out-of-range, duplicate or overlapping indices.
    """
    path = _require(path, 'splits')
    mat = _loadmat(path, 'splits file')
    out = {}
    for split, key in (('train', 'trainNdxs'), ('test', 'testNdxs')):
        if key not in mat:
            keys = sorted(k for k in mat if not k.startswith('__'))
            raise DatasetError(f'splits file {str(path)!r} has no {key!r}; found {keys}')
        raw = np.asarray(mat[key]).ravel()
        idx = raw.astype(np.int64)
        if raw.size == 0 or not np.array_equal(idx, raw):
            raise DatasetError(f'splits file {str(path)!r}: {key!r} must be a non-empty list of '
                               f'integer frame indices')
        if idx.min() < 1 or (num_frames is not None and idx.max() > num_frames):
            raise DatasetError(f'splits file {str(path)!r}: {key!r} has indices '
                               f'{idx.min()}..{idx.max()}; expected 1-based indices in '
                               f'1..{num_frames if num_frames is not None else "N"}')
        if len(np.unique(idx)) != len(idx):
            raise DatasetError(f'splits file {str(path)!r}: {key!r} has duplicate indices')
        out[split] = np.sort(idx)
    both = np.intersect1d(out['train'], out['test'])
    if both.size:
        raise DatasetError(f'splits file {str(path)!r}: {both.size} frames are in both train and '
                           f'test (first: {both[:5].tolist()})')
    return out


def load_class_mapping40(path: str | os.PathLike) -> np.ndarray:
    """Read ``classMapping40.mat``.

    Args:
        path: The mapping file (``mapClass``: raw class 1..894 -> 40-class id 1..40).

    Returns:
        1-D int64 array; entry ``r - 1`` is the 1-based 40-class id of raw class ``r``
        (0 = unlabeled).

    Raises:
        DatasetError: missing key or values outside 0..40.
    """
    path = _require(path, 'class mapping')
    mat = _loadmat(path, 'class mapping file')
    if 'mapClass' not in mat:
        keys = sorted(k for k in mat if not k.startswith('__'))
        raise DatasetError(f'class mapping file {str(path)!r} has no "mapClass"; found {keys}')
    raw = np.asarray(mat['mapClass'])
    if raw.ndim > 2 or (raw.ndim == 2 and min(raw.shape) != 1) or raw.size == 0:
        raise DatasetError(f'class mapping file {str(path)!r}: "mapClass" has shape {raw.shape}; '
                           f'expected a 1xK vector (K = 894 raw classes)')
    m = raw.ravel().astype(np.int64)
    if not np.array_equal(m, raw.ravel()) or m.min() < 0 or m.max() > len(NYU40_CLASSES):
        raise DatasetError(f'class mapping file {str(path)!r}: "mapClass" values must be '
                           f'integers in 0..{len(NYU40_CLASSES)}')
    return m


def build_label_luts(map_class: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables from raw NYUv2 labels (0..K) to seg13 and seg40 values.

    Args:
        map_class: Output of :func:`load_class_mapping40`.

    Returns:
        ``(lut13, lut40)`` uint8 arrays of length ``K + 1``: 0-based class ids, 255 = void (raw
        0 and raw classes mapped to 0).
    """
    m40 = np.concatenate([[0], np.asarray(map_class, dtype=np.int64)])  # index = raw label
    lut40 = np.full(m40.shape, VOID, np.uint8)
    lut13 = np.full(m40.shape, VOID, np.uint8)
    valid = m40 > 0
    lut40[valid] = m40[valid] - 1
    lut13[valid] = np.asarray(MAP_40_TO_13, np.uint8)[m40[valid] - 1]
    return lut13, lut40


def convert_frame(image: np.ndarray, label: np.ndarray, lut13: np.ndarray, lut40: np.ndarray,
                  name: str = 'frame') -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert one frame as stored in the .mat (transposed) to image/seg13/seg40 arrays.

    Args:
        image: (3, W, H) uint8 as stored in ``images``.
        label: (W, H) raw labels as stored in ``labels``.
        lut13: From :func:`build_label_luts`.
        lut40: From :func:`build_label_luts`.
        name: Used in error messages.

    Returns:
        ``(rgb, seg13, seg40)``: H×W×3 uint8 RGB and two H×W uint8 label maps.

    Raises:
        DatasetError: raw label values the mapping does not cover.
    """
    rgb = np.ascontiguousarray(np.asarray(image).transpose(2, 1, 0))
    raw = np.ascontiguousarray(np.asarray(label).T).astype(np.int64)
    if raw.size and (raw.max() >= len(lut13) or raw.min() < 0):
        bad = np.unique(raw[(raw >= len(lut13)) | (raw < 0)])[:10].tolist()
        raise DatasetError(f'{name}: raw label values {bad} are not covered by the class mapping '
                           f'(expected 0..{len(lut13) - 1})')
    return rgb, lut13[raw], lut40[raw]


def _imwrite(path: Path, img: np.ndarray) -> None:
    if not cv2.imwrite(str(path), img):
        raise OSError(f'cannot write {str(path)!r}')


def convert_nyuv2(labeled: str | os.PathLike,
                  splits: str | os.PathLike,
                  mapping40: str | os.PathLike,
                  out: str | os.PathLike,
                  which: Sequence[str] = ('train', 'test'),
                  log: Callable[[str], None] | None = print) -> dict[str, int]:
    """Write the VainF layout from the official NYUv2 files.

    Args:
        labeled: ``nyu_depth_v2_labeled.mat`` (HDF5 / MATLAB v7.3).
        splits: ``splits.mat``.
        mapping40: ``classMapping40.mat``.
        out: Output root (created; existing files are overwritten).
        which: Splits to write.
        log: Progress printer (None = silent).

    Returns:
        Number of frames written per split.

    Raises:
        DatasetNotFoundError: a missing input file.
        DatasetError: wrong format, missing keys, wrong shapes or label values.
    """
    import h5py

    labeled = _require(labeled, 'labeled NYUv2')
    map_class = load_class_mapping40(mapping40)
    lut13, lut40 = build_label_luts(map_class)
    if not h5py.is_hdf5(str(labeled)):
        raise DatasetError(f'{str(labeled)!r} is not an HDF5 (MATLAB v7.3) file; expected the '
                           f'official nyu_depth_v2_labeled.mat')
    unknown = sorted(set(which) - {'train', 'test'})
    if unknown:
        raise DatasetError(f'unknown split(s) {unknown}; expected train and/or test')
    out = Path(out)
    counts: dict[str, int] = {}
    with h5py.File(str(labeled), 'r') as f:
        for key in ('images', 'labels'):
            if key not in f:
                raise DatasetError(f'{str(labeled)!r} has no dataset {key!r}; found '
                                   f'{sorted(f.keys())}')
        images, labels = f['images'], f['labels']
        if images.ndim != 4 or images.shape[1] != 3 or images.dtype != np.uint8:
            raise DatasetError(f'{str(labeled)!r}: "images" is {images.dtype} {images.shape}; '
                               f'expected uint8 (N, 3, 640, 480) (stored transposed)')
        if labels.ndim != 3 or labels.shape != (images.shape[0],) + images.shape[2:]:
            raise DatasetError(f'{str(labeled)!r}: "labels" has shape {labels.shape}; expected '
                               f'{(images.shape[0],) + images.shape[2:]} to match "images"')
        num_frames = images.shape[0]
        split_idx = load_splits(splits, num_frames)
        for split in which:
            dirs = {d: out / d / split for d in ('image', 'seg13', 'seg40')}
            for d in dirs.values():
                d.mkdir(parents=True, exist_ok=True)
            for n, frame in enumerate(split_idx[split]):
                name = f'{int(frame):05d}.png'
                rgb, s13, s40 = convert_frame(images[frame - 1], labels[frame - 1], lut13, lut40,
                                              name=f'{labeled.name} frame {int(frame)}')
                _imwrite(dirs['image'] / name, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
                _imwrite(dirs['seg13'] / name, s13)
                _imwrite(dirs['seg40'] / name, s40)
                if log is not None and ((n + 1) % 100 == 0 or n + 1 == len(split_idx[split])):
                    log(f'{split}: {n + 1}/{len(split_idx[split])} frames')
            counts[split] = len(split_idx[split])
    try:  # the toolkit keeps splits.mat at the root; harmless if it is already there
        shutil.copyfile(splits, out / 'splits.mat')
    except shutil.SameFileError:
        pass
    if log is not None:
        log(f'wrote {counts} to {out}')
    return counts
