# DAFL, data-free: 1 generator step (one-hot + activation + information entropy), then KD.
_base_ = ['../_base_/models/dlv3p-r18_dlv3p-mbv2_synthrooms.py',
          '../_base_/schedules/adversarial_cpu.py']
model = dict(type='DAFL',
             generator=dict(type='DCGANGenerator', nz=256, ngf=32, img_size=(96, 128)),
             batch_size=16, student_steps=1,
             generator_losses=dict(
                 onehot=dict(type='OnehotLoss', loss_weight=1.0),
                 activation=dict(type='ActivationLoss', loss_weight=0.1, teacher='decoder'),
                 ie=dict(type='InformationEntropyLoss', loss_weight=5.0)),
             kd_loss=dict(type='PixelKDLoss', tau=2.0))
train_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                        dataset=dict(_delete_=True, type='NoDataDataset'))
