"""Segmentors (smp builders, checkpoint loading), feature recorders."""
from .recorders import RecorderManager  # noqa: F401
from .segmentors import build_segmentor, load_weights  # noqa: F401
