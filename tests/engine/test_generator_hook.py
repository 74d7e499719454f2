"""Tests for GeneratorSamplesHook: when files are written, fixed noise, modes restored."""
from types import SimpleNamespace

import cv2
import pytest
import torch
from torch import nn

from densekd.engine.generator_hook import GeneratorSamplesHook
from densekd.models.generators import PatchGenerator
from densekd.registry import HOOKS

DATA_NORM = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
PALETTE = [(128, 0, 0), (0, 128, 0), (128, 128, 0), (0, 0, 128), (128, 0, 128)]


class _SpyGenerator(PatchGenerator):
    """A tiny patch generator that records the latent codes it is called with."""

    def __init__(self):
        super().__init__(nz=4, ngf=4, num_upsamples=2, global_nz=2, img_size=16,
                         mean=DATA_NORM['mean'], std=DATA_NORM['std'])
        self.seen = []

    def forward(self, z):
        self.seen.append(z.detach().clone())
        return super().forward(z)


def _segmentor(classes=5):
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                         nn.Conv2d(8, classes, 1))


class _Algo(nn.Module):

    def __init__(self):
        super().__init__()
        self.generator = _SpyGenerator()
        self.teacher = _segmentor()
        self.student = _segmentor()
        self.data_norm = DATA_NORM


def _runner(tmp_path, max_iters):
    model = _Algo()
    model.train()
    model.teacher.eval()  # algorithms keep the teacher frozen in eval mode
    return SimpleNamespace(model=model, iter=0, max_iters=max_iters, work_dir=str(tmp_path),
                           timestamp='20250101_000000')


def _run(hook, runner, iters, batch=None):
    for i in range(iters):
        runner.iter = i
        data = batch if batch is not None else dict(inputs=torch.randn(3, 3, 16, 16))
        hook.after_train_iter(runner, i, data_batch=data)
    runner.iter = iters


def test_files_at_interval_and_end(tmp_path):
    runner = _runner(tmp_path, max_iters=5)
    hook = GeneratorSamplesHook(interval=2, num_samples=4, palette=PALETTE)
    _run(hook, runner, 5)
    hook.after_train(runner)
    out = tmp_path / '20250101_000000' / 'mosaics'
    assert sorted(p.name for p in out.iterdir()) == [
        'mosaics_iter_2.png', 'mosaics_iter_4.png', 'mosaics_iter_5.png']
    img = cv2.imread(str(out / 'mosaics_iter_2.png'))
    # 5 rows (generated, teacher, student, real, teacher on real) of 16-px tiles, 4 columns.
    assert img.shape[0] == 5 * 16 + 4 * 2
    assert img.shape[1] == 120 + 4 * (16 + 2)


def test_same_latent_each_time_and_modes_restored(tmp_path):
    runner = _runner(tmp_path, max_iters=6)
    model = runner.model
    hook = GeneratorSamplesHook(interval=3, num_samples=2, out_dir=str(tmp_path / 'o'),
                                palette=PALETTE)
    _run(hook, runner, 6)
    assert len(model.generator.seen) == 2
    assert torch.equal(model.generator.seen[0], model.generator.seen[1])
    assert model.generator.seen[0].shape == (2, 6, 4, 4)
    # Seeded: a new hook with the same seed draws the same noise, another seed does not.
    other = _runner(tmp_path, max_iters=3)
    GeneratorSamplesHook(interval=3, num_samples=2, out_dir=str(tmp_path / 'p'),
                         palette=PALETTE).after_train_iter(_set_iter(other, 2), 2)
    assert torch.equal(other.model.generator.seen[0], model.generator.seen[0])
    third = _runner(tmp_path, max_iters=3)
    GeneratorSamplesHook(interval=3, num_samples=2, seed=1, out_dir=str(tmp_path / 'q'),
                         palette=PALETTE).after_train_iter(_set_iter(third, 2), 2)
    assert not torch.equal(third.model.generator.seen[0], model.generator.seen[0])
    assert model.generator.training and model.student.training
    assert not model.teacher.training


def _set_iter(runner, i):
    runner.iter = i
    return runner


def test_modes_restored_on_error(tmp_path):
    runner = _runner(tmp_path, max_iters=1)
    model = runner.model

    def boom(x):
        raise RuntimeError('boom')

    model.student.forward = boom
    hook = GeneratorSamplesHook(interval=1, num_samples=2, out_dir=str(tmp_path),
                                palette=PALETTE)
    with pytest.raises(RuntimeError, match='boom'):
        hook.after_train_iter(runner, 0)
    assert model.generator.training and model.student.training


@pytest.mark.parametrize('batch_stats', [True, False])
def test_data_free_and_bn_stats_untouched(tmp_path, batch_stats):
    # No data batch (data-free methods): only the three generated rows.
    runner = _runner(tmp_path, max_iters=2)
    gen = runner.model.generator
    buffers = {k: v.clone() for k, v in gen.named_buffers()}
    seen_modes = []
    gen.register_forward_pre_hook(lambda m, args: seen_modes.append(m.training))
    hook = GeneratorSamplesHook(interval=2, num_samples=3, out_dir=str(tmp_path),
                                palette=PALETTE, generator_batch_stats=batch_stats)
    for i in range(2):
        runner.iter = i
        hook.after_train_iter(runner, i, data_batch=None)
    img = cv2.imread(str(tmp_path / 'mosaics_iter_2.png'))
    assert img.shape[0] == 3 * 16 + 2 * 2
    assert seen_modes == [batch_stats]
    for k, v in gen.named_buffers():
        assert torch.equal(v, buffers[k]), k
    assert gen.training


def test_after_train_saves_when_stopped_between_intervals(tmp_path):
    runner = _runner(tmp_path, max_iters=100)
    hook = GeneratorSamplesHook(interval=10, num_samples=2, out_dir=str(tmp_path),
                                palette=PALETTE)
    _run(hook, runner, 3)
    assert not list(tmp_path.glob('*.png'))
    hook.after_train(runner)
    assert [p.name for p in tmp_path.glob('*.png')] == ['mosaics_iter_3.png']


def test_default_palette_legend_and_full_scene(tmp_path):
    # 13 classes -> NYUv2 palette and class names (legend band appended); PatchGenerator
    # drawing a larger scene than its training size.
    runner = _runner(tmp_path, max_iters=1)
    runner.model.teacher = _segmentor(13).eval()
    runner.model.student = _segmentor(13)
    hook = GeneratorSamplesHook(interval=1, num_samples=2, out_dir=str(tmp_path),
                                image_size=(32, 48))
    hook.after_train_iter(runner, 0, data_batch=dict(inputs=torch.randn(4, 3, 16, 16)))
    img = cv2.imread(str(tmp_path / 'mosaics_iter_1.png'))
    assert img.shape[1] == 120 + 2 * (48 + 2)
    assert img.shape[0] > 5 * 32 + 4 * 2  # legend below the grid


def test_registered_and_validation():
    hook = HOOKS.build(dict(type='GeneratorSamplesHook', interval=5))
    assert isinstance(hook, GeneratorSamplesHook)
    with pytest.raises(ValueError, match='interval'):
        GeneratorSamplesHook(interval=0)
    with pytest.raises(ValueError, match='alpha'):
        GeneratorSamplesHook(alpha=2)


def test_model_without_generator(tmp_path):
    runner = SimpleNamespace(model=nn.Module(), iter=0, max_iters=1, work_dir=str(tmp_path),
                             timestamp='t')
    with pytest.raises(AttributeError, match='generator'):
        GeneratorSamplesHook(interval=1).after_train_iter(runner, 0)


def test_source_assembling_generator_draws_from_fixed_real_crops(tmp_path):
    from densekd.models.ood_mosaic_generator import OODMosaicGenerator

    runner = _runner(tmp_path, max_iters=4)
    runner.model.generator = OODMosaicGenerator(num_sources=2, nz=2, global_nz=2, width=4,
                                                grid_stride=8, img_size=16, **DATA_NORM)
    hook = GeneratorSamplesHook(interval=2, num_samples=3, palette=PALETTE)
    _run(hook, runner, 2)
    first = hook._fixed_src.clone()
    _run(hook, runner, 4, batch=dict(inputs=torch.randn(3, 3, 16, 16)))
    assert torch.equal(hook._fixed_src, first)  # the crops of the first batch, kept
    assert first.shape == (3, 2, 3, 16, 16)
    assert len(list((tmp_path / '20250101_000000' / 'mosaics').iterdir())) == 2


def test_source_assembling_generator_without_real_batch_is_an_error(tmp_path):
    from densekd.models.ood_mosaic_generator import OODMosaicGenerator

    runner = _runner(tmp_path, max_iters=1)
    runner.model.generator = OODMosaicGenerator(num_sources=2, nz=2, global_nz=2, width=4,
                                                grid_stride=8, img_size=16, **DATA_NORM)
    hook = GeneratorSamplesHook(interval=1, num_samples=2, palette=PALETTE)
    with pytest.raises(RuntimeError, match='no data batch'):
        hook.after_train_iter(runner, 0, data_batch=None)
