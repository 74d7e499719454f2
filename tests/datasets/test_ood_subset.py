"""Tests for entropy scoring and the EntropySubsetDataset wrapper."""
import json
import math

import numpy as np
import pytest
import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

import densekd.datasets.ood_subset as ood_subset
from densekd.datasets.ood_subset import EntropySubsetDataset, score_images_by_entropy
from densekd.datasets.transforms import build_pipeline
from densekd.registry import DATASETS

NORM = dict(type='Normalize', mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
TEACHER_CFG = dict(arch='DeepLabV3Plus', encoder_name='tu-test_resnet', classes=13)


def _structured_images(n, size=64, seed=0):
    """uint8 H×W×3 images: smooth gradients, stripes and blobs of varying contrast."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = []
    for i in range(n):
        base = rng.uniform(0, 1, 3)
        freq = 1 + i % 4
        pattern = np.sin(2 * math.pi * freq * (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1)))
        contrast = (i + 1) / n
        img = base[None, None] + 0.5 * contrast * pattern[..., None] * rng.uniform(-1, 1, 3)
        img += rng.normal(0, 0.05 * contrast, img.shape)
        images.append((np.clip(img, 0, 1) * 255).astype(np.uint8))
    return images


class TinyImages(Dataset):
    """In-test OOD dataset in the densekd layout: ``pipeline`` attribute, dict items."""

    def __init__(self, n=6, pipeline=(NORM,), seed=0):
        self.images = _structured_images(n, seed=seed)
        self.img_paths = [f'tiny/{seed}/{i:03d}.png' for i in range(n)]
        self.pipeline = build_pipeline(list(pipeline))

    def __len__(self):
        return len(self.images)

    def __getitem__(self, idx):
        inputs, _ = self.pipeline(self.images[idx])
        return dict(inputs=inputs, img_path=self.img_paths[idx])


@pytest.fixture(scope='module')
def teacher():
    torch.manual_seed(0)
    model = smp.DeepLabV3Plus(encoder_name='tu-test_resnet', encoder_weights=None, classes=13)
    # Larger head weights: the untrained model's predictions then vary from image to image.
    with torch.no_grad():
        model.segmentation_head[0].weight.mul_(20)
    return model.eval()


@pytest.fixture
def checkpoint(teacher, tmp_path):
    path = tmp_path / 'teacher.pth'
    torch.save(teacher.state_dict(), path)
    return str(path)


def _reference_scores(teacher, dataset):
    out = []
    with torch.no_grad():
        for i in range(len(dataset)):
            p = F.softmax(teacher(dataset[i]['inputs'][None]), dim=1)
            out.append((-(p * p.log()).sum(1)).mean().item())
    return torch.tensor(out)


def test_score_images_by_entropy_matches_formula(teacher):
    ds = TinyImages(n=5)
    teacher.train()
    scores = score_images_by_entropy(teacher, ds, batch_size=2)
    assert teacher.training, 'the teacher mode must be restored'
    teacher.eval()
    assert scores.shape == (5,) and scores.dtype == torch.float32
    assert torch.allclose(scores, _reference_scores(teacher, ds), atol=1e-5)
    assert (scores >= 0).all() and (scores <= math.log(13) + 1e-5).all()
    assert scores.unique().numel() == 5


def test_score_mixed_sizes_and_tensor_items(teacher):
    imgs = [torch.randn(3, 64, 64), torch.randn(3, 48, 80), torch.randn(3, 50, 50)]
    scores = score_images_by_entropy(teacher, imgs, batch_size=3)
    for img, s in zip(imgs[:2], scores[:2]):
        with torch.no_grad():
            p = F.softmax(teacher(img[None]), 1)
        assert s.item() == pytest.approx((-(p * p.log()).sum(1)).mean().item(), abs=1e-5)
    assert scores.shape == (3,)  # 50×50 is padded to the output stride internally


def test_subset_keeps_highest_entropy_descending(teacher, checkpoint):
    ds = TinyImages(n=6)
    subset = EntropySubsetDataset(ds, dict(TEACHER_CFG, checkpoint=checkpoint),
                                  num_keep=3, batch_size=4)
    ref = _reference_scores(teacher, ds)
    expected = torch.argsort(ref, descending=True)[:3].tolist()
    assert subset.indices == expected
    assert len(subset) == 3
    kept = [subset.scores[i].item() for i in subset.indices]
    assert kept == sorted(kept, reverse=True)
    assert min(kept) >= max(s for i, s in enumerate(subset.scores.tolist())
                            if i not in subset.indices)
    assert subset[0]['img_path'] == ds.img_paths[expected[0]]


def test_num_keep_fraction_and_clipping(teacher):
    ds = TinyImages(n=6)
    assert len(EntropySubsetDataset(ds, teacher, num_keep=0.5)) == 3
    assert len(EntropySubsetDataset(ds, teacher, num_keep=1.0)) == 6
    assert len(EntropySubsetDataset(ds, teacher, num_keep=100)) == 6
    with pytest.raises(ValueError, match='fraction'):
        EntropySubsetDataset(ds, teacher, num_keep=1.5)
    with pytest.raises(ValueError, match='>= 1'):
        EntropySubsetDataset(ds, teacher, num_keep=0)
    with pytest.raises(TypeError, match='num_keep'):
        EntropySubsetDataset(ds, teacher, num_keep='all')


def test_cache_hit_skips_scoring(teacher, checkpoint, tmp_path, monkeypatch):
    calls = []
    real = ood_subset.score_images_by_entropy

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(ood_subset, 'score_images_by_entropy', counting)
    cfg = dict(TEACHER_CFG, checkpoint=checkpoint)
    cache = tmp_path / 'cache'
    first = EntropySubsetDataset(TinyImages(n=6), cfg, num_keep=4, cache_dir=str(cache))
    assert len(calls) == 1
    files = list(cache.glob('*.json'))
    assert len(files) == 1 and files[0] == cache / first.cache_file.split('/')[-1]
    data = json.loads(files[0].read_text())
    assert data['num_images'] == 6 and len(data['order']) == 6

    second = EntropySubsetDataset(TinyImages(n=6), cfg, num_keep=2, cache_dir=str(cache))
    assert len(calls) == 1, 'a cache hit must not run the teacher'
    assert second.indices == first.indices[:2]
    assert torch.equal(second.scores, first.scores)

    # Other images (paths / length) or another checkpoint: another key, scored again.
    EntropySubsetDataset(TinyImages(n=6, seed=1), cfg, num_keep=2, cache_dir=str(cache))
    assert len(calls) == 2
    other_ckpt = tmp_path / 'other.pth'
    state = torch.load(checkpoint)
    state['segmentation_head.0.bias'] += 1.0
    torch.save(state, other_ckpt)
    EntropySubsetDataset(TinyImages(n=6), dict(TEACHER_CFG, checkpoint=str(other_ckpt)),
                         num_keep=2, cache_dir=str(cache))
    assert len(calls) == 3
    assert len(list(cache.glob('*.json'))) == 3

    # Scoring with the dataset's own pipeline: a different pipeline is a different key ...
    resized = [dict(type='Resize', height=32, width=32), NORM]
    EntropySubsetDataset(TinyImages(n=6, pipeline=resized), cfg, num_keep=2,
                         cache_dir=str(cache))
    assert len(calls) == 4
    # ... but with score_pipeline only the scoring transform counts.
    for train_pipe in ([NORM], resized):
        EntropySubsetDataset(TinyImages(n=6, pipeline=train_pipe), cfg, num_keep=2,
                             cache_dir=str(cache), score_pipeline=[NORM])
    assert len(calls) == 5


def test_score_pipeline_is_deterministic_and_leaves_training_pipeline(teacher):
    train_pipe = [dict(type='HorizontalFlip', p=0.5),
                  dict(type='GaussNoise', std_range=(0.2, 0.4), p=1.0), NORM]
    ds = TinyImages(n=6, pipeline=train_pipe)
    original_pipeline = ds.pipeline
    a = EntropySubsetDataset(ds, teacher, num_keep=3, score_pipeline=[NORM])
    b = EntropySubsetDataset(ds, teacher, num_keep=3, score_pipeline=[NORM])
    assert torch.equal(a.scores, b.scores)
    assert torch.allclose(a.scores, _reference_scores(teacher, TinyImages(n=6)), atol=1e-5)
    assert ds.pipeline is original_pipeline and a.dataset is ds

    class NoPipeline(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return dict(inputs=torch.zeros(3, 32, 32))

    with pytest.raises(ValueError, match='pipeline'):
        EntropySubsetDataset(NoPipeline(), teacher, num_keep=1, score_pipeline=[NORM])


def test_registered_and_built_from_config(checkpoint):
    DATASETS.register_module(name='_TinyImagesForSubsetTest', module=TinyImages, force=True)
    subset = DATASETS.build(dict(type='EntropySubsetDataset',
                                 dataset=dict(type='_TinyImagesForSubsetTest', n=4),
                                 teacher=dict(TEACHER_CFG, checkpoint=checkpoint),
                                 num_keep=0.5))
    assert isinstance(subset, EntropySubsetDataset) and len(subset) == 2
    assert subset[1]['inputs'].shape == (3, 64, 64)


def test_teacher_config_errors(tmp_path):
    ds = TinyImages(n=2)
    with pytest.raises(ValueError, match='checkpoint is required'):
        EntropySubsetDataset(ds, dict(TEACHER_CFG), num_keep=1)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        EntropySubsetDataset(ds, dict(TEACHER_CFG, checkpoint=str(tmp_path / 'missing.pth')),
                             num_keep=1)
    with pytest.raises(ValueError, match='not dict\\(model=..., checkpoint=...\\)'):
        EntropySubsetDataset(ds, dict(model=TEACHER_CFG, checkpoint='x'), num_keep=1)
    wrong = smp.DeepLabV3Plus(encoder_name='tu-test_resnet', encoder_weights=None, classes=5)
    path = tmp_path / 'five.pth'
    torch.save(wrong.state_dict(), path)
    with pytest.raises(ValueError, match='classes'):
        EntropySubsetDataset(ds, dict(TEACHER_CFG, checkpoint=str(path)), num_keep=1)


def test_score_pipeline_reaches_wrapped_datasets(teacher):
    from densekd.datasets.mixed import MixedImagesDataset

    noisy = [dict(type='GaussNoise', std_range=(0.2, 0.4), p=1.0), NORM]
    mixed = MixedImagesDataset([TinyImages(n=3, pipeline=noisy),
                                TinyImages(n=3, seed=1, pipeline=noisy)])
    subset = EntropySubsetDataset(mixed, teacher, num_keep=2, score_pipeline=[NORM])
    clean = MixedImagesDataset([TinyImages(n=3), TinyImages(n=3, seed=1)])
    assert torch.allclose(subset.scores, _reference_scores(teacher, clean), atol=1e-5)
    assert all(d.pipeline is not None for d in mixed.datasets)
    assert mixed._concat.datasets[0] is mixed.datasets[0]  # the original is untouched


def test_training_streams_are_the_same_on_a_cache_miss_and_a_hit(checkpoint, tmp_path):
    """Scoring (teacher build, the dataset's random pipeline) must not move any random stream:
    a run whose ranking came from the cache trains exactly as the run that computed it."""
    train_pipe = [dict(type='HorizontalFlip', p=0.5),
                  dict(type='GaussNoise', std_range=(0.2, 0.4), p=1.0), NORM]
    cfg = dict(TEACHER_CFG, checkpoint=checkpoint)
    draws = []
    for _ in ('miss', 'hit'):
        torch.manual_seed(0)
        np.random.seed(0)
        subset = EntropySubsetDataset(TinyImages(n=6, pipeline=train_pipe), cfg, num_keep=3,
                                      cache_dir=str(tmp_path / 'cache'))
        draws.append((torch.rand(4), np.random.rand(2), subset[0]['inputs'], subset[1]['inputs']))
    (miss, hit) = draws
    assert len(list((tmp_path / 'cache').glob('*.json'))) == 1  # the second run read the cache
    for a, b in zip(miss, hit):
        assert np.array_equal(np.asarray(a), np.asarray(b))
