# Blind KD on the 48x64 tier, photo crops flipped and colour-jittered (strong jitter, p=0.8).
_base_ = ['../kd/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py']
train_dataloader = dict(dataset=dict(pipeline=[
    dict(type='HorizontalFlip', p=0.5),
    dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=0.8),
    {{_base_.normalize}}]))
