# Teacher DeepLabV3+ ResNet-18 trained by configs/teacher/deeplabv3plus_r18_synthrooms-96x128.py
# (make demo exports it to teacher_checkpoint); student DeepLabV3+ MobileNetV2, 128-ch decoder.
# Small atrous rates: the default (12, 24, 36) exceed the 6x8 feature map of a 96x128 image.
# The data (and its normalisation, data_norm) come with the SynthRooms dataset base.
_base_ = ['../datasets/synthrooms.py']
teacher_checkpoint = 'work_dirs/teachers/deeplabv3plus_r18_synthrooms-96x128.pth'
model = dict(
    teacher=dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='resnet18', classes=13,
                 encoder_weights=None, decoder_atrous_rates=(2, 4, 6),
                 checkpoint=teacher_checkpoint),
    student=dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='mobilenet_v2',
                 classes=13, encoder_weights=None, decoder_channels=128,
                 decoder_atrous_rates=(2, 4, 6)),
    data_norm={{_base_.data_norm}},
    # Channels-last weights: 1.09x the KD steps/s and 1.06x a MosaicKD iteration on a 2-core
    # AVX2 CPU, with blind-KD mIoU within the seed spread (docs/results/channels_last_check/).
    channels_last=True)
