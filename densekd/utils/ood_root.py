"""``ood_root``: one config key that points every OOD image pool of a config at a folder.

Every config inherits ``ood_root = None`` (``configs/_base_/default_runtime.py``). Setting it,
in a config or on the command line::

    python tools/train.py configs/kd/kd-blind_..._photos.py --cfg-options ood_root=~/my_photos

makes each OOD pool among the config's dataloaders read that folder (searched recursively),
however deeply it is wrapped (e.g. inside ``EntropySubsetDataset``):

* ``BundledPhotosDataset`` (the SynthRooms configs' random multi-scale crops) crops the
  folder's photos instead of the bundled ones (``sources=[ood_root]``; the photos are decoded
  into memory once, so this suits folders of up to a few thousand photos);
* ``ImageFolderDataset`` (the NYUv2 / ImageNet-style configs) reads the folder
  (``data_root=ood_root``).

The in-domain datasets (NYUv2, SynthRooms) and the SynthRooms collages are left as they are.
"""
from __future__ import annotations

import os.path as osp
from typing import Any, List

#: The OOD pool dataset types and the argument that names their images.
OOD_POOLS = {'BundledPhotosDataset': 'sources', 'ImageFolderDataset': 'data_root'}


def _pools(node: Any, found: List[dict]) -> List[dict]:
    if isinstance(node, dict):
        if node.get('type') in OOD_POOLS:
            found.append(node)
        for value in node.values():
            _pools(value, found)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _pools(value, found)
    return found


def apply_ood_root(cfg) -> int:
    """Point every OOD pool of ``cfg``'s dataloaders at ``cfg.ood_root`` (when it is set).

    Args:
        cfg: an mmengine ``Config`` (changed in place).

    Returns:
        The number of pools changed (0 when ``ood_root`` is None).

    Raises:
        ValueError: ``ood_root`` is set but the config has no OOD pool to point at it.
    """
    root = cfg.get('ood_root')
    if not root:
        return 0
    # Existence is checked when the datasets are built (a config loads without its data).
    folder = osp.expanduser(str(root))
    pools = []
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        _pools(cfg.get(key), pools)
    if not pools:
        raise ValueError(f'ood_root={root!r} is set, but this config trains on no OOD image pool '
                         f'({" or ".join(OOD_POOLS)}); pick an OOD config (configs/kd/kd-blind_*, '
                         f'configs/mosaickd/*_photos.py, *_imagenet.py)')
    for pool in pools:
        arg = OOD_POOLS[pool['type']]
        pool[arg] = [folder] if arg == 'sources' else folder
    return len(pools)
