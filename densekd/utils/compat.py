"""Fixes for mmengine 0.10.7 on today's torch / Python.

Imported by ``densekd/__init__.py`` so every entry point gets them:

* mmengine's local-file checkpoint loader (used by ``load_from``, ``--resume`` and
  ``tools/test.py``) is re-registered to read through
  :func:`densekd.utils.checkpoint.load_checkpoint`, the loader every densekd path uses:
  ``torch.load(..., weights_only=True)`` only (the default since torch 2.6, see the
  ``torch.load`` documentation), with exactly the mmengine/numpy types that densekd's own
  training checkpoints hold (``HistoryBuffer`` in the message hub, numpy arrays and scalars)
  allowed during the load; ``.safetensors`` files are read with safetensors. Any other
  pickle is refused with one error naming the file, unless ``--trust-checkpoint`` (or
  ``DENSEKD_TRUST_CHECKPOINT=1``) allows full unpickling, with a warning naming the file.
* Python >= 3.12 has no ``distutils``; mmengine's ``collect_env`` imports it. ``setuptools``
  (a dependency of densekd) provides the shim, so nothing is patched for that here.
"""
from mmengine.runner.checkpoint import CheckpointLoader

from densekd.utils.checkpoint import load_checkpoint


def _load_local_checkpoint(filename: str, map_location=None):
    return load_checkpoint(filename, map_location=map_location)


CheckpointLoader.register_scheme(prefixes='', loader=_load_local_checkpoint, force=True)
