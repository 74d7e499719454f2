"""A segmentor exported in smp's own format, with what inference needs beside it.

``save_smp_export`` writes a folder that ``segmentation_models_pytorch.from_pretrained(DIR)``
loads with no densekd installed and no network access (smp's ``save_pretrained``:
``config.json`` + ``model.safetensors``), plus ``densekd.json``:

* ``mean`` / ``std``: the input normalisation, in [0, 1] units (``(rgb / 255 - mean) / std``);
* ``classes`` and ``palette``: the class names and one RGB colour per class;
* ``input_size``: ``[H, W]`` the model was trained and tested at, or null.

``tools/infer.py`` reads both files. The folder is written next to its final place and moved
there in one step, so a crash never leaves a half-written export under the final name.
"""
from __future__ import annotations

import json
import os
import os.path as osp
import shutil
from typing import Optional, Sequence, Tuple

from torch import nn

#: The metadata file beside smp's ``config.json``.
META_FILE = 'densekd.json'


def save_smp_export(model: nn.Module, out_dir: str, mean: Sequence[float],
                    std: Sequence[float], classes: Sequence[str],
                    palette: Sequence[Sequence[int]],
                    input_size: Optional[Sequence[int]] = None) -> str:
    """Write ``model`` with ``save_pretrained`` and the inference metadata to ``out_dir``.

    Args:
        model: an smp model (built by :func:`~densekd.models.segmentors.build_segmentor`).
        out_dir: the export folder; replaced if it exists.
        mean, std: input normalisation in [0, 1] units.
        classes: class names, one per output channel.
        palette: RGB colour per class.
        input_size: ``(H, W)`` of the training/test images, or None.

    Returns:
        ``out_dir``.

    Raises:
        ValueError: ``classes`` or ``palette`` do not match the model's output channels.
    """
    num_classes = _output_channels(model)
    if len(classes) != num_classes or len(palette) < num_classes:
        raise ValueError(f'export to {out_dir}: the model has {num_classes} output classes but '
                         f'{len(classes)} class names and {len(palette)} colours were given')
    meta = dict(mean=[float(v) for v in mean], std=[float(v) for v in std],
                classes=[str(c) for c in classes],
                palette=[[int(c) for c in rgb] for rgb in list(palette)[:num_classes]],
                input_size=None if input_size is None else [int(v) for v in input_size])
    out_dir = osp.abspath(out_dir)
    tmp, old = f'{out_dir}.tmp{os.getpid()}', f'{out_dir}.old{os.getpid()}'
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp)
        with open(osp.join(tmp, META_FILE), 'w') as f:
            json.dump(meta, f, indent=2)
        if osp.exists(out_dir):
            os.replace(out_dir, old)  # the previous export goes only once the new one is whole
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
    return out_dir


def is_smp_export(path: str) -> bool:
    """Whether ``path`` is a folder written by :func:`save_smp_export`."""
    return osp.isfile(osp.join(path, 'config.json')) and osp.isfile(osp.join(path, META_FILE))


def load_smp_export(path: str) -> Tuple[nn.Module, dict]:
    """Load an export folder: the smp model (eval mode) and its ``densekd.json`` metadata.

    Raises:
        FileNotFoundError: ``path`` is not an export folder (names the missing file).
    """
    for name in ('config.json', META_FILE):
        if not osp.isfile(osp.join(path, name)):
            raise FileNotFoundError(f'{path} is not a densekd smp export: {name} is missing '
                                    f'(write one with tools/export_weights.py --smp-dir)')
    import segmentation_models_pytorch as smp
    model = smp.from_pretrained(path).eval()
    with open(osp.join(path, META_FILE)) as f:
        meta = json.load(f)
    return model, meta


def inference_metadata(cfg, num_classes: int) -> dict:
    """``mean``, ``std``, ``classes``, ``palette`` and ``input_size`` of a training config.

    The normalisation is the model's ``data_norm`` (or the config's); the classes and palette
    are those of the test dataset's label folder (NYUv2 / SynthRooms ``seg13`` or ``seg40``),
    else generic names with the VOC colours; the input size is the test set's render size
    (SynthRooms ``height``/``width``) or the test pipeline's ``Resize``.

    Args:
        cfg: the training config (an mmengine ``Config``, e.g. from a checkpoint's meta).
        num_classes: output channels of the exported network.

    Raises:
        KeyError: the config names no ``data_norm``.
    """
    from densekd.datasets.nyuv2 import known_label_classes
    from densekd.visualization.palette import default_palette
    norm = cfg.get('model', {}).get('data_norm') or cfg.get('data_norm')
    if not norm:
        raise KeyError('the config has no model.data_norm / data_norm: the export needs the '
                       'input normalisation')
    dataset = dict((cfg.get('test_dataloader') or {}).get('dataset') or {})
    known = known_label_classes(dataset.get('label_dir', 'seg13'))
    if known is not None and len(known[0]) == num_classes:
        classes, palette = known
    else:
        classes = [f'class{i}' for i in range(num_classes)]
        palette = default_palette(num_classes).tolist()
    size = None
    if dataset.get('height') and dataset.get('width'):
        size = (dataset['height'], dataset['width'])
    for step in dataset.get('pipeline') or []:
        if isinstance(step, dict) and step.get('type') == 'Resize':
            size = (step['height'], step['width'])
    return dict(mean=norm['mean'], std=norm['std'], classes=list(classes),
                palette=[list(c) for c in palette], input_size=size)


def _output_channels(model: nn.Module) -> int:
    head = model.segmentation_head[0]
    return int(head.out_channels)
