# Dense, label-free AuG-KD (Tang et al., ICLR 2024) on SynthRooms with the bundled photos as the
# OOD images. One run, three stages (model.stage_iters, then the rest of train_cfg.max_iters):
# data-free G + encoder (with an auxiliary student), AnchorNet on the photos, then the student
# distils the teacher on photos + anchored mixups. Each stage writes <work_dir>/augkd_<stage>.pth
# (AuGKDStageHook); model.stage_checkpoints reloads them to rerun a later stage alone.
_base_ = ['../_base_/models/dlv3p-r18_dlv3p-mbv2_synthrooms.py',
          '../_base_/schedules/adversarial_cpu.py', '../_base_/augkd.py']
batch_size = 16
stage_iters = dict(data_free=300, anchor=150)
model = dict(type='AuGKD',
             generator=dict(type='DCGANGenerator', nz=256, ngf=32, img_size=(96, 128)),
             encoder=dict(type='HistogramVAEEncoder', hidden_dims=(32, 64, 128, 128, 256)),
             anchor_net=dict(type='AnchorNet'),
             batch_size=batch_size, aux_steps=2, stage_iters=stage_iters,
             generator_losses={{_base_.augkd_generator_losses}},
             aux_kd_loss={{_base_.augkd_aux_kd_loss}},
             anchor_loss_cfg={{_base_.augkd_anchor_loss}}, mixup={{_base_.augkd_mixup}},
             # the blind-KD configs' student loss (no CE: there are no labels)
             kd_loss=dict(type='PixelKDLoss', tau=2.0))
train_dataloader = dict(batch_size=batch_size, dataset={{_base_.ood_dataset}})
# The reference's learning rates (README): d_lr 1e-3, e_lr 1e-4, a_lr 1e-3, lr 1e-3, all Adam;
# the student keeps the CPU schedule's AdamW. Every rate follows the budget loop's cosine.
optim_wrapper = dict(
    generator=dict(optimizer=dict(_delete_=True, type='Adam', lr=1e-3)),
    encoder=dict(optimizer=dict(type='Adam', lr=1e-4)),
    anchor_net=dict(optimizer=dict(type='Adam', lr=1e-3)),
    aux_student=dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4)))
train_cfg = dict(max_iters=sum(stage_iters.values()) + 400)
default_hooks = dict(augkd_stages=dict(type='AuGKDStageHook'))
