"""Segmentors (smp and torchvision), weight loading, generators, discriminators, feature taps."""
from .augkd_modules import AnchorNet, HistogramVAEEncoder, class_histogram  # noqa: F401
from .discriminators import PatchDiscriminator  # noqa: F401
from .generators import DCGANGenerator, PatchGenerator  # noqa: F401
from .ood_mosaic_generator import OODMosaicGenerator  # noqa: F401
from .recorders import RecorderManager  # noqa: F401
from .replay_pool import ReplayPool  # noqa: F401
from .segmentors import build_segmentor, load_weights  # noqa: F401
from .torchvision_segmentor import TorchvisionSegmentor  # noqa: F401
