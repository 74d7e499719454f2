"""Fixes for mmengine 0.10.7 on today's torch / Python (reference/engineering.md §3).

Imported by ``densekd/__init__.py`` so every entry point gets them:

* torch >= 2.6 defaults ``torch.load`` to ``weights_only=True``, which cannot unpickle the
  ``HistoryBuffer`` objects mmengine stores in its own checkpoints: ``--resume`` and
  ``load_from`` fail. We re-register mmengine's local-file loader to load densekd's *own*
  training checkpoints with ``weights_only=False``. Foreign teacher weights are loaded by
  :func:`densekd.models.segmentors.load_weights`, which tries ``weights_only=True`` first.
* Python >= 3.12 has no ``distutils``; mmengine's ``collect_env`` imports it. ``setuptools``
  (a dependency of densekd) provides the shim, so nothing is patched for that here.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


def _load_local_checkpoint(filename: str, map_location=None):
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)


CheckpointLoader.register_scheme(prefixes='', loader=_load_local_checkpoint, force=True)
