# KD-REL with the auxiliary-variable loss on the 48x64 tier (the collages only).
_base_ = ['./kd-auxvar-rel_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_collages.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_auxvar_model}}
train_dataloader = dict(dataset={{_base_.tier_collages}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
