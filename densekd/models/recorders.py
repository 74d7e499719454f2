"""Forward-hook feature taps addressed by module path (mmrazor-style "recorders").

A tap never edits a model: it registers a forward hook on the module whose
``model.named_modules()`` name equals ``source`` and keeps that module's output while its
recorder is active::

    taps = RecorderManager(dict(
        logits_lr='segmentation_head.0',                 # low-resolution logits (smp)
        feat='decoder',                                  # 256-channel decoder map
        c5=dict(source='encoder', index=-1)))           # last of the encoder's 6 stage tensors
    taps.initialize(model)        # hooks + in-place activations off
    with taps:                    # buffers cleared on enter, recorded inside
        logits = model(x)
    feat = taps.get('feat')       # last recorded output (graph attached: gradients flow)
"""
from __future__ import annotations

import difflib
from typing import Any, Dict, List, Mapping, Optional, Union

import torch
from mmengine.model import is_model_wrapper
from torch import nn

from densekd.registry import TASK_UTILS

RecorderCfg = Union[str, dict, 'ModuleOutputsRecorder']


class RecorderPathError(KeyError, ValueError):
    """A recorder ``source`` that names no module of the model (a ``KeyError`` and a
    ``ValueError``, so either ``except`` catches it)."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ''


def unwrap_model(model: nn.Module) -> nn.Module:
    """Return the wrapped model of a (Distributed)DataParallel / mmengine wrapper."""
    while is_model_wrapper(model) or isinstance(
            model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    return model


def find_module(model: nn.Module, source: str) -> nn.Module:
    """Return the submodule whose ``named_modules()`` name is ``source``.

    Raises:
        RecorderPathError: no such module; the message lists close matches (difflib) and the
            children of the longest existing prefix of the path.
    """
    if not isinstance(source, str):
        raise TypeError(f'A recorder source must be a module path string. Got {source!r}.')
    modules = dict(model.named_modules())
    if source in modules:
        return modules[source]
    names = [n for n in modules if n]
    msg = f'No module named {source!r} in {type(model).__name__} (a recorder source path).'
    close = difflib.get_close_matches(source, names, n=5, cutoff=0.6)
    if close:
        msg += ' Did you mean: ' + ', '.join(repr(c) for c in close) + '?'
    # Walk the longest valid prefix to show what exists at the point the path went wrong.
    parts = source.split('.')
    prefix = ''
    for i in range(len(parts), 0, -1):
        cand = '.'.join(parts[:i - 1])
        if cand in modules:
            prefix = cand
            break
    children = [n for n, _ in modules[prefix].named_children()]
    where = repr(prefix) if prefix else 'the model root'
    msg += f' Children of {where}: {", ".join(children) if children else "(none)"}.'
    raise RecorderPathError(msg)


def disable_inplace(model: nn.Module) -> List[str]:
    """Set ``inplace=False`` on every submodule that has a boolean ``inplace`` attribute.

    A forward hook keeps a *reference* to a module's output; an in-place op run later (e.g.
    ``nn.ReLU(inplace=True)`` right after a tapped BatchNorm) would overwrite the recorded
    tensor (engineering.md §1.2; mmrazor ``set_module_inplace_false``).

    Returns:
        The names of the modules that were changed.
    """
    changed = []
    for name, module in model.named_modules():
        if isinstance(getattr(module, 'inplace', None), bool) and module.inplace:
            module.inplace = False
            changed.append(name)
    return changed


def _version(obj: Any) -> Optional[int]:
    if isinstance(obj, torch.Tensor):
        try:
            return obj._version
        except RuntimeError:  # inference tensors have no version counter
            return None
    return None


def _describe(obj: Any) -> str:
    if isinstance(obj, torch.Tensor):
        return f'Tensor{tuple(obj.shape)}'
    if isinstance(obj, (list, tuple)):
        return f'{type(obj).__name__} of {len(obj)} [' + ', '.join(_describe(o) for o in obj) + ']'
    return type(obj).__name__


@TASK_UTILS.register_module()
class ModuleOutputsRecorder:
    """Record the outputs of one module, found by its ``named_modules()`` path.

    The hook is registered once by :meth:`initialize`; outputs are kept only while the recorder
    is active (inside ``with recorder:``), and the buffer is cleared on every enter. Recorded
    tensors keep their autograd graph (nothing is detached), so student taps carry gradients.

    Args:
        source: Module path, e.g. ``'decoder'``, ``'segmentation_head.0'``,
            ``'encoder.model.layer2'``.
        index: If the module returns a list/tuple/dict (smp's ``encoder`` returns a list of 6
            stage tensors), record only ``output[index]``; e.g. ``-1`` for the deepest stage.
        clone: Record ``output.clone()`` instead of the output itself. Needed only when the
            model modifies that output in place in its own code (e.g. timm's residual
            ``x += shortcut`` after a tapped ``bn2``); in-place *modules* are handled by
            :func:`disable_inplace`. :meth:`get` detects such overwrites and says so.
    """

    def __init__(self, source: str, index: Optional[Union[int, str]] = None,
                 clone: bool = False) -> None:
        if not isinstance(source, str) or not source:
            raise ValueError(f'source must be a non-empty module path string. Got {source!r}.')
        if index is not None and (isinstance(index, bool) or not isinstance(index, (int, str))):
            raise TypeError(f'index must be None, an int or a str key. Got {index!r}.')
        self.source = source
        self.index = index
        self.clone = bool(clone)
        self.active = False
        self._data: List[Any] = []
        self._versions: List[Optional[int]] = []
        self._handle = None

    # -- set-up ---------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        """Whether a hook is registered."""
        return self._handle is not None

    def initialize(self, model: nn.Module) -> None:
        """Register the forward hook on ``model``'s submodule named :attr:`source`.

        Calling it again (e.g. on another model) moves the hook. In-place modules are left as
        they are here; :meth:`RecorderManager.initialize` (or :func:`disable_inplace`) switches
        them off.
        """
        module = find_module(unwrap_model(model), self.source)
        self.remove()
        self._handle = module.register_forward_hook(self._forward_hook)

    def remove(self) -> None:
        """Remove the hook (the recorder can be initialized again later)."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    # -- recording --------------------------------------------------------------------------
    def _forward_hook(self, module: nn.Module, inputs: Any, output: Any) -> None:
        if not self.active:
            return
        if self.index is not None:
            if isinstance(output, torch.Tensor):
                # Indexing a tensor would silently pick a batch element.
                raise TypeError(
                    f'Recorder on {self.source!r} has index={self.index!r}, but the module '
                    f'returned a single {_describe(output)}; drop index for this tap.')
            try:
                output = output[self.index]
            except (TypeError, IndexError, KeyError) as err:
                raise type(err)(
                    f'Recorder on {self.source!r} has index={self.index!r}, but the module '
                    f'returned {_describe(output)}.') from err
        if self.clone and isinstance(output, torch.Tensor):
            output = output.clone()
        self._data.append(output)
        self._versions.append(_version(output))

    def reset(self) -> None:
        """Drop everything recorded so far."""
        self._data = []
        self._versions = []

    def __enter__(self) -> 'ModuleOutputsRecorder':
        self.reset()
        self.active = True
        return self

    def __exit__(self, *exc_info) -> None:
        self.active = False

    @property
    def data_buffer(self) -> List[Any]:
        """All outputs recorded since the last enter (one per forward call of the module)."""
        return self._data

    def get(self, idx: int = -1) -> Any:
        """Return a recorded output (the last one by default).

        Raises:
            RuntimeError: nothing was recorded (not initialized, not run inside the context,
                or the module was not called), or the tensor was modified in place after it was
                recorded (then its values are no longer the module's output).
        """
        if not self._data:
            state = ('the recorder is not initialized (call initialize(model))'
                     if not self.initialized else
                     'run the model inside `with recorder:` / `with manager:` and check that '
                     'the module is called in forward')
            raise RuntimeError(f'Recorder on {self.source!r} has recorded nothing: {state}.')
        try:
            data = self._data[idx]
            version = self._versions[idx]
        except IndexError as err:
            raise IndexError(f'Recorder on {self.source!r} holds {len(self._data)} output(s); '
                             f'index {idx} is out of range.') from err
        now = _version(data)
        if version is not None and now is not None and now != version:
            raise RuntimeError(
                f'The output of {self.source!r} was modified in place after it was recorded '
                f'(tensor version {version} -> {now}), so it no longer holds the module output. '
                'Use dict(source=..., clone=True) for this tap, or call '
                'RecorderManager.initialize(model) to switch in-place modules off.')
        return data

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(source={self.source!r}, index={self.index!r}, '
                f'clone={self.clone})')


def build_recorder(cfg: RecorderCfg) -> ModuleOutputsRecorder:
    """Build a recorder from a path string, a cfg dict (``type`` defaults to
    ``'ModuleOutputsRecorder'``) or return a recorder instance as is."""
    if isinstance(cfg, ModuleOutputsRecorder):
        return cfg
    if isinstance(cfg, str):
        return ModuleOutputsRecorder(source=cfg)
    if isinstance(cfg, Mapping):
        cfg = dict(cfg)
        if 'source' not in cfg:
            raise ValueError(f"A recorder cfg needs a 'source' module path. Got {cfg}.")
        cfg.setdefault('type', 'ModuleOutputsRecorder')
        return TASK_UTILS.build(cfg)
    raise TypeError('A recorder is given as a module path str, a cfg dict or a '
                    f'ModuleOutputsRecorder. Got {type(cfg).__name__}.')


class RecorderManager:
    """A named set of recorders used together on one model.

    Args:
        recorders: ``name -> recorder``, where a recorder is a module path (``'decoder'``), a
            cfg dict (``dict(source='encoder', index=-1)``, optional ``type`` registered in
            ``TASK_UTILS``, optional ``clone``) or a :class:`ModuleOutputsRecorder`.

    Use ``with manager:`` around the forward pass; buffers are cleared on enter.
    """

    def __init__(self, recorders: Optional[Mapping[str, RecorderCfg]] = None) -> None:
        recorders = {} if recorders is None else recorders
        if not isinstance(recorders, Mapping):
            raise TypeError('recorders must be a dict name -> recorder cfg. '
                            f'Got {type(recorders).__name__}.')
        self._recorders: Dict[str, ModuleOutputsRecorder] = {
            str(name): build_recorder(cfg) for name, cfg in recorders.items()}
        self.model: Optional[nn.Module] = None

    @property
    def recorders(self) -> Dict[str, ModuleOutputsRecorder]:
        """The recorders by name."""
        return self._recorders

    def __getitem__(self, name: str) -> ModuleOutputsRecorder:
        return self._recorders[self._check_name(name)]

    def __contains__(self, name: object) -> bool:
        return name in self._recorders

    def __len__(self) -> int:
        return len(self._recorders)

    def __iter__(self):
        return iter(self._recorders)

    def _check_name(self, name: str) -> str:
        if name not in self._recorders:
            raise KeyError(f'No recorder named {name!r}; known: {sorted(self._recorders)}.')
        return name

    def initialize(self, model: nn.Module) -> None:
        """Validate every path, switch off in-place modules and register the hooks.

        Raises:
            RecorderPathError: (a ``KeyError`` and ``ValueError``) one or more sources name no
                module of ``model``; the message names each bad path with suggestions.
        """
        model = unwrap_model(model)
        errors = []
        for name, rec in self._recorders.items():
            try:
                find_module(model, rec.source)
            except RecorderPathError as err:
                errors.append(f'recorder {name!r}: {err}')
        if errors:
            raise RecorderPathError('\n'.join(errors))
        if self._recorders:
            disable_inplace(model)
        for rec in self._recorders.values():
            rec.initialize(model)
        self.model = model

    def remove(self) -> None:
        """Remove all hooks."""
        for rec in self._recorders.values():
            rec.remove()
        self.model = None

    def reset(self) -> None:
        """Clear all buffers."""
        for rec in self._recorders.values():
            rec.reset()

    def __enter__(self) -> 'RecorderManager':
        for rec in self._recorders.values():
            rec.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        for rec in self._recorders.values():
            rec.__exit__(*exc_info)

    def get(self, name: str, idx: int = -1) -> Any:
        """The output recorded by recorder ``name`` (the last call's by default)."""
        return self._recorders[self._check_name(name)].get(idx)

    def __repr__(self) -> str:
        body = ', '.join(f'{n}={r!r}' for n, r in self._recorders.items())
        return f'{type(self).__name__}({body})'


__all__ = ['ModuleOutputsRecorder', 'RecorderManager', 'RecorderPathError', 'build_recorder',
           'disable_inplace', 'find_module', 'unwrap_model']
