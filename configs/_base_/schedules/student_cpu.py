_base_ = ["../default_runtime.py"]
# Student schedule sized for a 2-core CPU: AdamW + cosine, evaluated once at the end
# (no best-on-test selection).
max_iters = 400
optim_wrapper = dict(constructor='SubmoduleOptimConstructor',
                     student=dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4)))
param_scheduler = dict(student=[dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-5,
                                     by_epoch=False)])
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(interval=max_iters, save_best=None))
