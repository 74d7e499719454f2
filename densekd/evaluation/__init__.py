"""Evaluation: dataset-level IoU metric."""
from .iou_metric import IoUMetric  # noqa: F401
