"""Golden-value tests for the adversarial generator / discriminator losses."""
import math

import pytest
import torch
import torch.nn.functional as F

from densekd.losses.adversarial import (ActivationLoss, ClassBalanceLoss, DFADGeneratorLoss,
                                        InformationEntropyLoss, KLAdversarialLoss, OnehotLoss,
                                        PatchGANLoss, TeacherEntropyLoss, activation_loss,
                                        class_balance_loss, dfad_generator_loss,
                                        information_entropy_loss, kl_adversarial_loss,
                                        onehot_loss, patch_gan_loss, teacher_entropy_loss)
from densekd.registry import MODELS

LOG3 = math.log(3.0)


def _map(*pixels):
    """1×C×1×P logit map from P per-pixel logit vectors."""
    return torch.tensor(pixels, dtype=torch.float64).t().reshape(1, len(pixels[0]), 1, -1)


def _to_1x1(x):
    return x[:, :, None, None]


# ---------------------------------------------------------------- hand-computed golden values
class TestGoldenValues:

    def test_patch_gan(self):
        d = torch.tensor([[[[2.0, -1.0]]]], dtype=torch.float64)
        real = (math.log1p(math.exp(-2.0)) + math.log1p(math.exp(1.0))) / 2
        fake = (math.log1p(math.exp(2.0)) + math.log1p(math.exp(-1.0))) / 2
        assert patch_gan_loss(d, True).item() == pytest.approx(real, abs=1e-12)
        assert patch_gan_loss(d, False).item() == pytest.approx(fake, abs=1e-12)
        assert patch_gan_loss(torch.zeros(3, 1, 4, 5), True).item() == pytest.approx(
            math.log(2.0))
        # 'sum': summed over an image's 2 patches, averaged over the batch of 1.
        assert patch_gan_loss(d, True, reduction='sum').item() == pytest.approx(2 * real,
                                                                                abs=1e-12)
        assert patch_gan_loss(torch.zeros(3, 1, 4, 5), False, 'sum').item() == pytest.approx(
            20 * math.log(2.0))

    def test_teacher_entropy(self):
        # p = (1/4, 3/4) at one pixel, uniform over 2 classes at the other.
        t = _map([0.0, LOG3], [0.0, 0.0])
        h1 = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
        assert teacher_entropy_loss(t).item() == pytest.approx((h1 + math.log(2)) / 2,
                                                               abs=1e-12)
        assert teacher_entropy_loss(torch.zeros(2, 13, 3, 3)).item() == pytest.approx(
            math.log(13), abs=1e-6)

    def test_class_balance(self):
        # p = (1/4, 3/4) and (3/4, 1/4): pixel prior (1/2, 1/2) -> Σ p̄ log2 p̄ = -1.
        t = _map([0.0, LOG3], [LOG3, 0.0])
        assert class_balance_loss(t).item() == pytest.approx(-1.0, abs=1e-12)
        assert class_balance_loss(t, base=math.e).item() == pytest.approx(-math.log(2),
                                                                          abs=1e-12)
        # Prior (1/4, 3/4) from a single pixel.
        t1 = _map([0.0, LOG3])
        expected = 0.25 * math.log2(0.25) + 0.75 * math.log2(0.75)
        assert class_balance_loss(t1).item() == pytest.approx(expected, abs=1e-12)

    def test_class_balance_handles_zero_prior(self):
        t = torch.tensor([[[[0.0]], [[-1e4]]]], dtype=torch.float64)  # p̄ = (1, 0) exactly
        loss = class_balance_loss(t)
        assert torch.isfinite(loss) and loss.item() == pytest.approx(0.0, abs=1e-12)

    def test_kl_adversarial(self):
        t = _map([0.0, LOG3])        # p_T = (1/4, 3/4)
        s = _map([0.0, 0.0])         # p_S = (1/2, 1/2)
        kl = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
        assert kl_adversarial_loss(s, t).item() == pytest.approx(-kl, abs=1e-12)
        assert kl_adversarial_loss(t, t).item() == pytest.approx(0.0, abs=1e-12)

    def test_dfad_generator(self):
        t = torch.zeros(1, 2, 1, 2, dtype=torch.float64)
        s = torch.tensor([[[[1.0, -1.0]], [[3.0, 1.0]]]], dtype=torch.float64)  # mean |.| = 1.5
        assert dfad_generator_loss(s, t).item() == pytest.approx(-math.log(2.5), abs=1e-12)

    def test_onehot(self):
        t = _map([0.0, LOG3], [0.0, 0.0])   # CE to argmax: -log(3/4) and log 2
        expected = (-math.log(0.75) + math.log(2)) / 2
        assert onehot_loss(t).item() == pytest.approx(expected, abs=1e-12)

    def test_activation(self):
        f = torch.tensor([[[[1.0, -3.0]], [[0.5, -0.5]]]])
        assert activation_loss(f).item() == pytest.approx(-1.25)

    def test_information_entropy(self):
        t = _map([0.0, LOG3], [LOG3, 0.0])
        assert information_entropy_loss(t).item() == pytest.approx(math.log10(0.5), abs=1e-12)


# ---------------------------------------- 1×1 maps reduce to the reference classification code
class TestReducesToClassification:
    """With H = W = 1, each dense term equals the formula of the reference (classification)."""

    @pytest.fixture
    def logits(self):
        g = torch.Generator().manual_seed(0)
        t = torch.randn(6, 5, generator=g, dtype=torch.float64) * 2
        s = torch.randn(6, 5, generator=g, dtype=torch.float64) * 2
        return s, t

    def test_align_equals_mosaickd(self, logits):
        _, t = logits
        p = F.softmax(t, dim=1)
        ref = (-(p * torch.log(p)).sum(1)).mean()     # kd_mosaic.py Eqn. 4
        assert teacher_entropy_loss(_to_1x1(t)).item() == pytest.approx(ref.item(), abs=1e-12)
        assert teacher_entropy_loss(t).item() == pytest.approx(ref.item(), abs=1e-12)

    def test_balance_equals_mosaickd(self, logits):
        _, t = logits
        p_bar = F.softmax(t, dim=1).mean(0)
        ref = (p_bar * torch.log2(p_bar)).sum()
        assert class_balance_loss(_to_1x1(t)).item() == pytest.approx(ref.item(), abs=1e-12)

    def test_adv_equals_minus_kl_batchmean(self, logits):
        s, t = logits
        ref = -F.kl_div(F.log_softmax(s, 1), F.softmax(t, 1), reduction='batchmean')
        assert kl_adversarial_loss(_to_1x1(s), _to_1x1(t)).item() == pytest.approx(
            ref.item(), abs=1e-12)

    def test_patch_loss_equals_bce_sum_over_batch(self):
        d = torch.randn(6, 1, 1, 1, dtype=torch.float64)
        ones = torch.ones_like(d)
        ref = F.binary_cross_entropy_with_logits(d, ones, reduction='sum') / d.shape[0]
        assert patch_gan_loss(d, True).item() == pytest.approx(ref.item(), abs=1e-12)

    def test_dfad_equals_reference(self, logits):
        s, t = logits
        ref = -torch.log(F.l1_loss(s, t) + 1)          # DFAD_nyu_deeplab.py
        assert dfad_generator_loss(_to_1x1(s), _to_1x1(t)).item() == pytest.approx(
            ref.item(), abs=1e-12)

    def test_dafl_terms_equal_mmrazor(self, logits):
        _, t = logits
        ref_oh = F.cross_entropy(t, t.data.max(1)[1])
        p_bar = F.softmax(t, dim=1).mean(0)
        ref_ie = (p_bar * torch.log10(p_bar)).sum()
        feat = t.view(t.size(0), -1)
        assert onehot_loss(_to_1x1(t)).item() == pytest.approx(ref_oh.item(), abs=1e-12)
        assert information_entropy_loss(_to_1x1(t)).item() == pytest.approx(ref_ie.item(),
                                                                             abs=1e-12)
        assert activation_loss(_to_1x1(t)).item() == pytest.approx(
            (-feat.abs().mean()).item(), abs=1e-12)


# ---------------------------------------------------------------- dense behaviour
class TestDenseReduction:

    @pytest.fixture
    def maps(self):
        g = torch.Generator().manual_seed(1)
        t = torch.randn(2, 4, 3, 5, generator=g, dtype=torch.float64)
        s = torch.randn(2, 4, 3, 5, generator=g, dtype=torch.float64)
        return s, t

    @staticmethod
    def _pixels(x):
        return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])

    def test_pixel_mean_equals_classification_over_pixels(self, maps):
        s, t = maps
        # Dense terms average over B·H·W pixels: equal to the 2-D formula on the pixel batch.
        for fn in (teacher_entropy_loss, class_balance_loss, onehot_loss,
                   information_entropy_loss):
            assert fn(t).item() == pytest.approx(fn(self._pixels(t)).item(), abs=1e-12)
        for fn in (kl_adversarial_loss, dfad_generator_loss):
            assert fn(s, t).item() == pytest.approx(
                fn(self._pixels(s), self._pixels(t)).item(), abs=1e-12)

    def test_image_size_independent(self, maps):
        # Tiling each map 2×3 (a 4×-larger image with the same content) leaves every term fixed.
        s, t = maps
        s2, t2 = s.repeat(1, 1, 2, 3), t.repeat(1, 1, 2, 3)
        for fn in (teacher_entropy_loss, class_balance_loss, onehot_loss,
                   information_entropy_loss, activation_loss):
            assert fn(t2).item() == pytest.approx(fn(t).item(), abs=1e-12)
        for fn in (kl_adversarial_loss, dfad_generator_loss):
            assert fn(s2, t2).item() == pytest.approx(fn(s, t).item(), abs=1e-12)
        d = t[:, :1]
        assert patch_gan_loss(d.repeat(1, 1, 4, 4), False).item() == pytest.approx(
            patch_gan_loss(d, False).item(), abs=1e-12)

    def test_gradcheck(self, maps):
        s, t = (x[:, :, :2, :2].clone().requires_grad_(True) for x in maps)
        d = t[:, :1].detach().clone().requires_grad_(True)
        assert torch.autograd.gradcheck(lambda x: patch_gan_loss(x, True), (d,))
        assert torch.autograd.gradcheck(lambda x: patch_gan_loss(x, False), (d,))
        for fn in (teacher_entropy_loss, class_balance_loss, information_entropy_loss,
                   onehot_loss):
            assert torch.autograd.gradcheck(fn, (t,)), fn.__name__
        assert torch.autograd.gradcheck(kl_adversarial_loss, (s, t))
        assert torch.autograd.gradcheck(dfad_generator_loss, (s, t))
        # |x| is not differentiable at 0; the random inputs stay away from it.
        assert torch.autograd.gradcheck(activation_loss, (t,))

    def test_adv_gradient_reaches_both_players(self, maps):
        s, t = (x.clone().requires_grad_(True) for x in maps)
        kl_adversarial_loss(s, t).backward()
        assert s.grad.abs().sum() > 0 and t.grad.abs().sum() > 0

    def test_onehot_label_carries_no_gradient(self):
        t = torch.tensor([[0.0, 1.0]], requires_grad=True)
        onehot_loss(t).backward()
        p = F.softmax(t.detach(), 1)
        # d CE / d logits = p - onehot(argmax): the pseudo label itself is constant.
        assert torch.allclose(t.grad, p - torch.tensor([[0.0, 1.0]]))


# ---------------------------------------------------------------- modules and validation
class TestModules:

    def test_registered_and_weighted(self):
        t = torch.randn(2, 3, 4, 4)
        s = torch.randn(2, 3, 4, 4)
        cases = [
            ('TeacherEntropyLoss', TeacherEntropyLoss, (t,), teacher_entropy_loss(t)),
            ('ClassBalanceLoss', ClassBalanceLoss, (t,), class_balance_loss(t)),
            ('KLAdversarialLoss', KLAdversarialLoss, (s, t), kl_adversarial_loss(s, t)),
            ('DFADGeneratorLoss', DFADGeneratorLoss, (s, t), dfad_generator_loss(s, t)),
            ('OnehotLoss', OnehotLoss, (t,), onehot_loss(t)),
            ('ActivationLoss', ActivationLoss, (t,), activation_loss(t)),
            ('InformationEntropyLoss', InformationEntropyLoss, (t,),
             information_entropy_loss(t)),
            ('PatchGANLoss', PatchGANLoss, (t[:, :1], True), patch_gan_loss(t[:, :1], True)),
        ]
        inputs = dict(TeacherEntropyLoss=('t_logits',), ClassBalanceLoss=('t_logits',),
                      KLAdversarialLoss=('s_logits', 't_logits'),
                      DFADGeneratorLoss=('s_logits', 't_logits'), OnehotLoss=('t_logits',),
                      ActivationLoss=('t_features',), InformationEntropyLoss=('t_logits',),
                      PatchGANLoss=('d_logits',))
        for name, cls, args, expected in cases:
            module = MODELS.build(dict(type=name, loss_weight=0.5))
            assert isinstance(module, cls)
            assert torch.allclose(module(*args), 0.5 * expected), name
            assert module.inputs == inputs[name], name

    def test_patch_gan_module(self):
        d = torch.randn(2, 1, 3, 4)
        mean, summed = PatchGANLoss(), PatchGANLoss(reduction='sum', loss_weight=2.0)
        assert torch.equal(mean(d), patch_gan_loss(d, True))  # G's term: fool D
        assert torch.equal(mean(d, False), patch_gan_loss(d, False))
        assert torch.equal(summed(d, False), 2.0 * (patch_gan_loss(d, False) * 12))
        assert "reduction='sum'" in repr(summed)
        with pytest.raises(ValueError, match='reduction'):
            PatchGANLoss(reduction='max')

    def test_class_balance_module_base(self):
        t = torch.randn(2, 3, 4, 4)
        assert torch.allclose(ClassBalanceLoss(base=10)(t), information_entropy_loss(t))

    def test_validation(self):
        with pytest.raises(ValueError, match='same shape'):
            kl_adversarial_loss(torch.randn(1, 3, 4, 4), torch.randn(1, 3, 8, 8))
        with pytest.raises(ValueError, match='B×C'):
            teacher_entropy_loss(torch.randn(5))
        with pytest.raises(TypeError, match='floating'):
            onehot_loss(torch.ones(1, 3, 2, 2, dtype=torch.long))
        with pytest.raises(ValueError, match='base'):
            class_balance_loss(torch.randn(1, 3), base=1)
        with pytest.raises(TypeError, match='bool'):
            patch_gan_loss(torch.randn(1, 1, 2, 2), 1)
        with pytest.raises(ValueError, match='reduction'):
            patch_gan_loss(torch.randn(1, 1, 2, 2), True, reduction='none')
