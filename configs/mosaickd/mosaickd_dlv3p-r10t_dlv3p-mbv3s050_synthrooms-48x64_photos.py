# Dense MosaicKD on the 48x64 tier with the bundled photos (the unrelated pool): one student
# step per generator step on 8 mosaics + 8 photo crops, so that the generator gets
# thousands of steps within a CPU budget (README: "The 48x64 tier").
_base_ = ['./mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_mosaickd_model}}
train_dataloader = dict(batch_size={{_base_.tier_mosaickd_loader_batch}},
                        dataset={{_base_.tier_photos}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
