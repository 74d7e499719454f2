# DFAD on the 48x64 tier (configs/_base_/tiers/synthrooms_48x64.py), data-free.
_base_ = ['./dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_generative_model}}
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
