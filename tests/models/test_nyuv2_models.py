"""The NYUv2 configs' teacher and student match the DFAD models in size and output stride.

References: ``DFAD_nyu_deeplab.py`` of github.com/VainF/Data-Free-Adversarial-Distillation
builds the teacher as torchvision's dilated ResNet-50 + torchvision's ``DeepLabHead``
(``network/segmentation/deeplabv3.py``) and the student ``deeplabv3_mobilenet``: MobileNetV2 at
output stride 8 *without* its last 320 -> 1280 convolution, then ``DeepLabHead(320, 13)``; the
same model as ``deeplabv3_mobilenet`` of github.com/VainF/DeepLabV3Plus-Pytorch
(``network/modeling.py``, ``backbone.features[4:-1]``). Each reference is rebuilt below from
torchvision's own MobileNetV2, ResNet-50 and ``DeepLabHead``.
"""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from torch import nn
from torchvision.models import mobilenet_v2
from torchvision.models.segmentation import deeplabv3_resnet50
from torchvision.models.segmentation.deeplabv3 import DeepLabHead

from densekd.models.segmentors import output_divisor
from densekd.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODEL_BASE = osp.join(ROOT, 'configs/_base_/models/dlv3-r50_dlv3-mbv2_nyuv2.py')

# DFAD's DeepLabV3-MobileNetV2 for 13 classes ("5.11 M" in the DFAD table): the MobileNetV2
# features without the 1280 conv hold 1,811,712 parameters, DeepLabHead(320, 13) 3,300,109
# (ASPP 2,706,432 + 3x3 conv/BN 590,336 + 1x1 classifier 3,341). Rebuilt below as well.
REFERENCE_STUDENT_PARAMS = 5_111_821
# DFAD's DeepLabV3-ResNet50 for 13 classes = torchvision's deeplabv3_resnet50 without the
# auxiliary head (rebuilt below as well).
REFERENCE_TEACHER_PARAMS = 39_636_813


def num_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def multiply_adds(model: nn.Module, size=(128, 128)) -> int:
    """Multiply-accumulates of the Conv2d and Linear layers for one 1×3×H×W input."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += output.numel() * (module.in_channels // module.groups) * k
        else:
            total += output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in model.modules()
             if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 3, *size))
    finally:
        for hook in hooks:
            hook.remove()
    return total


class ReferenceDeepLabV3MobileNetV2(nn.Sequential):
    """DFAD's ``deeplabv3_mobilenet`` (13 classes, output stride 8) from torchvision parts.

    MobileNetV2's last two stride-2 blocks (features 7 and 14) run at stride 1, their 3×3
    convolutions and all later ones dilated 2 and 4 (the references differ in which block
    first dilates; dilation changes neither parameters nor multiply-adds); the logits are
    upsampled ×8 to the input size, as the reference's bilinear resize.
    """

    def __init__(self, classes: int = 13) -> None:
        features = mobilenet_v2(weights=None).features[:-1]  # drop the 320 -> 1280 conv
        for index in range(7, len(features)):
            dilation = 4 if index >= 14 else 2
            for conv in features[index].modules():
                if isinstance(conv, nn.Conv2d) and conv.kernel_size == (3, 3):
                    conv.stride = (1, 1)
                    conv.dilation = conv.padding = (dilation, dilation)
        super().__init__(features, DeepLabHead(320, classes, (12, 24, 36)),
                         nn.Upsample(scale_factor=8, mode='bilinear'))


@pytest.fixture(scope='module')
def models():
    cfg = Config.fromfile(MODEL_BASE).model
    torch.manual_seed(0)
    teacher_cfg = {k: v for k, v in cfg.teacher.items() if k != 'checkpoint'}  # untrained
    return dict(student=MODELS.build(cfg.student), teacher=MODELS.build(teacher_cfg),
                teacher_cfg=teacher_cfg)


def test_student_has_the_reference_size_and_output_stride(models):
    student, reference = models['student'], ReferenceDeepLabV3MobileNetV2()
    assert num_params(reference) == REFERENCE_STUDENT_PARAMS
    assert num_params(student) == REFERENCE_STUDENT_PARAMS
    assert num_params(student.encoder) == num_params(reference[0]) == 1_811_712
    assert output_divisor(student) == 8
    x = torch.zeros(1, 3, 128, 128)
    with torch.no_grad():
        deepest = student.encoder(x)[-1]
        assert deepest.shape == (1, 320, 16, 16)  # 320 channels (no 1280 conv), 128 / 8
        assert student.eval()(x).shape == reference.eval()(x).shape == (1, 13, 128, 128)
    assert multiply_adds(student) == multiply_adds(reference)


def test_teacher_has_the_reference_size_and_output_stride(models):
    teacher = models['teacher']
    reference = deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=13,
                                   aux_loss=False)
    assert num_params(teacher) == num_params(reference) == REFERENCE_TEACHER_PARAMS
    assert output_divisor(teacher) == 8
    assert tuple(models['teacher_cfg']['decoder_atrous_rates']) == (12, 24, 36)
    with torch.no_grad():
        assert teacher.encoder(torch.zeros(1, 3, 128, 128))[-1].shape == (1, 2048, 16, 16)
