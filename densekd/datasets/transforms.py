"""Albumentations pipelines behind one small builder.

All augmentation in densekd goes through :func:`build_pipeline`, so the albumentations-specific
rules live in one place (albumentations 2.0.8 is unmaintained; swapping it later should only touch
this module):

* transforms are given as dicts, ``dict(type='RandomCrop', height=128, width=128)``, and looked up
  by name in densekd's own transforms (:class:`RandomResizedCropKeepSize`), then in
  ``albumentations``; ``ToTensorV2`` is appended;
* every transform with a numeric ``fill_mask`` default (``PadIfNeeded``, ``RandomCrop`` with
  ``pad_if_needed``, ``Rotate``, ``Affine``, ...) fills invented label pixels with 255 (= ignore)
  unless the config says otherwise; albumentations' own default (0) would silently label padding
  as class 0. ``PadIfNeeded`` also gets ``fill=0`` explicitly;
* unknown keyword arguments are an error. albumentations only warns for them, which hides the
  1.x names ``value=`` / ``mask_value=`` (renamed ``fill=`` / ``fill_mask=`` in 2.x);
* the pipeline reseeds itself in each DataLoader worker (see :class:`AlbuPipeline`).
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import albumentations as A
import numpy as np
import torch
from albumentations.pytorch import ToTensorV2
from mmengine.logging import print_log

from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD

__all__ = ['AlbuPipeline', 'build_pipeline', 'build_transform', 'find_pipelines',
           'RandomResizedCropKeepSize', 'IMAGENET_MEAN', 'IMAGENET_STD']


#: Label value for "ignore" used when a transform has to invent mask pixels (padding, rotation).
IGNORE_INDEX = 255

# albumentations 1.x argument names that 2.x accepts with a warning and then ignores.
_RENAMED_ARGS = {
    'value': 'fill',
    'mask_value': 'fill_mask',
    'cval': 'fill',
    'cval_mask': 'fill_mask',
}


class RandomResizedCropKeepSize(A.RandomResizedCrop):
    """``RandomResizedCrop`` whose output size is the input's own size.

    The same random crop as ``RandomResizedCrop(size=(H, W), scale, ratio)`` on an H×W image
    (the same draws, bit-identical output), without writing the size in the pipeline: one
    SynthRooms pipeline then serves every render size (96×128, the 48×64 tier).

    Args:
        scale: range of the crop's area, as a fraction of the image's.
        ratio: range of the crop's aspect ratio (width / height).
        p: probability of applying the transform.
        **kwargs: ``RandomResizedCrop`` arguments other than ``size`` (``interpolation``, ...).
    """

    def __init__(self, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (0.75, 4 / 3), p: float = 1.0, **kwargs: Any):
        super().__init__(size=(1, 1), scale=scale, ratio=ratio, p=p, **kwargs)

    def get_params_dependent_on_data(self, params: dict, data: dict) -> dict:
        # The resize target is read from ``self.size`` when the crop is applied.
        self.size = tuple(params['shape'][:2])
        return super().get_params_dependent_on_data(params, data)


#: Transforms of densekd's own, looked up before albumentations'.
_OWN_TRANSFORMS = {'RandomResizedCropKeepSize': RandomResizedCropKeepSize}


def _init_params(cls: type) -> dict[str, inspect.Parameter] | None:
    """Parameters of ``cls.__init__``; None when it takes ``**kwargs`` (cannot check names)."""
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return None
    # ``strict`` is consumed by albumentations' validation wrapper, not by ``__init__``.
    return {name: p for name, p in params.items() if name != 'self'} | {
        'strict': inspect.Parameter('strict', inspect.Parameter.KEYWORD_ONLY, default=False)}


def build_transform(cfg: dict[str, Any] | Callable) -> Callable:
    """Build one albumentations transform from a config dict.

    Args:
        cfg: ``dict(type='<albumentations class name>', **kwargs)``. A ``transforms`` argument
            holding a list of dicts (``OneOf``, ``SomeOf``, ``Sequential``) is built recursively.
            An already-built transform is returned unchanged.

    Returns:
        The albumentations transform.

    Raises:
        ValueError: when ``type`` is missing or unknown, or an argument is not accepted by the
            transform (with the 2.x name for renamed 1.x arguments such as ``mask_value``).
    """
    if not isinstance(cfg, dict):
        if callable(cfg):
            return cfg
        raise ValueError(f'pipeline entries must be dicts with a "type" key, got {cfg!r}')
    if 'type' not in cfg:
        raise ValueError(f'pipeline entry {cfg!r} has no "type" key (an albumentations class name)')
    kwargs = dict(cfg)
    name = kwargs.pop('type')
    if isinstance(name, str):
        cls = _OWN_TRANSFORMS.get(name) or getattr(A, name, None)
    else:
        cls = name
    if not isinstance(cls, type):
        raise ValueError(f'pipeline entry type={name!r} is not an albumentations transform '
                         f'(albumentations {A.__version__})')
    type_name = cls.__name__

    params = _init_params(cls)
    if params is not None:
        accepted = set(params)
        unknown = sorted(set(kwargs) - accepted)
        if unknown:
            hints = [f'"{k}" is the albumentations 1.x name, use "{_RENAMED_ARGS[k]}"'
                     for k in unknown if k in _RENAMED_ARGS]
            raise ValueError(
                f'{type_name}: unknown argument(s) {unknown}; accepted: {sorted(accepted)}'
                + (' (' + '; '.join(hints) + ')' if hints else '')
                + '. albumentations 2.x would only warn and ignore them.')
        # Invented label pixels (padding, rotation borders) must be "ignore", not class 0.
        # Transforms whose default is None (CoarseDropout, ...) leave the mask alone: keep that.
        if ('fill_mask' in params and params['fill_mask'].default is not None
                and 'fill_mask' not in kwargs):
            kwargs['fill_mask'] = IGNORE_INDEX
        if type_name == 'PadIfNeeded' and 'fill' not in kwargs:
            kwargs['fill'] = 0
    else:
        bad = sorted(set(kwargs) & set(_RENAMED_ARGS))
        if bad:
            raise ValueError(f'{type_name}: argument(s) {bad} are albumentations 1.x names; use '
                             + ', '.join(f'"{_RENAMED_ARGS[k]}"' for k in bad))

    if isinstance(kwargs.get('transforms'), (list, tuple)):
        kwargs['transforms'] = [build_transform(t) for t in kwargs['transforms']]
    try:
        return cls(**kwargs)
    except Exception as exc:  # pydantic validation errors are long; keep the transform name
        raise ValueError(f'cannot build {type_name}({kwargs}): {exc}') from exc


class AlbuPipeline:
    """An ``A.Compose`` (+ ``ToTensorV2``) that returns torch tensors and reseeds per worker.

    albumentations keeps its own RNG inside ``Compose``, independent of numpy/random/torch seeds.
    Forked DataLoader workers inherit the same RNG state, so without reseeding every worker (and,
    with non-persistent workers, every epoch) replays the same augmentation stream. Before each
    call this object looks at the current seed key (``get_worker_info().seed`` inside a worker,
    which differs per worker and per epoch; ``torch.initial_seed()`` in the main process) and
    reseeds the compose when the key changed. The stream is therefore a function of
    ``(seed, key)``: reproducible under ``torch.manual_seed`` / mmengine's ``randomness.seed``.

    Args:
        compose: The albumentations ``Compose`` (ending with ``ToTensorV2``).
        seed: Optional extra seed mixed into every reseed.
    """

    def __init__(self, compose: A.Compose, seed: int | None = None) -> None:
        self.compose = compose
        self.seed = seed
        self._seed_key: int | None = None

    @staticmethod
    def _current_key() -> int:
        info = torch.utils.data.get_worker_info()
        # worker_info.seed = base_seed + worker_id, base_seed drawn per DataLoader iterator; it is
        # not overwritten by worker_init_fn's torch.manual_seed (mmengine's is epoch-independent).
        return int(info.seed) if info is not None else int(torch.initial_seed())

    def _mixed_seed(self, key: int) -> int:
        if self.seed is None:
            return key % 2**32
        return int(np.random.SeedSequence([int(self.seed) % 2**63, key % 2**63])
                   .generate_state(1)[0])

    def set_random_seed(self, seed: int) -> None:
        """Reseed the compose explicitly (until the worker/torch seed key changes).

        Args:
            seed: Seed for albumentations' generators.
        """
        self.compose.set_random_seed(int(seed) % 2**32)
        self._seed_key = self._current_key()

    def _maybe_reseed(self) -> None:
        key = self._current_key()
        if key != self._seed_key:
            self.compose.set_random_seed(self._mixed_seed(key))
            self._seed_key = key

    def __call__(self, image: np.ndarray, mask: np.ndarray | None = None
                 ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Apply the pipeline.

        Args:
            image: H×W×3 uint8 RGB image.
            mask: Optional H×W uint8 label map (transformed with the same geometry).

        Returns:
            ``(image, mask)``: image as a 3×H×W float32 tensor (normalised if the pipeline has a
            ``Normalize``, else raw 0..255 values), mask as an H×W int64 tensor or None.
        """
        self._maybe_reseed()
        if mask is None:
            out = self.compose(image=image)
            return out['image'].float(), None
        out = self.compose(image=image, mask=mask)
        return out['image'].float(), out['mask'].long()

    def _random_nodes(self) -> list:
        # albumentations gives the compose and every transform generators of their own
        # (set_random_seed), so each node's state is kept; nested composes are walked.
        nodes, todo = [], [self.compose]
        while todo:
            node = todo.pop(0)
            nodes.append(node)
            # only composes nest transforms: ColorJitter's `transforms` is a list of functions
            if isinstance(node, A.BaseCompose):
                todo.extend(node.transforms)
        return nodes

    def get_random_state(self) -> dict:
        """The augmentation stream's position: every generator of the compose and the seed key.

        Plain Python values and lists (weights-only loadable in a checkpoint), for
        :meth:`set_random_state`.
        """
        return dict(seed_key=self._seed_key, nodes=[
            dict(numpy=_plain(node.random_generator.bit_generator.state),
                 python=node.py_random.getstate()) for node in self._random_nodes()])

    def set_random_state(self, state: dict) -> None:
        """Continue the augmentation stream from :meth:`get_random_state`'s ``state``.

        Raises:
            ValueError: ``state`` was taken from a pipeline with other transforms.
        """
        nodes = self._random_nodes()
        if len(state['nodes']) != len(nodes):
            raise ValueError(f'random state of a pipeline with {len(state["nodes"])} '
                             f'transforms, this one has {len(nodes)}')
        for node, saved in zip(nodes, state['nodes']):
            node.random_generator.bit_generator.state = saved['numpy']
            node.py_random.setstate(saved['python'])
        self._seed_key = state['seed_key']

    def __repr__(self) -> str:
        return f'AlbuPipeline(seed={self.seed}, compose={self.compose!r})'


def _plain(value: Any) -> Any:
    """numpy arrays and scalars in a (nested) state as Python lists and numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def find_pipelines(dataset: Any, _depth: int = 0, _seen: set | None = None) -> list[AlbuPipeline]:
    """The :class:`AlbuPipeline` objects of a dataset and of the datasets it wraps.

    Datasets hold their transform in attributes (``pipeline`` by densekd convention);
    wrappers hold datasets in attributes or lists (``ConcatDataset.datasets``). Attributes
    are visited in name order, so the same config gives the same list.
    """
    seen = set() if _seen is None else _seen
    found: list[AlbuPipeline] = []
    if id(dataset) in seen or _depth > 4:
        return found
    seen.add(id(dataset))
    if isinstance(dataset, AlbuPipeline):
        return [dataset]
    if not isinstance(dataset, torch.utils.data.Dataset):
        return found
    for _, value in sorted(vars(dataset).items()):
        items = value if isinstance(value, (list, tuple)) else [value]
        if items and isinstance(items[0], (AlbuPipeline, torch.utils.data.Dataset)):
            for item in items:
                found += find_pipelines(item, _depth + 1, seen)
    return found


def default_pipeline_cfg() -> list[dict[str, Any]]:
    """The pipeline used when a dataset gets ``pipeline=None``: ImageNet ``Normalize`` only."""
    return [dict(type='Normalize', mean=IMAGENET_MEAN, std=IMAGENET_STD)]


def build_pipeline(transforms: Sequence[dict[str, Any] | Callable] | None,
                   seed: int | None = None) -> AlbuPipeline:
    """Build an albumentations pipeline from config dicts.

    Example:
        >>> pipe = build_pipeline([dict(type='PadIfNeeded', min_height=64, min_width=64),
        ...                        dict(type='RandomCrop', height=64, width=64),
        ...                        dict(type='HorizontalFlip'),
        ...                        dict(type='Normalize', mean=(0.5,) * 3, std=(0.5,) * 3)])
        >>> img, seg = pipe(image_uint8_hwc, mask_uint8_hw)

    Args:
        transforms: albumentations transform dicts (``dict(type=<class name>, **kwargs)``), applied
            in order; ``ToTensorV2`` is appended. None or empty means no augmentation and no
            normalisation (float32 images in 0..255, with a warning).
        seed: Optional seed; the augmentation stream is a function of this seed and the
            DataLoader worker / torch seed (see :class:`AlbuPipeline`).

    Returns:
        An :class:`AlbuPipeline`; call it as ``pipe(image, mask=None) -> (image, mask)``.

    Raises:
        ValueError: for unknown transform names or arguments (including albumentations 1.x names
            such as ``PadIfNeeded(mask_value=...)``).
    """
    transforms = list(transforms or [])
    built = [build_transform(t) for t in transforms]
    if not any(isinstance(t, A.Normalize) for t in built):
        print_log('build_pipeline: no Normalize in the pipeline; images stay in 0..255 '
                  '(float32).', logger='current', level=30)
    compose = A.Compose(built + [ToTensorV2()], seed=seed)
    return AlbuPipeline(compose, seed=seed)
