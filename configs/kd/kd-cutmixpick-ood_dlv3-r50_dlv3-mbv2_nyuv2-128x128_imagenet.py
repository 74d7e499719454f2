# KD on ImageNet-style OOD images with CutMixPick (NYUv2-13 pair, 128x128 crops): each step
# distils on the 64 crops and the 64 CutMixes of them, of 128, with the highest mean teacher
# entropy. The reference's own default score is the per-pixel KL at the KD temperature:
# --cfg-options model.cutmix_pick.score=kl (tau 1, CutMixPick's default, is this KD's tau).
_base_ = ['./kd-ood_dlv3-r50_dlv3-mbv2_nyuv2-128x128_imagenet.py', '../_base_/cutmix_pick.py']
model = dict(cutmix_pick={{_base_.cutmix_pick}})
