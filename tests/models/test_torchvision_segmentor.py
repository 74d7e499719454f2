"""densekd.models.torchvision_segmentor: torchvision segmentation models as densekd segmentors."""
import json
import os.path as osp
import textwrap

import pytest
import torch
from safetensors.torch import save_file
import torch.nn.functional as F
from torch import nn
from torchvision.models import segmentation as tv_segmentation

from densekd.losses.bn_statistics import BNStatisticsPrior
from densekd.models import RecorderManager, TorchvisionSegmentor
from densekd.models.segmentors import forward_padded, output_divisor
from densekd.registry import MODELS
from densekd.utils.checkpoint import load_checkpoint
from tests.helpers import TINY_SEGMENTOR, load_tool, tiny_data_body, write_config


def torchvision_model(arch, seed=0, **kwargs):
    """A randomly initialised torchvision model (``num_classes=13``) in eval mode."""
    torch.manual_seed(seed)
    kwargs.setdefault('num_classes', 13)
    return getattr(tv_segmentation, arch)(weights=None, weights_backbone=None, **kwargs).eval()


@pytest.fixture(scope='module')
def resnet50():
    """A random torchvision deeplabv3_resnet50, its state dict, an input and its ``['out']``."""
    model = torchvision_model('deeplabv3_resnet50')
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        out = model(x)['out']
    return dict(state={k: v.clone() for k, v in model.state_dict().items()}, x=x, out=out)


def _plain(state):
    return state


def _model_key(state):  # torchvision reference scripts (their other entries dropped here)
    return {'model': state, 'epoch': 3}


def _state_dict_data_parallel(state):  # MosaicKD, saved from a DataParallel model
    return {'state_dict': {f'module.{k}': v for k, v in state.items()}, 'best_acc1': 0.5}


def _model_state(state):  # DFAD / DeepLabV3Plus-Pytorch
    return {'model_state': state, 'best_score': 0.5, 'cur_itrs': 10}


def _safetensors(state):
    return {k: v.contiguous() for k, v in state.items()}


FORMATS = dict(plain=_plain, model=_model_key, state_dict_module=_state_dict_data_parallel,
               model_state=_model_state, safetensors=_safetensors)


def test_teacher_built_by_the_distiller_gives_torchvision_logits_exactly(tmp_path, resnet50):
    path = str(tmp_path / 'teacher.pth')
    torch.save(resnet50['state'], path)
    kd = MODELS.build(dict(
        type='KD', losses=dict(kd=dict(type='PixelKDLoss', tau=1.0)),
        teacher=dict(type='TorchvisionSegmentor', arch='deeplabv3_resnet50', classes=13,
                     checkpoint=path),
        student=TINY_SEGMENTOR))
    kd.train()  # the distiller keeps its teacher in eval mode
    assert not kd.teacher.training
    assert not any(p.requires_grad for p in kd.teacher.parameters())
    with torch.no_grad():
        logits = kd.teacher(resnet50['x'])
    assert logits.shape == (1, 13, 64, 64)
    assert torch.equal(logits, resnet50['out'])


@pytest.mark.parametrize('name', list(FORMATS))
def test_each_file_format_loads_every_weight(tmp_path, resnet50, name):
    data = FORMATS[name](resnet50['state'])
    if name == 'safetensors':
        path = str(tmp_path / 'teacher.safetensors')
        save_file(data, path)
    else:
        path = str(tmp_path / 'teacher.pth')
        torch.save(data, path)
    model = MODELS.build(dict(type='TorchvisionSegmentor', arch='deeplabv3_resnet50',
                              classes=13, checkpoint=path))
    own = model.state_dict()
    # The keys are torchvision's own, so the weights equal the file's key for key.
    assert own.keys() == resnet50['state'].keys()
    assert all(torch.equal(v, resnet50['state'][k]) for k, v in own.items())


def test_lraspp_matches_torchvision_at_any_size(tmp_path):
    reference = torchvision_model('lraspp_mobilenet_v3_large')
    torch.save(reference.state_dict(), tmp_path / 'w.pth')
    model = TorchvisionSegmentor('lraspp_mobilenet_v3_large', classes=13,
                                 checkpoint=str(tmp_path / 'w.pth')).eval()
    x = torch.randn(1, 3, 57, 70)  # divisible by nothing: torchvision resizes to the input
    with torch.no_grad():
        expected = reference(x)['out']
        assert torch.equal(model(x), expected)
        assert output_divisor(model) == 1
        assert torch.equal(forward_padded(model, x), expected)  # no padding added


def test_unknown_arch_lists_the_supported_ones():
    with pytest.raises(ValueError, match="unknown arch 'deeplabv3plus_resnet50'") as excinfo:
        MODELS.build(dict(type='TorchvisionSegmentor', arch='deeplabv3plus_resnet50'))
    for arch in ('deeplabv3_resnet50', 'deeplabv3_resnet101', 'deeplabv3_mobilenet_v3_large',
                 'fcn_resnet50', 'fcn_resnet101', 'lraspp_mobilenet_v3_large'):
        assert arch in str(excinfo.value)


def test_mismatching_keys_name_the_file_and_the_keys(tmp_path):
    path = str(tmp_path / 'lraspp.pth')
    torch.save(torchvision_model('lraspp_mobilenet_v3_large').state_dict(), path)
    with pytest.raises(ValueError, match='does not match the model architecture') as excinfo:
        TorchvisionSegmentor('deeplabv3_mobilenet_v3_large', classes=13, checkpoint=path)
    message = str(excinfo.value)
    assert path in message
    assert 'missing keys (classifier.0.convs' in message
    assert 'unexpected keys (classifier.cbr' in message


def test_auxiliary_head_mismatch_says_which_aux_loss_to_set(tmp_path):
    reference = torchvision_model('deeplabv3_mobilenet_v3_large', aux_loss=True)
    with_aux = str(tmp_path / 'aux.pth')
    torch.save(reference.state_dict(), with_aux)
    with pytest.raises(ValueError, match='set aux_loss=True') as excinfo:
        TorchvisionSegmentor('deeplabv3_mobilenet_v3_large', classes=13, checkpoint=with_aux)
    assert with_aux in str(excinfo.value) and 'aux_classifier.0.weight' in str(excinfo.value)
    # With aux_loss=True the file loads; the forward still returns the main head only.
    model = TorchvisionSegmentor('deeplabv3_mobilenet_v3_large', classes=13, aux_loss=True,
                                 checkpoint=with_aux).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x)['out'])
    without_aux = str(tmp_path / 'no_aux.pth')
    torch.save(torchvision_model('deeplabv3_mobilenet_v3_large').state_dict(), without_aux)
    with pytest.raises(ValueError, match='set aux_loss=False'):
        TorchvisionSegmentor('deeplabv3_mobilenet_v3_large', classes=13, aux_loss=True,
                             checkpoint=without_aux)


def test_class_count_mismatch_names_the_file(tmp_path):
    path = str(tmp_path / 'voc.pth')
    torch.save(torchvision_model('lraspp_mobilenet_v3_large', num_classes=21).state_dict(), path)
    with pytest.raises(ValueError, match=r'has 21 classes but the model config has 13 \(key '
                       r'classifier\.high_classifier\.weight\)') as excinfo:
        TorchvisionSegmentor('lraspp_mobilenet_v3_large', classes=13, checkpoint=path)
    assert path in str(excinfo.value)


def test_atrous_rates_set_the_aspp_dilations():
    model = TorchvisionSegmentor('deeplabv3_mobilenet_v3_large', atrous_rates=(12, 24, 32))
    convs = [branch[0] for branch in model.classifier[0].convs[1:4]]
    assert [c.dilation for c in convs] == [(12, 12), (24, 24), (32, 32)]
    assert [c.padding for c in convs] == [(12, 12), (24, 24), (32, 32)]
    # The rate-32 branch computes a rate-32 dilated convolution (torchvision's own is 36).
    feat = torch.randn(1, 960, 40, 40)
    expected = F.conv2d(feat, convs[2].weight, padding=32, dilation=32)
    with torch.no_grad():
        assert torch.equal(convs[2](feat), expected)
        assert not torch.allclose(F.conv2d(feat, convs[2].weight, padding=36, dilation=36),
                                  expected)
    with pytest.raises(ValueError, match='atrous_rates apply to the deeplabv3_'):
        TorchvisionSegmentor('lraspp_mobilenet_v3_large', atrous_rates=(12, 24, 32))
    with pytest.raises(ValueError, match='three positive ints'):
        TorchvisionSegmentor('deeplabv3_mobilenet_v3_large', atrous_rates=(6, 12))
    with pytest.raises(ValueError, match='no auxiliary head'):
        TorchvisionSegmentor('lraspp_mobilenet_v3_large', aux_loss=True)


def test_feature_taps_and_batchnorm_prior_reach_the_torchvision_modules():
    model = TorchvisionSegmentor('deeplabv3_mobilenet_v3_large').eval()
    taps = RecorderManager(dict(features=dict(source='backbone', index='out'),
                                decoder='classifier.3', logits_lr='classifier.4'))
    taps.initialize(model)
    prior = BNStatisticsPrior(model)
    num_bn = sum(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert len(prior.layers) == num_bn > 30
    x = torch.randn(2, 3, 64, 64)
    with taps, prior:
        logits = model(x)
    assert taps.get('features').shape == (2, 960, 4, 4)   # output stride 16
    assert taps.get('decoder').shape == (2, 256, 4, 4)
    assert taps.get('logits_lr').shape == (2, 13, 4, 4)
    assert logits.shape == (2, 13, 64, 64)
    assert torch.isfinite(prior.loss()) and prior.loss() > 0


@pytest.mark.e2e
def test_kd_with_a_torchvision_teacher_trains_tests_and_exports(synthrooms_root, tmp_path):
    """KD through tools/train.py with a DFAD-style torchvision teacher file; then the teacher
    alone through tools/test.py (plain state dict) and tools/export_weights.py."""
    reference = torchvision_model('deeplabv3_mobilenet_v3_large')
    teacher_file = str(tmp_path / 'teacher.pt')
    torch.save({'model_state': {f'module.{k}': v for k, v in reference.state_dict().items()}},
               teacher_file)
    teacher = dict(type='TorchvisionSegmentor', arch='deeplabv3_mobilenet_v3_large', classes=13,
                   checkpoint=teacher_file)
    body = tiny_data_body(synthrooms_root, batch_size=2) + textwrap.dedent(f"""
        model = dict(teacher=dict(_delete_=True, **{teacher!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
        train_cfg = dict(max_iters=2, val_interval=2)
        default_hooks = dict(checkpoint=dict(interval=2), logger=dict(interval=1))
    """)
    cfg = write_config(tmp_path, 'kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', body)
    work_dir = str(tmp_path / 'work')
    load_tool('train').main([cfg, '--work-dir', work_dir])
    checkpoint = load_checkpoint(osp.join(work_dir, 'iter_2.pth'))
    saved_teacher = {k[len('teacher.'):]: v for k, v in checkpoint['state_dict'].items()
                     if k.startswith('teacher.')}
    assert saved_teacher.keys() == reference.state_dict().keys()
    assert all(torch.equal(v, reference.state_dict()[k]) for k, v in saved_teacher.items())

    plain = str(tmp_path / 'plain.pth')
    torch.save(reference.state_dict(), plain)
    metrics = load_tool('test').main([cfg, plain, '--model', 'teacher',
                                      '--work-dir', str(tmp_path / 'test')])
    assert 0 <= metrics['mIoU'] <= 100

    out = str(tmp_path / 'export' / 'teacher.pth')
    load_tool('export_weights').main([osp.join(work_dir, 'iter_2.pth'), out, '--net', 'teacher'])
    torchvision_model('deeplabv3_mobilenet_v3_large', seed=3).load_state_dict(torch.load(out))
    with open(out.replace('.pth', '.json')) as f:
        assert json.load(f)['type'] == 'TorchvisionSegmentor'
