# KD-REL (the collages of SynthRooms tiles) with the auxiliary-variable loss of
# kd-auxvar-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py.
_base_ = ['./kd-auxvar-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py']
train_dataloader = dict(dataset={{_base_.related_dataset}})
