# KD-ORI on the 48x64 tier (configs/_base_/tiers/synthrooms_48x64.py): the upper bound.
_base_ = ['./kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_kd_model}}
train_dataloader = dict(dataset={{_base_.tier_rooms}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
