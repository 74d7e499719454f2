"""Hook that draws image | GT | prediction panels and dumps label PNGs on test.

A cv2/numpy re-implementation of mmseg's ``SegVisualizationHook`` (no mmcv, no visualiser):
files are written directly, so names are sanitised (mmengine's ``LocalVisBackend`` silently
drops names containing ``/``) and every ``cv2.imwrite`` result is checked.
"""
from __future__ import annotations

import logging
import os
import os.path as osp
import re
from typing import Any, Dict, List, Optional, Sequence, Set

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from densekd.registry import HOOKS
from densekd.visualization.overlay import (denormalize, draw_legend, overlay_mask,
                                           side_by_side)
from densekd.visualization.label_png import write_label_png
from densekd.visualization.palette import default_palette

_IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')


def sanitize_name(img_path: Optional[str], fallback: str) -> str:
    """File stem for an image path: basename without an image extension, safe characters only.

    Descriptive paths such as ``skimage:astronaut.png@(0,0,64,64)`` become
    ``skimage_astronaut.png_0_0_64_64``; ``/`` never survives.

    Args:
        img_path: The sample's ``img_path`` (may be None).
        fallback: Stem used when ``img_path`` is empty.

    Returns:
        A non-empty file stem made of ``[A-Za-z0-9._-]``.
    """
    if not img_path:
        return fallback
    name = osp.basename(str(img_path).rstrip('/\\'))
    stem, ext = osp.splitext(name)
    if ext.lower() in _IMG_EXTS:
        name = stem
    name = re.sub(r'[^A-Za-z0-9._-]+', '_', name).strip('._') or fallback
    return name


def _np(x: Any) -> Optional[np.ndarray]:
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _resize_nearest(mask: np.ndarray, hw: Sequence[int]) -> np.ndarray:
    if mask.shape[:2] == tuple(hw):
        return mask
    # cv2 cannot resize int64; labels fit in int32 and nearest keeps ids exact.
    return cv2.resize(mask.astype(np.int32), (hw[1], hw[0]),
                      interpolation=cv2.INTER_NEAREST).astype(mask.dtype)


@HOOKS.register_module()
class SegVisualizationHook(Hook):
    """Draw segmentation results of the test (optionally val) loop and dump predicted labels.

    For each drawn sample, ``out_dir/<stem>.png`` holds, left to right: the image, the GT
    overlay and the prediction overlay, with a legend band of the classes present. With
    ``label_out_dir`` every test prediction is also written as a paletted PNG
    ``label_out_dir/<stem>.png``: its pixel values are the class ids, shown in the dataset's
    colours by any viewer (the PASCAL VOC convention).

    Classes and palette come from the dataset's ``metainfo`` (``classes``, ``palette``, RGB);
    without one, ``class_<k>`` names and VOC colours (class k -> cmap[k + 1]) are used.

    Args:
        draw: Draw panels at all (``tools/test.py --show-dir`` switches it on).
        interval: Draw every ``interval``-th sample (counted per image, per loop run).
        out_dir: Folder for the panels; ``<work_dir>/<timestamp>/vis`` when None.
        max_images: Stop drawing after this many panels per loop run (None = no limit).
        alpha: Weight of the mask colour in the overlays.
        label_out_dir: Folder for predicted label PNGs on test (independent of ``draw``).
        on_val: Also draw during validation (into ``out_dir/val_iter_<N>``); needs ``draw``.
        mean: Normalisation mean ([0, 1] units) used to show the network input when the
            original image cannot be read from ``img_path``.
        std: Normalisation std, as ``mean``.

    Each model output is a dict with ``pred`` (int64 H×W), ``gt`` (int64 H×W or None) and
    ``img_path`` (str or None).
    """

    priority = 'NORMAL'

    def __init__(self,
                 draw: bool = False,
                 interval: int = 1,
                 out_dir: Optional[str] = None,
                 max_images: Optional[int] = None,
                 alpha: float = 0.5,
                 label_out_dir: Optional[str] = None,
                 on_val: bool = False,
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None) -> None:
        if int(interval) < 1:
            raise ValueError(f'SegVisualizationHook: interval must be >= 1, got {interval}')
        if max_images is not None and int(max_images) < 0:
            raise ValueError(f'SegVisualizationHook: max_images must be >= 0, got {max_images}')
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'SegVisualizationHook: alpha must be in [0, 1], got {alpha}')
        if (mean is None) != (std is None):
            raise ValueError('SegVisualizationHook: give both mean and std, or neither')
        self.draw = draw
        self.interval = int(interval)
        self.out_dir = out_dir
        self.max_images = None if max_images is None else int(max_images)
        self.alpha = float(alpha)
        self.label_out_dir = label_out_dir
        self.on_val = on_val
        self.mean = mean
        self.std = std
        self._reset()

    # ------------------------------------------------------------------ loop bookkeeping
    def _reset(self) -> None:
        self._seen = 0       # samples seen in this loop run (drives ``interval``)
        self._drawn = 0      # panels written in this loop run (drives ``max_images``)
        self._used: Set[str] = set()        # panel stems, to avoid overwriting on collisions
        self._used_labels: Set[str] = set()
        self._meta: Optional[Dict[str, Any]] = None
        self._warned_unreadable = False

    def before_test_epoch(self, runner) -> None:
        self._reset()

    def before_val_epoch(self, runner) -> None:
        self._reset()

    def after_test_iter(self, runner, batch_idx: int, data_batch: Any = None,
                        outputs: Optional[Sequence[dict]] = None) -> None:
        """Draw panels (when ``draw``) and write label PNGs (when ``label_out_dir``)."""
        if not outputs:
            return
        if self.label_out_dir is not None:
            self._write_labels(runner, outputs)
        if self.draw:
            self._draw_batch(runner, 'test', data_batch, outputs, self._default_out_dir(runner))

    def after_val_iter(self, runner, batch_idx: int, data_batch: Any = None,
                       outputs: Optional[Sequence[dict]] = None) -> None:
        """Draw panels during validation, only when ``draw`` and ``on_val`` are both set."""
        if not (self.draw and self.on_val and outputs):
            return
        out_dir = osp.join(self._default_out_dir(runner), f'val_iter_{getattr(runner, "iter", 0)}')
        self._draw_batch(runner, 'val', data_batch, outputs, out_dir)

    # ------------------------------------------------------------------ helpers
    def _default_out_dir(self, runner) -> str:
        if self.out_dir is not None:
            return self.out_dir
        return osp.join(runner.work_dir, runner.timestamp, 'vis')

    def _dataset_meta(self, runner, mode: str) -> Dict[str, Any]:
        """``classes`` / ``palette`` of the loop's dataset (cached for the loop run)."""
        if self._meta is None:
            meta: Dict[str, Any] = {}
            try:
                loader = runner.test_dataloader if mode == 'test' else runner.val_dataloader
                meta = dict(getattr(loader.dataset, 'metainfo', None) or {})
            except Exception:  # noqa: BLE001 - a missing loader must not break testing
                meta = {}
            self._meta = meta
        return self._meta

    def _classes_palette(self, runner, mode: str, max_id: int):
        meta = self._dataset_meta(runner, mode)
        classes = meta.get('classes')
        palette = meta.get('palette')
        n = len(classes) if classes is not None else (
            len(palette) if palette is not None else max_id + 1)
        n = max(1, min(n, 255))
        if classes is None:
            classes = [f'class_{k}' for k in range(n)]
        if palette is None or len(palette) < n:
            palette = default_palette(n)
        return [str(c) for c in classes][:n], np.asarray(palette, dtype=np.uint8)[:n]

    def _unique_stem(self, img_path: Optional[str], index: int, used: Set[str]) -> str:
        stem = sanitize_name(img_path, f'sample_{index:05d}')
        if stem in used:  # e.g. several crops of one bundled photo
            k = 1
            while f'{stem}_{k}' in used:
                k += 1
            stem = f'{stem}_{k}'
        used.add(stem)
        return stem

    def _write_labels(self, runner, outputs: Sequence[dict]) -> None:
        os.makedirs(self.label_out_dir, exist_ok=True)
        _, palette = self._classes_palette(runner, 'test', 254)
        for out in outputs:
            pred = _np(out['pred'])
            if pred.size and (pred.min() < 0 or pred.max() >= 255):
                raise ValueError(
                    f'SegVisualizationHook: cannot write prediction of {out.get("img_path")} as '
                    f'a uint8 label PNG: ids span [{pred.min()}, {pred.max()}], expected [0, 255)')
            stem = self._unique_stem(out.get('img_path'), len(self._used_labels),
                                     self._used_labels)
            write_label_png(osp.join(self.label_out_dir, stem + '.png'), pred, palette)

    def _read_image(self, out: dict, data_batch: Any, i: int, hw: Sequence[int]) -> np.ndarray:
        """Original RGB image, else the de-normalised input, else a grey canvas."""
        img_path = out.get('img_path')
        img = None
        if img_path and osp.isfile(str(img_path)):
            bgr = cv2.imread(str(img_path), cv2.IMREAD_COLOR)
            if bgr is not None:
                img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        if img is None and self.mean is not None and isinstance(data_batch, dict) \
                and data_batch.get('inputs') is not None and i < len(data_batch['inputs']):
            img = denormalize(data_batch['inputs'][i], self.mean, self.std)
        if img is None:
            if not self._warned_unreadable:
                print_log(f'SegVisualizationHook: cannot read image {img_path!r}; drawing on a '
                          f'grey canvas (give mean/std to show the network input instead)',
                          logger='current', level=logging.WARNING)
                self._warned_unreadable = True
            img = np.full((hw[0], hw[1], 3), 128, dtype=np.uint8)
        if img.shape[:2] != tuple(hw):
            img = cv2.resize(img, (hw[1], hw[0]), interpolation=cv2.INTER_LINEAR)
        return img

    def _draw_batch(self, runner, mode: str, data_batch: Any, outputs: Sequence[dict],
                    out_dir: str) -> None:
        for i, out in enumerate(outputs):
            index = self._seen
            self._seen += 1
            if index % self.interval != 0:
                continue
            if self.max_images is not None and self._drawn >= self.max_images:
                return
            self._draw_one(runner, mode, data_batch, i, out, out_dir, index)
            self._drawn += 1

    def _draw_one(self, runner, mode: str, data_batch: Any, i: int, out: dict, out_dir: str,
                  index: int) -> None:
        pred = _np(out['pred']).astype(np.int64)
        hw = pred.shape[:2]
        gt = _np(out.get('gt'))
        masks: List[np.ndarray] = [pred]
        if gt is not None:
            gt = _resize_nearest(gt.astype(np.int64), hw)
            masks.append(gt)
        present = np.unique(np.concatenate([m.ravel() for m in masks]))
        max_id = int(present[present < 255].max()) if (present < 255).any() else 0
        classes, palette = self._classes_palette(runner, mode, max_id)

        image = self._read_image(out, data_batch, i, hw)
        panels = [image]
        titles = ['image']
        if gt is not None:
            panels.append(overlay_mask(image, gt, palette, self.alpha))
            titles.append('ground truth')
        panels.append(overlay_mask(image, pred, palette, self.alpha))
        titles.append('prediction')

        grid = side_by_side(panels, titles)
        legend = draw_legend(classes, palette, present=present, width=grid.shape[1])
        canvas = np.concatenate([grid, legend], axis=0)

        os.makedirs(out_dir, exist_ok=True)
        stem = self._unique_stem(out.get('img_path'), index, self._used)
        path = osp.join(out_dir, stem + '.png')
        if not cv2.imwrite(path, cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR)):
            raise OSError(f'SegVisualizationHook: cv2.imwrite failed for {path}')
