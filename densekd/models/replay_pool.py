"""A bounded pool of generated images that student steps replay (FastDFKD / CMI style).

Data-free and adversarial regimes pay a generator forward (and, for its own update, a backward
through teacher and student) for every image. Fast-Datafree (Fang et al., AAAI 2022,
https://github.com/zju-vipa/Fast-Datafree) and CMI (Fang et al., IJCAI 2021,
https://github.com/zju-vipa/CMI) keep the images they synthesise in a pool and train the
student on the whole pool, so the student's step count no longer follows the generator's cost.
This pool is the in-memory, bounded version: images are stored detached, in half precision,
as module buffers, so checkpoints hold the pool and a resumed run replays the same images.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

REFRESH_POLICIES = ('fifo', 'random')


class ReplayPool(nn.Module):
    """A bounded pool of images.

    Args:
        size: capacity in images (>= 1).
        refresh: once full, where new images go: ``'fifo'`` replaces the oldest, ``'random'``
            replaces uniformly chosen slots (older images survive longer on average).
        dtype: storage dtype (half precision halves the memory of float32 images).
    """

    def __init__(self, size: int, refresh: str = 'fifo', dtype: torch.dtype = torch.float16):
        super().__init__()
        if size < 1:
            raise ValueError(f'ReplayPool.size must be >= 1, got {size}')
        if refresh not in REFRESH_POLICIES:
            raise ValueError(f'ReplayPool.refresh must be one of {REFRESH_POLICIES}, got '
                             f'{refresh!r}')
        self.size = int(size)
        self.refresh = refresh
        self.dtype = dtype
        # Allocated at the first push, when the image shape is known.
        self.register_buffer('images', torch.empty(0, dtype=dtype))
        self.register_buffer('pushed', torch.zeros((), dtype=torch.long))

    def __len__(self) -> int:
        return int(min(int(self.pushed), self.size))

    @torch.no_grad()
    def push(self, images: torch.Tensor) -> None:
        """Add ``images`` (B×C×H×W); once full, they replace slots by the refresh policy."""
        images = images.detach()
        if self.images.numel() == 0:
            self.images = images.new_zeros((self.size, *images.shape[1:]), dtype=self.dtype)
        elif images.shape[1:] != self.images.shape[1:]:
            raise ValueError(f'ReplayPool holds images of shape {tuple(self.images.shape[1:])}, '
                             f'got {tuple(images.shape[1:])}')
        n = images.shape[0]
        filled = len(self)
        if self.refresh == 'fifo' or filled + n <= self.size:
            slots = (int(self.pushed) + torch.arange(n, device=images.device)) % self.size
        else:  # fill the free slots first, then random ones
            free = torch.arange(filled, self.size, device=images.device)
            taken = torch.randint(self.size, (n - free.numel(),), device=images.device)
            slots = torch.cat([free, taken])
        self.images[slots] = images.to(self.dtype)
        self.pushed += n

    @torch.no_grad()
    def sample(self, n: int, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """``n`` images drawn uniformly with replacement (``dtype``: that of the caller)."""
        if len(self) == 0:
            raise RuntimeError('ReplayPool.sample: the pool is empty')
        idx = torch.randint(len(self), (n,), device=self.images.device)
        return self.images[idx].to(dtype or torch.float32)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The pool's buffer is allocated lazily: take the checkpoint's shape before loading.
        key = prefix + 'images'
        if key in state_dict and state_dict[key].shape != self.images.shape:
            self.images = torch.empty_like(state_dict[key], dtype=self.dtype)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
