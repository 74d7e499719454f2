"""densekd.models.segmentors: load_weights (prefixes, strict key checks) and forward_padded."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from densekd.models import build_segmentor, load_weights
from densekd.models.segmentors import forward_padded, output_divisor
from tests.helpers import TINY_SEGMENTOR_ARGS, write_tiny_segmentor


def tiny(seed, **overrides):
    """A tiny segmentor initialised with ``seed``.

    Args:
        seed: torch seed (other seeds give other weights).
        **overrides: changes to the tiny architecture, e.g. ``classes=40``.

    Returns:
        The smp model.
    """
    torch.manual_seed(seed)
    return build_segmentor(**{**TINY_SEGMENTOR_ARGS, **overrides})


def same_weights(model, state):
    """Whether ``model`` holds exactly the keys and values of ``state``."""
    return set(model.state_dict()) == set(state) and all(
        torch.equal(v, state[k]) for k, v in model.state_dict().items())


@pytest.fixture(scope='module')
def weights():
    """The state dict of one tiny segmentor (seed 0)."""
    return {k: v.clone() for k, v in tiny(0).state_dict().items()}


# ------------------------------------------------------------------------------------------
# load_weights
# ------------------------------------------------------------------------------------------
def test_plain_state_dict_and_exported_files_load(tmp_path, weights):
    torch.save(weights, tmp_path / 'plain.pth')
    assert same_weights(load_weights(tiny(1), str(tmp_path / 'plain.pth')), weights)
    exported = write_tiny_segmentor(tmp_path, seed=0)  # tools/export_weights.py's output
    for path in (exported, exported.replace('.pth', '.safetensors')):
        assert same_weights(load_weights(tiny(1), path), weights)


@pytest.mark.parametrize('prefix', ['segmentor.', 'student.', 'module.'])
def test_densekd_prefixes_are_stripped_when_guessed(tmp_path, weights, prefix):
    # A training checkpoint also holds other players (here a generator) under other prefixes.
    state = {f'{prefix}{k}': v for k, v in weights.items()}
    state['generator.fc.weight'] = torch.zeros(2, 2)
    torch.save({'state_dict': state, 'meta': {}}, tmp_path / 'train.pth')
    assert same_weights(load_weights(tiny(1), str(tmp_path / 'train.pth')), weights)


def test_explicit_prefix_picks_that_network(tmp_path, weights):
    teacher = {k: v + 1 for k, v in weights.items() if v.is_floating_point()}
    teacher.update({k: v for k, v in weights.items() if not v.is_floating_point()})
    state = {**{f'student.{k}': v for k, v in weights.items()},
             **{f'teacher.{k}': v for k, v in teacher.items()}}
    torch.save({'state_dict': state}, tmp_path / 'kd.pth')
    assert same_weights(load_weights(tiny(1), str(tmp_path / 'kd.pth'), prefix='teacher.'),
                        teacher)
    assert same_weights(load_weights(tiny(1), str(tmp_path / 'kd.pth'), prefix='student.'),
                        weights)


def test_dfad_style_model_state_loads(tmp_path, weights):
    torch.save({'model_state': weights, 'epoch': 3}, tmp_path / 'dfad.pth')
    assert same_weights(load_weights(tiny(1), str(tmp_path / 'dfad.pth')), weights)


def test_missing_and_unexpected_keys_are_listed_and_nothing_is_loaded(tmp_path, weights):
    missing = {k: v for k, v in weights.items() if k != 'segmentation_head.0.bias'}
    torch.save({**missing, 'extra.weight': torch.zeros(1)}, tmp_path / 'bad.pth')
    model = tiny(1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError) as excinfo:
        load_weights(model, str(tmp_path / 'bad.pth'))
    message = str(excinfo.value)
    assert str(tmp_path / 'bad.pth') in message
    assert '1 missing keys (segmentation_head.0.bias)' in message
    assert '1 unexpected keys (extra.weight)' in message
    assert same_weights(model, before)  # strict: no partial load


def test_a_long_key_list_is_shortened(tmp_path, weights):
    dropped = sorted(weights)[:10]
    torch.save({k: v for k, v in weights.items() if k not in dropped}, tmp_path / 'cut.pth')
    with pytest.raises(ValueError) as excinfo:
        load_weights(tiny(1), str(tmp_path / 'cut.pth'))
    message = str(excinfo.value)
    assert f'10 missing keys ({", ".join(dropped[:8])} and 2 more)' in message
    assert dropped[8] not in message and '0 unexpected keys' in message


def test_class_count_and_shape_mismatches_are_named(tmp_path, weights):
    torch.save(weights, tmp_path / 'w.pth')
    with pytest.raises(ValueError, match='has 13 classes but the model config has 40'):
        load_weights(tiny(1, classes=40), str(tmp_path / 'w.pth'))
    with pytest.raises(ValueError, match='tensors of another shape than the model'):
        load_weights(tiny(1, decoder_channels=16), str(tmp_path / 'w.pth'))


def test_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_weights(tiny(1), str(tmp_path / 'nope.pth'))


def test_build_segmentor_with_checkpoint_loads_it(tmp_path, weights):
    torch.save(weights, tmp_path / 'w.pth')
    model = build_segmentor(**TINY_SEGMENTOR_ARGS, checkpoint=str(tmp_path / 'w.pth'))
    assert same_weights(model, weights)


# ------------------------------------------------------------------------------------------
# forward_padded
# ------------------------------------------------------------------------------------------
class _Encoder(nn.Module):
    output_stride = 4


class PointwiseNet(nn.Module):
    """A 1x1 conv that, like smp, refuses sizes not divisible by its encoder's stride.

    Being pointwise, its output on the valid pixels cannot depend on the padding, so the
    padded-and-cropped result must equal the plain per-pixel result exactly.
    """

    def __init__(self):
        super().__init__()
        self.encoder = _Encoder()
        self.conv = nn.Conv2d(3, 5, 1)
        self.seen = []

    def forward(self, x):
        assert x.shape[-2] % 4 == 0 and x.shape[-1] % 4 == 0, tuple(x.shape)
        self.seen.append(x)
        return self.conv(x)


def test_output_divisor():
    assert output_divisor(tiny(0)) == 16  # DeepLabV3+ at output stride 16
    assert output_divisor(tiny(0, encoder_output_stride=8)) == 8
    assert output_divisor(PointwiseNet()) == 4
    assert output_divisor(nn.Conv2d(3, 3, 1)) == 32  # no encoder: smp's usual 32


def test_a_multiple_is_not_padded():
    model = tiny(0).eval()
    x = torch.randn(2, 3, 32, 48)
    with torch.no_grad():
        assert torch.equal(forward_padded(model, x), model(x))
    net = PointwiseNet()
    forward_padded(net, torch.randn(1, 3, 8, 12))
    assert net.seen[-1].shape[-2:] == (8, 12)


@pytest.mark.parametrize('size', [(7, 9), (8, 10), (5, 12), (1, 1)])
def test_other_sizes_are_padded_by_replication_and_cropped_back(size):
    net = PointwiseNet()
    x = torch.randn(2, 3, *size)
    with torch.no_grad():
        out = forward_padded(net, x)
        expected = net.conv(x)
    assert out.shape == (2, 5, *size)
    torch.testing.assert_close(out, expected)
    padded = net.seen[-1]
    h, w = size
    assert padded.shape[-2:] == (h + (-h) % 4, w + (-w) % 4)
    assert torch.equal(padded[..., :h, :w], x)
    # The border is replicated, not zero-filled: no artificial edge reaches the network.
    assert torch.equal(padded[..., h:, :w], x[..., -1:, :].expand_as(padded[..., h:, :w]))
    assert torch.equal(padded[..., :h, w:], x[..., :, -1:].expand_as(padded[..., :h, w:]))


def test_smp_model_output_has_the_input_size():
    model = tiny(0).eval()
    x = torch.randn(1, 3, 30, 45)
    with torch.no_grad():
        out = forward_padded(model, x)
        reference = model(F.pad(x, (0, 3, 0, 2), mode='replicate'))[..., :30, :45]
    assert out.shape == (1, 13, 30, 45)
    assert torch.equal(out, reference)
