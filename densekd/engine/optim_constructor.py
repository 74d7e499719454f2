"""An optimizer-wrapper constructor keyed by submodule name.

``optim_wrapper = dict(constructor='SubmoduleOptimConstructor', student=dict(optimizer=...),
generator=dict(optimizer=...))`` gives each named child of the algorithm its own optimizer
wrapper; ``param_scheduler`` may then be a dict keyed by the same names. A frozen teacher is in
no optimizer because no key names it.

An entry may also optimise further children with its own optimizer: ``student=dict(optimizer=...,
with_children=['distill_losses'])`` puts the parameters of the KD losses (e.g. the projection of
``AuxVariableKDLoss``) in the student's optimizer, which is the one the regimes step. Their
parameter names then start with the child's name (``student.``, ``distill_losses.``), which
``paramwise_cfg.custom_keys`` (substring matches) still find.
"""
from __future__ import annotations

import copy
from typing import Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from densekd.registry import OPTIM_WRAPPER_CONSTRUCTORS


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SubmoduleOptimConstructor:
    """Build an :class:`OptimWrapperDict` with one wrapper per named submodule.

    Args:
        optim_wrapper_cfg: mapping ``submodule name -> optim wrapper cfg`` (each with
            ``optimizer`` and optionally ``type``, ``clip_grad``, ``paramwise_cfg``).
        paramwise_cfg: must be ``None``; give ``paramwise_cfg`` per submodule instead.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        if paramwise_cfg is not None:
            raise ValueError('optim_wrapper.paramwise_cfg: give it inside each submodule entry, '
                             'e.g. optim_wrapper.student.paramwise_cfg')
        if not optim_wrapper_cfg:
            raise ValueError('optim_wrapper: name at least one submodule, e.g. student=dict(...)')
        for name, cfg in optim_wrapper_cfg.items():
            if not isinstance(cfg, dict) or 'optimizer' not in cfg:
                raise ValueError(f'optim_wrapper.{name}: expected a dict with an "optimizer" '
                                 f'entry, got {cfg!r}')
        self.optim_wrapper_cfg = copy.deepcopy(dict(optim_wrapper_cfg))

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        children = dict(model.named_children())
        wrappers = {}
        owner = {}  # child -> the entry that optimises it
        for name, cfg in self.optim_wrapper_cfg.items():
            cfg = copy.deepcopy(cfg)
            extra = list(cfg.pop('with_children', None) or [])
            for child, key in [(name, name), *((c, f'{name}.with_children') for c in extra)]:
                if child not in children:
                    raise KeyError(f'optim_wrapper.{key}: {type(model).__name__} has no '
                                   f'submodule {child!r}; its submodules are {sorted(children)}')
                if child in owner:
                    raise ValueError(f'optim_wrapper.{key}: {child!r} is already optimised by '
                                     f'optim_wrapper.{owner[child]}')
                owner[child] = name
            paramwise = cfg.pop('paramwise_cfg', None)
            module = children[name]
            if extra:
                module = nn.ModuleDict({c: children[c] for c in (name, *extra)})
            wrappers[name] = DefaultOptimWrapperConstructor(cfg, paramwise)(module)
        return OptimWrapperDict(**wrappers)
