"""NYUv2 semantic segmentation (13 or 40 classes) in the VainF/nyuv2-python-toolkit layout.

On-disk layout (what ``datasets/prepare_nyuv2.py`` writes and SynthRooms mimics)::

    <data_root>/image/<split>/00003.png      RGB, 480x640 for real NYUv2
    <data_root>/seg13/<split>/00003.png      uint8, 0..12 = classes, 255 = void
    <data_root>/seg40/<split>/00003.png      uint8, 0..39 = classes, 255 = void

Images and labels are paired by file name (stem), in sorted order. Errors a user can cause (missing
folders, unpaired images, size mismatches, out-of-range labels, unreadable files) raise
:class:`DatasetError` naming the file and what was expected; nothing is skipped silently.
"""
from __future__ import annotations

import copy
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from mmengine.logging import print_log
from torch.utils.data import Dataset

from densekd.registry import DATASETS
from densekd.visualization import palette as _palette
from densekd.visualization.label_png import read_label_png

from .checks import jpeg_truncation_problem, thread_map
from .transforms import build_pipeline, default_pipeline_cfg

__all__ = [
    'NYUV2_CLASSES', 'NYUV2_PALETTE', 'NYU40_CLASSES', 'NYU40_PALETTE', 'NYUv2Dataset',
    'DatasetError', 'DatasetNotFoundError', 'IMG_EXTENSIONS', 'read_image_rgb', 'read_label',
    'resolve_data_root',
]

#: Image file extensions recognised when listing folders (lower case).
IMG_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')

IGNORE_INDEX = 255


class DatasetError(ValueError):
    """A dataset on disk is not what densekd expects (message names the file and the rule)."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset folder or file does not exist."""


# The PASCAL-VOC colour map as plain-int RGB tuples (entry 0 is black).
_VOC = [tuple(rgb) for rgb in _palette.voc_colormap(256).tolist()]

#: The 13 NYUv2 classes; list index = label id in the seg13 PNGs.
NYUV2_CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture', 'objects', 'picture',
                 'sofa', 'table', 'tv', 'wall', 'window')
#: RGB colour per class: VOC colormap shifted by one (``cmap[id + 1]``) as in the VainF toolkit,
#: DFAD and MosaicKD, so void (255 -> cmap[0]) is black and bed is dark red.
NYUV2_PALETTE = tuple(_VOC[i + 1] for i in range(len(NYUV2_CLASSES)))

#: The 40 NYUv2 classes (Gupta et al.) in NYU order; index = label id in the seg40 PNGs.
NYU40_CLASSES = (
    'wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window', 'bookshelf',
    'picture', 'counter', 'blinds', 'desk', 'shelves', 'curtain', 'dresser', 'pillow', 'mirror',
    'floor mat', 'clothes', 'ceiling', 'books', 'refridgerator', 'television', 'paper', 'towel',
    'shower curtain', 'box', 'whiteboard', 'person', 'night stand', 'toilet', 'sink', 'lamp',
    'bathtub', 'bag', 'otherstructure', 'otherfurniture', 'otherprop')
NYU40_PALETTE = tuple(_VOC[i + 1] for i in range(len(NYU40_CLASSES)))

_KNOWN_LABEL_DIRS = {
    'seg13': (NYUV2_CLASSES, NYUV2_PALETTE),
    'seg40': (NYU40_CLASSES, NYU40_PALETTE),
}


def known_label_classes(label_dir: str) -> tuple[tuple[str, ...], tuple] | None:
    """``(classes, palette)`` of a known label folder (``seg13``, ``seg40``), else None."""
    return _KNOWN_LABEL_DIRS.get(label_dir)


def resolve_data_root(data_root: str | os.PathLike, what: str = 'dataset',
                      hint: str = '') -> Path:
    """Find a dataset root, honouring ``~``, ``$VARS`` and the ``DENSEKD_DATA`` prefix.

    A relative ``data_root`` that does not exist from the working directory is looked up under
    ``$DENSEKD_DATA`` (as given, and without a leading ``datasets/`` or ``data/``), so configs can
    say ``data_root='datasets/nyuv2'`` while the data lives in ``$DENSEKD_DATA/nyuv2``.

    Args:
        data_root: Path from the config.
        what: Dataset name used in the error message.
        hint: Extra sentence for the error message (e.g. how to prepare the data).

    Returns:
        The existing directory.

    Raises:
        DatasetNotFoundError: when no candidate exists; lists every path tried.
    """
    path = Path(os.path.expandvars(os.path.expanduser(str(data_root))))
    candidates = [path]
    env = os.environ.get('DENSEKD_DATA')
    if env and not path.is_absolute():
        candidates.append(Path(env) / path)
        if len(path.parts) > 1 and path.parts[0] in ('datasets', 'data'):
            candidates.append(Path(env).joinpath(*path.parts[1:]))
    for cand in candidates:
        if cand.is_dir():
            return cand
    tried = ', '.join(f"'{c}'" for c in candidates)
    raise DatasetNotFoundError(
        f'{what} data_root {str(data_root)!r} is not a directory (tried {tried}). '
        + (hint + ' ' if hint else '')
        + 'A relative path is also looked up under $DENSEKD_DATA when that is set.')


def read_image_rgb(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as H×W×3 uint8 RGB.

    Grayscale images are replicated to 3 channels, alpha is dropped and 16-bit images are scaled
    to 8 bit (OpenCV's colour read mode does all three).

    Args:
        path: Image file.

    Returns:
        The RGB image.

    Raises:
        DatasetNotFoundError: if the file does not exist.
        DatasetError: if OpenCV cannot decode it (corrupt or unsupported format), or it is a
            truncated JPEG (which OpenCV would decode with the missing rows grey, see
            :func:`~densekd.datasets.checks.jpeg_truncation_problem`).
    """
    path = str(path)
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f'image file {path!r} does not exist')
    problem = jpeg_truncation_problem(path)
    if problem:
        raise DatasetError(f'cannot read image {path!r}: {problem}')
    flag = getattr(cv2, 'IMREAD_COLOR_RGB', None)  # OpenCV >= 5 decodes straight to RGB
    img = cv2.imread(path, flag if flag is not None else cv2.IMREAD_COLOR)
    if img is None:
        raise DatasetError(f'cannot read image {path!r}: OpenCV could not decode it (corrupt file '
                           f'or unsupported format; expected PNG/JPEG/BMP/WebP/TIFF)')
    if flag is None:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(img)


def _is_paletted_png(path: str) -> bool:
    with Image.open(path) as image:
        return image.mode == 'P'


def read_label(path: str | os.PathLike) -> np.ndarray:
    """Read a label PNG as an H×W uint8 array, unchanged (no colour conversion).

    Args:
        path: Label file: a single-channel 8-bit PNG of class ids, or a paletted PNG whose
            indices are the class ids (the PASCAL VOC convention, what ``tools/test.py --out``
            and ``tools/infer.py`` write).

    Returns:
        The label map.

    Raises:
        DatasetNotFoundError: if the file does not exist.
        DatasetError: if it cannot be decoded or is not single-channel uint8.
    """
    path = str(path)
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f'label file {path!r} does not exist')
    lbl = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if lbl is None:
        raise DatasetError(f'cannot read label {path!r}: OpenCV could not decode it (corrupt file '
                           f'or unsupported format; expected a single-channel uint8 PNG)')
    if lbl.ndim == 3 and lbl.shape[2] == 1:
        lbl = lbl[..., 0]
    if lbl.ndim == 3 and _is_paletted_png(path):  # VOC-style: the indices are the class ids
        lbl = read_label_png(path)
    if lbl.ndim != 2 or lbl.dtype != np.uint8:
        shape = 'x'.join(map(str, lbl.shape))
        raise DatasetError(
            f'label {path!r} is {lbl.dtype} with shape {shape}; expected a single-channel uint8 '
            f'PNG of class ids (colour/palette PNGs must be converted to class ids first)')
    return lbl


def _list_images(folder: Path, extensions: Sequence[str]) -> tuple[dict[str, Path], int]:
    """Map stem -> file for the image files directly in ``folder``; also count other files."""
    found: dict[str, Path] = {}
    other = 0
    for entry in sorted(folder.iterdir()):
        if not entry.is_file() or entry.suffix.lower() not in extensions:
            other += 1
            continue
        if entry.stem in found:
            raise DatasetError(f'two files with the same name stem in {str(folder)!r}: '
                               f'{found[entry.stem].name!r} and {entry.name!r}; expected one '
                               f'file per sample')
        found[entry.stem] = entry
    return found, other


def _short_list(items: Sequence[str], n: int = 10, sep: str = ', ') -> str:
    shown = sep.join(items[:n])
    return shown + (f', ... ({len(items) - n} more)' if len(items) > n else '')


def evenly_spaced(items: Sequence[Any], max_samples: int | None, name: str) -> list[Any]:
    """At most ``max_samples`` of ``items``, evenly spaced over their order (all when None).

    Every densekd dataset's ``max_samples`` means this: a subset that spans the whole sorted
    list (in an ImageNet-style tree, many classes rather than the first one).

    Raises:
        DatasetError: ``max_samples`` < 1 (the message starts with ``name``).
    """
    items = list(items)
    if max_samples is not None and max_samples < 1:
        raise DatasetError(f'{name}: max_samples must be >= 1, got {max_samples}')
    if max_samples is None or max_samples >= len(items):
        return items
    keep = np.linspace(0, len(items) - 1, max_samples).round().astype(int)
    return [items[i] for i in keep]


@DATASETS.register_module()
class NYUv2Dataset(Dataset):
    """NYUv2 semantic segmentation in the VainF toolkit layout.

    Items are dicts ``inputs`` (3×H×W float32, normalised by the pipeline), ``seg`` (H×W int64,
    0..C-1 classes, 255 = ignore) and ``img_path`` (str).

    Args:
        data_root: Dataset root holding ``image/`` and the label folder (``~``, ``$VARS`` and the
            ``DENSEKD_DATA`` prefix are honoured, see :func:`resolve_data_root`).
        split: Sub-folder name, ``'train'`` or ``'test'`` (any existing folder works).
        pipeline: albumentations transform dicts for :func:`build_pipeline` (geometric transforms
            are applied to image and label together). None means ImageNet ``Normalize`` only.
        label_dir: Label folder: ``'seg13'`` (13 classes) or ``'seg40'`` (40 classes); another
            name needs ``num_classes``.
        num_classes: Number of classes; derived from ``label_dir`` when None.
        max_samples: Keep at most this many pairs, evenly spaced over the names' sorted order
            (:func:`evenly_spaced`); None keeps all.
        img_dir: Image folder name.
        pipeline_seed: Optional seed for the augmentation pipeline (see :func:`build_pipeline`).
            As in every densekd dataset, ``seed`` would name what the data are (generated
            datasets), ``pipeline_seed`` their augmentation stream.
        check_labels: Read every label file at construction and check its values
            (:meth:`check_label_files`). None (default) means for every split but ``'train'``:
            the validation/test split is otherwise first read at the first evaluation, possibly
            at the end of training, while a bad train label is hit within the first epoch. It
            costs about 2 ms per 480x640 label (about 1 s for NYUv2's 654 test labels, spread
            over a few threads).

    Raises:
        DatasetNotFoundError: missing root or split folder.
        DatasetError: empty split, images without labels, inconsistent ``num_classes``, and
            with ``check_labels`` unreadable labels or label values outside the classes.
    """

    METAINFO: dict[str, Any] = dict(classes=NYUV2_CLASSES, palette=NYUV2_PALETTE)

    def __init__(self,
                 data_root: str | os.PathLike,
                 split: str = 'train',
                 pipeline: Sequence[dict[str, Any]] | Callable | None = None,
                 label_dir: str = 'seg13',
                 num_classes: int | None = None,
                 max_samples: int | None = None,
                 img_dir: str = 'image',
                 pipeline_seed: int | None = None,
                 check_labels: bool | None = None) -> None:
        super().__init__()
        name = type(self).__name__
        self.data_root = resolve_data_root(data_root, name, self._missing_root_hint())
        self.split = split
        self.label_dir = label_dir
        self.num_classes, classes, palette = self._class_info(label_dir, num_classes)
        self._metainfo = dict(classes=classes, palette=palette)

        img_root = self.data_root / img_dir
        lbl_root = self.data_root / label_dir
        for folder in (img_root, lbl_root):
            if not folder.is_dir():
                raise DatasetNotFoundError(
                    f'{name}: folder {str(folder)!r} does not exist; expected '
                    f'<data_root>/{img_dir}/<split>/ and <data_root>/{label_dir}/<split>/.')
        img_split, lbl_split = img_root / split, lbl_root / split
        for folder, root in ((img_split, img_root), (lbl_split, lbl_root)):
            if not folder.is_dir():
                avail = sorted(p.name for p in root.iterdir() if p.is_dir())
                raise DatasetNotFoundError(
                    f'{name}: split folder {str(folder)!r} does not exist (split={split!r}); '
                    f'available splits there: {avail or "none"}')

        images, other_imgs = _list_images(img_split, IMG_EXTENSIONS)
        labels, other_lbls = _list_images(lbl_split, ('.png',))
        if not images:
            raise DatasetError(f'{name}: split folder {str(img_split)!r} contains no images '
                               f'(expected files ending in {", ".join(IMG_EXTENSIONS)})')
        missing = [images[s].name for s in images if s not in labels]
        if missing:
            raise DatasetError(
                f'{name}: {len(missing)} image(s) in {str(img_split)!r} have no label PNG with the '
                f'same name in {str(lbl_split)!r}: {_short_list(missing)}')
        unused = len(set(labels) - set(images))
        if other_imgs or other_lbls or unused:
            print_log(f'{name}: ignored {other_imgs} non-image entries in {img_split}, '
                      f'{other_lbls} non-PNG entries in {lbl_split} and {unused} labels '
                      f'without an image', logger='current', level=30)

        stems = evenly_spaced(sorted(images), max_samples, name)
        self.img_paths = [str(images[s]) for s in stems]
        self.seg_paths = [str(labels[s]) for s in stems]

        if pipeline is None:
            pipeline = default_pipeline_cfg()
        self.pipeline = (pipeline if callable(pipeline)
                         else build_pipeline(pipeline, seed=pipeline_seed))
        if check_labels if check_labels is not None else split != 'train':
            self.check_label_files()
        print_log(f'{name}: {len(self)} {split} images from {self.data_root} '
                  f'({label_dir}, {self.num_classes} classes)', logger='current')

    @staticmethod
    def _missing_root_hint() -> str:
        return ('Prepare NYUv2 with `python datasets/prepare_nyuv2.py` (see datasets/README.md) '
                'or use SynthRooms.')

    def _class_info(self, label_dir: str, num_classes: int | None
                    ) -> tuple[int, tuple[str, ...], tuple[tuple[int, int, int], ...]]:
        name = type(self).__name__
        known = _KNOWN_LABEL_DIRS.get(label_dir)
        if known is not None:
            classes, palette = known
            if num_classes is not None and num_classes != len(classes):
                raise DatasetError(f'{name}: num_classes={num_classes} does not match '
                                   f'label_dir={label_dir!r} ({len(classes)} classes)')
            return len(classes), classes, palette
        if num_classes is None:
            raise DatasetError(f'{name}: label_dir={label_dir!r} is not one of '
                               f'{sorted(_KNOWN_LABEL_DIRS)}; give num_classes explicitly')
        if not 1 <= num_classes <= 255:
            raise DatasetError(f'{name}: num_classes must be in 1..255, got {num_classes}')
        classes = tuple(f'class{i}' for i in range(num_classes))
        return num_classes, classes, tuple(_VOC[i + 1] for i in range(num_classes))

    @property
    def metainfo(self) -> dict[str, Any]:
        """``dict(classes=..., palette=...)``; mmengine's Runner hands it to the metric."""
        return copy.deepcopy(self._metainfo)

    def __len__(self) -> int:
        return len(self.img_paths)

    def check_label(self, seg: np.ndarray, seg_path: str) -> None:
        """Raise unless every value of the label map is a class id or 255 (ignore).

        Args:
            seg: H×W uint8 label map.
            seg_path: Its file, for the message.

        Raises:
            DatasetError: naming the file, the values found and the allowed range.
        """
        # bincount over 256 bins is much cheaper than np.unique on a full frame.
        counts = np.bincount(seg.ravel(), minlength=256)
        counts[:self.num_classes] = 0
        counts[IGNORE_INDEX] = 0
        if counts.any():
            bad = np.flatnonzero(counts).tolist()
            raise DatasetError(
                f'label {seg_path!r} contains values {_short_list([str(v) for v in bad])}; '
                f'expected 0..{self.num_classes - 1} (label_dir={self.label_dir!r}) '
                f'or 255 = ignore')

    def check_label_files(self) -> None:
        """Read every label file of the dataset and check its values (:meth:`check_label`).

        Raises:
            DatasetError: listing every unreadable or out-of-range label file (the first ten
                messages, and how many there are).
        """
        def problem(seg_path: str) -> str | None:
            try:
                self.check_label(read_label(seg_path), seg_path)
            except DatasetError as exc:
                return str(exc)
            return None

        problems = [p for p in thread_map(problem, self.seg_paths) if p]
        if problems:
            raise DatasetError(
                f'{type(self).__name__}: {len(problems)} of {len(self.seg_paths)} {self.split} '
                f'label files are unreadable or hold values outside the classes: '
                + _short_list(problems, sep='; '))

    def load_pair(self, idx: int) -> tuple[np.ndarray, np.ndarray]:
        """Read and validate sample ``idx`` (no augmentation).

        Args:
            idx: Sample index.

        Returns:
            ``(image, label)``: H×W×3 uint8 RGB and H×W uint8.

        Raises:
            DatasetError: unreadable files, size mismatch, or label values outside
                ``0..num_classes-1`` other than 255.
        """
        img_path, seg_path = self.img_paths[idx], self.seg_paths[idx]
        img = read_image_rgb(img_path)
        seg = read_label(seg_path)
        if img.shape[:2] != seg.shape:
            raise DatasetError(
                f'image {img_path!r} is {img.shape[0]}x{img.shape[1]} but its label '
                f'{seg_path!r} is {seg.shape[0]}x{seg.shape[1]}; expected the same size')
        self.check_label(seg, seg_path)
        return img, seg

    def __getitem__(self, idx: int) -> dict[str, Any]:
        img, seg = self.load_pair(idx)
        inputs, seg_t = self.pipeline(img, seg)
        return dict(inputs=inputs, seg=seg_t, img_path=self.img_paths[idx])

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(data_root={str(self.data_root)!r}, split={self.split!r}, '
                f'label_dir={self.label_dir!r}, num_samples={len(self)})')
