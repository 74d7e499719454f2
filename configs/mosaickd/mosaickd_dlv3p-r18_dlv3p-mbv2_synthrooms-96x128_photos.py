# Dense MosaicKD on SynthRooms with the bundled photos as OOD data: a patch generator draws
# mosaics whose 22-px patches must fool a patch discriminator trained on photo crops, while
# the teacher reads them as confident rooms. Per iteration 1 D, 1 G and student_steps S steps;
# the OOD batch is split into 1 + student_steps chunks (D's real images, then one per S step).
# Two departures from the reference, both measured on the 2-core CPU (README,
# docs/mosaickd_cpu_trials.md): position channels in the generator (coords) and a small
# teacher BatchNorm-statistics term (generator_losses.bn); with 120-600 s budgets neither
# closes the gap to KD-ORI.
_base_ = ['../_base_/models/dlv3p-r18_dlv3p-mbv2_synthrooms.py',
          '../_base_/schedules/adversarial_cpu.py']
batch_size = 8
student_steps = 5
model = dict(type='MosaicKD',
             generator=dict(type='PatchGenerator', nz=32, global_nz=16, ngf=32, num_upsamples=3,
                            img_size=(96, 128), coords=True),
             discriminator=dict(type='PatchDiscriminator', ndf=32, patch_size=22),
             batch_size=batch_size, student_steps=student_steps,
             generator_losses=dict(
                 local=dict(type='PatchGANLoss', loss_weight=1.0),
                 align=dict(type='TeacherEntropyLoss', loss_weight=1.0),
                 adv=dict(type='KLAdversarialLoss', loss_weight=1.0),
                 balance=dict(type='ClassBalanceLoss', loss_weight=10.0),
                 bn=dict(type='BNStatisticsLoss', loss_weight=0.01)),
             discriminator_loss=dict(type='PatchGANLoss', loss_weight=1.0),
             kd_loss=dict(type='PixelKDLoss', tau=2.0))
train_dataloader = dict(batch_size=batch_size * (1 + student_steps),
                        dataset={{_base_.ood_dataset}})
optim_wrapper = dict(discriminator=dict(optimizer=dict(type='Adam', lr=1e-3, betas=(0.5, 0.999))))
