# The benchmark suites' SynthRooms teacher: the 600-iteration config trained for 400 iterations,
# so that `make demo` (which trains it on a fresh clone) ends within 20 minutes on 2 cores.
_base_ = ['./deeplabv3plus_r18_synthrooms-96x128.py']
max_iters = 400
train_cfg = dict(max_iters=max_iters, val_interval=200)
default_hooks = dict(checkpoint=dict(interval=200))
