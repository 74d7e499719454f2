# The 48x64 tier's teacher (configs/_base_/tiers/synthrooms_48x64.py): DeepLabV3+ ResNet-10t,
# trained like the 96x128 teacher with more iterations (they are 4x cheaper).
_base_ = ['./deeplabv3plus_r18_synthrooms-96x128.py', '../_base_/tiers/synthrooms_48x64.py']
model = dict(segmentor={{_base_.tier_teacher_arch}})
train_dataloader = dict(dataset={{_base_.tier_rooms}})
val_dataloader = dict(dataset={{_base_.tier_rooms}})
test_dataloader = val_dataloader
max_iters = 1200
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
