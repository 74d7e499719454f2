# KD-ORI: distil on the in-domain SynthRooms train images (labels unused): the upper bound.
_base_ = ['../_base_/models/dlv3p-r18_dlv3p-mbv2_synthrooms.py',
          '../_base_/schedules/student_cpu.py']
model = dict(type='KD', losses=dict(kd=dict(type='PixelKDLoss', tau=2.0, loss_weight=1.0)))
