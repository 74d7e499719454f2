"""Tests for densekd.models.recorders on real (tiny) smp models."""
import pytest
import segmentation_models_pytorch as smp
import torch
from torch import nn

from densekd.models.recorders import (ModuleOutputsRecorder, RecorderManager, RecorderPathError,
                                      disable_inplace)
from densekd.registry import TASK_UTILS

TAPS = dict(logits_lr='segmentation_head.0', feat='decoder',
            c5=dict(source='encoder', index=-1), c2=dict(source='encoder', index=2))


def _dlv3plus():
    torch.manual_seed(0)
    return smp.DeepLabV3Plus(encoder_name='tu-test_resnet', encoder_weights=None, classes=13)


@pytest.fixture
def model():
    return _dlv3plus().eval()


@pytest.fixture
def x():
    return torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(1))


class TestModuleOutputsRecorder:
    def test_registry(self):
        rec = TASK_UTILS.build(dict(type='ModuleOutputsRecorder', source='decoder', index=None))
        assert isinstance(rec, ModuleOutputsRecorder) and rec.source == 'decoder'

    def test_records_only_while_active(self, model, x):
        rec = ModuleOutputsRecorder('decoder')
        with pytest.raises(RuntimeError, match='not initialized'):
            rec.get()
        rec.initialize(model)
        model(x)
        with pytest.raises(RuntimeError, match="'decoder' has recorded nothing"):
            rec.get()
        with rec:
            model(x)
            model(x)
        assert len(rec.data_buffer) == 2 and rec.get().shape == (2, 256, 16, 16)
        model(x)  # outside again: nothing more is kept
        assert len(rec.data_buffer) == 2
        with rec:  # entering clears the buffer
            assert rec.data_buffer == []
        rec.remove()
        with rec:
            model(x)
        assert rec.data_buffer == []

    def test_validation(self):
        with pytest.raises(ValueError, match='non-empty module path'):
            ModuleOutputsRecorder('')
        with pytest.raises(TypeError, match='index must be None, an int or a str'):
            ModuleOutputsRecorder('encoder', index=1.5)

    def test_index_on_tensor_output_is_an_error(self, model, x):
        rec = ModuleOutputsRecorder('decoder', index=0)
        rec.initialize(model)
        with pytest.raises(TypeError, match="'decoder' has index=0, but the module returned"):
            with rec:
                model(x)


class TestRecorderManager:
    def test_taps_smp(self, model, x):
        taps = RecorderManager(TAPS)
        taps.initialize(model)
        with torch.no_grad(), taps:
            out = model(x)
        assert taps.get('logits_lr').shape == (2, 13, 16, 16)
        assert taps.get('feat').shape == (2, 256, 16, 16)
        assert taps.get('c5').shape == (2, 96, 4, 4)
        assert taps.get('c2').shape == (2, 32, 16, 16)
        # The taps are the tensors the model computes: re-derive them by hand.
        with torch.no_grad():
            feats = model.encoder(x)
            dec = model.decoder(feats)
            logits_lr = model.segmentation_head[0](dec)
        assert torch.allclose(taps.get('feat'), dec)
        assert torch.allclose(taps.get('c5'), feats[-1])
        assert torch.allclose(taps.get('logits_lr'), logits_lr)
        # segmentation_head = Sequential(conv = tap, Upsample x4, Identity activation).
        with torch.no_grad():
            up = model.segmentation_head[1](taps.get('logits_lr'))
        assert up.shape == out.shape == (2, 13, 64, 64) and torch.allclose(up, out, atol=1e-6)

    def test_records_only_inside_context(self, model, x):
        taps = RecorderManager(dict(feat='decoder'))
        taps.initialize(model)
        model(x)
        with pytest.raises(RuntimeError, match='recorded nothing'):
            taps.get('feat')
        with taps:
            model(x)
        first = taps.get('feat')
        model(x[:1])  # outside: ignored
        assert taps.get('feat') is first
        with taps:
            model(x[:1])
        assert taps.get('feat').shape[0] == 1 and len(taps['feat'].data_buffer) == 1
        with pytest.raises(KeyError, match="No recorder named 'nope'"):
            taps.get('nope')

    def test_wrong_path(self, model):
        taps = RecorderManager(dict(a='decoder.blok1', b='segmentation_head.0'))
        with pytest.raises(KeyError) as err:
            taps.initialize(model)
        msg = str(err.value)
        assert "'decoder.blok1'" in msg and "recorder 'a'" in msg
        assert "Did you mean: 'decoder.block1'" in msg
        assert 'Children of \'decoder\': aspp, up, block1, block2' in msg
        assert isinstance(err.value, ValueError) and isinstance(err.value, RecorderPathError)
        # Nothing was hooked: a bad config leaves the model untouched.
        assert all(not m._forward_hooks for m in model.modules())
        assert model.encoder.model.act1.inplace is True

    def test_inplace_disabled(self, model, x):
        assert any(getattr(m, 'inplace', False) for m in model.modules())
        taps = RecorderManager(dict(bn1='encoder.model.bn1'))  # followed by ReLU(inplace=True)
        taps.initialize(model)
        assert not any(getattr(m, 'inplace', False) for m in model.modules())
        with taps:
            model(x)
        bn1 = taps.get('bn1')
        assert (bn1 < 0).any()  # not overwritten by the ReLU that follows
        with torch.no_grad():
            m = model.encoder.model
            expected = m.bn1(m.conv1(x))
        assert torch.allclose(bn1, expected, atol=1e-6)

    def test_inplace_overwrite_is_detected(self, x):
        model = _dlv3plus().eval()
        rec = ModuleOutputsRecorder('encoder.model.bn1')
        rec.initialize(model)  # a bare recorder does not switch in-place modules off
        with rec:
            model(x)
        with pytest.raises(RuntimeError, match='modified in place after it was recorded'):
            rec.get()
        assert disable_inplace(model)  # names of the modules switched off
        with rec:
            model(x)
        assert (rec.get() < 0).any()

    def test_clone_for_in_code_inplace_ops(self, model, x):
        # timm's BasicBlock does `x += shortcut` on bn2's output: only clone=True keeps it.
        taps = RecorderManager(dict(
            plain='encoder.model.layer1.0.bn2',
            cloned=dict(source='encoder.model.layer1.0.bn2', clone=True)))
        taps.initialize(model)
        with taps:
            model(x)
        with pytest.raises(RuntimeError, match='clone=True'):
            taps.get('plain')
        assert taps.get('cloned').shape == (2, 32, 16, 16)

    def test_gradients_flow(self, x):
        model = _dlv3plus().train()
        taps = RecorderManager(dict(feat='decoder', c5=dict(source='encoder', index=-1)))
        taps.initialize(model)
        with taps:
            model(x)
        (taps.get('feat').square().mean() + taps.get('c5').mean()).backward()
        assert model.decoder.block1[0].weight.grad is not None
        assert model.encoder.model.conv1[0].weight.grad.abs().sum() > 0

    def test_wrapped_model(self, model, x):
        taps = RecorderManager(dict(feat='decoder'))
        taps.initialize(nn.DataParallel(model))  # paths are those of the inner model
        with taps:
            model(x)
        assert taps.get('feat').shape == (2, 256, 16, 16)

    def test_empty_and_bad_cfg(self, model):
        RecorderManager({}).initialize(model)
        assert len(RecorderManager()) == 0
        with pytest.raises(ValueError, match="needs a 'source'"):
            RecorderManager(dict(a=dict(index=1)))
        with pytest.raises(TypeError, match='module path str, a cfg dict'):
            RecorderManager(dict(a=3))

