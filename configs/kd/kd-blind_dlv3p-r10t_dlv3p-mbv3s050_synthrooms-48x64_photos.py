# Blind KD on the 48x64 tier: distil on crops of the bundled photos (the unrelated pool) only.
_base_ = ['./kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_kd_model}}
train_dataloader = dict(dataset={{_base_.tier_photos}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
