# Blind KD on the 48x64 tier with no augmentation of the photo crops (Good-DA-in-KD's
# "Identity"): the crops themselves (random position and scale) are the only variation.
# One of the pipelines `tools/analyze_augmentation.py` ranks by T. stddev.
_base_ = ['../kd/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py']
train_dataloader = dict(dataset=dict(pipeline=[{{_base_.normalize}}]))
