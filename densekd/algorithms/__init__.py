"""Training regimes, each a registered mmengine ``BaseModel``."""
from .augkd import AuGKD  # noqa: F401
from .base import BaseDistiller, BaseSegAlgorithm  # noqa: F401
from .cutmix_pick import CutMixPick  # noqa: F401
from .dafl import DAFL  # noqa: F401
from .dfad import DFAD  # noqa: F401
from .distill_losses import DistillLossSet, GeneratorLossSet  # noqa: F401
from .generative import BaseGenerativeDistiller  # noqa: F401
from .kd import KD  # noqa: F401
from .mosaickd import MosaicKD  # noqa: F401
from .supervised import Supervised  # noqa: F401
