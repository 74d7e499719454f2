"""Dataset-level IoU metric for semantic segmentation (mmseg's definition, one confusion matrix).

mmseg's ``IoUMetric`` keeps four C-vectors per image (intersection, union, prediction and label
areas) and sums them over the dataset at the end. The same numbers follow from a single C×C
confusion matrix ``conf[gt, pred]`` accumulated over all valid pixels:

* ``TP = diag(conf)``, ``label area = conf.sum(1)``, ``pred area = conf.sum(0)``;
* ``IoU_c = TP_c / (label_c + pred_c - TP_c)`` — NaN when the class is absent from both GT and
  prediction in the whole dataset, and such classes are left out of ``mIoU = nanmean(IoU)``;
* ``aAcc = ΣTP / Σlabel`` and ``mAcc = nanmean(TP_c / label_c)``.

The matrix is summed in place, so memory does not grow with the number of images.
"""
from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import all_reduce
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from densekd.registry import METRICS

ArrayLike = Union[np.ndarray, torch.Tensor]


def _to_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def confusion_matrix(pred: torch.Tensor, gt: torch.Tensor, num_classes: int,
                     ignore_index: int = 255) -> torch.Tensor:
    """Confusion matrix ``conf[gt, pred]`` over the pixels whose GT is not ``ignore_index``.

    Args:
        pred: Predicted class ids, any shape, integer dtype.
        gt: Ground-truth class ids, same shape as ``pred``.
        num_classes: Number of classes C.
        ignore_index: GT value of pixels to leave out.

    Returns:
        int64 tensor C×C on the device of ``pred`` (rows = GT, columns = prediction).

    Raises:
        ValueError: If the shapes differ, or a valid GT / predicted id lies outside ``[0, C)``
            (usually a wrong ``num_classes``; mmseg's ``histc`` would silently drop such pixels).
    """
    if pred.shape != gt.shape:
        raise ValueError(f'IoUMetric: prediction shape {tuple(pred.shape)} does not match GT shape '
                         f'{tuple(gt.shape)}; resize the prediction to the label size before '
                         f'evaluation')
    pred = pred.reshape(-1).long()
    gt = gt.reshape(-1).to(pred.device).long()
    valid = gt != ignore_index
    pred, gt = pred[valid], gt[valid]
    if gt.numel():
        # One host sync per image is fine at evaluation time and turns a silent miscount
        # into a clear error.
        lo = int(torch.minimum(gt.min(), pred.min()))
        hi = int(torch.maximum(gt.max(), pred.max()))
        if lo < 0 or hi >= num_classes:
            raise ValueError(
                f'IoUMetric: class ids must lie in [0, {num_classes}) (or be the ignore index '
                f'{ignore_index} in the GT), got values in [{lo}, {hi}]; check num_classes / '
                f"the dataset's metainfo['classes']")
    return torch.bincount(num_classes * gt + pred,
                          minlength=num_classes ** 2).reshape(num_classes, num_classes)


def confusion_to_metrics(conf: ArrayLike, class_names: Optional[Sequence[str]] = None
                         ) -> Dict[str, float]:
    """Turn a dataset-level confusion matrix into mmseg's metrics.

    Args:
        conf: C×C matrix, rows = GT class, columns = predicted class, counts of valid pixels.
        class_names: C names used in the per-class keys; ``class_<k>`` when None.

    Returns:
        Dict with ``mIoU``, ``aAcc``, ``mAcc`` and, per class, ``IoU.<name>`` and ``Acc.<name>``;
        values in percent rounded to 2 decimals. Per-class values are NaN where undefined
        (IoU: class absent from both GT and prediction; Acc: class absent from GT), and the means
        ignore them. An all-NaN mean (e.g. an empty confusion matrix) is NaN.

    Raises:
        ValueError: If ``conf`` is not square or ``class_names`` has the wrong length.
    """
    conf = _to_numpy(conf).astype(np.float64)
    if conf.ndim != 2 or conf.shape[0] != conf.shape[1]:
        raise ValueError(f'confusion matrix must be C×C, got shape {conf.shape}')
    num_classes = conf.shape[0]
    names = _class_names(class_names, num_classes)

    tp = np.diag(conf)
    area_label = conf.sum(axis=1)
    area_pred = conf.sum(axis=0)
    area_union = area_label + area_pred - tp
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = tp / area_union  # 0/0 -> NaN: class absent from GT and prediction
        acc = tp / area_label  # 0/0 -> NaN: class absent from GT
        total = area_label.sum()
        aacc = tp.sum() / total if total > 0 else float('nan')

    metrics: Dict[str, float] = {
        'aAcc': _pct(aacc),
        'mIoU': _pct(_nanmean(iou)),
        'mAcc': _pct(_nanmean(acc)),
    }
    for name, v in zip(names, iou):
        metrics[f'IoU.{name}'] = _pct(v)
    for name, v in zip(names, acc):
        metrics[f'Acc.{name}'] = _pct(v)
    return metrics


def format_iou_table(metrics: Dict[str, float], class_names: Sequence[str]) -> str:
    """Plain-text per-class table (Class | IoU | Acc) plus a summary line.

    Args:
        metrics: Output of :func:`confusion_to_metrics` (or :meth:`IoUMetric.compute_metrics`;
            missing ``Acc.<name>`` entries are shown as ``-``).
        class_names: Class names in label-id order.

    Returns:
        The table as one multi-line string.
    """
    def fmt(v: Any) -> str:
        if v is None:
            return '-'
        return 'nan' if isinstance(v, float) and math.isnan(v) else f'{v:.2f}'

    rows = [(str(n), fmt(metrics.get(f'IoU.{n}')), fmt(metrics.get(f'Acc.{n}')))
            for n in class_names]
    header = ('Class', 'IoU', 'Acc')
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(3)]
    sep = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def line(r: Sequence[str]) -> str:
        cells = [f' {r[0]:<{widths[0]}} '] + [f' {c:>{w}} ' for c, w in zip(r[1:], widths[1:])]
        return '|' + '|'.join(cells) + '|'

    out = [sep, line(header), sep] + [line(r) for r in rows] + [sep]
    out.append('aAcc: {}  mIoU: {}  mAcc: {}'.format(
        *(fmt(metrics.get(k)) for k in ('aAcc', 'mIoU', 'mAcc'))))
    return '\n'.join(out)


def _class_names(class_names: Optional[Sequence[str]], num_classes: int) -> List[str]:
    if class_names is None:
        return [f'class_{k}' for k in range(num_classes)]
    names = [str(n) for n in class_names]
    if len(names) != num_classes:
        raise ValueError(f'got {len(names)} class names for {num_classes} classes')
    return names


def _nanmean(x: np.ndarray) -> float:
    # np.nanmean warns on all-NaN input; an empty metric is simply NaN.
    x = x[~np.isnan(x)]
    return float(x.mean()) if x.size else float('nan')


def _pct(v: float) -> float:
    return round(float(v) * 100.0, 2)


@METRICS.register_module()
class IoUMetric(BaseMetric):
    """mIoU / aAcc / mAcc over a whole dataset from one running confusion matrix.

    ``process`` adds each batch into a single C×C int64 matrix kept as the only element of
    ``self.results``; :meth:`evaluate` sums the matrices of all ranks (one all-reduce) and every
    rank computes the same metrics. Memory is constant in the number of images.

    Note:
        Distributed evaluation is exact only if every sample is seen once: mmengine's
        ``DefaultSampler`` pads the ranks' shares to equal length by repeating samples unless
        ``round_up=False`` (as densekd's dataset configs set it for val and test). With one
        matrix per rank the repeats cannot be dropped afterwards, so :meth:`evaluate` refuses
        to report metrics over more samples than the dataset holds.

    Args:
        num_classes: Number of classes C. When None, ``len(self.dataset_meta['classes'])``,
            which mmengine's Runner copies from the dataset's ``metainfo``.
        ignore_index: GT value excluded from every count.
        class_names: Names for the per-class keys and the table; defaults to
            ``dataset_meta['classes']``, then ``class_<k>``.
        collect_device: Device used to gather results across ranks (``'cpu'`` or ``'gpu'``).
        prefix: Metric-name prefix (``'seg'`` gives ``seg/mIoU``); None means no prefix.

    Each data sample given to :meth:`process` is a dict with ``pred`` and ``gt``, int64 H×W
    tensors (see ``docs/interfaces.md``). Returned keys: ``mIoU``, ``aAcc``, ``mAcc``
    (percent, 2 decimals) and ``IoU.<class>``.
    """

    # '' rather than None: the same unprefixed keys, without mmengine's "prefix is not set"
    # warning on every run.
    default_prefix: Optional[str] = ''

    def __init__(self,
                 num_classes: Optional[int] = None,
                 ignore_index: int = 255,
                 class_names: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if num_classes is not None and int(num_classes) < 1:
            raise ValueError(f'IoUMetric: num_classes must be >= 1, got {num_classes}')
        self._num_classes = None if num_classes is None else int(num_classes)
        self.ignore_index = int(ignore_index)
        self._class_names = None if class_names is None else [str(n) for n in class_names]
        self._seen = 0  # samples processed on this rank since the last evaluate

    @property
    def num_classes(self) -> int:
        """Number of classes, resolved lazily because the Runner sets ``dataset_meta`` late."""
        if self._num_classes is not None:
            return self._num_classes
        meta = self.dataset_meta or {}
        if meta.get('classes') is not None:
            return len(meta['classes'])
        raise ValueError(
            "IoUMetric needs the number of classes: pass num_classes=... in the evaluator config "
            "or give the dataset a metainfo with 'classes' (the Runner copies it into "
            'metric.dataset_meta)')

    @property
    def class_names(self) -> List[str]:
        """Class names: the ``class_names`` argument, else ``dataset_meta['classes']``."""
        if self._class_names is not None:
            return _class_names(self._class_names, self.num_classes)
        meta = self.dataset_meta or {}
        classes = meta.get('classes')
        if classes is not None and len(classes) == self.num_classes:
            return [str(c) for c in classes]
        return _class_names(None, self.num_classes)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Add the confusion counts of a batch to the running matrix.

        Args:
            data_batch: The dataloader batch (unused; predictions carry their GT).
            data_samples: One dict per image with ``pred`` and ``gt`` (int64 H×W tensors).
                Samples whose ``gt`` is None (unlabelled data) are skipped.

        Raises:
            KeyError: If a sample lacks ``pred``.
            ValueError: If ``pred`` and ``gt`` shapes differ or ids are out of range.
        """
        num_classes = self.num_classes
        conf = None
        self._seen += len(data_samples)
        for i, sample in enumerate(data_samples):
            if 'pred' not in sample:
                raise KeyError(f"IoUMetric: data sample {i} has no 'pred' key "
                               f'(got keys {sorted(sample)})')
            gt = sample.get('gt')
            if gt is None:
                continue
            pred = torch.as_tensor(sample['pred'])
            gt = torch.as_tensor(gt)
            c = confusion_matrix(pred, gt, num_classes, self.ignore_index).cpu()
            conf = c if conf is None else conf + c
        if conf is None:
            return
        # Keep exactly one running matrix; ``evaluate`` sums it over the ranks and resets it.
        if self.results:
            self.results[0] += conf
        else:
            self.results.append(conf)

    def evaluate(self, size: int) -> Dict[str, float]:
        """Sum the confusion matrices of all ranks, then compute the metrics on every rank.

        Replaces mmengine's gathering of per-sample results (pickled through a temporary
        directory) with one all-reduce of the C×C matrix and the sample count.

        Args:
            size: number of samples in the evaluated dataset (mmengine's loops pass
                ``len(dataloader.dataset)``).

        Returns:
            The metrics of :meth:`compute_metrics`, with ``prefix`` if one is set.

        Raises:
            ValueError: the ranks processed more samples than ``size``: the sampler repeated
                samples (set ``sampler=dict(type='DefaultSampler', shuffle=False,
                round_up=False)`` in the val/test dataloader).
        """
        num_classes = self.num_classes
        conf = (self.results[0] if self.results
                else torch.zeros(num_classes, num_classes, dtype=torch.int64))
        packed = torch.cat([conf.reshape(-1).to(torch.int64),
                            torch.tensor([self._seen], dtype=torch.int64)])
        all_reduce(packed, op='sum')  # a no-op in one process
        self.results.clear()
        self._seen = 0
        seen = int(packed[-1])
        if seen > size:
            raise ValueError(
                f'IoUMetric: {seen} samples were evaluated but the dataset has {size}: the '
                f'sampler repeated samples to give every rank the same number; set '
                f"sampler=dict(type='DefaultSampler', shuffle=False, round_up=False) in the "
                f'val/test dataloader')
        metrics = self.compute_metrics([packed[:-1].reshape(num_classes, num_classes)])
        if self.prefix:
            metrics = {f'{self.prefix}/{k}': v for k, v in metrics.items()}
        return metrics

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Sum the given confusion matrices and compute the metrics.

        Args:
            results: Confusion matrices (:meth:`evaluate` gives one, summed over the ranks).

        Returns:
            ``mIoU``, ``aAcc``, ``mAcc`` and ``IoU.<class>`` in percent (2 decimals).
        """
        num_classes = self.num_classes
        conf = torch.zeros(num_classes, num_classes, dtype=torch.int64)
        for r in results:
            conf += torch.as_tensor(r, dtype=torch.int64).cpu()
        names = self.class_names
        metrics = confusion_to_metrics(conf, names)
        print_log('per-class results:\n' + format_iou_table(metrics, names), logger='current')
        # Per-class accuracy goes to the table only; the returned keys are the stable interface.
        return {k: v for k, v in metrics.items() if not k.startswith('Acc.')}
