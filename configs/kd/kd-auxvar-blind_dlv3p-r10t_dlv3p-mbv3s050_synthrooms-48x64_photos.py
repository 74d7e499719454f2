# Blind KD with the auxiliary-variable loss on the 48x64 tier (the bundled photos only).
_base_ = ['./kd-auxvar-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_auxvar_model}}
train_dataloader = dict(dataset={{_base_.tier_photos}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
