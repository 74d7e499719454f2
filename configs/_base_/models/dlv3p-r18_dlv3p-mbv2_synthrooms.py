# Teacher DeepLabV3+ ResNet-18 trained by configs/teacher/deeplabv3plus_r18_synthrooms-96x128.py
# (make demo exports it to teacher_checkpoint); student DeepLabV3+ MobileNetV2, 128-ch decoder.
# Small atrous rates: the default (12, 24, 36) exceed the 6x8 feature map of a 96x128 image.
teacher_checkpoint = 'work_dirs/teachers/deeplabv3plus_r18_synthrooms-96x128.pth'
model = dict(
    teacher=dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='resnet18', classes=13,
                 encoder_weights=None, decoder_atrous_rates=(2, 4, 6),
                 checkpoint=teacher_checkpoint),
    student=dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='mobilenet_v2',
                 classes=13, encoder_weights=None, decoder_channels=128,
                 decoder_atrous_rates=(2, 4, 6)),
    data_norm=dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
    # Channels-last weights: 1.09x the KD steps/s and 1.06x a MosaicKD iteration on a 2-core
    # AVX2 CPU, with blind-KD mIoU within the seed spread (docs/results/channels_last_check/).
    channels_last=True)
