"""densekd.utils.work_dir_lock: one training run per work dir."""
import json
import os
import socket
import subprocess
import sys

import pytest

from densekd.utils.work_dir_lock import (LOCK_NAME, WorkDirBusyError, acquire, release,
                                         work_dir_lock)


def read_lock(work_dir):
    with open(os.path.join(str(work_dir), LOCK_NAME)) as f:
        return json.load(f)


def dead_pid():
    """The pid of a process that has exited (and was reaped)."""
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_lock_records_the_run_and_is_removed_at_exit(tmp_path):
    work_dir = tmp_path / 'work'  # created by the lock
    with work_dir_lock(str(work_dir), command='python tools/train.py a.py'):
        info = read_lock(work_dir)
        assert info['pid'] == os.getpid() and info['host'] == socket.gethostname()
        assert info['command'] == 'python tools/train.py a.py' and info['started']
    assert os.listdir(work_dir) == []


def test_lock_is_removed_when_the_run_fails(tmp_path):
    with pytest.raises(RuntimeError, match='boom'):
        with work_dir_lock(str(tmp_path)):
            raise RuntimeError('boom')
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_second_run_is_refused_naming_the_first(tmp_path):
    with work_dir_lock(str(tmp_path), command='python tools/train.py first.py'):
        started = read_lock(tmp_path)['started']
        with pytest.raises(WorkDirBusyError) as err:
            with work_dir_lock(str(tmp_path), command='python tools/train.py second.py'):
                pytest.fail('the second run started')
        message = str(err.value)
        for part in (f'work dir {tmp_path} is in use by another training run',
                     f'pid {os.getpid()}', f'host {socket.gethostname()}', f'started {started}',
                     'command: python tools/train.py first.py', str(tmp_path / LOCK_NAME)):
            assert part in message
        assert read_lock(tmp_path)['command'] == 'python tools/train.py first.py'  # untouched
    assert not (tmp_path / LOCK_NAME).exists()


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path):
    stale = dict(pid=dead_pid(), host=socket.gethostname(), started='2020-01-01T00:00:00',
                 command='python tools/train.py crashed.py', token='old')
    (tmp_path / LOCK_NAME).write_text(json.dumps(stale))
    with pytest.warns(UserWarning, match=rf"taking over the stale lock .*{LOCK_NAME} of a run "
                                         rf"that is no longer alive \(pid {stale['pid']} on "
                                         rf"host {socket.gethostname()}, started 2020"):
        info = acquire(str(tmp_path))
    assert read_lock(tmp_path)['pid'] == os.getpid()
    release(str(tmp_path), info)
    assert os.listdir(tmp_path) == []


def test_a_lock_from_another_host_is_not_taken_over(tmp_path):
    other = dict(pid=dead_pid(), host='some-other-host', started='2020-01-01T00:00:00',
                 command='python tools/train.py remote.py', token='remote')
    (tmp_path / LOCK_NAME).write_text(json.dumps(other))
    with pytest.raises(WorkDirBusyError, match='on another host: cannot check it here.*'
                                               'host some-other-host'):
        acquire(str(tmp_path))
    assert read_lock(tmp_path) == other


def test_release_leaves_a_lock_that_is_no_longer_ours(tmp_path):
    info = acquire(str(tmp_path))
    os.unlink(tmp_path / LOCK_NAME)  # removed by hand, then another run took it
    theirs = acquire(str(tmp_path))
    release(str(tmp_path), info)
    assert read_lock(tmp_path)['token'] == theirs['token']
    release(str(tmp_path), theirs)
    assert not (tmp_path / LOCK_NAME).exists()


_RANK = r'''
import os, sys, json
import torch.distributed as dist
dist.init_process_group('gloo', init_method=sys.argv[1], rank=int(sys.argv[2]), world_size=2)
from densekd.utils.work_dir_lock import WorkDirBusyError, work_dir_lock
work_dir = sys.argv[3]
result = {}
try:
    with work_dir_lock(work_dir, command='rank%s' % sys.argv[2]):
        result['lock'] = json.load(open(os.path.join(work_dir, 'train.lock')))['command']
        dist.barrier()
except WorkDirBusyError as err:
    result['error'] = str(err)
print(json.dumps(result))
# Both ranks finish every collective before either exits: a gloo rank that exits while its
# peer is still inside broadcast_object_list can abort with SIGABRT.
dist.barrier()
'''


@pytest.mark.e2e
@pytest.mark.parametrize('busy', [False, True])
def test_only_rank_zero_locks_and_every_rank_learns_a_refusal(tmp_path, busy):
    work_dir = str(tmp_path / 'work')
    os.makedirs(work_dir)
    if busy:  # a live run (this test's process) holds the work dir
        holder = acquire(work_dir, command='python tools/train.py running.py')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    procs = [subprocess.Popen([sys.executable, '-c', _RANK, f'tcp://127.0.0.1:{port}', str(r),
                               work_dir], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                              text=True)
             for r in (0, 1)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    if busy:
        for result in results:
            assert 'command: python tools/train.py running.py' in result['error']
        assert read_lock(work_dir)['token'] == holder['token']
        release(work_dir, holder)
    else:
        assert [r.get('lock') for r in results] == ['rank0', 'rank0']  # rank 1 took none
    assert os.listdir(work_dir) == []
