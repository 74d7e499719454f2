# SynthRooms: procedural NYUv2-like rooms (13 classes), generated on first use under data_root.
data_root = 'data/synthrooms_96x128'  # also looked up under $DENSEKD_DATA
synthrooms = dict(num_train=800, num_test=200, height=96, width=128, seed=0)
data_norm = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
crop_size = (96, 128)
train_pipeline = [
    dict(type='RandomResizedCrop', size=crop_size, scale=(0.5, 1.0), ratio=(1.2, 1.45)),
    dict(type='HorizontalFlip', p=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02, p=0.5),
    dict(type='Normalize', mean=data_norm['mean'], std=data_norm['std']),
]
test_pipeline = [dict(type='Normalize', mean=data_norm['mean'], std=data_norm['std'])]
train_dataloader = dict(
    batch_size=16, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SynthRoomsDataset', data_root=data_root, split='train',
                 pipeline=train_pipeline, **synthrooms))
val_dataloader = dict(
    batch_size=16, num_workers=1, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SynthRoomsDataset', data_root=data_root, split='test',
                 pipeline=test_pipeline, **synthrooms))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric')
test_evaluator = val_evaluator
