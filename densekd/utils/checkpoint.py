"""The one place densekd reads checkpoint files: weights-only unpickling, clear refusals.

Every path that reads weights goes through :func:`load_checkpoint`: teacher/student
``checkpoint=`` entries (:func:`densekd.models.load_weights`), ``tools/test.py``,
``tools/export_weights.py`` and mmengine's ``load_from`` / ``--resume`` (the local-file
scheme registered in :mod:`densekd.utils.compat`).

* ``.safetensors`` files (recognised by name or content) are read with
  :func:`safetensors.torch.load_file`: they hold tensors only and cannot run code, so they
  are the preferred format for sharing weights (``tools/export_weights.py`` writes one).
* Everything else is read with ``torch.load(..., weights_only=True)`` (see "Weights-only
  loading" in the ``torch.load`` documentation, https://pytorch.org/docs/stable/notes/serialization.html).
  Plain state dicts load as they are. densekd's own mmengine training checkpoints also
  hold mmengine's ``HistoryBuffer`` (message hub) and numpy arrays/scalars; exactly those
  types are allowed, for the duration of the load only (:data:`SAFE_GLOBALS`).
* A file that still fails is refused with one :class:`CheckpointError` naming the file,
  saying what it is (unreadable / truncated / not a torch file, or a pickle holding a
  disallowed object type) and what to do.
* Full pickles (``weights_only=False``, which executes whatever the file contains) are
  loaded only on explicit opt-in: ``--trust-checkpoint`` on ``tools/train.py``,
  ``tools/test.py`` and ``tools/export_weights.py``, or the environment variable
  ``DENSEKD_TRUST_CHECKPOINT=1`` for any other entry point. A warning naming the file is
  printed each time such a file is unpickled.
"""
from __future__ import annotations

import contextlib
import os
import os.path as osp
import pickle
import re
import sys
import warnings
import zipfile
from typing import Any, Iterator

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

TRUST_ENV = 'DENSEKD_TRUST_CHECKPOINT'
"""Environment variable: ``1`` lets :func:`load_checkpoint` unpickle arbitrary objects."""

# HistoryBuffer's statistics methods, which mmengine checkpoints pickle by reference as
# ``getattr(HistoryBuffer, 'min')``: the only attribute look-ups a checkpoint may make.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


class CheckpointError(ValueError):
    """A checkpoint file that densekd refuses or cannot read (the message says why)."""


class _RefusedGlobal(Exception):
    """Raised while unpickling; not an ``UnpicklingError`` so torch does not rewrap it."""


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` as mmengine checkpoints use it, and nothing else."""
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise _RefusedGlobal(f'builtins.getattr({getattr(obj, "__qualname__", type(obj).__name__)}'
                         f', {name!r})')


_np_multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray  # numpy 2 | 1

# The non-tensor types inside densekd's own training checkpoints (found by listing
# ``torch.serialization.get_unsafe_globals_in_checkpoint`` on checkpoints of every algorithm):
# message_hub.log_scalars holds HistoryBuffers of float64 values and int64 counts; the
# runtime info holds numpy float64 scalars (``eta``).
SAFE_GLOBALS = [
    HistoryBuffer,
    (_history_buffer_getattr, 'builtins.getattr'),
    np.ndarray,
    np.dtype,
    type(np.dtype(np.float64)),
    type(np.dtype(np.int64)),
    _np_multiarray._reconstruct,
    _np_multiarray.scalar,
]


def trust_enabled() -> bool:
    """Whether full pickles may be loaded (``DENSEKD_TRUST_CHECKPOINT`` is set and not 0)."""
    return os.environ.get(TRUST_ENV, '').strip().lower() not in ('', '0', 'false', 'no')


@contextlib.contextmanager
def trusted_checkpoints(enabled: bool = True) -> Iterator[None]:
    """Allow full pickles inside the block (what ``--trust-checkpoint`` does).

    Sets :data:`TRUST_ENV` (inherited by worker processes) and restores it on exit, so a
    tool run in-process does not leave the switch on. ``enabled=False`` changes nothing.
    """
    if not enabled:
        yield
        return
    previous = os.environ.get(TRUST_ENV)
    os.environ[TRUST_ENV] = '1'
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(TRUST_ENV, None)
        else:
            os.environ[TRUST_ENV] = previous


def _is_safetensors(path: str) -> bool:
    if path.endswith('.safetensors'):
        return True
    # 8-byte little-endian header length, then the JSON header.
    with open(path, 'rb') as f:
        head = f.read(9)
    if len(head) < 9 or head[8:9] != b'{':
        return False
    return 0 < int.from_bytes(head[:8], 'little') < osp.getsize(path)


def _load_safetensors(path: str, map_location: Any) -> dict:
    from safetensors.torch import load_file
    device = str(map_location) if isinstance(map_location, (str, torch.device)) else 'cpu'
    try:
        return load_file(path, device=device)
    except Exception as e:  # noqa: BLE001  (safetensors raises its own error types)
        raise CheckpointError(
            f'checkpoint {path} cannot be read: it is not a valid safetensors file (truncated '
            f'or corrupted: {e}). Re-export or re-download it.') from None


def _first_line(error: Exception) -> str:
    """``Type: first sentence`` of an error, for a one-line message."""
    line = (str(error).strip().splitlines() or [''])[0].split('. ')[0]
    return f'{type(error).__name__}: {line}' if line else type(error).__name__


def _describe_unreadable(path: str, reason: str) -> str:
    size = osp.getsize(path)
    with open(path, 'rb') as f:
        head = f.read(4)
    if size == 0:
        what = 'the file is empty'
    elif head.startswith(b'PK\x03\x04'):
        what = ('it is a torch zip archive that is truncated or corrupted '
                '(an interrupted save or copy?)')
    elif head[:1] == b'\x80':
        what = 'it is a pickle that is truncated or corrupted'
    else:
        what = 'it is not a torch checkpoint (neither a torch zip archive nor a pickle)'
    return (f'checkpoint {path} cannot be read: {what} ({reason}; {size} bytes). Give a '
            f'state dict saved with torch.save, a densekd training checkpoint, or a '
            f'.safetensors file.')


def _unsafe_globals(path: str, message: str) -> list:
    """Names of the disallowed globals: listed from a zip file, else from torch's message."""
    names = []
    if zipfile.is_zipfile(path):
        try:
            listed = torch.serialization.get_unsafe_globals_in_checkpoint(path)
        except Exception:  # noqa: BLE001  (only for the message)
            listed = []
        allowed = {g[1] if isinstance(g, tuple) else f'{g.__module__}.{g.__qualname__}'
                   for g in SAFE_GLOBALS}
        names = [n for n in listed if n not in allowed]
    if not names:
        names = re.findall(r'GLOBAL (\S+) (?:was not an allowed global|whose module)', message)
    return sorted(set(names))


def _unpickler_reason(message: str) -> str:
    """The weights-only unpickler's own reason, without torch's advice around it."""
    if 'WeightsUnpickler error:' not in message:
        return ''
    reason = message.split('WeightsUnpickler error:', 1)[1].split('Check the documentation')[0]
    return ' '.join(reason.split())


def _pickle_protocol(path: str) -> int:
    """The protocol of a plain pickle file (0 when the file does not start like one)."""
    with open(path, 'rb') as f:
        head = f.read(2)
    return head[1] if len(head) == 2 and head[0] == 0x80 else 0


def _refusal(path: str, detail: str) -> CheckpointError:
    return CheckpointError(
        f'checkpoint {path} is refused: it is a pickle holding {detail}. densekd only loads '
        f'weights (torch.load with weights_only=True) because unpickling other objects can '
        f'run arbitrary code. Re-save the weights as a plain state dict '
        f'(torch.save(model.state_dict(), path)) or as .safetensors; or, only if you trust '
        f'the file, pass --trust-checkpoint (or set {TRUST_ENV}=1).')


def _load_pickle_trusted(path: str, map_location: Any, detail: str) -> Any:
    print(f'WARNING: loading {path} as a full pickle (--trust-checkpoint / {TRUST_ENV}=1): it '
          f'holds {detail}; unpickling runs any code the file contains.',
          file=sys.stderr, flush=True)
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except Exception as e:  # noqa: BLE001
        raise CheckpointError(_describe_unreadable(path, _first_line(e))) from None


def load_checkpoint(path: str, map_location: Any = 'cpu') -> Any:
    """Read a checkpoint file without executing code from it.

    Args:
        path: ``.safetensors``, a torch file holding a state dict, or a densekd (mmengine)
            training checkpoint.
        map_location: as for ``torch.load`` (a device, a string or a callable).

    Returns:
        What the file holds: a state dict, or the training checkpoint's dict.

    Raises:
        FileNotFoundError: ``path`` is not a file.
        CheckpointError: the file is unreadable (empty, truncated, not a torch file) or a
            pickle holding objects outside the weights-only allowlist and trust is off.
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    if _is_safetensors(path):
        return _load_safetensors(path, map_location)
    try:
        with torch.serialization.safe_globals(SAFE_GLOBALS), warnings.catch_warnings():
            # torch warns about pickle protocols > 2 before failing on them; we explain below.
            warnings.filterwarnings('ignore', message='Detected pickle protocol')
            return torch.load(path, map_location=map_location, weights_only=True)
    except _RefusedGlobal as e:
        detail = f'the disallowed call {e}'
    except pickle.UnpicklingError as e:
        message = str(e)
        names = _unsafe_globals(path, message)
        reason = _unpickler_reason(message)
        protocol = _pickle_protocol(path)
        if names:
            detail = f'disallowed object type(s) {", ".join(names)}'
        elif reason.startswith('Unsupported operand') and protocol > 2:
            # torch.save writes protocol 2; this was written by pickle.dump or similar.
            detail = (f'objects pickled with protocol {protocol} (by pickle.dump, not '
                      f'torch.save) that the weights-only unpickler cannot read')
        elif reason and not reason.startswith('Unsupported operand'):
            detail = f'content the weights-only unpickler rejects ({reason})'
        else:
            raise CheckpointError(_describe_unreadable(path, reason or 'unpickling failed')
                                  ) from None
    except Exception as e:  # noqa: BLE001  (zip reader, EOF, ... errors name no file)
        raise CheckpointError(_describe_unreadable(path, _first_line(e))) from None
    if trust_enabled():
        return _load_pickle_trusted(path, map_location, detail)
    raise _refusal(path, detail)
