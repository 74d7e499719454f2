"""Input normalisation: the ImageNet statistics, and the check that a config uses one space.

Real images are normalised by the pipelines' albumentations ``Normalize`` (``(img / 255 - mean)
/ std``); generated images by the generators' ``to_input_space`` with the model's ``data_norm``.
Both must describe the same space, the one the teacher was trained in, or generated and real
images silently live in different spaces. :func:`check_data_norm` makes a disagreement a
build-time error.
"""
from __future__ import annotations

from typing import Any, Iterator, Optional, Tuple

#: ImageNet statistics in [0, 1] units (albumentations' ``Normalize`` convention), the default
#: ``data_norm`` of the distillers and generators and the default pipeline's.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

_DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def _normalize_steps(node: Any, path: str) -> Iterator[Tuple[str, dict]]:
    """Every ``dict(type='Normalize', ...)`` below ``node``, with its config key path."""
    if isinstance(node, dict):
        if node.get('type') == 'Normalize':
            yield path, node
        for key, value in node.items():
            yield from _normalize_steps(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _normalize_steps(value, f'{path}[{i}]')


def _same(a: Any, b: Any) -> bool:
    """Whether two per-channel statistics are equal (a scalar stands for every channel)."""
    a = [float(v) for v in (a if isinstance(a, (list, tuple)) else [a])]
    b = [float(v) for v in (b if isinstance(b, (list, tuple)) else [b])]
    if len(a) == 1:
        a = a * len(b)
    if len(b) == 1:
        b = b * len(a)
    return len(a) == len(b) and all(abs(x - y) < 1e-9 for x, y in zip(a, b))


def check_data_norm(cfg: Any, default: Optional[dict] = None) -> None:
    """Raise if a pipeline's ``Normalize`` or the generator disagrees with ``model.data_norm``.

    Only models that declare an input space are checked: those with a ``data_norm`` key, or
    with ``default`` (the distillers' ImageNet default) when the key is absent. Segmentor
    configs (teacher training) have no model-side normalisation and are not checked.

    Args:
        cfg: the full config (an mmengine ``Config`` or a dict).
        default: ``dict(mean, std)`` the model uses when its config has no ``data_norm``;
            None means such a model is not checked.

    Raises:
        ValueError: naming the key of the first disagreeing ``Normalize`` (or
            ``model.generator``) and both values.
    """
    model = cfg.get('model') or {}
    norm = model.get('data_norm') or default
    if norm is None:
        return
    where = 'model.data_norm' if model.get('data_norm') else 'the default model.data_norm'
    for loader in _DATALOADERS:
        for path, step in _normalize_steps(cfg.get(loader), loader):
            mean = step.get('mean', IMAGENET_MEAN)  # albumentations' own defaults
            std = step.get('std', IMAGENET_STD)
            standard = (step.get('normalization', 'standard') == 'standard'
                        and float(step.get('max_pixel_value', 255.0)) == 255.0)
            if not (standard and _same(mean, norm['mean']) and _same(std, norm['std'])):
                raise ValueError(
                    f'{path} is Normalize(mean={tuple(mean)}, std={tuple(std)}'
                    f'{"" if standard else ", non-standard normalization/max_pixel_value"}), '
                    f'but {where} is '
                    f'(mean={tuple(norm["mean"])}, std={tuple(norm["std"])}): real and generated '
                    f'images would be in different spaces; use the data family\'s data_norm in '
                    f'both')
    generator = model.get('generator') or {}
    for key in ('mean', 'std'):
        if key in generator and not _same(generator[key], norm[key]):
            raise ValueError(f'model.generator.{key}={tuple(generator[key])} differs from '
                             f'{where} {key}={tuple(norm[key])}; leave it unset (it defaults '
                             f'to model.data_norm)')
