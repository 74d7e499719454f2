# DFAD, data-free: 5 student steps (L1 on logits) then 1 generator step (-log(1 + L1)).
_base_ = ['../_base_/models/dlv3p-r18_dlv3p-mbv2_synthrooms.py',
          '../_base_/schedules/adversarial_cpu.py']
model = dict(type='DFAD',
             generator=dict(type='DCGANGenerator', nz=256, ngf=32, img_size=(96, 128)),
             batch_size=16, student_steps=5,
             generator_losses=dict(adv=dict(type='DFADGeneratorLoss', loss_weight=1.0)))
train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                        dataset=dict(_delete_=True, type='NoDataDataset'))
