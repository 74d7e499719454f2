"""tools/export_weights.py: one network of a checkpoint, chosen with --net (or by default)."""
import pytest
import torch
from safetensors.torch import load_file

from tests.helpers import load_tool


def _checkpoint(tmp_path, *prefixes):
    state = {f'{p}.layer.weight': torch.full((2,), float(i)) for i, p in enumerate(prefixes)}
    path = tmp_path / 'iter_1.pth'
    torch.save(dict(state_dict=state, meta={}), path)
    return str(path)


@pytest.mark.parametrize('net, value', [('student', 0.0), ('teacher', 1.0)])
def test_net_picks_the_network_of_a_distillation_run(tmp_path, net, value):
    ckpt = _checkpoint(tmp_path, 'student', 'teacher', 'generator')
    load_tool('export_weights').main([ckpt, str(tmp_path / 'out.pth'), '--net', net])
    for state in (torch.load(tmp_path / 'out.pth'), load_file(tmp_path / 'out.safetensors')):
        assert list(state) == ['layer.weight'] and state['layer.weight'].tolist() == [value] * 2


def test_default_is_the_segmentor_of_a_teacher_run_else_the_student(tmp_path):
    tool = load_tool('export_weights')
    assert tool.default_net(dict(state_dict={'segmentor.w': 0})) == 'segmentor'
    assert tool.default_net(dict(state_dict={'student.w': 0, 'teacher.w': 0})) == 'student'
    ckpt = _checkpoint(tmp_path, 'segmentor')
    tool.main([ckpt, str(tmp_path / 'teacher.pth')])
    assert list(torch.load(tmp_path / 'teacher.pth')) == ['layer.weight']
    # --prefix exports any other network, and a missing one names what the file holds.
    tool.main([_checkpoint(tmp_path, 'student', 'generator'), str(tmp_path / 'g.pth'),
               '--prefix', 'generator.'])
    assert torch.load(tmp_path / 'g.pth')['layer.weight'].tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"no \"teacher\.\*\" weights.*\['generator', 'student'\]"):
        tool.main([_checkpoint(tmp_path, 'student', 'generator'), str(tmp_path / 'x.pth'),
                   '--net', 'teacher'])
