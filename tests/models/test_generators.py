"""Tests for the DCGAN and patch generators and the input-space mapping."""
import pytest
import torch

from densekd.models.generators import (DCGANGenerator, PatchGenerator, position_grid,
                                       to_input_space, to_unit_range)
from densekd.registry import MODELS

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def test_input_space_round_trip_and_albumentations_convention():
    x01 = torch.rand(2, 3, 4, 5)
    x = to_input_space(x01, MEAN, STD)
    # Same numbers as albumentations Normalize on uint8: (img/255 - mean)/std.
    expected = (x01 - torch.tensor(MEAN).view(3, 1, 1)) / torch.tensor(STD).view(3, 1, 1)
    assert torch.allclose(x, expected)
    assert torch.allclose(to_unit_range(x, MEAN, STD), x01, atol=1e-6)
    assert torch.allclose(to_input_space(x01, (0.5,), (0.5,)), x01 * 2 - 1)
    assert torch.allclose(to_input_space(x01, 0.5, 0.5), x01 * 2 - 1)
    with pytest.raises(ValueError, match='channels'):
        to_input_space(x01, (0.5, 0.5), (0.5, 0.5))
    with pytest.raises(ValueError, match='positive'):
        to_input_space(x01, MEAN, (0.2, 0.0, 0.2))


class TestDCGANGenerator:

    def test_shapes_non_square_and_range(self):
        g = DCGANGenerator(nz=16, ngf=4, img_size=(32, 48), mean=MEAN, std=STD)
        z = g.sample_latent(3)
        assert z.shape == (3, 16)
        x = g(z)
        assert x.shape == (3, 3, 32, 48)
        x01 = g.to_unit_range(x)
        assert x01.min() >= 0 and x01.max() <= 1
        assert torch.allclose(x, to_input_space(g.forward_unit(z), MEAN, STD))
        assert g(z[:, :, None, None]).shape == (3, 3, 32, 48)  # B×nz×1×1 accepted

    def test_dfad_layout_and_init(self):
        g = DCGANGenerator(nz=8, ngf=4, img_size=64)
        convts = [m for m in g.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
        assert [(m.in_channels, m.out_channels) for m in convts] == [(32, 16), (16, 8), (8, 4),
                                                                    (4, 4)]
        assert all(m.bias is None and m.kernel_size == (4, 4) and m.stride == (2, 2)
                   for m in convts)
        assert g.project.out_features == 32 * 4 * 4
        assert isinstance(g.main[-1], torch.nn.Sigmoid)
        big = DCGANGenerator(nz=64, ngf=64, img_size=32)
        assert abs(big.project.weight.std().item() - 0.02) < 2e-3
        assert big.project.bias.abs().max() == 0

    def test_validation(self):
        with pytest.raises(ValueError, match='divisible by 16'):
            DCGANGenerator(img_size=(120, 128))
        with pytest.raises(ValueError, match='mean and std'):
            DCGANGenerator(mean=(0.5,), std=(0.5,))
        g = DCGANGenerator(nz=8, ngf=4, img_size=32)
        with pytest.raises(ValueError, match='PatchGenerator'):
            g.sample_latent(1, image_size=64)
        with pytest.raises(ValueError, match='8 features'):
            g(torch.randn(2, 9))

    def test_registered(self):
        g = MODELS.build(dict(type='DCGANGenerator', nz=8, ngf=4, img_size=[16, 32]))
        assert isinstance(g, DCGANGenerator) and g.img_size == (16, 32)


class TestPatchGenerator:

    def test_same_weights_any_size(self):
        g = PatchGenerator(nz=8, ngf=4, num_upsamples=3, global_nz=2, img_size=32).eval()
        z = g.sample_latent(2)
        assert z.shape == (2, 10, 4, 4)
        assert g(z).shape == (2, 3, 32, 32)
        z_big = g.sample_latent(1, image_size=(48, 64))
        assert z_big.shape == (1, 10, 6, 8)
        x = g(z_big)
        assert x.shape == (1, 3, 48, 64)
        x01 = g.to_unit_range(x)
        assert x01.min() >= 0 and x01.max() <= 1
        assert not any(isinstance(m, torch.nn.Linear) for m in g.modules())

    def test_latent_local_and_shared_parts(self):
        g = PatchGenerator(nz=6, ngf=4, num_upsamples=2, global_nz=3, img_size=16)
        z = g.sample_latent(2, generator=torch.Generator().manual_seed(0))
        local, shared = z[:, :6], z[:, 6:]
        # Shared code: constant over the grid, different per image; local noise varies by cell.
        assert torch.equal(shared, shared[:, :, :1, :1].expand_as(shared))
        assert not torch.equal(shared[0], shared[1])
        assert local.flatten(2).std(dim=2).min() > 0
        z2 = g.sample_latent(2, generator=torch.Generator().manual_seed(0))
        assert torch.equal(z, z2)
        assert PatchGenerator(nz=4, ngf=4, num_upsamples=1, global_nz=0,
                              img_size=8).sample_latent(1).shape == (1, 4, 4, 4)

    def test_cells_drive_local_patches(self):
        # Changing one latent cell changes only a neighbourhood of its patch, not the far side.
        g = PatchGenerator(nz=4, ngf=4, num_upsamples=2, global_nz=0, img_size=64).eval()
        z = g.sample_latent(1, generator=torch.Generator().manual_seed(0))
        z2 = z.clone()
        z2[:, :, 0, 0] += 3.0
        with torch.no_grad():
            diff = (g(z) - g(z2)).abs().sum(1)[0]
        assert diff[:4, :4].sum() > 0
        assert diff[32:, 32:].max() == 0

    @pytest.mark.parametrize('mode', ['nearest', 'bilinear', 'deconv'])
    def test_upsample_modes(self, mode):
        g = PatchGenerator(nz=4, ngf=4, num_upsamples=2, global_nz=1, img_size=(8, 12),
                           upsample=mode)
        assert g(g.sample_latent(2)).shape == (2, 3, 8, 12)

    def test_full_scene_size(self):
        g = PatchGenerator(nz=4, ngf=2, num_upsamples=4, global_nz=2).eval()
        with torch.no_grad():
            x = g(g.sample_latent(1, image_size=(480, 640)))
        assert x.shape == (1, 3, 480, 640)

    def test_validation(self):
        with pytest.raises(ValueError, match='divisible by'):
            PatchGenerator(num_upsamples=4, img_size=100)
        g = PatchGenerator(nz=4, ngf=4, num_upsamples=2, global_nz=1, img_size=8)
        with pytest.raises(ValueError, match='divisible by'):
            g.sample_latent(1, image_size=(10, 8))
        with pytest.raises(ValueError, match='latent grid'):
            g(torch.randn(1, 4, 2, 2))
        with pytest.raises(ValueError, match='upsample'):
            PatchGenerator(upsample='pixelshuffle')

    def test_registered_and_buffers_not_saved(self):
        g = MODELS.build(dict(type='PatchGenerator', nz=4, ngf=4, num_upsamples=1,
                              mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5), img_size=8))
        assert torch.equal(g.mean, torch.full((3,), 0.5))
        assert 'mean' not in g.state_dict() and 'std' not in g.state_dict()


class TestPositionChannels:

    def test_position_grid_values(self):
        grid = position_grid(torch.zeros(2, 5, 2, 4))
        assert grid.shape == (2, 2, 2, 4)
        assert torch.allclose(grid[0, 0, :, 0], torch.tensor([-0.5, 0.5]))
        assert torch.allclose(grid[1, 1, 0], torch.tensor([-0.75, -0.25, 0.25, 0.75]))
        assert position_grid(torch.zeros(1, 1, 1, 1)).abs().max() == 0

    def test_coords_make_the_output_depend_on_position(self):
        torch.manual_seed(0)
        g = PatchGenerator(nz=4, ngf=4, num_upsamples=2, global_nz=0, img_size=32,
                           coords=True).eval()
        plain = PatchGenerator(nz=4, ngf=4, num_upsamples=2, global_nz=0, img_size=32).eval()
        assert g.main[0].in_channels == plain.main[0].in_channels + 2
        z = torch.zeros(1, 4, 8, 8)  # the same latent everywhere
        with torch.no_grad():
            x, x_plain = g(z), plain(z)
            # Away from the zero-padded border a stationary generator is constant ...
            assert torch.allclose(x_plain[..., 8:24, 8:24], x_plain[..., 8:9, 8:9].expand(
                -1, -1, 16, 16), atol=1e-6)
            # ... and with positions it is not.
            assert (x[..., 8:24, 8:24] - x[..., 8:9, 8:9]).abs().max() > 1e-4
            assert g(g.sample_latent(1, image_size=(48, 64))).shape == (1, 3, 48, 64)
