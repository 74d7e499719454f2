# The demo's SynthRooms teacher: the same model and data as the benchmark teacher, trained for
# 400 iterations instead of 600 so that `make demo` ends within 20 minutes on 2 cores.
_base_ = ['./deeplabv3plus_r18_synthrooms-96x128.py']
max_iters = 400
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=1e-5, by_epoch=False)]
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(checkpoint=dict(interval=200))
