# AuG-KD on the 48x64 tier with the related pool (collages of SynthRooms tiles):
# 400 data-free and 150 anchor iterations, then 1000 student steps on 8 OOD + 8 mixed images each.
_base_ = ['./augkd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_collages.py',
          '../_base_/tiers/synthrooms_48x64.py']
model = {{_base_.tier_augkd_model}}
train_dataloader = dict(batch_size={{_base_.tier_augkd_model.batch_size}},
                        dataset={{_base_.tier_collages}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
train_cfg = dict(max_iters={{_base_.tier_augkd_max_iters}})
