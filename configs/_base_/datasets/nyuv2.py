# NYUv2-13, paper protocol of the DFAD / MosaicKD line (DFAD, arXiv 1912.11006;
# MosaicKD, arXiv 2110.15094):
# train = resize short side 256 -> random 128x128 crop -> flip; test = full image at 256x341.
# Layout: <data_root>/image/{train,test}/*.png, seg13/{train,test}/*.png (datasets/README.md).
# This file is the NYUv2 family's one place for the input normalisation (data_norm): the model
# base file inherits it, and every NYUv2-family pipeline normalises with `normalize`.
data_root = 'data/NYUv2'  # also looked up under $DENSEKD_DATA
data_norm = dict(mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
normalize = dict(type='Normalize', **data_norm)
crop_size = (128, 128)
train_pipeline = [
    dict(type='SmallestMaxSize', max_size=256),
    dict(type='PadIfNeeded', min_height=128, min_width=128),
    dict(type='RandomCrop', height=128, width=128),
    dict(type='HorizontalFlip', p=0.5),
    normalize,
]
test_pipeline = [
    dict(type='Resize', height=256, width=341),
    normalize,
]
train_dataloader = dict(
    batch_size=16, num_workers=4, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='NYUv2Dataset', data_root=data_root, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=4, persistent_workers=True,
    # round_up=False: in multi-process evaluation each sample is scored once (no padding)
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='NYUv2Dataset', data_root=data_root, split='test', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric')
test_evaluator = val_evaluator
# Out-of-domain images (an ImageNet-style folder) for the OOD configs: random 128x128 crops,
# as the train split's, in the teacher's normalisation.
ood_pipeline = [dict(type='SmallestMaxSize', max_size=256),
                dict(type='RandomCrop', height=128, width=128),
                dict(type='HorizontalFlip', p=0.5),
                normalize]
