"""AuG-KD's encoder and AnchorNet (densekd/models/augkd_modules.py)."""
import pytest
import torch

from densekd.models import AnchorNet, HistogramVAEEncoder


def test_anchor_mask_is_in_range_and_depends_on_the_histogram_only():
    torch.manual_seed(0)
    net = AnchorNet(latent_size=16, num_classes=5)
    hist = torch.softmax(torch.randn(8, 5) * 3, dim=1)
    z1, z2 = torch.randn(8, 16), 100 * torch.randn(8, 16)
    net.train()
    out1, m1 = net(z1, hist)
    out2, m2 = net(z2, hist)
    assert torch.equal(m1, m2)  # the latent never reaches the mask
    assert m1.min() >= 0 and m1.max() < 1 / 3
    # saturated pre-activations reach the bound softsign(1/2) = 1/3 (in floating point)
    with torch.no_grad():
        net.mask_net[-2].bias.fill_(1e4)
    assert torch.allclose(net.mask(hist), torch.full((8, 16), 1 / 3))
    net.eval()
    m_a = net.mask(hist)
    m_b = net(torch.randn(8, 16), hist)[1]
    assert torch.equal(m_a, m_b)
    # where the mask is 0 the code is kept
    with torch.no_grad():
        net.mask_net[-2].bias.fill_(-1e4)
    z = torch.randn(8, 16)
    out, mask = net(z, hist)
    assert torch.equal(mask, torch.zeros_like(mask)) and torch.equal(out, z)


def test_anchor_net_init_and_shape_errors():
    net = AnchorNet(latent_size=8, num_classes=3)
    for m in net.modules():
        if isinstance(m, torch.nn.Linear):
            assert m.weight.abs().max() <= 0.08 and torch.equal(m.bias, torch.zeros_like(m.bias))
    with pytest.raises(ValueError, match='B×8 codes'):
        net(torch.randn(2, 7), torch.rand(2, 3))


def test_encoder_shapes_and_clipping():
    torch.manual_seed(0)
    enc = HistogramVAEEncoder(num_classes=4, latent_size=6, img_size=(16, 24), hidden_dims=(4, 8))
    x, hist = torch.randn(3, 3, 16, 24), torch.rand(3, 4)
    z, mu, log_var = enc(x, hist)
    assert z.shape == mu.shape == log_var.shape == (3, 6)
    with torch.no_grad():
        enc.fc_var.bias.fill_(50.0)
    assert torch.all(enc(x, hist)[2] == 3.0)  # log-variance clipped to [-5, 3]
    with torch.no_grad():
        enc.fc_var.bias.fill_(-50.0)
    assert torch.all(enc(x, hist)[2] == -5.0)
    # epsilon clipped to [-10, 10]: z - mu is at most 10 sigma
    with torch.no_grad():
        enc.fc_var.bias.fill_(0.0)
        enc.fc_var.weight.zero_()
    real_randn = torch.randn_like
    try:
        torch.randn_like = lambda t: torch.full_like(t, 1e3)
        z, mu, _ = enc(x, hist)
    finally:
        torch.randn_like = real_randn
    assert torch.allclose(z - mu, torch.full_like(z, 10.0))
    # the histogram changes the code (it is an input)
    enc.eval()
    _, mu_a, _ = enc(x, torch.tensor([[1.0, 0, 0, 0]] * 3))
    _, mu_b, _ = enc(x, torch.tensor([[0, 0, 0, 1.0]] * 3))
    assert not torch.allclose(mu_a, mu_b)
    with pytest.raises(ValueError, match='divisible by 2'):
        HistogramVAEEncoder(num_classes=4, latent_size=6, img_size=(15, 24), hidden_dims=(4, 8))
    with pytest.raises(ValueError, match='expects images of size'):
        enc(torch.randn(3, 3, 8, 8), hist)
