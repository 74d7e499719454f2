"""Golden values of AuG-KD's dense losses (densekd/losses/augkd.py) and class histograms."""
import math

import pytest
import torch

from densekd.losses.augkd import (anchor_loss, anchor_mask_loss, encoder_loss,
                                  histogram_label_loss, pixel_energy)
from densekd.models.augkd_modules import class_histogram


def test_encoder_loss_golden():
    z_hat = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    z = torch.zeros(2, 2)
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    log_var = torch.tensor([[0.0, math.log(2.0)], [0.0, 0.0]])
    # image 0: rec 1 + 4 = 5; KL = -1/2 [(1 + 0 - 1 - 1) + (1 + ln 2 - 0 - 2)] = 1 - ln(2)/2
    # image 1: rec 0, KL 0 (the prior itself)
    kl0 = 1 - math.log(2.0) / 2
    assert encoder_loss(z_hat, z, mu, log_var, kl_weight=1.0).item() == pytest.approx(
        (5 + kl0) / 2, rel=1e-6)
    assert encoder_loss(z_hat, z, mu, log_var).item() == pytest.approx(
        (5 + 0.00025 * kl0) / 2, rel=1e-6)
    with pytest.raises(ValueError, match='shapes differ'):
        encoder_loss(z_hat, z[:1], mu, log_var)


def test_pixel_energy_golden():
    logits = torch.tensor([0.0, math.log(3.0)]).view(1, 2, 1, 1)
    assert pixel_energy(logits).item() == pytest.approx(-math.log(4.0), rel=1e-6)
    # tau = 2: -2 log(e^0 + e^(ln3 / 2)) = -2 log(1 + sqrt 3)
    assert pixel_energy(logits, tau=2.0).item() == pytest.approx(
        -2 * math.log(1 + math.sqrt(3.0)), rel=1e-6)


def test_histogram_label_loss_golden():
    # pixel 1: p = (1/2, 1/2); pixel 2: p = (3/4, 1/4); mean (5/8, 3/8)
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]]).view(1, 2, 1, 2)
    hist = torch.tensor([[0.5, 0.5]])
    expected = -0.5 * (math.log(5 / 8) + math.log(3 / 8))
    assert histogram_label_loss(logits, hist).item() == pytest.approx(expected, rel=1e-6)
    # one-hot histogram on a 1x1 map: the reference's CE(T(x'), y)
    logits1 = torch.tensor([[2.0, 0.5, -1.0]]).view(1, 3, 1, 1)
    ce = torch.nn.functional.cross_entropy(logits1.view(1, 3), torch.tensor([1]))
    assert histogram_label_loss(logits1, torch.tensor([[0.0, 1.0, 0.0]])).item() == \
        pytest.approx(ce.item(), rel=1e-6)


def test_anchor_mask_loss_golden():
    mask = torch.tensor([[0.1, 0.2, 0.0, 0.3], [0.3, 0.3, 0.3, 0.3]])  # sums 0.6 and 1.2
    # target L (1 - 0.25) = 3; as coded: |1.8 - 3| / B; per sample: (2.4 + 1.8) / 2
    assert anchor_mask_loss(mask).item() == pytest.approx(0.6, rel=1e-6)
    assert anchor_mask_loss(mask, reduction='sample').item() == pytest.approx(2.1, rel=1e-6)
    assert anchor_mask_loss(mask, invariant=0.5).item() == pytest.approx(0.1, rel=1e-5)
    with pytest.raises(ValueError, match="'batch' or 'sample'"):
        anchor_mask_loss(mask, reduction='mean')


def test_anchor_loss_terms_and_weights():
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]]).view(1, 2, 1, 2)
    hist = torch.tensor([[0.5, 0.5]])
    mask = torch.full((1, 4), 0.25)  # sum 1, target 3
    terms = anchor_loss(logits, mask, hist, label_weight=0.1)
    assert terms['loss_energy'].item() == pytest.approx(
        (-math.log(4.0) - math.log(2.0)) / 2, rel=1e-6)  # mean over the two pixels
    assert terms['loss_mask'].item() == pytest.approx(2.0, rel=1e-6)
    assert terms['loss_label'].item() == pytest.approx(
        0.1 * -0.5 * (math.log(5 / 8) + math.log(3 / 8)), rel=1e-6)


def test_class_histogram_counts_argmax_pixels():
    logits = torch.zeros(1, 3, 2, 2)
    logits[0, 0, 0, 0] = 1  # argmax 0
    logits[0, 2, 0, 1] = 1  # argmax 2
    logits[0, 2, 1, 0] = 1  # argmax 2
    logits[0, 1, 1, 1] = 1  # argmax 1
    assert torch.allclose(class_histogram(logits), torch.tensor([[0.25, 0.25, 0.5]]))
    # a B×C batch gives the one-hot label
    assert torch.equal(class_histogram(torch.tensor([[0.1, 3.0, 0.2]])),
                       torch.tensor([[0.0, 1.0, 0.0]]))
