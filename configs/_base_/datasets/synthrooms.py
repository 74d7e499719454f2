# SynthRooms: procedural NYUv2-like rooms (13 classes), generated on first use under data_root,
# and the two offline OOD pools sized to them. This file is the SynthRooms family's one place
# for the input normalisation (data_norm): the model base files inherit it, and every pipeline
# below normalises with it (tools check at load time that model and pipelines agree).
data_root = 'data/synthrooms_96x128'  # also looked up under $DENSEKD_DATA
synthrooms = dict(num_train=800, num_test=200, height=96, width=128, seed=0)
data_norm = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
normalize = dict(type='Normalize', **data_norm)
crop_size = (synthrooms['height'], synthrooms['width'])
# The crop keeps the render's size, so a tier with other renders reuses this pipeline.
train_pipeline = [
    dict(type='RandomResizedCropKeepSize', scale=(0.5, 1.0), ratio=(1.2, 1.45)),
    dict(type='HorizontalFlip', p=0.5),
    dict(type='ColorJitter', brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02, p=0.5),
    normalize,
]
test_pipeline = [normalize]
train_dataloader = dict(
    batch_size=16, num_workers=1, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SynthRoomsDataset', data_root=data_root, split='train',
                 pipeline=train_pipeline, **synthrooms))
val_dataloader = dict(
    batch_size=16, num_workers=1, persistent_workers=True,
    # round_up=False: in multi-process evaluation each sample is scored once (no padding)
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type='SynthRoomsDataset', data_root=data_root, split='test',
                 pipeline=test_pipeline, **synthrooms))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric')
test_evaluator = val_evaluator

# The OOD pools. _delete_ lets a config swap one in for the in-domain train dataset:
#   train_dataloader = dict(dataset={{_base_.ood_dataset}})
ood_pipeline = [dict(type='HorizontalFlip', p=0.5), normalize]
# Unrelated pool (blind KD, "KD-UNR"): random multi-scale crops of the photographs that ship
# inside installed packages (scikit-image, scikit-learn).
ood_dataset = dict(
    _delete_=True,
    type='BundledPhotosDataset', num_samples=2000, crop_size=crop_size,
    scale_range=(0.05, 1.0), seed=0, pipeline=ood_pipeline)
# Related pool (KD-REL): collages of 12-32 px square tiles cut from SynthRooms rooms rendered
# with a seed of their own (source_seed=1000; the splits use seed 0, so no train image is
# reused), pasted at random positions and orientations until the canvas is covered. Local
# patterns (materials, textures, edges, lighting, object parts) are SynthRooms'; the room
# layout is not. The 200 sources are generated on first use under data_root, a folder of their
# own (never the train data's).
related_dataset = dict(
    _delete_=True,
    type='SynthRoomsCollageDataset', data_root='data/synthrooms_96x128_collage_sources',
    num_samples=2000, crop_size=crop_size, tile_range=(12, 32), num_sources=200,
    source_seed=1000, seed=0,
    scale_range=(1.0, 1.4),  # tile zoom, as the SynthRooms train crops (RandomResizedCrop 0.5-1)
    pipeline=ood_pipeline)
