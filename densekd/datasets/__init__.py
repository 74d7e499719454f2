"""Datasets: NYUv2 (and SynthRooms in its layout), OOD image sources, albumentations pipelines."""
from .nyuv2 import NYUV2_CLASSES, NYUV2_PALETTE, NYUv2Dataset  # noqa: F401
from .ood import BundledPhotosDataset, ImageFolderDataset  # noqa: F401
from .ood_subset import EntropySubsetDataset, score_images_by_entropy  # noqa: F401
from .synthrooms import SynthRoomsDataset, generate_synthrooms  # noqa: F401
from .related import SynthRoomsCollageDataset  # noqa: F401
from .mixed import MixedImagesDataset  # noqa: F401
from .no_data import NoDataDataset  # noqa: F401
from .transforms import build_pipeline  # noqa: F401
