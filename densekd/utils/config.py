"""Config loading shared by the tools: merge CLI overrides, resolve the work dir, check the
input normalisation, AMP."""
from __future__ import annotations

import os.path as osp
from typing import Optional

from mmengine.config import Config

from densekd.utils.normalization import IMAGENET_MEAN, IMAGENET_STD, check_data_norm
from densekd.utils.ood_root import apply_ood_root


def load_config(path: str, cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None) -> Config:
    """Load ``path``, apply ``--cfg-options`` and set ``work_dir``.

    A set ``ood_root`` points every OOD image pool at that folder
XX
    ``work_dirs/<config file stem>``.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: a pipeline's ``Normalize`` disagrees with the model's ``data_norm``
            (:func:`~densekd.utils.normalization.check_data_norm`).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path} does not exist')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(path))[0])
    apply_ood_root(cfg)
    model = cfg.get('model') or {}
    is_distiller = 'teacher' in model and 'student' in model  # defaults to ImageNet statistics
    check_data_norm(cfg, default=dict(mean=IMAGENET_MEAN, std=IMAGENET_STD) if is_distiller
                    else None)
    return cfg


def apply_amp(cfg: Config) -> None:
    """Switch every optimizer wrapper (one or one per submodule) to ``AmpOptimWrapper``."""
    optim = cfg.optim_wrapper
    wrappers = ([optim] if 'optimizer' in optim else
                [v for k, v in optim.items() if k != 'constructor' and isinstance(v, dict)])
    for wrapper in wrappers:
        wrapper['type'] = 'AmpOptimWrapper'
        wrapper.setdefault('loss_scale', 'dynamic')
