# Dense, label-free AuG-KD on NYUv2 (paper protocol models) with ImageNet-style OOD images, at
# the reference's step ratios, for GPU users: the data-free stage as the README (200 "epochs" of
# 200 iterations, 1 G : 5 auxiliary-student/encoder steps), the anchor stage, then DFAD's 15k
# student steps on 64 OOD + 64 mixed images each. G is DFAD's NYUv2 DCGAN (nz 256, ngf 64).
_base_ = ['../_base_/models/dlv3-r50_dlv3-mbv2_nyuv2.py', '../_base_/schedules/student_nyuv2.py',
          '../_base_/augkd.py']
ood_root = 'data/imagenet/train'  # also looked up under $DENSEKD_DATA
batch_size = 64
stage_iters = dict(data_free=40000, anchor=5000)
pre_iters = stage_iters['data_free'] + stage_iters['anchor']
mixup_iters = 15000
model = dict(type='AuGKD',
             generator=dict(type='DCGANGenerator', nz=256, ngf=64, img_size=(128, 128)),
             encoder=dict(type='HistogramVAEEncoder', hidden_dims=(64, 128, 256, 256, 256)),
             anchor_net=dict(type='AnchorNet'),
             batch_size=batch_size, aux_steps=5, stage_iters=stage_iters,
             generator_losses={{_base_.augkd_generator_losses}},
             aux_kd_loss={{_base_.augkd_aux_kd_loss}},
             anchor_loss_cfg={{_base_.augkd_anchor_loss}}, mixup={{_base_.augkd_mixup}},
             kd_loss=dict(type='PixelKDLoss', tau=1.0))
train_dataloader = dict(
    batch_size=batch_size,
    dataset=dict(_delete_=True, type='ImageFolderDataset', data_root=ood_root,
                 pipeline={{_base_.ood_pipeline}}))
# The reference's Adam rates (README: d_lr 1e-3, e_lr 1e-4, a_lr 1e-3, lr 1e-3, wd 1e-4); the
# student keeps the NYUv2 protocol's SGD, x0.3 at 1/3 and 2/3 of the mixup stage.
optim_wrapper = dict(
    generator=dict(optimizer=dict(type='Adam', lr=1e-3)),
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4)),
    anchor_net=dict(optimizer=dict(type='Adam', lr=1e-3)),
    aux_student=dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4)))
# Each player's schedule runs over its own stage (the reference: cosine over the stage for G,
# the auxiliary student and the AnchorNet; the encoder's scheduler is never stepped there).
_df_cosine = [dict(type='CosineAnnealingLR', T_max=stage_iters['data_free'], begin=0,
                   end=stage_iters['data_free'], by_epoch=False)]
param_scheduler = dict(
    _delete_=True,
    student=[dict(type='MultiStepLR', by_epoch=False, gamma=0.3,
                  milestones=[pre_iters + mixup_iters // 3, pre_iters + 2 * mixup_iters // 3])],
    generator=_df_cosine, aux_student=_df_cosine,
    encoder=[dict(type='ConstantLR', factor=1.0, by_epoch=False)],
    anchor_net=[dict(type='CosineAnnealingLR', T_max=stage_iters['anchor'],
                     begin=stage_iters['data_free'], end=pre_iters, by_epoch=False)])
# The student trains in the mixup stage only: validate from there on.
train_cfg = dict(max_iters=pre_iters + mixup_iters, val_begin=pre_iters + 1)
default_hooks = dict(augkd_stages=dict(type='AuGKDStageHook'))
custom_hooks = [dict(type='GeneratorSamplesHook', interval=5000, num_samples=8)]
