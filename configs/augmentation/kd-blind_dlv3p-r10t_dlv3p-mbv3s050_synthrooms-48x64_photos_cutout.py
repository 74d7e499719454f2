# Blind KD on the 48x64 tier, photo crops flipped, with 1-3 holes of 10-30% of each side
# filled with zeros (Cutout, DeVries & Taylor 2017).
_base_ = ['../kd/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py']
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='HorizontalFlip', p=0.5),
    dict(type='CoarseDropout', num_holes_range=(1, 3), hole_height_range=(0.1, 0.3),
         hole_width_range=(0.1, 0.3), fill=0, p=1.0),
    {{_base_.normalize}}]))
