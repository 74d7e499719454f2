# Paper-protocol NYUv2 teacher (train_teacher_seg.py of
# github.com/VainF/Data-Free-Adversarial-Distillation):
# DeepLabV3-ResNet50, output stride 8, focal loss gamma 2, SGD lr 0.05, batch 16,
# 200 epochs of 795 images (~10k iterations), LR x0.1 at half. Needs a GPU and NYUv2.
# ImageNet weights: pass --cfg-options model.segmentor.encoder_weights=imagenet with network.
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/nyuv2.py']
model = dict(
    type='Supervised',
    segmentor=dict(type='SmpSegmentor', arch='DeepLabV3', encoder_name='resnet50', classes=13,
                   encoder_weights=None, encoder_output_stride=8,
                   decoder_atrous_rates=(12, 24, 36)),
    loss='focal', focal_gamma=2.0)
max_iters = 10000
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
# LR x0.1 at half of train_cfg.max_iters (iteration 5000 of 10000).
param_scheduler = [dict(type='ProgressMultiStepLR', milestones=[0.5], gamma=0.1,
                        by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
