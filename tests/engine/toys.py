"""Toy dataset and metric for the engine tests that build a real mmengine Runner."""
import torch
from mmengine.evaluator import BaseMetric
from torch.utils.data import Dataset


class Items(Dataset):
    """Four items of ``inputs = zeros(1)``."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return dict(inputs=torch.zeros(1))


class CountMetric(BaseMetric):
    """``mIoU`` = the number of samples scored (one per batch)."""

    def process(self, data_batch, data_samples):
        self.results.append(1)

    def compute_metrics(self, results):
        return dict(mIoU=float(len(results)))
