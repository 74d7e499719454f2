"""OODMosaicGenerator: mosaics are per-pixel convex combinations of real OOD crops."""
import pytest
import torch

from densekd.models.ood_mosaic_generator import OODMosaicGenerator
from densekd.registry import MODELS

SIZE = (32, 48)


def _gen(**kwargs):
    cfg = dict(num_sources=3, nz=2, global_nz=2, width=8, grid_stride=8, img_size=SIZE)
    cfg.update(kwargs)
    return OODMosaicGenerator(**cfg)


def _draw(g, b=2, seed=0):
    rng = torch.Generator().manual_seed(seed)
    pool = torch.randn(5, 3, *SIZE, generator=rng)
    z = g.sample_latent(b, generator=rng)
    sources = g.pick_sources(pool, b, generator=rng)
    return z, sources


def test_registered_and_shapes():
    g = MODELS.build(dict(type='OODMosaicGenerator', num_sources=3, nz=2, global_nz=2,
                          width=8, grid_stride=8, img_size=SIZE))
    z, sources = _draw(g, b=2)
    assert z.shape == (2, 3 + 2 + 2, SIZE[0] // 8, SIZE[1] // 8)
    assert sources.shape == (2, 3, 3, *SIZE)
    assert g(z, sources).shape == (2, 3, *SIZE)
    assert g.needs_sources


def test_every_pixel_is_a_convex_combination_of_the_sources():
    torch.manual_seed(0)
    g = _gen()
    with torch.no_grad():
        g.head[-1].weight.normal_()  # a trained-looking head, not the zero init
    z, sources = _draw(g)
    masks = g.masks(z, sources)
    assert torch.allclose(masks.sum(1), torch.ones(2, *SIZE), atol=1e-5)
    assert masks.min() >= 0
    out = g(z, sources)
    lo, hi = sources.min(dim=1).values, sources.max(dim=1).values
    assert (out >= lo - 1e-5).all() and (out <= hi + 1e-5).all()


def test_initial_masks_follow_the_layout_noise_only():
    g = _gen(layout_scale=0.0)
    z, sources = _draw(g)
    # Zero-initialised last layer and no layout noise: every source weighs 1/K everywhere.
    assert torch.allclose(g(z, sources), sources.mean(dim=1), atol=1e-5)
    # With layout noise the first mosaics are random patchworks, sharper for a larger scale.
    sharpness = [_gen(layout_scale=s).masks(*_draw(g)).max(dim=1).values.mean()
                 for s in (1.0, 20.0)]
    assert 1 / 3 < sharpness[0] < sharpness[1] and sharpness[1] > 0.8


def test_gradients_reach_the_scoring_network():
    g = _gen()
    z, sources = _draw(g)
    g(z, sources).square().mean().backward()
    assert g.head[-1].weight.grad.abs().sum() > 0


def test_pick_sources_is_seeded_and_draws_from_the_pool():
    g = _gen()
    pool = torch.arange(5.0).view(5, 1, 1, 1).expand(5, 3, *SIZE)
    a = g.pick_sources(pool, 4, generator=torch.Generator().manual_seed(1))
    b = g.pick_sources(pool, 4, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    assert set(a[:, :, 0, 0, 0].flatten().tolist()) <= set(range(5))


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_sources=1), 'num_sources'),
    (dict(grid_stride=6), 'grid_stride'),
    (dict(temperature=0.0), 'temperature'),
    (dict(img_size=(30, 48)), 'divisible'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _gen(**kwargs)


def test_bad_inputs_are_named():
    g = _gen()
    z, sources = _draw(g)
    with pytest.raises(ValueError, match='pass sources'):
        g(z)
    with pytest.raises(ValueError, match='sources'):
        g(z, sources[:, :2])
    with pytest.raises(ValueError, match='latent grid'):
        g(g.sample_latent(2, image_size=(16, 48)), sources)
