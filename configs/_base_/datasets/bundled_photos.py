# Offline OOD pool: random multi-scale crops of the photographs that ship inside installed
# packages (scikit-image, scikit-learn). Sized to the SynthRooms crops.
ood_crop_size = (96, 128)
ood_norm = dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
# _delete_ lets configs swap it in for an in-domain train dataset: dataset={{_base_.ood_dataset}}
ood_dataset = dict(
    _delete_=True,
    type='BundledPhotosDataset', num_samples=2000, crop_size=ood_crop_size,
    scale_range=(0.05, 1.0), seed=0,
    pipeline=[dict(type='HorizontalFlip', p=0.5),
              dict(type='Normalize', mean=ood_norm['mean'], std=ood_norm['std'])])
