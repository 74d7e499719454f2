# KD on out-of-domain images from an ImageNet-style folder (any tree of images; labels unused),
# random 128x128 crops in the teacher's normalisation. Point ood_root at your copy.
_base_ = ['../_base_/models/dlv3-r50_dlv3-mbv2_nyuv2.py', '../_base_/schedules/student_nyuv2.py']
ood_root = 'data/imagenet/train'  # also looked up under $DENSEKD_DATA
model = dict(type='KD', losses=dict(kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0)))
train_dataloader = dict(
    batch_size=64,
    dataset=dict(_delete_=True, type='ImageFolderDataset', data_root=ood_root,
                 pipeline={{_base_.ood_pipeline}}))
