"""MixedImagesDataset: sources concatenated in order, labels dropped, configs built."""
import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from densekd.datasets import MixedImagesDataset, NoDataDataset
from densekd.registry import DATASETS


class Source(Dataset):
    """``n`` constant 3x4x4 images; item ``i`` has value ``offset + i`` and a path naming it.

    Args:
        name: prefix of the items' ``img_path``.
        n: length.
        offset: value of item 0 (so items of different sources differ).
        labelled: add a ``seg`` map, as a labelled in-domain dataset does.
    """

    metainfo = dict(classes=('a', 'b'))

    def __init__(self, name, n, offset, labelled=False):
        self.name, self.n, self.offset, self.labelled = name, n, offset, labelled

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        item = dict(inputs=torch.full((3, 4, 4), float(self.offset + i)),
                    img_path=f'{self.name}/{i}')
        if self.labelled:
            item['seg'] = torch.zeros(4, 4, dtype=torch.long)
        return item


def test_length_is_the_sum_and_items_come_in_source_order():
    mixed = MixedImagesDataset([Source('in', 3, 0, labelled=True), Source('ood', 5, 100)])
    assert len(mixed) == 8
    paths = [mixed[i]['img_path'] for i in range(len(mixed))]
    assert paths == ['in/0', 'in/1', 'in/2', 'ood/0', 'ood/1', 'ood/2', 'ood/3', 'ood/4']
    assert [mixed[i]['inputs'][0, 0, 0].item() for i in (0, 2, 3, 7)] == [0, 2, 100, 104]
    # The share of each source is its length: 3 of 8 in-domain images.
    assert sum(p.startswith('in/') for p in paths) / len(mixed) == 3 / 8


def test_labels_are_dropped_so_labelled_and_unlabelled_sources_collate():
    mixed = MixedImagesDataset([Source('in', 2, 0, labelled=True), Source('ood', 2, 10)])
    assert all(set(mixed[i]) == {'inputs', 'img_path'} for i in range(len(mixed)))
    batch = next(iter(DataLoader(mixed, batch_size=4)))
    assert batch['inputs'].shape == (4, 3, 4, 4)
    assert batch['img_path'] == ['in/0', 'in/1', 'ood/0', 'ood/1']


def test_negative_and_out_of_range_indices():
    mixed = MixedImagesDataset([Source('a', 2, 0), Source('b', 3, 10)])
    assert mixed[-1]['img_path'] == 'b/2' and mixed[-5]['img_path'] == 'a/0'
    with pytest.raises(IndexError):
        mixed[5]


def test_configs_are_built_and_a_missing_path_becomes_empty():
    mixed = MixedImagesDataset([dict(type='NoDataDataset', length=4), Source('b', 1, 0)])
    assert isinstance(mixed.datasets[0], NoDataDataset) and len(mixed) == 5
    assert mixed[0]['img_path'] == '' and mixed[0]['inputs'].numel() == 0
    built = DATASETS.build(dict(type='MixedImagesDataset',
                                datasets=[dict(type='NoDataDataset', length=2)]))
    assert isinstance(built, MixedImagesDataset) and len(built) == 2


def test_metainfo_is_a_copy_of_the_first_sources():
    first = Source('a', 1, 0)
    mixed = MixedImagesDataset([first, NoDataDataset(length=1)])
    assert mixed.metainfo == dict(classes=('a', 'b'))
    mixed.metainfo['classes'] = ()
    assert first.metainfo == dict(classes=('a', 'b'))
    assert MixedImagesDataset([NoDataDataset(length=1)]).metainfo == {}


@pytest.mark.parametrize('datasets', [[], None])
def test_no_source_is_refused(datasets):
    with pytest.raises(ValueError, match='give at least one dataset'):
        MixedImagesDataset(datasets)


def test_an_unknown_source_type_names_it():
    with pytest.raises(KeyError, match='NoSuchDataset'):
        MixedImagesDataset([dict(type='NoSuchDataset')])
