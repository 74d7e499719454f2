"""Tests for the patch discriminator: receptive fields, strides, output maps."""
import pytest
import torch

from densekd.models.discriminators import PatchDiscriminator
from densekd.registry import MODELS


@pytest.mark.parametrize('patch_size,rf,stride', [
    (1, 4, 2), (4, 4, 2), (5, 10, 4), (10, 10, 4), (16, 22, 8), (22, 22, 8), (32, 46, 16),
    (46, 46, 16), (47, 94, 32), (190, 190, 64)])
def test_smallest_receptive_field_at_least_patch_size(patch_size, rf, stride):
    d = PatchDiscriminator(ndf=4, patch_size=patch_size)
    assert d.receptive_field == rf
    assert d.output_stride == stride
    assert d(torch.randn(2, 3, 128, 128)).shape == (2, 1, 128 // stride, 128 // stride)


@pytest.mark.parametrize('patch_size,num_convs', [(10, 2), (22, 3), (46, 4)])
def test_mosaickd_variants(patch_size, num_convs):
    d = PatchDiscriminator(ndf=8, patch_size=patch_size)
    strided = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d) and m.stride == (2, 2)]
    assert len(strided) == num_convs
    last = [m for m in d.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    assert last.kernel_size == (1, 1) and last.out_channels == 1


@pytest.mark.parametrize('patch_size', [10, 22])
def test_receptive_field_matches_gradient_support(patch_size):
    # Empirical check that the computed receptive field is what one logit actually sees.
    d = PatchDiscriminator(in_channels=1, ndf=2, patch_size=patch_size, norm='none').double()
    with torch.no_grad():
        for m in d.modules():
            if isinstance(m, torch.nn.Conv2d):
                m.weight.fill_(0.1)  # positive weights: no accidental cancellation
                m.bias.fill_(1.0)   # keep LeakyReLUs on their positive side
    x = torch.rand(1, 1, 96, 96, dtype=torch.float64, requires_grad=True)
    out = d(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = x.grad[0, 0].abs().sum(1).nonzero().flatten()
    cols = x.grad[0, 0].abs().sum(0).nonzero().flatten()
    assert rows.max() - rows.min() + 1 == d.receptive_field
    assert cols.max() - cols.min() + 1 == d.receptive_field


def test_norm_options_and_registry():
    d = MODELS.build(dict(type='PatchDiscriminator', ndf=4, patch_size=22, norm='none'))
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    d = PatchDiscriminator(ndf=4, patch_size=22, norm='instance')
    assert d(torch.randn(1, 3, 32, 32)).shape == (1, 1, 4, 4)
    d = PatchDiscriminator(ndf=4, patch_size=22)
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules()) == 2


def test_validation():
    with pytest.raises(ValueError, match='patch_size'):
        PatchDiscriminator(patch_size=0)
    with pytest.raises(ValueError, match='patch_size'):
        PatchDiscriminator(patch_size=500)
    with pytest.raises(TypeError, match='patch_size'):
        PatchDiscriminator(patch_size=16.0)
    with pytest.raises(ValueError, match='norm'):
        PatchDiscriminator(norm='layer')
    with pytest.raises(ValueError, match='B×C×H×W'):
        PatchDiscriminator()(torch.randn(3, 32, 32))
