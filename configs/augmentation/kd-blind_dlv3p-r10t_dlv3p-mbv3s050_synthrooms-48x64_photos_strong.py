# Blind KD on the 48x64 tier with a strong geometric and photometric pipeline: flip, affine
# (scale, rotation, shift), blur, colour jitter and grey images.
_base_ = ['../kd/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py']
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='HorizontalFlip', p=0.5),
    dict(type='Affine', scale=(0.75, 1.25), rotate=(-20, 20), translate_percent=(-0.1, 0.1),
         p=0.8),
    dict(type='GaussianBlur', blur_limit=(3, 5), p=0.3),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=0.8),
    dict(type='ToGray', p=0.2),
    {{_base_.normalize}}]))
