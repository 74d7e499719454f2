# SynthRooms teacher sized for a 2-core CPU (README: train time and test mIoU).
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/synthrooms.py']
model = dict(
    type='Supervised',
    segmentor=dict(type='SmpSegmentor', arch='DeepLabV3Plus', encoder_name='resnet18',
                   classes=13, encoder_weights=None, decoder_atrous_rates=(2, 4, 6)),
    loss='ce')
max_iters = 600
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1.5e-3, weight_decay=1e-4))
# No T_max or end: the runner ends the cosine at train_cfg.max_iters (T_max = end - begin), so
# --cfg-options train_cfg.max_iters=N stretches the schedule with it.
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=300)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=300))
