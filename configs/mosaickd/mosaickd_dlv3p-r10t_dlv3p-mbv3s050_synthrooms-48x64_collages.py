# Dense MosaicKD on the 48x64 tier with the related pool (collages of SynthRooms tiles).
_base_ = ['./mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_collages.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_mosaickd_model}}
train_dataloader = dict(batch_size={{_base_.tier_mosaickd_loader_batch}},
                        dataset={{_base_.tier_collages}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
