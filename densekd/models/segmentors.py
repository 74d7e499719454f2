"""Segmentor builders over segmentation-models-pytorch, weight loading, padded inference."""
from __future__ import annotations

from typing import Optional

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import nn

from densekd.registry import MODELS
from densekd.utils.checkpoint import load_checkpoint

# The smp architectures densekd builds by name; any smp encoder (incl. ``tu-<timm name>``) works.
ARCHITECTURES = ('DeepLabV3', 'DeepLabV3Plus', 'Unet', 'FPN', 'PSPNet', 'Linknet', 'PAN', 'UPerNet',
                 'Segformer')

# Prefixes under which a segmentor sits inside densekd's own training checkpoints.
_KNOWN_PREFIXES = ('segmentor.', 'student.', 'teacher.', 'module.')


@MODELS.register_module(name='SmpSegmentor')
def build_segmentor(arch: str = 'DeepLabV3Plus', encoder_name: str = 'resnet18',
                    classes: int = 13, encoder_weights: Optional[str] = None,
                    checkpoint: Optional[str] = None, **smp_kwargs) -> nn.Module:
    """Build an smp segmentation model (offline by default).

    Args:
        arch: smp architecture class name, e.g. ``'DeepLabV3'`` or ``'DeepLabV3Plus'``.
        encoder_name: any smp encoder name, e.g. ``'resnet50'``, ``'mobilenet_v2'`` or a timm
            model through ``'tu-<name>'``.
        classes: number of output classes (smp's default of 1 is never what we want).
        encoder_weights: ``None`` (default, offline) or e.g. ``'imagenet'`` (downloads).
        checkpoint: optional path to weights loaded with :func:`load_weights`.
        **smp_kwargs: passed to the smp constructor (``encoder_output_stride``,
            ``decoder_channels``, ``decoder_atrous_rates``, ...).

    Returns:
        The smp model; its forward returns logits at input resolution.
    """
    if arch not in ARCHITECTURES or not hasattr(smp, arch):
        raise ValueError(f'unknown segmentor arch {arch!r}; expected one of {ARCHITECTURES}')
    model = getattr(smp, arch)(encoder_name=encoder_name, encoder_weights=encoder_weights,
                               classes=classes, **smp_kwargs)
    # Remember how the model was built: exports and error messages use it.
    model.densekd_cfg = dict(arch=arch, encoder_name=encoder_name, classes=classes, **smp_kwargs)
    if checkpoint is not None:
        load_weights(model, checkpoint)
    return model


def segmentor_state(obj, path: str) -> dict:
    """The segmentor state dict inside what :func:`load_checkpoint` read from ``path``.

    Unwraps mmengine training checkpoints and MosaicKD's (``state_dict``), DFAD-style ones
    (``model_state``) and torchvision reference-script ones (``model``); a plain state dict is
    returned as is.
    """
    for key in ('state_dict', 'model_state', 'model'):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict):
        raise ValueError(f'checkpoint {path} holds a {type(obj).__name__}, expected a state dict')
    return obj


def _read_state_dict(path: str) -> dict:
    # Weights-only: a file holding other objects is refused (densekd.utils.checkpoint).
    return segmentor_state(load_checkpoint(path, map_location='cpu'), path)


def _strip_prefix(state: dict, model_keys: set, prefix: Optional[str]) -> dict:
    if prefix is not None:
        return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
    if model_keys & set(state):
        return state
    # A densekd training checkpoint: keep the segmentor that matches the model.
    for known in _KNOWN_PREFIXES:
        sub = {k[len(known):]: v for k, v in state.items() if k.startswith(known)}
        if sub and model_keys & set(sub):
            return sub
    return state


def load_weights(model: nn.Module, path: str, prefix: Optional[str] = None) -> nn.Module:
    """Load segmentor weights from a plain state dict, safetensors or a densekd checkpoint.

    The file is read by :func:`densekd.utils.checkpoint.load_checkpoint`: weights only, so a
    pickle holding arbitrary objects is refused (``--trust-checkpoint`` overrides).
    ``.safetensors`` is the preferred format for shared weights.

    Args:
        model: the smp model to fill.
        path: ``.pth``/``.pt`` (plain state dict or mmengine checkpoint with ``state_dict``)
            or ``.safetensors``.
        prefix: key prefix of the segmentor inside the file (e.g. ``'student.'``); guessed
            from densekd's prefixes when ``None``.

    Returns:
        The model, loaded in place.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        densekd.utils.checkpoint.CheckpointError: the file is unreadable or not weights-only.
        ValueError: the file's class count, architecture or keys do not match the model; the
            message names the file and the first mismatching keys.
    """
    return load_state(model, _read_state_dict(path), path, prefix)


def load_state(model: nn.Module, state: dict, path: str, prefix: Optional[str] = None
               ) -> nn.Module:
    """Load an already read segmentor ``state`` into ``model``, checking every key.

    Args:
        model: the smp model to fill.
        state: a state dict (see :func:`segmentor_state`); densekd prefixes are stripped.
        path: the file ``state`` came from, for error messages.
        prefix: as for :func:`load_weights`.

    Returns:
        The model, loaded in place.

    Raises:
        ValueError: as for :func:`load_weights`.
    """
    state = _strip_prefix(state, set(model.state_dict()), prefix)
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        hint = getattr(model, 'key_mismatch_hint', None)
        raise ValueError(
            f'checkpoint {path} does not match the model architecture '
            f'{getattr(model, "densekd_cfg", type(model).__name__)}: {len(missing)} missing keys'
            f'{_listed(missing)}, {len(unexpected)} unexpected keys{_listed(unexpected)}'
            f'{hint(missing, unexpected) if hint else ""}')
    # The last classifier conv: its weight's first dimension is the class count.
    head = getattr(model, 'head_weight_key', 'segmentation_head.0.weight')
    if head in own and state[head].shape[0] != own[head].shape[0]:
        raise ValueError(f'checkpoint {path} has {state[head].shape[0]} classes but the model '
                         f'config has {own[head].shape[0]} (key {head})')
    bad = [(k, tuple(state[k].shape), tuple(v.shape)) for k, v in own.items()
           if state[k].shape != v.shape]
    if bad:
        raise ValueError(f'checkpoint {path} has {len(bad)} tensors of another shape than the '
                         f'model, e.g. {bad[:3]} (key, file, model)')
    model.load_state_dict(state)
    return model


def _listed(keys: list, limit: int = 8) -> str:
    if not keys:
        return ''
    more = f' and {len(keys) - limit} more' if len(keys) > limit else ''
    return f' ({", ".join(keys[:limit])}{more})'


def output_divisor(model: nn.Module) -> int:
    """The factor H and W must be divisible by for ``model`` (smp checks it in forward).

    A model may declare it as ``size_divisor`` (1 for the torchvision segmentors, which take
    any size); smp models give their encoder's output stride.
    """
    if getattr(model, 'size_divisor', None) is not None:
        return int(model.size_divisor)
    encoder = getattr(model, 'encoder', None)
    return int(getattr(encoder, 'output_stride', 32)) if encoder is not None else 32


def forward_padded(model: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
    """Run ``model`` on inputs of any size: pad right/bottom to its divisor, crop the logits.

    Padding replicates the border so no artificial edge reaches the network.
    """
    divisor = output_divisor(model)
    h, w = inputs.shape[-2:]
    pad_h, pad_w = (-h) % divisor, (-w) % divisor
    if pad_h == 0 and pad_w == 0:
        return model(inputs)
    padded = F.pad(inputs, (0, pad_w, 0, pad_h), mode='replicate')
    return model(padded)[..., :h, :w]
