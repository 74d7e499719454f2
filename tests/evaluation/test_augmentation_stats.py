"""Tests for densekd.evaluation.augmentation_stats (golden values from a hand computation)."""
import math

import pytest
import torch

from densekd.evaluation.augmentation_stats import TStddevMeter, deterministic_view

# Three classes, batches of one 1x2 image (two pixels), two batches per group. Pixels:
#   group 1: batch a (1, 0, 0) (0, 1, 0)       batch b (0, 0, 1) (1, 0, 0)
#            m_1 = (2, 1, 1) / 4 = (0.50, 0.25, 0.25)
#   group 2: batch c (.5, .5, 0) (.5, .5, 0)   batch d (0, 0, 1) (0, 0, 1)
#            m_2 = (1, 1, 2) / 4 = (0.25, 0.25, 0.50)
#   group 3: batch e (1, 0, 0) (1, 0, 0)       batch f (1, 0, 0) (0, 1, 0)
#            m_3 = (3, 1, 0) / 4 = (0.75, 0.25, 0.00)
# class 0: 0.50, 0.25, 0.75 -> mean 0.5, squared deviations 0 + 1/16 + 1/16 -> var (1/8) / 2
#          = 1/16 -> std 0.25
# class 1: 0.25 three times -> std 0
# class 2: 0.25, 0.50, 0.00 -> mean 0.25, same deviations -> std 0.25
# T. stddev = (0.25 + 0 + 0.25) / 3 = 1/6
# Entropy: one-hot pixels 0, the two pixels of batch c ln 2 each -> mean 2 ln 2 / 12 = ln 2 / 6.
# A seventh batch (uniform probabilities) starts a fourth group that never completes: ignored.
PIXELS = [
    [(1, 0, 0), (0, 1, 0)], [(0, 0, 1), (1, 0, 0)],
    [(.5, .5, 0), (.5, .5, 0)], [(0, 0, 1), (0, 0, 1)],
    [(1, 0, 0), (1, 0, 0)], [(1, 0, 0), (0, 1, 0)],
    [(1 / 3, 1 / 3, 1 / 3), (1 / 3, 1 / 3, 1 / 3)],
]
T_STDDEV = 1 / 6
ENTROPY = math.log(2) / 6


def batch(pixels):
    """(1, C, 1, W) map from a list of W probability vectors."""
    return torch.tensor(pixels, dtype=torch.float32).T[None, :, None, :]


def test_t_stddev_and_entropy_match_the_hand_computation():
    meter = TStddevMeter(group_batches=2)
    for pixels in PIXELS:
        meter.update(batch(pixels))
    assert meter.num_groups == 3
    assert meter.num_images == 6 and meter.num_pixels == 12
    torch.testing.assert_close(meter.group_means, torch.tensor(
        [[.5, .25, .25], [.25, .25, .5], [.75, .25, 0.]], dtype=torch.float64))
    torch.testing.assert_close(meter.per_class_std,
                               torch.tensor([.25, 0., .25], dtype=torch.float64))
    assert meter.value == pytest.approx(T_STDDEV, abs=1e-7)
    assert meter.mean_entropy == pytest.approx(ENTROPY, abs=1e-7)


def test_group_mean_weighs_pixels_not_batches():
    # Batch x: one 1x1 image (1, 0); batch y: three 1x1 images (0, 1) -> 4 pixels:
    # m = (1, 3) / 4 = (0.25, 0.75), not the mean of the batch means (0.5, 0.5).
    meter = TStddevMeter(group_batches=2)
    meter.update(torch.tensor([1., 0.]).view(1, 2, 1, 1))
    meter.update(torch.tensor([0., 1.]).view(1, 2, 1, 1).repeat(3, 1, 1, 1))
    torch.testing.assert_close(meter.group_means,
                               torch.tensor([[.25, .75]], dtype=torch.float64))


def test_masked_pixels_do_not_count():
    # The same stream with a third pixel per image holding (0, 0, 1), masked out: same values.
    meter = TStddevMeter(group_batches=2)
    for pixels in PIXELS:
        meter.update(batch(pixels + [(0, 0, 1)]), valid=torch.tensor([[[True, True, False]]]))
    assert meter.num_pixels == 12
    assert meter.value == pytest.approx(T_STDDEV, abs=1e-7)
    assert meter.mean_entropy == pytest.approx(ENTROPY, abs=1e-7)
    # ... while counting it changes the value: class 2 gains 1/6 in every group mean.
    unmasked = TStddevMeter(group_batches=2)
    for pixels in PIXELS:
        unmasked.update(batch(pixels + [(0, 0, 1)]))
    assert abs(unmasked.value - T_STDDEV) > 1e-3


def test_a_group_without_valid_pixels_is_an_error():
    meter = TStddevMeter(group_batches=1)
    meter.update(batch(PIXELS[0]))
    meter.update(batch(PIXELS[1]), valid=torch.zeros(1, 1, 2, dtype=torch.bool))
    with pytest.raises(ValueError, match=r'group\(s\) \[1\] have no valid pixel'):
        meter.value


def test_fewer_than_two_groups_is_an_error():
    meter = TStddevMeter(group_batches=2)
    with pytest.raises(ValueError, match='no complete group'):
        meter.mean_entropy
    for pixels in PIXELS[:3]:  # one full group and one batch of the next
        meter.update(batch(pixels))
    with pytest.raises(ValueError, match='at least 2 groups of 2 batches, got 1 group'):
        meter.value


def test_bad_shapes_are_errors():
    meter = TStddevMeter(group_batches=1)
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        meter.update(torch.rand(3, 4))
    with pytest.raises(ValueError, match='valid mask must be'):
        meter.update(torch.rand(1, 3, 2, 2), valid=torch.ones(1, 2, 3, dtype=torch.bool))
    meter.update(torch.rand(1, 3, 2, 2))
    with pytest.raises(ValueError, match='4 classes, earlier batches had 3'):
        meter.update(torch.rand(1, 4, 2, 2))
    with pytest.raises(ValueError, match='group_batches'):
        TStddevMeter(group_batches=0)


def test_deterministic_view_drops_the_random_steps_only():
    from densekd.datasets import BundledPhotosDataset
    norm = dict(type='Normalize', mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    kwargs = dict(num_samples=4, crop_size=(32, 48), seed=0)
    flipped = BundledPhotosDataset(pipeline=[dict(type='HorizontalFlip', p=1.0), norm],
                                   **kwargs)
    plain = BundledPhotosDataset(pipeline=[norm], **kwargs)
    view = deterministic_view(flipped)
    for i in range(len(plain)):
        torch.testing.assert_close(view[i]['inputs'], plain[i]['inputs'])
        torch.testing.assert_close(flipped[i]['inputs'], plain[i]['inputs'].flip(-1))
    assert deterministic_view(plain) is None  # nothing random: original = augmented


def test_spearman_golden_with_ties():
    from densekd.evaluation.augmentation_stats import spearman
    # ranks x: 1..5; ranks y (5, 6, 7, 8, 7): 1, 2, 3.5, 5, 3.5. Deviations from 3:
    # (-2,-1,0,1,2) and (-2,-1,.5,2,.5): sum of products 8, squares 10 and 9.5.
    assert spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) == pytest.approx(8 / (10 * 9.5) ** 0.5)
    assert spearman([0.3, 0.1, 0.2], [1.0, 3.0, 2.0]) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match='same length'):
        spearman([1, 2], [1, 2])
    with pytest.raises(ValueError, match='constant'):
        spearman([1, 1, 1], [1, 2, 3])
