"""Atomic file writes: complete or absent under the final name, temporaries cleaned up."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from densekd.utils import atomic
from densekd.utils.atomic import (atomic_open, remove_stale_temporaries, save_torch_atomic,
                                  temporary_path, write_json_atomic, write_text_atomic)


def test_writes_replace_the_file_and_leave_no_temporary(tmp_path):
    path = tmp_path / 'summary.json'
    write_json_atomic(str(path), {'a': 1})
    write_json_atomic(str(path), {'a': 2, 'b': [1, 2]})
    assert json.loads(path.read_text()) == {'a': 2, 'b': [1, 2]}
    write_text_atomic(str(tmp_path / 'last'), 'iter_5.pth')
    assert (tmp_path / 'last').read_text() == 'iter_5.pth'
    state = {'w': torch.arange(6.0).reshape(2, 3)}
    save_torch_atomic(state, str(tmp_path / 'w.pth'))
    assert torch.equal(torch.load(tmp_path / 'w.pth')['w'], state['w'])
    assert sorted(os.listdir(tmp_path)) == ['last', 'summary.json', 'w.pth']


def test_an_error_while_writing_keeps_the_old_file(tmp_path):
    path = tmp_path / 'data.bin'
    path.write_bytes(b'old contents')
    with pytest.raises(RuntimeError, match='disk on fire'):
        with atomic_open(str(path)) as f:
            f.write(b'half of the new')
            raise RuntimeError('disk on fire')
    assert path.read_bytes() == b'old contents'
    assert os.listdir(tmp_path) == ['data.bin']
    with pytest.raises(ValueError, match='mode'):
        with atomic_open(str(path), 'ab'):
            pass


def test_a_process_killed_mid_write_leaves_the_old_file(tmp_path):
    """SIGKILL a real writer halfway: the final name keeps the old bytes, complete."""
    path = tmp_path / 'ckpt.pth'
    save_torch_atomic({'version': torch.tensor(1)}, str(path))
    ready = tmp_path / 'half_written'
    # A plain-Python writer (this module alone, without torch) starts in milliseconds.
    script = (
        'import importlib.util, time\n'
        f'spec = importlib.util.spec_from_file_location("atomic", {atomic.__file__!r})\n'
        'atomic = importlib.util.module_from_spec(spec); spec.loader.exec_module(atomic)\n'
        f'with atomic.atomic_open({str(path)!r}) as f:\n'
        "    f.write(b'PK\\x03\\x04 half a zip'); f.flush()\n"
        f'    open({str(ready)!r}, "w").close()\n'
        '    time.sleep(60)\n')
    proc = subprocess.Popen([sys.executable, '-c', script])
    try:
        deadline = time.time() + 30
        while not ready.exists():
            assert proc.poll() is None and time.time() < deadline, 'the writer did not start'
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    temporaries = [p for p in os.listdir(tmp_path) if p.endswith('.tmp')]
    assert temporaries == [f'ckpt.pth.{proc.pid}.tmp']
    assert int(torch.load(path)['version']) == 1
    # The killed writer's temporary is stale; this process's own temporaries are not.
    own = temporary_path(str(tmp_path / 'other.pth'))
    open(own, 'w').close()
    assert remove_stale_temporaries(str(tmp_path)) == [str(tmp_path / temporaries[0])]
    assert sorted(os.listdir(tmp_path)) == ['ckpt.pth', 'half_written', os.path.basename(own)]
