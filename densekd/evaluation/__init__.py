"""Evaluation: dataset-level IoU metric; T. stddev of augmentation pipelines (teacher only)."""
from .augmentation_stats import (TStddevMeter, deterministic_view, teacher_config,  # noqa: F401
                                 teacher_t_stddev)
from .iou_metric import IoUMetric  # noqa: F401
