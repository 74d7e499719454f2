# AuG-KD with the related pool (collages of SynthRooms tiles) as the OOD images; everything else
# as the photos config.
_base_ = ['./augkd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py']
train_dataloader = dict(dataset={{_base_.related_dataset}})
