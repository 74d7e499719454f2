"""Golden values of densekd.losses.utils.pixel_entropy (hand-computed)."""
import math

import pytest
import torch
import torch.nn.functional as F

from densekd.losses.utils import pixel_entropy

LOG3 = math.log(3.0)
# Pixel 0: logits (0, log 3) -> p = (1/4, 3/4); pixel 1: (0, 0) -> p = (1/2, 1/2).
H_QUARTER = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))  # 0.5623351446...
H_HALF = math.log(2.0)                                         # 0.6931471806...


def _map():
    # 1×C×1×2 with C = 2: classes along dim 1, two pixels along the last dim.
    return torch.tensor([[[[0.0, 0.0]], [[LOG3, 0.0]]]], dtype=torch.float64)


def test_golden_values():
    h = pixel_entropy(_map())
    assert h.shape == (1, 1, 2)
    assert h[0, 0, 0].item() == pytest.approx(H_QUARTER, abs=1e-12)
    assert h[0, 0, 1].item() == pytest.approx(H_HALF, abs=1e-12)
    assert H_QUARTER == pytest.approx(0.5623351446, abs=1e-10)


def test_temperature_and_class_dim():
    # τ = 2 on (0, 2·log 3) is (0, log 3) at τ = 1.
    x = torch.tensor([[0.0, 2 * LOG3], [0.0, 0.0]], dtype=torch.float64)  # rows are pixels
    h = pixel_entropy(x, tau=2.0, dim=-1)
    assert h.tolist() == pytest.approx([H_QUARTER, H_HALF], abs=1e-12)
    # Uniform over C classes: log C; a saturated pixel: 0 (no NaN from log 0).
    assert torch.allclose(pixel_entropy(torch.zeros(2, 13, 3, 3)),
                          torch.full((2, 3, 3), math.log(13)))
    saturated = torch.tensor([[[[0.0]], [[-1e4]]]])
    assert pixel_entropy(saturated).item() == 0.0


def test_bit_identical_to_the_log_softmax_formula():
    # The expression the three former copies used, evaluated the same way.
    g = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        x = (torch.randn(3, 13, 6, 8, generator=g) * 4).to(dtype).requires_grad_(True)
        log_p = F.log_softmax(x, dim=1)
        ref = -(log_p.exp() * log_p).sum(dim=1)
        out = pixel_entropy(x)
        assert torch.equal(out, ref)
        (grad_out,) = torch.autograd.grad(out.sum(), x)
        (grad_ref,) = torch.autograd.grad(ref.sum(), x)
        assert torch.equal(grad_out, grad_ref)


def test_validation():
    with pytest.raises(TypeError, match='floating'):
        pixel_entropy(torch.ones(1, 3, 2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match='tau'):
        pixel_entropy(torch.zeros(1, 3, 2, 2), tau=0)
