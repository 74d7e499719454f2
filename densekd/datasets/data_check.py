"""Decode every file of every dataset a config uses, and list the bad ones by name.

What ``tools/train.py CONFIG --check-data`` runs before a long job: each ``*_dataloader`` of the
config is followed down to its datasets (through wrappers such as ``EntropySubsetDataset`` or
``MixedImagesDataset``, which are not built), each is built, and then

* every image of a labelled dataset (:class:`~densekd.datasets.nyuv2.NYUv2Dataset` and
  subclasses) is decoded with its label, which is checked for size and for values outside
  ``0..C-1`` and 255 (:meth:`~densekd.datasets.nyuv2.NYUv2Dataset.load_pair`);
* every image of an :class:`~densekd.datasets.ood.ImageFolderDataset` is decoded, and the files
  its header scan left out are reported too;
* datasets that decode all their files when built (bundled photos, collages) count as checked
  once they are built.

A dataset that cannot be built (missing folder, every file unreadable, ...) is one problem, with
the builder's message.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar

from densekd.registry import DATASETS

from .checks import thread_map
from .nyuv2 import DatasetError, NYUv2Dataset, read_image_rgb
from .ood import ImageFolderDataset

__all__ = ['DataProblem', 'DataCheckReport', 'dataset_configs', 'check_config_data']


@dataclass
class DataProblem:
    """One bad file (or a dataset that cannot be built).

    Attributes:
        where: The config key of the dataset, e.g. ``'train_dataloader.dataset'``.
        path: The file (the dataset's ``data_root`` when it cannot be built).
        message: What is wrong.
    """
    where: str
    path: str
    message: str


@dataclass
class DataCheckReport:
    """What :func:`check_config_data` found.

    Attributes:
        checked: ``(where, dataset type, number of files decoded)`` per dataset.
        problems: Every problem found.
    """
    checked: list[tuple[str, str, int]] = field(default_factory=list)
    problems: list[DataProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def format(self) -> str:
        """A human-readable summary: one line per dataset, then one per problem."""
        lines = [f'{where}: {kind}, {n} files decoded' for where, kind, n in self.checked]
        if self.ok:
            lines.append('data check passed: no unreadable, truncated or mislabelled file')
        else:
            lines.append(f'data check FAILED: {len(self.problems)} problem(s)')
            lines += [f'  {p.where}: {p.path}: {p.message}' for p in self.problems]
        return '\n'.join(lines)


def _is_dataset_cfg(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get('type'), str) \
        and DATASETS.get(value['type']) is not None


def _nested_dataset_cfgs(cfg: dict, where: str) -> list[tuple[str, dict]]:
    """The dataset configs one level inside a wrapper config (``dataset=``, ``datasets=[...]``)."""
    out = []
    for key, value in cfg.items():
        if _is_dataset_cfg(value):
            out.append((f'{where}.{key}', value))
        elif isinstance(value, (list, tuple)):
            out += [(f'{where}.{key}[{i}]', v) for i, v in enumerate(value) if _is_dataset_cfg(v)]
    return out


def dataset_configs(cfg: Any) -> list[tuple[str, dict]]:
    """The leaf dataset configs of every ``*_dataloader`` of a config, without duplicates.

    Args:
        cfg: An mmengine ``Config`` (or a dict) as :func:`~densekd.utils.config.load_config`
            returns it.

    Returns:
        ``(where, dataset config)`` pairs, ``where`` being the config key (e.g.
        ``'train_dataloader.dataset.dataset'`` inside an ``EntropySubsetDataset``). A dataset
        configured twice (``test_dataloader = val_dataloader``) is listed once.
    """
    todo = [(f'{key}.dataset', loader['dataset']) for key, loader in cfg.items()
            if key.endswith('_dataloader') and isinstance(loader, dict)
            and _is_dataset_cfg(loader.get('dataset'))]
    out, seen = [], set()
    while todo:
        where, ds_cfg = todo.pop(0)
        ds_cfg = ds_cfg.to_dict() if hasattr(ds_cfg, 'to_dict') else dict(ds_cfg)
        nested = _nested_dataset_cfgs(ds_cfg, where)
        if nested:  # a wrapper: check what it wraps, never build it (it may run a teacher)
            todo = nested + todo
            continue
        key = json.dumps(ds_cfg, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append((where, ds_cfg))
    return out


def _file_checks(dataset: Any) -> list[tuple[str, Callable[[], Any]]]:
    """``(path, check)`` for every file of a built dataset; a check raises DatasetError."""
    if isinstance(dataset, NYUv2Dataset):
        return [(path, lambda i=i: dataset.load_pair(i))
                for i, path in enumerate(dataset.img_paths)]
    if isinstance(dataset, ImageFolderDataset):
        return [(path, lambda path=path: read_image_rgb(path)) for path in dataset.img_paths]
    return []  # decoded everything when built


def _run_checks(where: str, checks: list[tuple[str, Callable[[], Any]]],
                bar: ProgressBar | None) -> Iterator[DataProblem]:
    def run(item: tuple[str, Callable[[], Any]]) -> DataProblem | None:
        path, check = item
        try:
            check()
        except DatasetError as exc:
            return DataProblem(where, path, str(exc))
        return None

    for problem in thread_map(run, checks):
        if bar is not None:
            bar.update()
        if problem is not None:
            yield problem


def check_config_data(cfg: Any, progress: bool = True) -> DataCheckReport:
    """Build every dataset of a config and fully decode each of its files.

    Args:
        cfg: The loaded config (:func:`~densekd.utils.config.load_config`).
        progress: Show a progress bar per dataset on stderr.

    Returns:
        The report; ``report.ok`` is False when any file is unreadable, truncated or has label
        values outside the classes, or a dataset cannot be built.
    """
    init_default_scope(cfg.get('default_scope', 'densekd'))
    report = DataCheckReport()
    for where, ds_cfg in dataset_configs(cfg):
        kind = ds_cfg['type']
        if issubclass(DATASETS.get(kind), NYUv2Dataset):
            # Report every bad label here, not the first ones the construction check raises.
            ds_cfg = dict(ds_cfg, check_labels=False)
        try:
            dataset = DATASETS.build(ds_cfg)
        except (DatasetError, FileNotFoundError) as exc:
            report.problems.append(DataProblem(where, str(ds_cfg.get('data_root', kind)),
                                               f'cannot build {kind}: {exc}'))
            continue
        for path, reason in getattr(dataset, 'skipped', []):
            report.problems.append(DataProblem(where, path, f'cannot be opened: {reason}'))
        checks = _file_checks(dataset)
        print(f'{where}: {kind}, decoding {len(checks)} files', file=sys.stderr, flush=True)
        bar = ProgressBar(len(checks), file=sys.stderr) if progress and checks else None
        report.problems += _run_checks(where, checks, bar)
        if bar is not None:
            sys.stderr.write('\n')
        report.checked.append((where, kind, len(checks)))
    return report
