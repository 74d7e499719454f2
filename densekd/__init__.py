"""densekd: knowledge distillation for semantic segmentation without the teacher's data."""
from .utils import compat  # noqa: F401  (must run before any mmengine checkpoint/Runner use)

__version__ = '0.1.0'
