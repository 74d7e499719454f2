"""densekd.utils.checkpoint: weights-only loading, clear refusals, the explicit trust switch."""
import os
import pickle
import traceback

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from densekd.models import build_segmentor
from densekd.utils.checkpoint import (TRUST_ENV, CheckpointError, load_checkpoint, trust_enabled,
                                      trusted_checkpoints)
from tests.helpers import TINY_SEGMENTOR_ARGS as SEGMENTOR


class Payload:
    """Unpickling it creates ``marker``: stands for any code a malicious pickle runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f'open({self.marker!r}, "w").close()',)


class HistoryBufferInit:
    """A getattr on HistoryBuffer that mmengine checkpoints never make."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


def assert_one_clear_error(excinfo, path):
    message = str(excinfo.value)
    assert str(path) in message
    assert 'weights_only=False' not in message  # torch's advice is not passed on
    text = ''.join(traceback.format_exception(excinfo.value))
    assert 'During handling' not in text and 'direct cause' not in text


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / 'PAYLOAD_RAN'
    yield path
    assert not os.environ.get(TRUST_ENV), 'the trust switch leaked out of a test'


def write_payloads(tmp_path, marker):
    zipped, plain = tmp_path / 'payload.pth', tmp_path / 'payload.pkl'
    weights = build_segmentor(**SEGMENTOR).state_dict()
    torch.save({'state_dict': weights, 'extra': Payload(marker)}, zipped)
    with open(plain, 'wb') as f:
        pickle.dump(Payload(marker), f, protocol=pickle.HIGHEST_PROTOCOL)
    return zipped, plain


def test_payloads_are_refused_and_never_run(tmp_path, marker):
    for path in write_payloads(tmp_path, marker):
        with pytest.raises(CheckpointError, match='refused') as excinfo:
            load_checkpoint(str(path))
        assert_one_clear_error(excinfo, path)
        assert '--trust-checkpoint' in str(excinfo.value)
        assert 'state dict' in str(excinfo.value) and 'safetensors' in str(excinfo.value)
        # As a teacher/student checkpoint and through mmengine's loader (load_from, --resume).
        with pytest.raises(CheckpointError):
            build_segmentor(**SEGMENTOR, checkpoint=str(path))
        with pytest.raises(CheckpointError):
            CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert 'builtins.exec' in str(excinfo.value) or 'protocol' in str(excinfo.value)
    assert not marker.exists()


def test_disallowed_type_is_named(tmp_path, marker):
    path, _ = write_payloads(tmp_path, marker)
    with pytest.raises(CheckpointError, match='builtins.exec'):
        load_checkpoint(str(path))
    getattr_path = tmp_path / 'getattr.pth'
    torch.save({'x': HistoryBufferInit()}, getattr_path)
    with pytest.raises(CheckpointError, match=r"getattr\(HistoryBuffer, '__init__'\)"):
        load_checkpoint(str(getattr_path))


def test_garbage_empty_and_truncated_files(tmp_path, marker):
    real = tmp_path / 'real.pth'
    torch.save(build_segmentor(**SEGMENTOR).state_dict(), real)
    data = real.read_bytes()
    cases = {'garbage.pth': (bytes(range(7, 256)) * 40, 'not a torch checkpoint'),
             'empty.pth': (b'', 'empty'),
             'truncated.pth': (data[:len(data) // 2], 'truncated'),
             'tail_cut.pth': (data[:-16], 'truncated'),
             'cut.safetensors': (b'\x10\x00\x00\x00\x00\x00\x00\x00{"a":', 'safetensors')}
    for name, (content, what) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(CheckpointError, match='cannot be read') as excinfo:
            build_segmentor(**SEGMENTOR, checkpoint=str(path))
        assert what in str(excinfo.value), str(excinfo.value)
        assert_one_clear_error(excinfo, path)
        with trusted_checkpoints():  # trust does not make a broken file readable
            with pytest.raises(CheckpointError, match='cannot be read'):
                load_checkpoint(str(path))


def test_missing_file():
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint('/nonexistent/nope.pth')


def test_plain_state_dict_and_safetensors_load(tmp_path):
    from safetensors.torch import save_file
    model = build_segmentor(**SEGMENTOR)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    torch.save(state, tmp_path / 'w.pth')
    save_file(state, str(tmp_path / 'w.safetensors'))
    save_file(state, str(tmp_path / 'w.bin'))  # recognised by content, too
    for name in ('w.pth', 'w.safetensors', 'w.bin'):
        loaded = load_checkpoint(str(tmp_path / name))
        assert set(loaded) == set(state)
        assert all(torch.equal(loaded[k], state[k]) for k in state)
        other = build_segmentor(**SEGMENTOR, checkpoint=str(tmp_path / name))
        assert all(torch.equal(v, state[k]) for k, v in other.state_dict().items())


def test_trust_switch_allows_full_pickle_with_a_warning(tmp_path, marker, capsys):
    path, _ = write_payloads(tmp_path, marker)
    assert not trust_enabled()
    with trusted_checkpoints():
        assert trust_enabled()
        model = build_segmentor(**SEGMENTOR, checkpoint=str(path))
    assert not trust_enabled()
    assert marker.exists()  # the user asked for it
    err = capsys.readouterr().err
    assert 'WARNING' in err and str(path) in err
    weights = torch.load(path, weights_only=False)['state_dict']
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())
    with trusted_checkpoints(False):
        assert not trust_enabled()
