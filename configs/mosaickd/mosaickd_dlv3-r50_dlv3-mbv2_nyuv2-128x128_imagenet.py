# Dense MosaicKD on NYUv2 (paper protocol models) with ImageNet-style OOD images. The OOD
# pool is restricted to the 795 x 4 images the teacher finds least in-domain (highest mean
# pixel entropy, as the MosaicKD code selects its OOD subset), cached per teacher and data under
# cache_dir. Weights: the MosaicKD README's (adv 1, align 1, local 1, balance 10) with the
# patch-GAN terms (G's local and D's loss) summed over an image's patches, as the reference
# code does (reduction='sum'), so that those weights mean what they mean there;
# G/D Adam 1e-3 (0.5, 0.999).
_base_ = ['../_base_/models/dlv3-r50_dlv3-mbv2_nyuv2.py', '../_base_/schedules/student_nyuv2.py']
ood_root = 'data/imagenet/train'  # also looked up under $DENSEKD_DATA
batch_size = 64
student_steps = 5
model = dict(type='MosaicKD',
             generator=dict(type='PatchGenerator', nz=64, global_nz=16, ngf=64, num_upsamples=4,
                            img_size=(128, 128)),
             discriminator=dict(type='PatchDiscriminator', ndf=128, patch_size=22),
             batch_size=batch_size, student_steps=student_steps,
             generator_losses=dict(
                 local=dict(type='PatchGANLoss', loss_weight=1.0, reduction='sum'),
                 align=dict(type='TeacherEntropyLoss', loss_weight=1.0),
                 adv=dict(type='KLAdversarialLoss', loss_weight=1.0),
                 balance=dict(type='ClassBalanceLoss', loss_weight=10.0)),
             discriminator_loss=dict(type='PatchGANLoss', loss_weight=1.0, reduction='sum'),
             kd_loss=dict(type='PixelKDLoss', tau=1.0))
train_dataloader = dict(
    batch_size=batch_size * (1 + student_steps),
    dataset=dict(_delete_=True, type='EntropySubsetDataset', num_keep=795 * 4,
                 cache_dir='work_dirs/ood_subsets',
                 teacher={{_base_.model.teacher}},
                 score_pipeline=[dict(type='SmallestMaxSize', max_size=256),
                                 dict(type='CenterCrop', height=256, width=256),
                                 {{_base_.normalize}}],
                 dataset=dict(type='ImageFolderDataset', data_root=ood_root,
                              pipeline={{_base_.ood_pipeline}})))
_step = {{_base_.param_scheduler.student}}  # x0.3 at 1/3 and 2/3 of train_cfg.max_iters
_adam = dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))
optim_wrapper = dict(generator=dict(optimizer=_adam), discriminator=dict(optimizer=_adam))
param_scheduler = dict(student=_step, generator=_step, discriminator=_step)
custom_hooks = [dict(type='GeneratorSamplesHook', interval=500, num_samples=8)]
