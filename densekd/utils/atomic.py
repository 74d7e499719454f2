"""Crash-safe file writes: a temporary file in the same folder, then ``os.replace``.

A process killed while writing (``kill -9``, out of memory, a full disk) leaves the previous
version of the file, or no file, under the final name; never a truncated one. ``os.replace``
is atomic on POSIX and Windows when source and target are on the same file system, which is
why the temporary file lives in the target's folder. The data is flushed to disk
(``os.fsync``) before the rename, so the new name never points at unwritten blocks.

Temporary files are named ``<name>.<pid>.tmp``. One left behind by a killed process is
removed by :func:`remove_stale_temporaries` once that process is gone.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import os.path as osp
import re
from typing import IO, Iterator, List

#: Suffix of the temporary files, after ``.<pid>``.
TMP_SUFFIX = '.tmp'
_TMP_RE = re.compile(r'^(?P<target>.+)\.(?P<pid>\d+)' + re.escape(TMP_SUFFIX) + '$')


def temporary_path(path: str) -> str:
    """The temporary name this process writes ``path`` under (same folder)."""
    return f'{path}.{os.getpid()}{TMP_SUFFIX}'


def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not every platform can open a folder.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'wb') -> Iterator[IO]:
    """Open ``path`` for writing so that it appears complete or not at all.

    The caller writes to a temporary file next to ``path``; when the ``with`` block ends
    without an exception it is flushed, synced and moved onto ``path``. On an exception it is
    removed and ``path`` is left as it was.

    Args:
        path: the final file name.
        mode: ``'wb'`` (default) or ``'w'``.

    Yields:
        The open temporary file.
    """
    if mode not in ('w', 'wb'):
        raise ValueError(f"atomic_open writes whole files: mode must be 'w' or 'wb', got {mode!r}")
    path = os.fspath(path)
    tmp = temporary_path(path)
    try:
        with open(tmp, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_dir(osp.dirname(osp.abspath(path)))


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, 'w') as f:
        f.write(text)


def write_json_atomic(path: str, obj, indent: int = 1) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (see :func:`atomic_open`)."""
    with atomic_open(path, 'w') as f:
        json.dump(obj, f, indent=indent)


def save_torch_atomic(obj, path: str) -> None:
    """``torch.save(obj, path)``, atomically (see :func:`atomic_open`)."""
    import torch  # here: the module itself must not need torch (plain-Python writers use it)

    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (this process counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError as err:
        return err.errno != errno.ESRCH
    return True


def remove_stale_temporaries(directory: str) -> List[str]:
    """Remove the temporary files that killed processes left in ``directory``.

    Only files named as :func:`temporary_path` names them, whose process no longer runs, are
    removed; a save in progress in another live process is left alone.

    Returns:
        The removed paths.
    """
    removed = []
    for path in sorted(glob.glob(osp.join(glob.escape(directory), '*' + TMP_SUFFIX))):
        match = _TMP_RE.match(osp.basename(path))
        if match is None or pid_alive(int(match['pid'])):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed.append(path)
    return removed
