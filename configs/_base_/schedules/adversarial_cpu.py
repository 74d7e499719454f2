_base_ = ['../default_runtime.py']
# Generator-based regimes on a 2-core CPU: AdamW + cosine for the student, Adam(0.5, 0.999)
# for generator and discriminator (MosaicKD reference), evaluated once at the end.
max_iters = 100
_cosine = [dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-5, by_epoch=False)]
optim_wrapper = dict(
    constructor='SubmoduleOptimConstructor',
    student=dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4)),
    generator=dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))))
param_scheduler = dict(student=_cosine, generator=_cosine)
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=max_iters, save_best=None))
custom_hooks = [dict(type='GeneratorSamplesHook', interval=50, num_samples=8)]
