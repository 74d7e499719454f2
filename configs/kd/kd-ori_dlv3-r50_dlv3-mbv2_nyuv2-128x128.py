# KD-ORI on NYUv2 (paper protocol; the DFAD table reports 0.380 mIoU for this row).
_base_ = ['../_base_/models/dlv3-r50_dlv3-mbv2_nyuv2.py', '../_base_/schedules/student_nyuv2.py']
model = dict(type='KD', losses=dict(kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0)))
train_dataloader = dict(batch_size=64)
