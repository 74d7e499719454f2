"""Checkpoint safety through the real tools: train (teacher, --resume), test and export."""
import os
import os.path as osp
import textwrap

import pytest
import torch

from densekd.utils.checkpoint import TRUST_ENV, CheckpointError
from tests.helpers import TINY_SEGMENTOR, last_metrics, load_tool, tiny_data_body, write_config

pytestmark = pytest.mark.e2e
KD_ORI = 'kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'


class Payload:
    """Unpickling it creates ``marker``: stands for any code a malicious pickle runs."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f'open({self.marker!r}, "w").close()',)


@pytest.fixture
def marker(tmp_path):
    path = tmp_path / 'PAYLOAD_RAN'
    yield path
    assert not os.environ.get(TRUST_ENV), 'the trust switch leaked out of a tool'


@pytest.fixture
def payload(tiny_teacher, tmp_path, marker):
    """The teacher's real weights in a pickle that also runs code when unpickled."""
    path = tmp_path / 'teacher_with_payload.pth'
    torch.save({'state_dict': torch.load(tiny_teacher['weights']), 'extra': Payload(marker)}, path)
    return str(path)


def kd_config(tmp_path, synthrooms_root, teacher_checkpoint):
    body = tiny_data_body(synthrooms_root) + textwrap.dedent(f"""
        model = dict(teacher=dict(_delete_=True, checkpoint={teacher_checkpoint!r},
                                  **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
        optim_wrapper = dict(student=dict(optimizer=dict(lr=3e-3)))
        train_cfg = dict(max_iters=1, val_interval=1)
        default_hooks = dict(checkpoint=dict(interval=1), logger=dict(interval=1))
    """)
    return write_config(tmp_path, KD_ORI, body)


def assert_clear(excinfo, path):
    message = str(excinfo.value)
    assert str(path) in message and 'weights_only=False' not in message
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None or excinfo.value.__suppress_context__


def test_payload_is_refused_by_every_tool(payload, marker, tiny_teacher, synthrooms_root,
                                          tmp_path):
    train = load_tool('train')
    with pytest.raises(CheckpointError, match='refused') as excinfo:  # as teacher checkpoint
        train.main([kd_config(tmp_path, synthrooms_root, payload),
                    '--work-dir', str(tmp_path / 'kd')])
    assert_clear(excinfo, payload)
    with pytest.raises(CheckpointError, match='refused'):  # mmengine's --resume loader
        train.main([tiny_teacher['config'], '--work-dir', str(tmp_path / 'resume'),
                    '--resume', payload])
    with pytest.raises(CheckpointError, match='refused') as excinfo:
        load_tool('test').main([tiny_teacher['config'], payload,
                                '--work-dir', str(tmp_path / 'test')])
    assert_clear(excinfo, payload)
    with pytest.raises(CheckpointError, match='refused') as excinfo:
        load_tool('export_weights').main([payload, str(tmp_path / 'out.pth'),
                                          '--prefix', 'segmentor.'])
    assert_clear(excinfo, payload)
    assert '--trust-checkpoint' in str(excinfo.value)
    assert not marker.exists()


def test_garbage_and_truncated_checkpoints_are_clear_errors(tiny_teacher, synthrooms_root,
                                                            tmp_path):
    garbage, truncated = tmp_path / 'garbage.pth', tmp_path / 'truncated.pth'
    garbage.write_bytes(b'\x00not a checkpoint\xff' * 64)
    data = open(osp.join(tiny_teacher['work_dir'], 'iter_120.pth'), 'rb').read()
    truncated.write_bytes(data[:len(data) * 2 // 3])
    for path in (garbage, truncated):
        with pytest.raises(CheckpointError, match='cannot be read') as excinfo:
            load_tool('train').main([kd_config(tmp_path, synthrooms_root, str(path)),
                                     '--work-dir', str(tmp_path / 'kd')])
        assert_clear(excinfo, path)
        with pytest.raises(CheckpointError, match='cannot be read') as excinfo:
            load_tool('test').main([tiny_teacher['config'], str(path),
                                    '--work-dir', str(tmp_path / 'test')])
        assert_clear(excinfo, path)
    assert 'truncated' in str(excinfo.value)


def test_test_tool_checks_plain_state_dict_keys(tiny_teacher, tmp_path):
    state = torch.load(tiny_teacher['weights'])
    missing = {k: v for k, v in state.items() if k != 'segmentation_head.0.bias'}
    torch.save(missing, tmp_path / 'missing.pth')
    with pytest.raises(ValueError, match=r'1 missing keys \(segmentation_head\.0\.bias\)'):
        load_tool('test').main([tiny_teacher['config'], str(tmp_path / 'missing.pth'),
                                '--work-dir', str(tmp_path / 'work')])
    torch.save({**state, 'extra.weight': torch.zeros(1)}, tmp_path / 'unexpected.pth')
    with pytest.raises(ValueError, match=r'1 unexpected keys \(extra\.weight\)'):
        load_tool('test').main([tiny_teacher['config'], str(tmp_path / 'unexpected.pth'),
                                '--work-dir', str(tmp_path / 'work')])


def test_test_tool_scores_the_real_weights_of_a_plain_state_dict(tiny_teacher, tmp_path):
    expected = last_metrics(tiny_teacher['work_dir'])['mIoU']  # of the training checkpoint
    stem = osp.splitext(tiny_teacher['weights'])[0]
    for weights in (stem + '.pth', stem + '.safetensors'):
        metrics = load_tool('test').main([tiny_teacher['config'], weights,
                                          '--work-dir', str(tmp_path / 'work')])
        assert metrics['mIoU'] == pytest.approx(expected)


def test_trust_flag_allows_a_full_pickle_with_a_warning(payload, marker, tiny_teacher,
                                                        tmp_path, capsys):
    metrics = load_tool('test').main([tiny_teacher['config'], payload, '--trust-checkpoint',
                                      '--work-dir', str(tmp_path / 'work')])
    assert marker.exists()
    assert metrics['mIoU'] == pytest.approx(last_metrics(tiny_teacher['work_dir'])['mIoU'])
    err = capsys.readouterr().err
    assert 'WARNING' in err and payload in err
    marker.unlink()
    load_tool('export_weights').main([payload, str(tmp_path / 'out.pth'), '--trust-checkpoint'
                                      , '--prefix', 'encoder.'])
    assert marker.exists() and payload in capsys.readouterr().err


def test_train_trust_flag_reaches_the_teacher_checkpoint(payload, marker, synthrooms_root,
                                                         tmp_path, capsys):
    work_dir = str(tmp_path / 'kd')
    load_tool('train').main([kd_config(tmp_path, synthrooms_root, payload),
                             '--work-dir', work_dir, '--trust-checkpoint'])
    assert marker.exists() and payload in capsys.readouterr().err
    assert osp.isfile(osp.join(work_dir, 'iter_1.pth'))
