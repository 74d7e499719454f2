# DFAD on NYUv2, paper protocol (DFAD, arXiv 1912.11006, Table 3: 0.364 mIoU): GeneratorB
# (nz 256, ngf 64) drawing 128x128 images, batch 64, 5 student steps then 1 generator step,
# SGD 0.1 (wd 5e-5) for S, Adam 1e-3 for G, LR x0.3 every 100 "epochs" of 50 iterations.
_base_ = ['../_base_/models/dlv3-r50_dlv3-mbv2_nyuv2.py', '../_base_/schedules/student_nyuv2.py']
model = dict(type='DFAD',
             generator=dict(type='DCGANGenerator', nz=256, ngf=64, img_size=(128, 128)),
             batch_size=64, student_steps=5,
             generator_losses=dict(adv=dict(type='DFADGeneratorLoss', loss_weight=1.0)))
_step = {{_base_.param_scheduler.student}}  # x0.3 at 1/3 and 2/3 of train_cfg.max_iters
optim_wrapper = dict(generator=dict(optimizer=dict(type='Adam', lr=1e-3)))
param_scheduler = dict(student=_step, generator=_step)
train_cfg = dict(val_interval=50)
train_dataloader = dict(_delete_=True, batch_size=1, num_workers=0,
                        sampler=dict(type='InfiniteSampler', shuffle=False),
                        collate_fn=dict(type='default_collate'),
                        dataset=dict(type='NoDataDataset'))
custom_hooks = [dict(type='GeneratorSamplesHook', interval=500, num_samples=8)]
