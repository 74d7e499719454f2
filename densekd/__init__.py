"""densekd: knowledge distillation for semantic segmentation without the teacher's data."""
from .utils.terminal import quiet_third_party_deprecations

quiet_third_party_deprecations()  # first: mmengine, torch and timm may warn on import
from .utils import compat  # noqa: E402,F401  (must run before any mmengine checkpoint/Runner use)

__version__ = '0.1.0'
