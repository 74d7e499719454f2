"""The on-demand dataset: where a ``data_root`` lives, and generating it once under a file lock.

:func:`ensure_synthrooms` is what datasets call: it reuses a complete dataset with the same
parameters and otherwise generates one, while concurrent callers (e.g. dataloader workers or
parallel runs) wait on an inter-process lock instead of generating twice.

A dataset is generated without being asked only where a mistyped ``data_root`` cannot lead
(:func:`may_generate`): at its default location, in a folder SynthRooms wrote before, or in an
existing empty folder. Anywhere else the caller passes ``generate=True`` or runs
``tools/make_synthrooms.py``; otherwise the error names the path and both ways out.
"""
from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Iterator
from pathlib import Path

from mmengine.logging import print_log

from .writer import (_PARTIAL_NAME, MANIFEST_NAME, generate_synthrooms, generation_params,
                     load_manifest, manifest_matches)

__all__ = ['synthrooms_root', 'ensure_synthrooms', 'default_folder_name', 'may_generate']

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


def default_folder_name(height: int, width: int, suffix: str = '') -> str:
    """The folder name of a SynthRooms ``data_root`` in the shipped configs.

    Args:
        height: Image height.
        width: Image width.
        suffix: Appended to the name (``'_collage_sources'`` for the collage pool's sources).

    Returns:
        ``'synthrooms_<height>x<width><suffix>'``, e.g. ``'synthrooms_96x128'`` (the configs'
        ``data/synthrooms_96x128``).
    """
    return f'synthrooms_{int(height)}x{int(width)}{suffix}'


def may_generate(root: Path, default_name: str) -> bool:
    """Whether SynthRooms may generate into ``root`` without being asked to.

    True when ``root`` is named ``default_name`` (the default location, wherever it lives:
    ``data/``, ``$DENSEKD_DATA``, a checkout), when it holds a manifest, a partial-generation
    marker or the lock of an earlier SynthRooms generation (regenerated or resumed in place), or
    when it is an existing empty folder (made on purpose: a typo does not create a folder).

    Args:
        root: Resolved dataset root (:func:`synthrooms_root`).
        default_name: The folder name generated without asking (:func:`default_folder_name`).

    Returns:
        Whether to generate.
    """
    if root.name == default_name:
        return True
    if not root.is_dir():
        return False
    return any((root / n).exists() for n in (MANIFEST_NAME, _PARTIAL_NAME, _LOCK_NAME)) \
        or not any(root.iterdir())


def _not_generated_error(data_root: str | os.PathLike, root: Path, default_name: str,
                         params: dict, what: str) -> Exception:
    from densekd.datasets.nyuv2 import DatasetNotFoundError  # import cycle, see synthrooms_root
    state = 'is not empty and holds no SynthRooms dataset' if root.is_dir() else 'does not exist'
    similar = []
    if root.parent.is_dir():
        siblings = [p.name for p in root.parent.iterdir() if p.is_dir()]
        similar = [str(root.parent / n) for n in difflib.get_close_matches(root.name, siblings)]
    cmd = (f'python tools/make_synthrooms.py --out {root} --num-train {params["num_train"]} '
           f'--num-test {params["num_test"]} --height {params["height"]} '
           f'--width {params["width"]} --seed {params["seed"]}')
    return DatasetNotFoundError(
        f'{what}: data_root {str(data_root)!r} '
        + (f'(resolved to {str(root)!r}) ' if str(root) != str(data_root) else '')
        + f'{state}. SynthRooms generates data '
        f'without being asked only in a folder named {default_name!r} (the default location), '
        f'in an existing empty folder or in one it generated before, so that a mistyped '
        f'data_root is not filled with a new dataset. '
        + (f'Similar folders: {", ".join(similar)}. ' if similar else '')
        + f'If the path is a typo, fix the data_root key of the config; to generate there, run '
        f'`{cmd}` or pass generate=True.')


def ensure_synthrooms(data_root: str | os.PathLike, num_train: int = 800, num_test: int = 200,
                      height: int = 96, width: int = 128, seed: int = 0,
                      num_workers: int | None = None, generate: bool | None = None,
                      default_name: str | None = None,
                      what: str = 'SynthRoomsDataset') -> dict:
    """Make sure ``data_root`` holds a complete SynthRooms dataset with these parameters.

    Generates it (under an inter-process file lock, so concurrent callers wait for one
    generation) when the manifest is missing or was written with other parameters, and
    generating there is allowed (``generate``).

    Args:
        data_root: Dataset root.
        num_train: Number of training images.
        num_test: Number of test images.
        height: Image height.
        width: Image width.
        seed: Dataset seed.
        num_workers: Processes for generation; None = up to 4, one per 200 images.
        generate: True generates anywhere, False never; None (default) only where
            :func:`may_generate` says so.
        default_name: The default folder name for :func:`may_generate`; None means
            :func:`default_folder_name` ``(height, width)``.
        what: The dataset's name, for the error message.

    Returns:
        The manifest (parameters and statistics).

    Raises:
        DatasetNotFoundError: when the dataset is missing and may not be generated there; it
            names the path and says how to generate it. Nothing is created on disk then.
    """
    root = synthrooms_root(data_root)
    params = generation_params(num_train, num_test, height, width, seed)
    if manifest_matches(root, params):
        return load_manifest(root)
    if default_name is None:
        default_name = default_folder_name(height, width)
    if not (generate if generate is not None else may_generate(root, default_name)):
        raise _not_generated_error(data_root, root, default_name, params, what)
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
