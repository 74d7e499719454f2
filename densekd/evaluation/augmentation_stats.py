"""T. stddev: rank augmentation pipelines for KD with the teacher alone, per pixel.

Wang et al., "What Makes a 'Good' Data Augmentation in Knowledge Distillation - A
Statistical Perspective" (NeurIPS 2022, arXiv 2012.02909, code
github.com/MingSun-Tse/Good-DA-in-KD) show that a good augmentation for KD lowers the
variance of the teacher-student cross-entropy over the transfer set, and propose a proxy that
needs only the teacher: run the frozen teacher over the augmented train set for a few epochs,
cut the stream of its softmax outputs into groups of consecutive batches, take each group's
mean probability vector ``m_k`` and report

    T. stddev = mean over classes c of std_k(m_k[c])        (unbiased std over the groups)

Lower is better: the pipeline with the lowest T. stddev is predicted to give the student the
lowest test loss. The reference prints the teacher's mean entropy next to it.

Dense version (densekd): every pixel's softmax is a sample, so ``m_k`` is the mean over all
valid pixels of all images of group ``k`` (pixels weigh equally, whatever the batch size) and
the entropy is the mean per-pixel entropy (nats).
"""
from __future__ import annotations

import copy
import os.path as osp
import random
import sys
import time
from typing import Any, Dict, List, Optional, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, RandomSampler

__all__ = ['TStddevMeter', 'teacher_t_stddev', 'teacher_config', 'deterministic_view',
           'spearman']


class TStddevMeter:
    """Running T. stddev of a dense teacher's softmax outputs.

    Each :meth:`update` is one loader batch; every ``group_batches`` batches close a group
    ``k`` whose mean probability vector ``m_k`` (C values) is the mean over the valid pixels of
    all its images. A trailing group with fewer batches is not counted (as in the reference,
    where only full groups are ever averaged). Sums stay on the tensors' device and are read
    back only by :attr:`value` and the other properties, so updates add no host sync.

    Args:
        group_batches: batches per group (the reference takes 5).

    Example:
        >>> meter = TStddevMeter(group_batches=5)
        >>> for probs in stream:  # (N, C, H, W) softmax maps
        ...     meter.update(probs)
        >>> meter.value, meter.mean_entropy
    """

    def __init__(self, group_batches: int = 5):
        if int(group_batches) < 1:
            raise ValueError(f'group_batches must be >= 1, got {group_batches}')
        self.group_batches = int(group_batches)
        self._means: List[torch.Tensor] = []  # m_k of the closed groups, float64 (C,)
        self._entropy_sum: Optional[torch.Tensor] = None  # over the pixels of closed groups
        self._num_classes: Optional[int] = None
        self._pixel_count: Optional[torch.Tensor] = None
        self._images = 0
        self._reset_group()

    def _reset_group(self) -> None:
        self._sum: Optional[torch.Tensor] = None
        self._count: Optional[torch.Tensor] = None
        self._ent: Optional[torch.Tensor] = None
        self._group_images = 0
        self._batches = 0

    @torch.no_grad()
    def update(self, probs: torch.Tensor, valid: Optional[torch.Tensor] = None) -> None:
        """Add one batch of softmax maps.

        Args:
            probs: (N, C, H, W) probabilities (softmax over C).
            valid: optional (N, H, W) bool mask of the pixels to count; None counts every
                pixel.

        Raises:
            ValueError: wrong shapes, another class count than earlier batches, or a group
                whose pixels are all masked out.
        """
        if probs.dim() != 4:
            raise ValueError(f'probs must be (N, C, H, W) softmax maps, got shape '
                             f'{tuple(probs.shape)}')
        n, c, h, w = probs.shape
        if self._num_classes is not None and self._num_classes != c:
            raise ValueError(f'probs have {c} classes, earlier batches had {self._num_classes}')
        probs = probs.detach()
        entropy = torch.special.entr(probs).sum(dim=1)  # -sum p log p, 0 where p = 0; (N, H, W)
        # Per-image sums in the input's precision, then float64 across images and batches
        # (summing straight to float64 over (N, H, W) is several times slower on CPU).
        if valid is None:
            sums = probs.sum(dim=(2, 3)).double().sum(dim=0)
            count = torch.tensor(float(n * h * w), dtype=torch.float64, device=probs.device)
            ent = entropy.sum(dim=(1, 2)).double().sum()
        else:
            if valid.shape != (n, h, w):
                raise ValueError(f'valid mask must be (N, H, W) = {(n, h, w)}, got '
                                 f'{tuple(valid.shape)}')
            mask = valid.to(device=probs.device, dtype=probs.dtype)
            sums = (probs * mask[:, None]).sum(dim=(2, 3)).double().sum(dim=0)
            count = mask.sum(dtype=torch.float64)
            ent = (entropy * mask).sum(dim=(1, 2)).double().sum()
        self._num_classes = c
        if self._sum is None:
            self._sum, self._count, self._ent = sums, count, ent
        else:
            self._sum, self._count, self._ent = self._sum + sums, self._count + count, \
                self._ent + ent
        self._group_images += n
        self._batches += 1
        if self._batches == self.group_batches:
            self._close_group()

    def _close_group(self) -> None:
        # Division by a zero count gives NaN, caught when the value is read (no sync here).
        self._means.append(self._sum / self._count)
        self._entropy_sum = self._ent if self._entropy_sum is None else self._entropy_sum + \
            self._ent
        self._pixel_count = self._count if self._pixel_count is None else \
            self._pixel_count + self._count
        self._images += self._group_images
        self._reset_group()

    @property
    def num_groups(self) -> int:
        """Closed groups so far."""
        return len(self._means)

    @property
    def num_images(self) -> int:
        """Images (prob maps) in the closed groups."""
        return self._images

    @property
    def num_pixels(self) -> int:
        """Valid pixels in the closed groups."""
        return 0 if self._pixel_count is None else int(self._pixel_count.item())

    @property
    def group_means(self) -> torch.Tensor:
        """(K, C) float64 tensor of the groups' mean probability vectors ``m_k``, on the CPU.

        Raises:
            ValueError: a group had no valid pixel.
        """
        if not self._means:
            return torch.zeros(0, 0, dtype=torch.float64)
        means = torch.stack(self._means).cpu()
        bad = torch.isnan(means).any(dim=1).nonzero().flatten().tolist()
        if bad:
            raise ValueError(f'T. stddev: group(s) {bad} have no valid pixel (every pixel of '
                             f'their {self.group_batches} batches is masked out)')
        return means

    @property
    def per_class_std(self) -> torch.Tensor:
        """(C,) unbiased std over the groups of ``m_k[c]``.

        Raises:
            ValueError: fewer than 2 groups.
        """
        if self.num_groups < 2:
            raise ValueError(
                f'T. stddev needs at least 2 groups of {self.group_batches} batches, got '
                f'{self.num_groups} group(s) (with {self._batches} more batches in an '
                f'unfinished group): run more epochs, or lower the batch size or '
                f'group_batches')
        return self.group_means.std(dim=0, unbiased=True)

    @property
    def value(self) -> float:
        """T. stddev: the mean over classes of :attr:`per_class_std` (lower is better).

        Raises:
            ValueError: fewer than 2 groups, or a group without valid pixels.
        """
        return float(self.per_class_std.mean())

    @property
    def mean_entropy(self) -> float:
        """Mean per-pixel teacher entropy (nats) over the valid pixels of the closed groups.

        Raises:
            ValueError: no group closed yet.
        """
        if self._entropy_sum is None:
            raise ValueError(f'mean entropy: no complete group of {self.group_batches} batches '
                             f'yet')
        return float((self._entropy_sum / self._pixel_count).item())


def _ranks(values: List[float]) -> List[float]:
    """1-based ranks of ``values``, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: List[float], y: List[float]) -> float:
    """Spearman's rank correlation of two equally long lists (ties get average ranks).

    Used to check whether the T. stddev order of pipelines predicts the students' order:
    T. stddev is lower-is-better and mIoU higher-is-better, so a perfect prediction is -1.

    Raises:
        ValueError: fewer than 3 pairs, lists of different lengths, or a constant list.
    """
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f'spearman needs two lists of the same length >= 3, got {len(x)} and '
                         f'{len(y)}')
    rx, ry = _ranks(list(x)), _ranks(list(y))
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    vx, vy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    if vx == 0 or vy == 0:
        raise ValueError('spearman: a constant list has no ranking')
    return cov / (vx * vy) ** 0.5


# -- which transforms are random ------------------------------------------------------------

def _deterministic_types() -> tuple:
    import albumentations as A
    from albumentations.pytorch import ToTensorV2
    names = ('Normalize', 'Resize', 'LongestMaxSize', 'SmallestMaxSize', 'PadIfNeeded',
             'CenterCrop', 'Crop', 'ToFloat', 'FromFloat')
    return tuple(getattr(A, n) for n in names if hasattr(A, n)) + (ToTensorV2,)


def _deterministic_pipeline(pipeline: Any, owner: str):
    """``pipeline`` without its random transforms, or None when it has none."""
    import albumentations as A

    from densekd.datasets.transforms import AlbuPipeline
    if not isinstance(pipeline, AlbuPipeline):
        raise ValueError(f'{owner}.pipeline is a {type(pipeline).__name__}, not a densekd '
                         f'albumentations pipeline: its random part cannot be told apart; '
                         f'use the augmented stream only')
    keep = _deterministic_types()
    kept = [t for t in pipeline.compose.transforms
            if isinstance(t, keep) and float(getattr(t, 'p', 1.0)) >= 1.0]
    if len(kept) == len(pipeline.compose.transforms):
        return None
    return AlbuPipeline(A.Compose(kept, seed=pipeline.seed), seed=pipeline.seed)


def deterministic_view(dataset: Dataset) -> Optional[Dataset]:
    """A shallow copy of ``dataset`` whose pipelines keep only their deterministic steps.

    The "original" images of the Good-DA-in-KD protocol: the same items without the random
    augmentation (flips, affine, colour jitter, cutout, ... dropped; ``Normalize``, resizes,
    pads and centre crops kept). What a dataset draws per item outside its pipeline (the
    bundled photos' crop windows, the collages) is deterministic per index and stays.
    Wrappers (``MixedImagesDataset``, ``ConcatDataset``) are followed through their dataset
    attributes, like ``EntropySubsetDataset``'s scoring copy.

    Args:
        dataset: a built dataset holding :class:`~densekd.datasets.transforms.AlbuPipeline`
            objects in ``pipeline`` attributes.

    Returns:
        The copy, or None when no pipeline has a random step (original = augmented).

    Raises:
        ValueError: a ``pipeline`` that is not an albumentations pipeline of densekd's.
    """
    memo: Dict[int, Any] = {}
    changed = [False]

    def visit(node):
        if id(node) in memo:
            return memo[id(node)]
        clone = copy.copy(node)
        memo[id(node)] = clone
        if hasattr(clone, 'pipeline'):
            reduced = _deterministic_pipeline(clone.pipeline, type(node).__name__)
            if reduced is not None:
                clone.pipeline = reduced
                changed[0] = True
            return clone
        for name, value in list(getattr(clone, '__dict__', {}).items()):
            if isinstance(value, Dataset):
                setattr(clone, name, visit(value))
            elif (isinstance(value, (list, tuple)) and value
                  and all(isinstance(v, Dataset) for v in value)):
                setattr(clone, name, type(value)(visit(v) for v in value))
        return clone

    view = visit(dataset)
    return view if changed[0] else None


class _PairedDataset(Dataset):
    """Item ``i`` of the augmented dataset with ``original``: item ``i`` of its plain view."""

    def __init__(self, augmented: Dataset, original: Dataset):
        self.augmented, self.original = augmented, original

    def __len__(self) -> int:
        return len(self.augmented)

    def __getitem__(self, idx: int) -> dict:
        item = self.augmented[idx]
        orig = self.original[idx]['inputs']
        if orig.shape[-2:] != item['inputs'].shape[-2:]:
            # A random crop was dropped: the whole image, resized to the training size.
            orig = F.interpolate(orig[None], size=item['inputs'].shape[-2:], mode='bilinear',
                                 align_corners=False, antialias=True)[0]
        return dict(inputs=item['inputs'], original=orig)


# -- the teacher-only run ---------------------------------------------------------------------

def teacher_config(cfg, path: str, teacher: Optional[str] = None,
                   random_teacher: bool = False) -> dict:
    """The segmentor config of ``model.teacher`` with the checkpoint it will load.

    Args:
        cfg: the loaded KD config.
        path: its file, for error messages.
        teacher: weights replacing ``model.teacher.checkpoint``.
        random_teacher: no checkpoint at all (random weights, for speed checks).

    Returns:
        The teacher's config dict; ``checkpoint`` is set unless ``random_teacher``.

    Raises:
        KeyError: no ``model.teacher``, or no checkpoint for it.
        FileNotFoundError: the checkpoint file does not exist.
        ValueError: both ``teacher`` and ``random_teacher``.
    """
    model = cfg.get('model') or {}
    if 'teacher' not in model:
        raise KeyError(f'{path}: model.teacher is missing (T. stddev needs a KD config with a '
                       f'teacher; model.type={model.get("type")!r})')
    t_cfg = {k: v for k, v in dict(model['teacher']).items() if k != 'checkpoint'}
    if random_teacher:
        if teacher is not None:
            raise ValueError('give either a teacher checkpoint or random_teacher, not both')
        return t_cfg
    ckpt = teacher or model['teacher'].get('checkpoint')
    if not ckpt:
        raise KeyError(f'{path}: model.teacher.checkpoint is not set; give the teacher '
                       f'weights (--teacher CKPT)')
    if not osp.isfile(ckpt):
        where = 'teacher' if teacher else f'{path}: model.teacher.checkpoint'
        raise FileNotFoundError(f'{where} {ckpt} does not exist (train one with '
                                f'configs/teacher/*.py, or give --teacher CKPT; '
                                f'--random-teacher for a speed check only)')
    return dict(t_cfg, checkpoint=ckpt)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also the main-process key of the albumentations pipelines


def teacher_t_stddev(config: Union[str, Any], teacher: Optional[str] = None, epochs: int = 10,
                     batch_size: Optional[int] = None, group_batches: int = 5, seed: int = 0,
                     device: Union[str, torch.device] = 'cpu', progress: bool = True,
                     random_teacher: bool = False, include_original: bool = False,
                     num_workers: Optional[int] = None,
                     cfg_options: Optional[dict] = None) -> Dict[str, Any]:
    """T. stddev of a KD config's train pipeline, with its teacher alone.

    The config's ``train_dataloader.dataset`` is built as training builds it (registry,
    pipeline and ``ood_root`` included), so its albumentations pipeline is the augmentation
    under test and the inputs are normalised exactly as the student's KD loss sees them (the
    pipeline's ``Normalize``, which :func:`~densekd.utils.config.load_config` checks against
    ``model.data_norm``, then ``model.data_preprocessor``). The teacher is
    ``model.teacher`` with its weights, frozen, in ``eval()``, under ``torch.no_grad()``;
    softmax at temperature 1, as the reference measures it. Items are drawn in a shuffled
    order (seeded) for ``epochs`` passes over the dataset; every pixel counts (densekd's
    pixel KD loss averages over all pixels; there are no labels on OOD images).

    Original vs. augmented. The reference keeps the teacher's softmax of the original batch
    and, when a DA is active, also of the augmented batch, because its student is distilled
    on both. densekd's KD distils on the train pipeline's output only, so by default only the
    augmented stream is measured: the statistics of exactly the images the student is
    distilled on, the quantity the paper's proposition is about. ``include_original=True``
    gives the reference's literal layout for a regime that distils on both: each batch also
    contributes the same items without the pipeline's random steps
    (:func:`deterministic_view`; a dropped random crop becomes a resize of the whole image),
    both in one teacher forward and one group; a pipeline without random steps (Identity)
    then has a single stream, as the reference has without DA.

    Args:
        config: KD config path (or an already loaded mmengine ``Config``).
        teacher: teacher weights replacing ``model.teacher.checkpoint``.
        epochs: passes over the train dataset (the reference runs 10).
        batch_size: images per batch; None takes ``train_dataloader.batch_size``. Compare
            pipelines at the same batch size and ``group_batches``: the value scales roughly
            as 1/sqrt(pixels per group).
        group_batches: batches per group (the reference's 5).
        seed: seed of the order, the augmentation stream and a random teacher's weights.
        device: where the teacher runs.
        progress: show a progress bar on stderr.
        random_teacher: use randomly initialised teacher weights (speed checks only).
        include_original: also measure the un-augmented items, see above.
        num_workers: loader worker processes; None takes ``train_dataloader.num_workers``.
        cfg_options: ``--cfg-options`` overrides, when ``config`` is a path.

    Returns:
        ``t_stddev``, ``mean_entropy``, ``per_class_std`` (list), ``groups``, ``images`` and
        ``pixels`` (in complete groups), ``streams`` (``'augmented'`` or
        ``'original+augmented'``), ``config``, ``teacher`` (path or ``'random'``),
        ``epochs``, ``batch_size``, ``group_batches``, ``seed`` and ``seconds``.

    Raises:
        FileNotFoundError: the config or the teacher checkpoint does not exist.
        KeyError: the config has no ``model.teacher`` (or no checkpoint for it).
        ValueError: fewer than 2 complete groups (too few batches), bad arguments.
    """
    from mmengine.utils import ProgressBar

    from densekd.algorithms.base import build_model
    from densekd.models.segmentors import forward_padded
    from densekd.registry import DATASETS, MODELS
    from densekd.utils.config import load_config
    from densekd.visualization.dataset_browser import dataset_config

    start = time.perf_counter()
    if isinstance(config, str):
        path = config
        cfg = load_config(config, cfg_options)
    else:
        cfg, path = config, getattr(config, 'filename', None) or '<config>'
    if int(epochs) < 1:
        raise ValueError(f'epochs must be >= 1, got {epochs}')
    t_cfg = teacher_config(cfg, path, teacher, random_teacher)
    loader_cfg = cfg.get('train_dataloader') or {}
    batch_size = int(batch_size or loader_cfg.get('batch_size') or 16)
    num_workers = int(loader_cfg.get('num_workers', 0) if num_workers is None else num_workers)
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')

    _seed_everything(seed)
    device = torch.device(device)
    net = build_model(t_cfg).to(device)
    net.requires_grad_(False)
    net.eval()
    if (cfg.get('model') or {}).get('channels_last'):
        net.to(memory_format=torch.channels_last)  # as training keeps it; values unchanged
    preprocessor_cfg = (cfg.get('model') or {}).get('data_preprocessor') or dict(
        type='BaseDataPreprocessor')
    preprocessor = MODELS.build(dict(preprocessor_cfg)).to(device)

    dataset = DATASETS.build(dataset_config(cfg, 'train'))
    streams = 'augmented'
    if include_original:
        original = deterministic_view(dataset)
        if original is not None:
            dataset, streams = _PairedDataset(dataset, original), 'original+augmented'
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, num_workers=num_workers,
                        sampler=RandomSampler(dataset, generator=generator),
                        generator=generator)
    total = int(epochs) * len(loader)
    meter = TStddevMeter(group_batches)
    if total < 2 * group_batches:
        raise ValueError(f'{path}: {int(epochs)} epoch(s) of {len(loader)} batches give fewer '
                         f'than 2 groups of {group_batches} batches; T. stddev needs at least '
                         f'2: run more epochs or lower the batch size or group_batches')

    bar = ProgressBar(total, file=sys.stderr) if progress else None
    with torch.no_grad():
        for _ in range(int(epochs)):
            for batch in loader:
                original = batch.pop('original', None)
                # The KD train step's preprocessing, of each stream.
                inputs = preprocessor(batch, True)['inputs']
                if original is not None:  # one teacher forward for both streams of the batch
                    inputs = torch.cat([preprocessor(dict(inputs=original), True)['inputs'],
                                        inputs])
                logits = forward_padded(net, inputs)
                meter.update(logits.float().softmax(dim=1))
                if bar is not None:
                    bar.update()
    if bar is not None:
        sys.stderr.write('\n')
    per_class = meter.per_class_std
    return dict(config=path, teacher='random' if random_teacher else t_cfg['checkpoint'],
                t_stddev=float(per_class.mean()), mean_entropy=meter.mean_entropy,
                per_class_std=[float(v) for v in per_class], groups=meter.num_groups,
                images=meter.num_images, pixels=meter.num_pixels, streams=streams,
                epochs=int(epochs), batch_size=batch_size, group_batches=int(group_batches),
                seed=int(seed), seconds=time.perf_counter() - start)
