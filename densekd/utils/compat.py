"""Fixes for mmengine 0.10.7 on today's torch / Python, and for its checkpoint handling.

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
* ``Runner.save_checkpoint`` writes local files with
  :func:`densekd.utils.atomic.save_torch_atomic` (a temporary file, then ``os.replace``):
  mmengine writes the final name directly, so a process killed while saving left a truncated
  checkpoint under it. Remote back-ends (``s3://`` and the like) keep mmengine's writer.
* Auto resume (``resume=True`` without ``load_from``, ``tools/train.py --resume``) picks its
  checkpoint with :func:`densekd.utils.resume.find_resume_checkpoint`, which skips missing
  and truncated files by name instead of following ``last_checkpoint`` blindly, and says
  clearly when training starts from scratch.
* Python >= 3.12 has no ``distutils``; mmengine's ``collect_env`` imports it. ``setuptools``
  (a dependency of densekd) provides the shim, so nothing is patched for that here.
"""
import os
import os.path as osp

import mmengine.runner
import mmengine.runner.runner as mmengine_runner_module
from mmengine.runner import Runner
from mmengine.runner import checkpoint as mmengine_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from densekd.utils.atomic import save_torch_atomic
from densekd.utils.checkpoint import load_checkpoint
from densekd.utils.resume import find_resume_checkpoint


def _load_local_checkpoint(filename: str, map_location=None):
    return load_checkpoint(filename, map_location=map_location)


CheckpointLoader.register_scheme(prefixes='', loader=_load_local_checkpoint, force=True)

_mmengine_save_checkpoint = mmengine_checkpoint.save_checkpoint


def save_checkpoint(checkpoint, filename, file_client_args=None, backend_args=None):
    """mmengine's ``save_checkpoint``, atomic for local files (same signature)."""
    filename = str(filename)
    if file_client_args is not None or backend_args is not None or '://' in filename:
        return _mmengine_save_checkpoint(checkpoint, filename, file_client_args=file_client_args,
                                         backend_args=backend_args)
    os.makedirs(osp.dirname(osp.abspath(filename)), exist_ok=True)
    save_torch_atomic(checkpoint, filename)


# Runner.save_checkpoint calls the name imported into its module; CheckpointHook's
# _publish_model imports it from the package.
mmengine_runner_module.save_checkpoint = save_checkpoint
mmengine.runner.save_checkpoint = save_checkpoint

_mmengine_load_or_resume = Runner.load_or_resume


def _load_or_resume(self) -> None:
    if not self._has_loaded and self._resume and self._load_from is None:
        found = find_resume_checkpoint(self.work_dir)
        if found is None:
            self.logger.warning(f'resume: no complete checkpoint in {self.work_dir}; '
                                f'training starts from scratch')
            self._resume = False
        else:
            self.logger.info(f'resume: resuming from {found}')
            self._load_from = found
    return _mmengine_load_or_resume(self)


Runner.load_or_resume = _load_or_resume
