"""OOD subset selection by teacher entropy (MosaicKD ``prepare_ood_data``, made dense).

MosaicKD (github.com/zju-vipa/MosaicKD; ``docs/methods.md``) runs the teacher over the whole OOD
set, scores each image by the entropy of its prediction and keeps the **highest-entropy** (most
out-of-domain) images, cached per teacher and data. The dense version scores an image by the mean
over its pixels of the per-pixel entropy ``-Σ_c p_c log p_c`` of ``softmax(teacher(x))``.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import os.path as osp
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from mmengine.logging import print_log
from torch import nn
from torch.utils.data import DataLoader, Dataset

from densekd.datasets.transforms import find_pipelines
from densekd.losses.utils import pixel_entropy
from densekd.registry import DATASETS
from densekd.utils.atomic import write_json_atomic
from densekd.utils.random_state import preserved_random_state

__all__ = ['score_images_by_entropy', 'EntropySubsetDataset']

_CACHE_VERSION = 2


def _list_collate(batch: list) -> list:
    # Items are stacked later, only when their sizes agree (OOD images may differ in size).
    return batch


def _item_inputs(item: Any, index: int) -> torch.Tensor:
    if isinstance(item, dict):
        if 'inputs' not in item:
            raise KeyError(f'dataset item {index} has no "inputs" key (keys: {sorted(item)})')
        x = item['inputs']
    elif isinstance(item, (tuple, list)):
        x = item[0]
    else:
        x = item
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise TypeError(f'dataset item {index}: expected a 3×H×W image tensor as "inputs", got '
                        f'{type(x).__name__} {tuple(getattr(x, "shape", ()))}')
    return x


def _module_device(module: nn.Module) -> torch.device:
    for p in module.parameters():
        return p.device
    return torch.device('cpu')


@torch.no_grad()
def _mean_pixel_entropy(teacher: nn.Module, x: torch.Tensor) -> torch.Tensor:
    from densekd.models.segmentors import forward_padded  # lazy: avoid a package import cycle

    entropy = pixel_entropy(forward_padded(teacher, x).float())  # B×H×W, nats
    return entropy.flatten(1).mean(dim=1)


def score_images_by_entropy(teacher: nn.Module, dataset: Dataset, batch_size: int = 16,
                            device: Optional[Union[str, torch.device]] = None,
                            num_workers: int = 0) -> torch.Tensor:
    """Score every image of a dataset by the teacher's mean per-pixel entropy.

    ``score_i = mean_{h,w} [ -Σ_c p_{c,h,w} log p_{c,h,w} ]``, ``p = softmax_c(teacher(x_i))``
    (natural log; MosaicKD §1.5 uses the image-level entropy of a classifier). Images are taken
    in dataset order (no shuffling); the teacher runs in ``eval()`` under ``no_grad`` and its
    train/eval mode is restored afterwards. Images of any size are accepted (padded to the
    teacher's output stride, logits cropped back), batched together when their sizes agree.

    Args:
        teacher: segmentation model returning B×C×H×W logits at input size.
        dataset: items are dicts with ``inputs`` (3×H×W, normalised), or tensors / tuples whose
            first element is the image.
        batch_size: images per teacher forward.
        device: where to run; the teacher's current device when None. The teacher is moved
            there in place.
        num_workers: DataLoader workers for reading the dataset.

    Returns:
        float32 CPU tensor of N scores (higher = less confident = more out-of-domain).
    """
    if batch_size < 1:
        raise ValueError(f'batch_size must be >= 1, got {batch_size}')
    if len(dataset) == 0:
        raise ValueError('cannot score an empty dataset')
    device = _module_device(teacher) if device is None else torch.device(device)
    was_training = teacher.training
    teacher.to(device).eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        collate_fn=_list_collate)
    scores: List[torch.Tensor] = []
    seen = 0
    try:
        for items in loader:
            images = [_item_inputs(item, seen + k) for k, item in enumerate(items)]
            seen += len(images)
            if all(im.shape == images[0].shape for im in images):
                scores.append(_mean_pixel_entropy(teacher, torch.stack(images).to(device)).cpu())
            else:
                scores.extend(_mean_pixel_entropy(teacher, im[None].to(device)).cpu()
                              for im in images)
    finally:
        teacher.train(was_training)
    return torch.cat(scores).float()


# ------------------------------------------------------------------------------ dataset wrapper
def _is_simple(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _jsonable(value: Any) -> Any:
    """JSON form of simple attributes (paths, numbers, lists of them); None when not simple."""
    if isinstance(value, Path):
        return str(value)
    if _is_simple(value):
        return value
    if isinstance(value, (list, tuple)) and all(_is_simple(v) or isinstance(v, Path)
                                                 for v in value):
        return [str(v) if isinstance(v, Path) else v for v in value]
    return None


def _describe_dataset(dataset: Any, with_pipeline: bool = True, depth: int = 0
                      ) -> Dict[str, Any]:
    """What identifies a dataset's images: type, length, image paths and simple settings.

    Built from the public attributes (``img_paths``, ``data_root``, crop settings, seeds, ...)
    and, recursively, from wrapped datasets, so no image has to be read to compute the key.
    With ``with_pipeline`` the transform's ``repr`` (albumentations prints every parameter) is
    included too, since it then decides what the teacher sees.
    """
    desc: Dict[str, Any] = {'type': type(dataset).__name__}
    try:
        desc['len'] = len(dataset)
    except TypeError:
        pass
    if depth > 3:
        return desc
    for name, value in sorted(getattr(dataset, '__dict__', {}).items()):
        if name == 'pipeline':
            if with_pipeline:
                desc[name] = re.sub(r' at 0x[0-9a-fA-F]+', '', repr(value))
            continue
        if name.startswith('_') and not isinstance(value, (Dataset, list, tuple)):
            continue
        simple = _jsonable(value)
        if simple is not None or value is None:
            desc[name] = simple
        elif isinstance(value, Dataset):
            desc[name] = _describe_dataset(value, with_pipeline, depth + 1)
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Dataset)
                                                                 for v in value):
            desc[name] = [_describe_dataset(v, with_pipeline, depth + 1) for v in value]
    return desc


def _with_pipeline(dataset: Any, pipeline: Any, memo: Optional[dict] = None) -> Any:
    """Shallow copy of ``dataset`` (and of wrapped datasets) with ``pipeline`` swapped in.

    Leaves the original untouched, so training keeps its augmentation while scoring is
    deterministic. Datasets hold their transform in a ``pipeline`` attribute (densekd
    convention); wrappers (``ConcatDataset``, ``MixedImagesDataset``) are followed through their
    dataset attributes.
    """
    memo = {} if memo is None else memo
    if id(dataset) in memo:
        return memo[id(dataset)]
    clone = copy.copy(dataset)
    memo[id(dataset)] = clone
    if hasattr(clone, 'pipeline'):
        clone.pipeline = pipeline
        memo['swapped'] = memo.get('swapped', 0) + 1
        return clone
    for name, value in list(getattr(clone, '__dict__', {}).items()):
        if isinstance(value, Dataset):
            setattr(clone, name, _with_pipeline(value, pipeline, memo))
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, Dataset)
                                                                 for v in value):
            setattr(clone, name, type(value)(_with_pipeline(v, pipeline, memo) for v in value))
    return clone


def _file_sha256(path: str, h: 'hashlib._Hash') -> None:
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)


def _state_sha256(module: nn.Module, h: 'hashlib._Hash') -> None:
    for name, tensor in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())


@DATASETS.register_module()
class EntropySubsetDataset(Dataset):
    """The ``num_keep`` images of a dataset the teacher is least sure about (MosaicKD §1.5).

    Every image is scored with :func:`score_images_by_entropy` (mean per-pixel teacher entropy);
    the dataset keeps the highest-scoring (most out-of-domain) ones, in descending score order,
    and returns the wrapped dataset's items for them (with the wrapped dataset's own,
    possibly random, augmentation).

    Scoring determinism: by default the wrapped dataset's items are scored as they come, which
    includes any random augmentation. Give ``score_pipeline`` (albumentations dicts, e.g.
    ``[dict(type='Resize', height=256, width=320), dict(type='Normalize', ...)]``, the
    teacher's test-time transform as in MosaicKD) to score a copy of the dataset whose
    ``pipeline`` is replaced by it; the training items keep the original pipeline.

    Caching: with ``cache_dir``, the full ranking is stored in
    ``cache_dir/<sha256>.json``, the hash covering the teacher checkpoint's bytes (or the
    weights of a teacher given as a module), the teacher config, the dataset's length, image
    paths and settings, and the scoring transform (``score_pipeline``, or the dataset's own
    pipeline when scoring with it). A later run with the same teacher and data
    reads it instead of running the teacher; any ``num_keep`` reuses it.

    Args:
        dataset: the dataset to subset, a config dict (built from ``DATASETS``) or an instance.
        teacher: the segmentor config with its ``checkpoint``, the same dict as a distiller's
            ``model.teacher`` (``dict(type='SmpSegmentor', arch=..., ..., checkpoint=<path>)``;
            ``type`` defaults to ``'SmpSegmentor'``), or an ``nn.Module`` (then hashed by its
            weights).
        num_keep: number of images to keep (int, clipped to the dataset size with a warning)
            or a fraction in (0, 1] of the dataset (float).
        cache_dir: folder of the ranking cache; no caching when None.
        batch_size: images per teacher forward while scoring.
        score_pipeline: albumentations dicts for deterministic scoring, see above.
        device: scoring device (e.g. ``'cuda'``); CPU when None for a config teacher, the
            module's device for a module teacher.
        num_workers: DataLoader workers while scoring.

    Attributes:
        indices: kept indices into the wrapped dataset, highest entropy first.
        scores: the entropy of every image of the wrapped dataset (float32, N).
        cache_file: path of the cache file, or None.
    """

    def __init__(self, dataset: Union[dict, Dataset], teacher: Union[dict, nn.Module],
                 num_keep: Union[int, float], cache_dir: Optional[str] = None,
                 batch_size: int = 16, score_pipeline: Optional[Sequence[dict]] = None,
                 device: Optional[str] = None, num_workers: int = 0) -> None:
        super().__init__()
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        total = len(self.dataset)
        if total == 0:
            raise ValueError('EntropySubsetDataset: the wrapped dataset is empty')
        self.num_keep = self._resolve_num_keep(num_keep, total)
        self.score_pipeline = list(score_pipeline) if score_pipeline is not None else None

        teacher_model, key_hash = self._teacher_and_hash(teacher)
        self.cache_file = None
        ranking = None
        if cache_dir is not None:
            # The dataset's own pipeline matters only when it is the one used for scoring.
            desc = _describe_dataset(self.dataset, with_pipeline=self.score_pipeline is None)
            key_hash.update(json.dumps(desc, sort_keys=True, default=str).encode())
            key_hash.update(json.dumps(self.score_pipeline, sort_keys=True,
                                       default=str).encode())
            self.cache_file = osp.join(str(cache_dir), key_hash.hexdigest()[:32] + '.json')
            ranking = self._read_cache(self.cache_file, total)

        if ranking is None:
            # Scoring builds a teacher and runs the dataset's pipeline: keep every random
            # stream where it was, so training is the same on a cache hit and a miss.
            with preserved_random_state(find_pipelines(self.dataset)):
                ranking = self._score(teacher, teacher_model, total, batch_size, device,
                                      num_workers)
        self.scores = torch.tensor(ranking['scores'], dtype=torch.float32)
        self.indices: List[int] = [int(i) for i in ranking['order'][:self.num_keep]]
        print_log(f'EntropySubsetDataset: keeping the {self.num_keep} highest-entropy of '
                  f'{total} images (entropy >= {self.scores[self.indices[-1]]:.4f} nats)',
                  logger='current')

    # -- construction helpers -------------------------------------------------------------
    def _score(self, teacher, teacher_model, total: int, batch_size: int, device,
               num_workers: int) -> dict:
        """Score every image with the teacher; the ranking (written to the cache if any)."""
        if teacher_model is None:
            teacher_model = self._build_teacher(teacher)
        to_score = self.dataset
        if self.score_pipeline is not None:
            to_score = self._scoring_copy(self.dataset, self.score_pipeline)
        t0 = time.time()
        scores = score_images_by_entropy(teacher_model, to_score, batch_size=batch_size,
                                         device=device, num_workers=num_workers)
        print_log(f'EntropySubsetDataset: scored {total} images with the teacher in '
                  f'{time.time() - t0:.1f} s', logger='current')
        order = torch.sort(scores, descending=True, stable=True).indices
        ranking = dict(order=order.tolist(), scores=scores.tolist())
        if self.cache_file is not None:
            self._write_cache(self.cache_file, ranking, total, teacher)
        return ranking

    @staticmethod
    def _resolve_num_keep(num_keep: Union[int, float], total: int) -> int:
        if isinstance(num_keep, bool) or not isinstance(num_keep, (int, float)):
            raise TypeError(f'EntropySubsetDataset.num_keep must be an int (count) or a float '
                            f'fraction in (0, 1], got {num_keep!r}')
        if isinstance(num_keep, float):
            if not 0.0 < num_keep <= 1.0:
                raise ValueError(f'EntropySubsetDataset.num_keep as a fraction must be in '
                                 f'(0, 1], got {num_keep}')
            return max(1, int(round(num_keep * total)))
        if num_keep < 1:
            raise ValueError(f'EntropySubsetDataset.num_keep must be >= 1, got {num_keep}')
        if num_keep > total:
            print_log(f'EntropySubsetDataset: num_keep={num_keep} exceeds the {total} images '
                      f'of the dataset; keeping all of them', logger='current', level=30)
            return total
        return num_keep

    @staticmethod
    def _teacher_and_hash(teacher: Union[dict, nn.Module]):
        """The teacher module if already built, and a sha256 seeded with its identity."""
        h = hashlib.sha256(f'densekd-entropy-subset-v{_CACHE_VERSION}'.encode())
        if isinstance(teacher, nn.Module):
            _state_sha256(teacher, h)
            return teacher, h
        if not isinstance(teacher, dict):
            raise TypeError('EntropySubsetDataset.teacher must be a segmentor config with its '
                            f'checkpoint (as model.teacher) or an nn.Module, got {teacher!r}')
        if 'model' in teacher:
            raise ValueError('EntropySubsetDataset.teacher takes the segmentor config itself, '
                             'as a distiller\'s model.teacher: dict(type=..., arch=..., '
                             'checkpoint=...), not dict(model=..., checkpoint=...)')
        ckpt = teacher.get('checkpoint')
        if not ckpt:
            raise ValueError('EntropySubsetDataset.teacher.checkpoint is required: ranking OOD '
                             'images with an untrained teacher is meaningless')
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'EntropySubsetDataset.teacher.checkpoint {ckpt} does not '
                                    f'exist')
        _file_sha256(ckpt, h)
        model_cfg = {k: v for k, v in teacher.items() if k != 'checkpoint'}
        h.update(json.dumps(model_cfg, sort_keys=True, default=str).encode())
        return None, h

    @staticmethod
    def _build_teacher(teacher: dict) -> nn.Module:
        from densekd.algorithms.base import build_model  # the distillers' teacher builder

        return build_model(teacher)

    @staticmethod
    def _scoring_copy(dataset: Dataset, score_pipeline: List[dict]) -> Dataset:
        from .transforms import build_pipeline

        memo: dict = {}
        clone = _with_pipeline(dataset, build_pipeline(score_pipeline), memo)
        if not memo.get('swapped'):
            raise ValueError(f'EntropySubsetDataset.score_pipeline: {type(dataset).__name__} '
                             f'(and the datasets it wraps) has no "pipeline" attribute to '
                             f'replace; drop score_pipeline to score the items as they are')
        return clone

    @staticmethod
    def _read_cache(path: str, total: int) -> Optional[dict]:
        if not osp.isfile(path):
            return None
        try:
            with open(path) as f:
                data = json.load(f)
            ok = (data.get('version') == _CACHE_VERSION and data.get('num_images') == total
                  and len(data['order']) == total and len(data['scores']) == total)
        except (OSError, ValueError, KeyError, TypeError) as e:
            print_log(f'EntropySubsetDataset: ignoring unreadable cache {path} ({e})',
                      logger='current', level=30)
            return None
        if not ok:
            print_log(f'EntropySubsetDataset: cache {path} does not match the dataset; '
                      f're-scoring', logger='current', level=30)
            return None
        print_log(f'EntropySubsetDataset: using cached ranking {path}', logger='current')
        return data

    @staticmethod
    def _write_cache(path: str, ranking: dict, total: int, teacher: Any) -> None:
        os.makedirs(osp.dirname(path) or '.', exist_ok=True)
        data = dict(version=_CACHE_VERSION, num_images=total,
                    teacher_checkpoint=(teacher.get('checkpoint') if isinstance(teacher, dict)
                                        else None),
                    created=time.strftime('%Y-%m-%d %H:%M:%S'), **ranking)
        write_json_atomic(path, data, indent=None)  # concurrent runs never read half a file

    # -- Dataset API ----------------------------------------------------------------------
    @property
    def metainfo(self) -> dict:
        return dict(getattr(self.dataset, 'metainfo', {}) or {})

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> Any:
        return self.dataset[self.indices[index]]
