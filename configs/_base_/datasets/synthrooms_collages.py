# Offline *related* OOD pool (KD-REL): collages of 12-32 px square tiles cut from SynthRooms
# rooms rendered with a seed of their own (source_seed=1000; the train/test splits use seed 0, so
# no train image is reused), pasted at random positions and orientations until the 96x128 canvas
# is covered. Local patterns (materials, textures, edges, lighting, object parts) are SynthRooms';
# the room layout is not. The 200 sources are generated on first use under data_root, a folder of
# their own (never the train data's). Sized to the SynthRooms crops, like bundled_photos.py.
related_crop_size = (96, 128)
# _delete_ lets configs swap it in for an in-domain train dataset:
# dataset={{_base_.related_dataset}}. Normalize uses the ImageNet statistics of ood_norm in
# bundled_photos.py (and data_norm in synthrooms.py); they are written out because configs that
# inherit both files could not hold the same key twice.
related_dataset = dict(
    _delete_=True,
    type='SynthRoomsCollageDataset', data_root='data/synthrooms_96x128_collage_sources',
    num_samples=2000, crop_size=related_crop_size, tile_range=(12, 32), num_sources=200,
    source_seed=1000, seed=0,
    scale_range=(1.0, 1.4),  # tile zoom, as the SynthRooms train crops (RandomResizedCrop 0.5-1)
    pipeline=[dict(type='HorizontalFlip', p=0.5),
              dict(type='Normalize', mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))])
