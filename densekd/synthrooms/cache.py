"""The on-demand dataset: where a ``data_root`` lives, and generating it once under a file lock.

:func:`ensure_synthrooms` is what datasets call: it reuses a complete dataset with the same
parameters and otherwise generates one, while concurrent callers (e.g. dataloader workers or
parallel runs) wait on an inter-process lock instead of generating twice.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from mmengine.logging import print_log

from .writer import generate_synthrooms, generation_params, load_manifest, manifest_matches

__all__ = ['synthrooms_root', 'ensure_synthrooms']

_LOCK_NAME = '.synthrooms.lock'


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Exclusive inter-process lock (POSIX flock; a no-op where fcntl does not exist)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, 'a+') as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def synthrooms_root(data_root: str | os.PathLike) -> Path:
    """Where a SynthRooms ``data_root`` lives or will be generated.

    An existing directory is found like NYUv2's (``~``/``$VARS`` expanded, relative paths also
    looked up under ``$DENSEKD_DATA``, see :func:`~densekd.datasets.nyuv2.resolve_data_root`).
    When none exists yet, a relative path is generated under ``$DENSEKD_DATA`` (without a
    leading ``data/`` or ``datasets/``) if that variable is set, else relative to the working
    directory.

    Args:
        data_root: Path from the config.

    Returns:
        The directory to read or generate.
    """
    # densekd.datasets imports this package, so the NYUv2 helpers are imported at call time.
    from densekd.datasets.nyuv2 import DatasetNotFoundError, resolve_data_root
    try:
        return resolve_data_root(data_root, 'SynthRoomsDataset')
    except DatasetNotFoundError:
        pass
    path = Path(os.path.expandvars(os.path.expanduser(str(data_root))))
    env = os.environ.get('DENSEKD_DATA')
    if env and not path.is_absolute():
        parts = path.parts[1:] if len(path.parts) > 1 and path.parts[0] in ('data', 'datasets') \
            else path.parts
        return Path(env).joinpath(*parts)
    return path


def ensure_synthrooms(data_root: str | os.PathLike, num_train: int = 800, num_test: int = 200,
                      height: int = 96, width: int = 128, seed: int = 0,
                      num_workers: int | None = None) -> dict:
    """Make sure ``data_root`` holds a complete SynthRooms dataset with these parameters.

    Generates it (under an inter-process file lock, so concurrent callers wait for one
    generation) when the manifest is missing or was written with other parameters.

    Args:
        data_root: Dataset root.
        num_train: Number of training images.
        num_test: Number of test images.
        height: Image height.
        width: Image width.
        seed: Dataset seed.
        num_workers: Processes for generation; None = up to 4, one per 200 images.

    Returns:
        The manifest (parameters and statistics).
    """
    root = synthrooms_root(data_root)
    params = generation_params(num_train, num_test, height, width, seed)
    if manifest_matches(root, params):
        return load_manifest(root)
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / _LOCK_NAME):
        if manifest_matches(root, params):  # another process finished while we waited
            return load_manifest(root)
        if num_workers is None:
            num_workers = max(1, min(4, os.cpu_count() or 1, (num_train + num_test) // 200))
        print_log(f'SynthRooms: generating {num_train}+{num_test} images of {height}x{width} '
                  f'(seed {seed}) in {root} with {num_workers} worker(s)', logger='current')
        stats = generate_synthrooms(root, num_train, num_test, height, width, seed, num_workers)
        print_log(f'SynthRooms: done in {stats["seconds"]:.1f} s', logger='current')
    return load_manifest(root)
