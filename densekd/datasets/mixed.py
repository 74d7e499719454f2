"""Images from several datasets as one unlabelled source (e.g. in-domain + OOD for KD)."""
from __future__ import annotations

from typing import List, Union

from torch.utils.data import ConcatDataset, Dataset

from densekd.registry import DATASETS


@DATASETS.register_module()
class MixedImagesDataset(Dataset):
    """Concatenate datasets and keep only ``inputs`` and ``img_path`` of each item.

    Labels are dropped so that labelled and unlabelled sources collate together; every
    source's pipeline must produce images of the same size.

    Args:
        datasets: dataset configs or instances.
    """

    def __init__(self, datasets: List[Union[dict, Dataset]]):
        if not datasets:
            raise ValueError('MixedImagesDataset.datasets: give at least one dataset')
        self.datasets = [DATASETS.build(d) if isinstance(d, dict) else d for d in datasets]
        self._concat = ConcatDataset(self.datasets)

    @property
    def metainfo(self) -> dict:
        return dict(getattr(self.datasets[0], 'metainfo', {}))

    def __len__(self) -> int:
        return len(self._concat)

    def __getitem__(self, index: int) -> dict:
        item = self._concat[index]
        return dict(inputs=item['inputs'], img_path=item.get('img_path', ''))
