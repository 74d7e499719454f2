# Paper protocol (DFAD Table 3 / MosaicKD NYUv2): teacher DeepLabV3-ResNet50 (output stride 8)
# trained by configs/teacher/deeplabv3_r50-os8_nyuv2-128x128.py, student DeepLabV3-MobileNetV2
# (output stride 8) from scratch. The student's encoder is timm's MobileNetV2, which ends at the
# 320-channel stage like the reference's (DFAD's deeplabv3_mobilenet, 5.11 M parameters); smp's
# own 'mobilenet_v2' keeps the 320 -> 1280 conv (12.65 M). README "NYUv2 models" has the sizes.
# A torchvision teacher file (e.g. DFAD's released one) instead:
#   teacher=dict(type='TorchvisionSegmentor', arch='deeplabv3_resnet50', classes=13,
#                atrous_rates=(12, 24, 32), checkpoint=...)
# (configs/kd/kd-ood_tv-dlv3-r50_dlv3-mbv2_nyuv2-128x128_imagenet.py). Export the teacher with
#   python tools/export_weights.py work_dirs/<teacher run>/iter_10000.pth <teacher_checkpoint>
# The data (and its normalisation, data_norm) come with the NYUv2 dataset base.
_base_ = ['../datasets/nyuv2.py']
teacher_checkpoint = 'work_dirs/teachers/deeplabv3_r50-os8_nyuv2.pth'
model = dict(
    teacher=dict(type='SmpSegmentor', arch='DeepLabV3', encoder_name='resnet50', classes=13,
                 encoder_weights=None, encoder_output_stride=8,
                 decoder_atrous_rates=(12, 24, 36), checkpoint=teacher_checkpoint),
    student=dict(type='SmpSegmentor', arch='DeepLabV3', encoder_name='tu-mobilenetv2_100',
                 classes=13, encoder_weights=None, encoder_output_stride=8,
                 decoder_atrous_rates=(12, 24, 36)),
    data_norm={{_base_.data_norm}})
