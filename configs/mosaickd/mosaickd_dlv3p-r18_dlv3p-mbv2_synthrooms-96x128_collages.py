# Dense MosaicKD with the related pool (collages of SynthRooms tiles: shared local patterns,
# different global layout, the setting MosaicKD was made for) in place of the bundled photos;
# the discriminator learns real patches from the collages. Everything else as the photos config.
_base_ = ['./mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py']
train_dataloader = dict(dataset={{_base_.related_dataset}})
