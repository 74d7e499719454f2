"""SubmoduleOptimConstructor: one optimizer wrapper per named child, parameters partitioned."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapperDict
from torch import nn

from densekd.engine import SubmoduleOptimConstructor


class Players(nn.Module):
    """Stands for a distiller: a student, a generator and a frozen teacher."""

    def __init__(self):
        super().__init__()
        self.student = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1))
        self.generator = nn.Sequential(nn.Linear(8, 16), nn.Linear(16, 3))
        self.teacher = nn.Conv2d(3, 2, 1)
        self.teacher.requires_grad_(False)


def optimized_params(wrapper):
    """Every parameter of every group of ``wrapper``'s optimizer, repeats included."""
    return [p for group in wrapper.optimizer.param_groups for p in group['params']]


def ids(params):
    """The identities of ``params`` (tensors compare by value, not identity)."""
    return {id(p) for p in params}


CFG = dict(student=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
           generator=dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))))


def test_one_wrapper_per_named_submodule_with_its_own_optimizer():
    optim = SubmoduleOptimConstructor(CFG)(Players())
    assert isinstance(optim, OptimWrapperDict)
    assert sorted(optim.keys()) == ['generator', 'student']
    student, generator = optim['student'].optimizer, optim['generator'].optimizer
    assert type(student) is torch.optim.SGD and student.defaults['momentum'] == 0.9
    assert type(generator) is torch.optim.Adam and generator.defaults['betas'] == (0.5, 0.999)
    assert {g['lr'] for g in student.param_groups} == {0.1}
    assert {g['lr'] for g in generator.param_groups} == {1e-3}


def test_parameters_are_partitioned_exactly():
    model = Players()
    optim = SubmoduleOptimConstructor(CFG)(model)
    student, generator = (optimized_params(optim[n]) for n in ('student', 'generator'))
    # Each optimizer holds exactly its submodule's parameters, each once.
    assert len(student) == len(ids(student)) and len(generator) == len(ids(generator))
    assert ids(student) == ids(model.student.parameters())
    assert ids(generator) == ids(model.generator.parameters())
    assert not ids(student) & ids(generator)
    # No key names the teacher: it is in no optimizer.
    assert not ids(model.teacher.parameters()) & (ids(student) | ids(generator))


def test_stepping_one_wrapper_moves_only_its_submodule():
    model = Players()
    optim = SubmoduleOptimConstructor(CFG)(model)
    before = copy.deepcopy(model.state_dict())
    loss = model.student(torch.randn(2, 3, 5, 5)).sum() + model.generator(torch.randn(2, 8)).sum()
    optim['student'].update_params(loss)
    changed = {k.split('.')[0] for k, v in model.state_dict().items()
               if not torch.equal(v, before[k])}
    assert changed == {'student'}


def test_paramwise_and_clip_grad_apply_per_submodule():
    cfg = dict(student=dict(optimizer=dict(type='SGD', lr=0.1),
                            paramwise_cfg=dict(bias_lr_mult=0.0),
                            clip_grad=dict(max_norm=1.0)),
               generator=dict(optimizer=dict(type='SGD', lr=0.1)))
    constructor = SubmoduleOptimConstructor(cfg)
    model = Players()
    for _ in range(2):  # a second call sees the same config (nothing popped for good)
        optim = constructor(model)
        # mmengine's bias_lr_mult leaves normalisation layers' biases alone.
        biases = ids(m.bias for m in model.student if isinstance(m, nn.Conv2d))
        lrs = {id(p): g['lr'] for g in optim['student'].optimizer.param_groups
               for p in g['params']}
        assert {lrs[i] for i in biases} == {0.0}
        assert lrs[id(model.student[0].weight)] == 0.1
        assert {g['lr'] for g in optim['generator'].optimizer.param_groups} == {0.1}
        assert optim['student'].clip_grad_kwargs == dict(max_norm=1.0)
        assert not optim['generator'].clip_grad_kwargs
    assert cfg['student']['paramwise_cfg'] == dict(bias_lr_mult=0.0)  # caller's dict untouched


def test_a_wrapped_model_is_unwrapped():
    model = Players()
    optim = SubmoduleOptimConstructor(CFG)(nn.DataParallel(model))  # an mmengine model wrapper
    assert ids(optimized_params(optim['student'])) == ids(model.student.parameters())


def test_unknown_submodule_lists_the_real_ones():
    with pytest.raises(KeyError, match=r"no submodule 'discriminator'; its submodules are "
                                       r"\['generator', 'student', 'teacher'\]"):
        SubmoduleOptimConstructor(dict(discriminator=dict(optimizer=dict(type='SGD', lr=0.1))))(
            Players())


@pytest.mark.parametrize('cfg, match', [
    ({}, 'name at least one submodule'),
    (dict(student=dict(lr=0.1)), r'optim_wrapper\.student: expected a dict with an "optimizer"'),
    (dict(student='SGD'), r'optim_wrapper\.student: expected a dict'),
])
def test_bad_configs_are_refused_at_construction(cfg, match):
    with pytest.raises(ValueError, match=match):
        SubmoduleOptimConstructor(cfg)


def test_a_top_level_paramwise_cfg_is_refused():
    with pytest.raises(ValueError, match='optim_wrapper.student.paramwise_cfg'):
        SubmoduleOptimConstructor(CFG, paramwise_cfg=dict(bias_lr_mult=0.0))
