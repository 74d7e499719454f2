"""Training regimes, each a registered mmengine ``BaseModel``."""
from .base import BaseSegAlgorithm  # noqa: F401
from .kd import KD  # noqa: F401
from .supervised import Supervised  # noqa: F401
