"""One training run per work dir: ``<work_dir>/train.lock`` while a run is alive.

Two runs writing into one work dir interleave their logs and overwrite each other's
checkpoints. ``tools/train.py`` therefore holds this lock from before the Runner is built (it
writes into the work dir) until the run ends. The lock file is created atomically
(``O_CREAT | O_EXCL``) and holds the owner's pid, host, start time and command, so a refused
run can say which run is in the way. A lock left by a run that died without removing it (its
pid is no longer alive on this host) is taken over with a warning. In a distributed run only
rank 0 takes it, and every rank learns rank 0's outcome.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import os
import os.path as osp
import shlex
import socket
import sys
import time
import uuid
import warnings
from typing import Iterator, Optional

from mmengine.dist import broadcast_object_list, get_rank, is_distributed

from densekd.utils.atomic import pid_alive

LOCK_NAME = 'train.lock'


class WorkDirBusyError(RuntimeError):
    """Another live run holds the work dir's lock."""


def _describe(info: dict) -> str:
    return (f"pid {info.get('pid')} on host {info.get('host')}, started {info.get('started')}, "
            f"command: {info.get('command')}")


def _read(path: str) -> Optional[dict]:
    """The lock's owner, or None when the lock is gone; waits out a lock being written."""
    for _ in range(20):
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        try:
            return json.loads(text)
        except ValueError:  # created an instant ago, not written yet
            time.sleep(0.05)
    return dict(pid=None, host=None, started=None, command=f'unreadable lock file {path}')


def _try_create(path: str, info: dict) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, 'w') as f:
        f.write(json.dumps(info))
    return True


def acquire(work_dir: str, command: Optional[str] = None) -> dict:
    """Take ``<work_dir>/train.lock`` (creating ``work_dir``) for this process.

    Args:
        work_dir: the run's work dir.
        command: recorded for whoever is refused (default: this process's command line).

    Returns:
        The lock's content (``pid``, ``host``, ``started``, ``command``, ``token``); pass it to
        :func:`release`.

    Raises:
        WorkDirBusyError: a live run holds the lock (or a run on another host, whose pid
            cannot be checked from here); the message names it.
    """
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, LOCK_NAME)
    info = dict(pid=os.getpid(), host=socket.gethostname(),
                started=datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
                command=command or shlex.join([sys.executable] + sys.argv),
                token=uuid.uuid4().hex)
    for _ in range(3):  # a takeover may race another run's; then re-read who won
        if _try_create(path, info):
            return info
        owner = _read(path)
        if owner is None:  # released in between
            continue
        pid, host = owner.get('pid'), owner.get('host')
        if host != info['host'] or not isinstance(pid, int) or pid_alive(pid):
            where = '' if host == info['host'] else ' (on another host: cannot check it here)'
            raise WorkDirBusyError(
                f'work dir {work_dir} is in use by another training run{where}: '
                f'{_describe(owner)}. Wait for it to end or pass another --work-dir; if that '
                f'run is gone, delete {path}')
        warnings.warn(f'taking over the stale lock {path} of a run that is no longer alive '
                      f'({_describe(owner)})', stacklevel=2)
        if _read(path) == owner:  # still the dead run's: not one another run just took over
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    raise WorkDirBusyError(f'could not take the lock {path}: other runs keep taking it')


def release(work_dir: str, info: dict) -> None:
    """Remove the lock taken by :func:`acquire`, unless it is no longer this run's."""
    path = osp.join(work_dir, LOCK_NAME)
    owner = _read(path)
    if owner is not None and owner.get('token') == info['token']:
        os.unlink(path)


@contextlib.contextmanager
def work_dir_lock(work_dir: str, command: Optional[str] = None) -> Iterator[None]:
    """Hold the work dir's lock while the ``with`` block runs (see :func:`acquire`).

    Under a launcher, enter it after the process group is initialised (mmengine's
    ``init_dist``): rank 0 takes the lock, the other ranks raise the same
    :class:`WorkDirBusyError` when it is refused and otherwise go on without touching it.
    """
    info, error = None, None
    if get_rank() == 0:
        try:
            info = acquire(work_dir, command)
        except WorkDirBusyError as err:
            error = str(err)
    if is_distributed():
        outcome = [error]
        broadcast_object_list(outcome, src=0)
        error = outcome[0]
    if error is not None:
        raise WorkDirBusyError(error)
    try:
        yield
    finally:
        if info is not None:
            release(work_dir, info)
