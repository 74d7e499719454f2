_base_ = ['../default_runtime.py']
# DFAD NYUv2 student schedule (DFAD_nyu_deeplab.py in
# github.com/VainF/Data-Free-Adversarial-Distillation): SGD 0.1, momentum 0.9, wd 5e-5,
# 300 "epochs" x 50 iterations, LR x0.3 every 100 epochs. The reference evaluates every epoch
# (50 iterations); densekd every 500, as a test pass costs as much as many training steps.
max_iters = 15000
optim_wrapper = dict(constructor='SubmoduleOptimConstructor',
                     student=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9,
                                                 weight_decay=5e-5)))
# LR x0.3 at 1/3 and 2/3 of train_cfg.max_iters (iterations 5000 and 10000 of 15000).
param_scheduler = dict(student=[dict(type='ProgressMultiStepLR', milestones=[1 / 3, 2 / 3],
                                     gamma=0.3, by_epoch=False)])
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
