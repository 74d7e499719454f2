"""A stand-in train dataset for data-free regimes (DFAD, DAFL).

mmengine's loops pull a batch every iteration even when the algorithm synthesises all its
images; this dataset makes that free and says so, instead of loading real images.
"""
import torch
from torch.utils.data import Dataset

from densekd.registry import DATASETS


@DATASETS.register_module()
class NoDataDataset(Dataset):
    """Items hold an empty ``inputs`` tensor; data-free algorithms ignore the batch.

    Args:
        length: number of items (the infinite sampler just cycles through them).
    """

    def __init__(self, length: int = 1024):
        self.length = int(length)

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict:
        return dict(inputs=torch.zeros(0))
