"""Writing a SynthRooms dataset to disk: parallel rendering, atomic PNGs, resume, manifest.

The on-disk layout is the one :class:`~densekd.datasets.nyuv2.NYUv2Dataset` reads::

    <out_dir>/image/{train,test}/00000.png   RGB uint8
    <out_dir>/seg13/{train,test}/00000.png   uint8, 0..12 = NYUv2-13 classes, 255 = void
    <out_dir>/synthrooms.json                manifest (params + stats), written last

Image ``k`` of a split depends only on ``(seed, split, k)``, so generation can run in parallel,
can resume after an interruption, and re-runs produce identical bytes.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
from mmengine.logging import print_log

from .palettes import VOID
from .render import SPLITS, SYNTHROOMS_VERSION, render_synthroom

__all__ = ['MANIFEST_NAME', 'generate_synthrooms', 'generation_params', 'load_manifest',
           'manifest_matches']

MANIFEST_NAME = 'synthrooms.json'
_PARTIAL_NAME = '.synthrooms_partial.json'
_CHUNK = 20  # images per task: few enough tasks to keep the pool busy, little IPC overhead


def generation_params(num_train: int, num_test: int, height: int, width: int, seed: int
                      ) -> dict:
    """The parameters a manifest records; a dataset is reused only when they are equal."""
    return dict(version=SYNTHROOMS_VERSION, num_train=int(num_train), num_test=int(num_test),
                height=int(height), width=int(width), seed=int(seed))


def load_manifest(out_dir: str | os.PathLike) -> dict | None:
    """Read ``synthrooms.json`` from ``out_dir``.

    Args:
        out_dir: Dataset root.

    Returns:
        The manifest, or None if it is absent or unreadable.
    """
    path = Path(out_dir) / MANIFEST_NAME
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def manifest_matches(out_dir: Path, params: dict) -> bool:
    """Whether ``out_dir`` holds a complete dataset generated with ``params``.

    Args:
        out_dir: Dataset root.
        params: :func:`generation_params` of the wanted dataset.

    Returns:
        True when the manifest has these parameters and every split folder has its count of
        PNGs.
    """
    man = load_manifest(out_dir)
    if man is None or man.get('params') != params:
        return False
    for split, n in (('train', params['num_train']), ('test', params['num_test'])):
        for sub in ('image', 'seg13'):
            folder = out_dir / sub / split
            if n and (not folder.is_dir() or
                      sum(1 for f in folder.iterdir() if f.suffix == '.png') != n):
                return False
    return True


def generate_synthrooms(out_dir: str | os.PathLike, num_train: int = 800, num_test: int = 200,
                        height: int = 96, width: int = 128, seed: int = 0, num_workers: int = 1,
                        resume: bool = True, verbose: bool = False) -> dict:
    """Render a SynthRooms dataset in the NYUv2 (VainF toolkit) layout.

    Files are written atomically and the manifest ``synthrooms.json`` last, so a directory
    without a manifest is an incomplete generation. A partial generation with the same
    parameters is resumed (finished files are kept); other SynthRooms files are replaced.

    Args:
        out_dir: Output root (created if needed).
        num_train: Number of training images.
        num_test: Number of test images.
        height: Image height.
        width: Image width.
        seed: Dataset seed; image k of a split depends only on (seed, split, k).
        num_workers: Processes to render with (1 = in this process).
        resume: Keep finished files of an interrupted generation with the same parameters.
        verbose: Log progress.

    Returns:
        Statistics: ``params``, ``counts`` per split, ``pixel_share`` and ``image_share`` per
        class (over both splits), ``void_share``, ``seconds`` and ``images_per_second``.

    Raises:
        ValueError: bad sizes or counts.
        FileExistsError: ``out_dir`` holds an ``image/`` or ``seg13/`` folder that SynthRooms
            did not write (e.g. real NYUv2): it is never overwritten.
    """
    if num_train < 0 or num_test < 0 or num_train + num_test == 0:
        raise ValueError(f'num_train/num_test must be >= 0 and not both 0, got '
                         f'{num_train}/{num_test}')
    if height < 8 or width < 8:
        raise ValueError(f'height/width must be >= 8, got {height}x{width}')
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params = generation_params(num_train, num_test, height, width, seed)
    t0 = time.perf_counter()
    wanted = {'train': num_train, 'test': num_test}
    can_resume = _prepare_out_dir(out, params, wanted, resume)
    tasks = [(str(out), split, list(range(i, min(i + _CHUNK, n))), seed, height, width,
              can_resume)
             for split, n in wanted.items() for i in range(0, n, _CHUNK)]
    counts = np.zeros(256, np.int64)
    present = np.zeros(256, np.int64)
    done = 0
    total = num_train + num_test
    with _pool(num_workers, len(tasks)) as imap:
        for res in imap(_render_chunk, tasks):
            for _, _, c in res:
                counts += c
                present += c > 0
            done += len(res)
            if verbose and (done % 200 < _CHUNK or done == total):
                print_log(f'SynthRooms: {done}/{total} images', logger='current')
    secs = time.perf_counter() - t0
    stats = _statistics(params, wanted, counts, present, secs, num_workers)
    # The module that wrote the first manifests; kept so that manifests stay byte-identical.
    manifest = dict(generator='densekd.datasets.synthrooms', **stats)
    man_path = out / MANIFEST_NAME
    tmp = man_path.with_name(man_path.name + '.tmp')
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, man_path)  # the manifest appears last and atomically
    (out / _PARTIAL_NAME).unlink(missing_ok=True)
    return stats


def _prepare_out_dir(out: Path, params: dict, wanted: dict[str, int], resume: bool) -> bool:
    """Mark ``out`` as being generated and clear what will not be kept.

    Returns:
        Whether finished files of a generation with the same parameters can be kept.

    Raises:
        FileExistsError: ``out`` holds image folders SynthRooms did not write.
    """
    man_path, part_path = out / MANIFEST_NAME, out / _PARTIAL_NAME
    ours = man_path.exists() or part_path.exists()
    if not ours and any((out / sub).exists() for sub in ('image', 'seg13')):
        raise FileExistsError(
            f'{str(out)!r} already holds image/ or seg13/ folders but no {MANIFEST_NAME} or '
            f'{_PARTIAL_NAME}: refusing to overwrite data SynthRooms did not write; choose an '
            f'empty out_dir')
    can_resume = False
    if part_path.exists():
        try:
            can_resume = resume and json.loads(part_path.read_text()).get('params') == params
        except ValueError:
            can_resume = False
    # Invalidate the old manifest *before* touching files: an interrupted run stays incomplete.
    if man_path.exists():
        old = load_manifest(out)
        can_resume = can_resume or (resume and old is not None and old.get('params') == params)
        man_path.unlink()
    part_path.write_text(json.dumps(dict(params=params)))
    if not can_resume:
        for sub in ('image', 'seg13'):
            shutil.rmtree(out / sub, ignore_errors=True)
    for sub in ('image', 'seg13'):
        for split in SPLITS:
            folder = out / sub / split
            folder.mkdir(parents=True, exist_ok=True)
            for f in folder.iterdir():  # stale temporaries and files beyond the new counts
                if f.name.endswith('.tmp') or (f.suffix == '.png' and f.stem.isdigit()
                                               and int(f.stem) >= wanted[split]):
                    f.unlink()
    return can_resume


def _statistics(params: dict, wanted: dict[str, int], counts: np.ndarray, present: np.ndarray,
                secs: float, num_workers: int) -> dict:
    """Class shares of the pixels and of the images, and timing."""
    # densekd.datasets imports this package, so its class names are imported at call time.
    from densekd.datasets.nyuv2 import NYUV2_CLASSES
    total = wanted['train'] + wanted['test']
    npx = counts.sum()
    return dict(
        params=params,
        counts=dict(train=wanted['train'], test=wanted['test']),
        classes=list(NYUV2_CLASSES),
        pixel_share={c: round(float(counts[i] / npx), 5) for i, c in enumerate(NYUV2_CLASSES)},
        image_share={c: round(float(present[i] / total), 4) for i, c in enumerate(NYUV2_CLASSES)},
        void_share=round(float(counts[VOID] / npx), 5),
        seconds=round(secs, 2),
        images_per_second=round(total / max(secs, 1e-9), 1),
        num_workers=int(num_workers),
    )


def _write_png_atomic(path: Path, array: np.ndarray) -> None:
    """Encode first, write to a temporary name, then rename: readers never see half a file."""
    ok, enc = cv2.imencode('.png', array)
    if not ok:
        raise OSError(f'could not encode PNG for {path}')
    tmp = path.with_name(f'{path.name}.{os.getpid()}.tmp')
    with open(tmp, 'wb') as fh:
        fh.write(enc.tobytes())
    os.replace(tmp, path)


def _render_chunk(args: tuple) -> list[tuple[str, int, np.ndarray]]:
    """Render and write some images of one split; returns each one's label histogram.

    With ``resume``, images whose two files exist and have the right size are read back
    instead of rendered.
    """
    out_dir, split, indices, seed, height, width, resume = args
    cv2.setNumThreads(1)  # parallelism comes from the process pool
    out = Path(out_dir)
    results = []
    for k in indices:
        name = f'{k:05d}.png'
        ip, sp = out / 'image' / split / name, out / 'seg13' / split / name
        if resume and ip.is_file() and sp.is_file():
            seg = cv2.imread(str(sp), cv2.IMREAD_UNCHANGED)
            if seg is not None and seg.shape == (height, width):
                results.append((split, k, np.bincount(seg.ravel(), minlength=256)))
                continue
        img, seg = render_synthroom(seed, split, k, height, width)
        _write_png_atomic(ip, cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        _write_png_atomic(sp, seg)
        results.append((split, k, np.bincount(seg.ravel(), minlength=256)))
    return results


@contextlib.contextmanager
def _pool(num_workers: int, num_tasks: int) -> Iterator[Callable]:
    """``imap`` over a process pool (fork where available: no re-import cost), or in-process."""
    if num_workers <= 1 or num_tasks <= 1:
        yield map
        return
    methods = mp.get_all_start_methods()
    ctx = mp.get_context('fork' if 'fork' in methods else 'spawn')
    with ctx.Pool(min(num_workers, num_tasks)) as pool:
        yield lambda fn, it: pool.imap(fn, it)
