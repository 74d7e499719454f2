"""The registered SynthRooms dataset: NYUv2-layout data generated on first use.

The renderer and the generator live in :mod:`densekd.synthrooms`; the names below are
re-exported so that existing imports from this module keep working.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

from densekd.registry import DATASETS
from densekd.synthrooms import (BED, BOOKS, CEILING, CHAIR, FLOOR, FURN,  # noqa: F401
                                MANIFEST_NAME, NUM_CLASSES, OBJ, PICT, SOFA, SYNTHROOMS_VERSION,
                                TABLE, TV, VOID, WALL, WINDOW, ensure_synthrooms,
                                generate_synthrooms, load_manifest, render_synthroom,
                                synthrooms_root)
from densekd.synthrooms.cache import default_folder_name
from densekd.synthrooms.writer import _PARTIAL_NAME  # noqa: F401

from .nyuv2 import NYUv2Dataset

__all__ = ['SYNTHROOMS_VERSION', 'generate_synthrooms', 'render_synthroom', 'load_manifest',
           'ensure_synthrooms', 'synthrooms_root', 'SynthRoomsDataset']


@DATASETS.register_module()
class SynthRoomsDataset(NYUv2Dataset):
    """SynthRooms in the NYUv2 layout, generated on first use.

    Behaves exactly like :class:`NYUv2Dataset` on ``data_root`` once the data exist; if
    ``data_root`` has no manifest with the same generation parameters, the data are generated
    there first (see :func:`ensure_synthrooms`), provided ``data_root`` is the default location
    (a folder named ``synthrooms_<height>x<width>``, as ``data/synthrooms_96x128`` in the
    configs), an empty folder or one SynthRooms generated before, or ``generate=True``. A
    mistyped ``data_root`` is thus an error naming the path, not a new dataset.

    Args:
        data_root: Where the dataset lives / is generated; None means
            ``data/synthrooms_<height>x<width>``.
        split: ``'train'`` or ``'test'``.
        pipeline: albumentations transform dicts (see :class:`NYUv2Dataset`).
        label_dir: Must be ``'seg13'`` (SynthRooms has the 13 NYUv2 classes only).
        max_samples: Keep at most this many images, evenly spaced (as every densekd dataset).
        num_train: Generated training images.
        num_test: Generated test images.
        height: Generated image height.
        width: Generated image width.
        seed: Generation seed (the augmentation seed is ``pipeline_seed``).
        pipeline_seed: Seed for the augmentation pipeline.
        num_workers: Generation processes (None = automatic).
        generate: True generates at any ``data_root``, False never; None (default) as above.
        **kwargs: Other :class:`NYUv2Dataset` arguments.

    Raises:
        DatasetNotFoundError: no dataset at ``data_root`` and generating there not allowed.
    """

    def __init__(self,
                 data_root: str | os.PathLike | None = None,
                 split: str = 'train',
                 pipeline: Sequence[dict[str, Any]] | Callable | None = None,
                 label_dir: str = 'seg13',
                 max_samples: int | None = None,
                 num_train: int = 800,
                 num_test: int = 200,
                 height: int = 96,
                 width: int = 128,
                 seed: int = 0,
                 pipeline_seed: int | None = None,
                 num_workers: int | None = None,
                 generate: bool | None = None,
                 **kwargs: Any) -> None:
        if label_dir != 'seg13':
            raise ValueError(f'SynthRoomsDataset: label_dir={label_dir!r}; SynthRooms only has '
                             f"'seg13' labels")
        if data_root is None:
            data_root = os.path.join('data', default_folder_name(height, width))
        root = synthrooms_root(data_root)
        self.generation = ensure_synthrooms(data_root, num_train, num_test, height, width, seed,
                                            num_workers, generate=generate,
                                            what=type(self).__name__)
        super().__init__(root, split=split, pipeline=pipeline, label_dir=label_dir,
                         max_samples=max_samples, pipeline_seed=pipeline_seed, **kwargs)

    @staticmethod
    def _missing_root_hint() -> str:
        return 'SynthRooms generates its data_root on first use.'
