"""Hook that saves grids of generated images with the teacher's and student's masks.

For data-free / OOD KD the generated images are the main debugging signal (mode collapse,
teacher over-confidence, patches that do not look like the OOD data), in the spirit of mmagic's
``VisualizationHook``: fixed latent noise, every N iterations, one PNG per interval.
"""
from __future__ import annotations

import os
import os.path as osp
from typing import Any, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from densekd.datasets.nyuv2 import NYUV2_CLASSES, NYUV2_PALETTE
from densekd.models.generators import to_unit_range
from densekd.models.segmentors import forward_padded
from densekd.registry import HOOKS
from densekd.visualization.overlay import draw_legend, overlay_mask
from densekd.visualization.palette import default_palette

_FONT = cv2.FONT_HERSHEY_SIMPLEX
_WHITE = 255
_LABEL_WIDTH = 120   # px of the row-title band on the left
_GAP = 2             # px between tiles


def _label_band(height: int, text: str) -> np.ndarray:
    band = np.full((height, _LABEL_WIDTH, 3), _WHITE, dtype=np.uint8)
    for k, line in enumerate(text.split('\n')):
        cv2.putText(band, line, (4, 16 + 16 * k), _FONT, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return band


def _to_uint8(x01: torch.Tensor) -> np.ndarray:
    """3×H×W in [0, 1] (clamped) -> H×W×3 uint8 RGB."""
    img = x01.detach().float().clamp(0, 1).mul(255).round().byte().cpu()
    return img.permute(1, 2, 0).numpy().copy()


def _row(label: str, tiles: Sequence[np.ndarray], tile_hw: Tuple[int, int],
         num_cols: int) -> np.ndarray:
    """One labelled row of ``num_cols`` tiles resized to ``tile_hw`` (blank when missing)."""
    h, w = tile_hw
    parts = [_label_band(h, label)]
    for k in range(num_cols):
        tile = tiles[k] if k < len(tiles) else np.full((h, w, 3), _WHITE, np.uint8)
        if tile.shape[:2] != (h, w):
            tile = cv2.resize(tile, (w, h), interpolation=cv2.INTER_NEAREST)
        parts += [np.full((h, _GAP, 3), _WHITE, np.uint8), tile]
    return np.concatenate(parts, axis=1)


@HOOKS.register_module()
class GeneratorSamplesHook(Hook):
    """Save ``mosaics_iter_<N>.png`` grids of generated images and real OOD crops.

    Every ``interval`` training iterations and at the end of training, the generator draws
    images from the **same** latent noise (drawn once from a seeded ``torch.Generator``), so
    successive grids show the same ``z`` evolving. Each column is one sample; the rows are:

    1. generated image (mapped back to [0, 1] with the generator's mean/std),
    2. teacher prediction (arg-max, palette colours blended with weight ``alpha``),
    3. student prediction,
    4. real OOD crops of the current ``data_batch['inputs']`` (denormalised with the model's
       ``data_norm``), when the loop has a data batch (data-free methods have none),
    5. teacher prediction on those crops.

    A legend of the classes present is appended below the grid when class names are known.

    The model (unwrapped from DDP wrappers) is a densekd generator regime: it has a densekd
    ``generator`` (``sample_latent``, ``to_unit_range``), ``teacher`` and ``student``
    segmentors and ``data_norm`` (``dict(mean, std)``, for the real images). A generator
    that assembles real crops (``needs_sources``, e.g. ``OODMosaicGenerator``) composes, every
    time, the same crops, picked once from the first training batch. Everything
    runs under ``no_grad``; teacher and student run in ``eval()``. The generator runs in train
    mode by default (``generator_batch_stats=True``): its batch-norm layers normalise with the
    statistics of the fixed-noise batch, exactly as the images the teacher sees in training
    are made, whereas early running statistics lag behind and turn eval-mode samples into
    flat grey. Its buffers (running statistics) are snapshotted and restored, so drawing never
    changes training. All modules get their train/eval mode back afterwards.

    Args:
        interval: save every ``interval`` training iterations.
        num_samples: number of generated images (columns); also the number of real crops
            shown at most.
        out_dir: output folder; ``<work_dir>/<timestamp>/mosaics`` when None.
        alpha: weight of the mask colours over the image (1 shows pure masks).
        seed: seed of the fixed latent noise.
        image_size: size of the generated images ((h, w)); the generator's default when None
            (a ``PatchGenerator`` can draw full scenes here, e.g. ``(480, 640)``).
        palette: RGB colour per class; NYUv2's when None (VOC colours beyond 13 classes).
        class_names: names for the legend; NYUv2's when None and the teacher has 13 classes.
        generator_batch_stats: draw with the generator in train mode (batch statistics,
            buffers restored) rather than ``eval()`` (running statistics).
    """

    priority = 'LOW'

    def __init__(self, interval: int = 100, num_samples: int = 8, out_dir: Optional[str] = None,
                 alpha: float = 0.5, seed: int = 0,
                 image_size: Optional[Sequence[int]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None,
                 class_names: Optional[Sequence[str]] = None,
                 generator_batch_stats: bool = True) -> None:
        if int(interval) < 1:
            raise ValueError(f'GeneratorSamplesHook: interval must be >= 1, got {interval}')
        if int(num_samples) < 1:
            raise ValueError(f'GeneratorSamplesHook: num_samples must be >= 1, got '
                             f'{num_samples}')
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'GeneratorSamplesHook: alpha must be in [0, 1], got {alpha}')
        if palette is not None and class_names is not None and len(palette) != len(class_names):
            raise ValueError(f'GeneratorSamplesHook: {len(class_names)} class_names for '
                             f'{len(palette)} palette colours')
        self.interval = int(interval)
        self.num_samples = int(num_samples)
        self.out_dir = out_dir
        self.alpha = float(alpha)
        self.seed = int(seed)
        self.image_size = tuple(image_size) if image_size is not None else None
        self.palette = palette
        self.class_names = class_names
        self.generator_batch_stats = bool(generator_batch_stats)
        self._fixed_z: Optional[torch.Tensor] = None
        self._fixed_src: Optional[torch.Tensor] = None
        self._last_real: Optional[torch.Tensor] = None
        self._last_saved_iter: Optional[int] = None

    # ------------------------------------------------------------------ hook stages
    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None,
                         outputs: Optional[dict] = None) -> None:
        """Save a grid every ``interval`` iterations and at the last iteration."""
        real = self._real_inputs(data_batch)
        if real is not None:
            self._last_real = real  # a view of the batch, no copy and no host sync
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            self._save(runner, runner.iter + 1, real)

    def after_train(self, runner) -> None:
        """Save a final grid when the loop stopped between two intervals."""
        final_iter = int(runner.iter)
        if final_iter > 0 and self._last_saved_iter != final_iter:
            self._save(runner, final_iter, self._last_real)

    # ------------------------------------------------------------------ helpers
    def _real_inputs(self, data_batch: Any) -> Optional[torch.Tensor]:
        if isinstance(data_batch, dict):
            x = data_batch.get('inputs')
            if isinstance(x, torch.Tensor) and x.dim() == 4:
                return x[:self.num_samples]
        return None

    def _resolve_out_dir(self, runner) -> str:
        if self.out_dir is not None:
            return self.out_dir
        return osp.join(runner.work_dir, runner.timestamp, 'mosaics')

    def _colours(self, num_classes: int) -> Tuple[np.ndarray, Optional[List[str]]]:
        palette, names = self.palette, self.class_names
        if palette is None and len(NYUV2_PALETTE) >= num_classes:
            palette = NYUV2_PALETTE
            if names is None and len(NYUV2_CLASSES) == num_classes:
                names = NYUV2_CLASSES
        if palette is None or len(palette) < num_classes:
            palette = default_palette(max(1, min(num_classes, 255)))
        palette = np.asarray(palette, dtype=np.uint8)
        if names is not None and len(names) != len(palette):
            names = None
        return palette, (list(names) if names is not None else None)

    def _fixed_latent(self, generator: torch.nn.Module) -> torch.Tensor:
        if self._fixed_z is None:
            rng = torch.Generator().manual_seed(self.seed)
            kwargs = {} if self.image_size is None else dict(image_size=self.image_size)
            self._fixed_z = generator.sample_latent(self.num_samples, device='cpu',
                                                    generator=rng, **kwargs)
        return self._fixed_z

    def _save(self, runner, iteration: int, real: Optional[torch.Tensor]) -> None:
        if get_rank() != 0:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        for name in ('generator', 'teacher', 'student'):
            if getattr(model, name, None) is None:
                raise AttributeError(f'GeneratorSamplesHook: the model '
                                     f'{type(model).__name__} has no "{name}" submodule; the '
                                     f'hook is for algorithms with a generator')
        generator, teacher, student = model.generator, model.teacher, model.student
        data_norm = model.data_norm
        modules = (generator, teacher, student)
        modes = [m.training for m in modules]
        buffers = {k: v.clone() for k, v in generator.named_buffers()}
        try:
            for m in modules:
                m.eval()
            generator.train(self.generator_batch_stats)
            with torch.no_grad():
                grid = self._draw(generator, teacher, student, data_norm, real)
        finally:
            for m, mode in zip(modules, modes):
                m.train(mode)
            with torch.no_grad():  # train-mode BN updated the running statistics: undo it
                for k, v in generator.named_buffers():
                    v.copy_(buffers[k])

        out_dir = self._resolve_out_dir(runner)
        os.makedirs(out_dir, exist_ok=True)
        path = osp.join(out_dir, f'mosaics_iter_{iteration}.png')
        if not cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
            print_log(f'GeneratorSamplesHook: could not write {path}', logger='current',
                      level=30)
            return
        self._last_saved_iter = iteration

    def _fixed_sources(self, generator: torch.nn.Module,
                       real: Optional[torch.Tensor]) -> torch.Tensor:
        """Crops a source-assembling generator composes, drawn once from the first real batch."""
        if self._fixed_src is None:
            if real is None:
                raise RuntimeError('GeneratorSamplesHook: the generator assembles OOD images but '
                                   'the loop gives no data batch to take them from')
            rng = torch.Generator().manual_seed(self.seed)
            self._fixed_src = generator.pick_sources(real.detach().cpu().clone(),
                                                     self.num_samples, generator=rng)
        return self._fixed_src

    def _draw(self, generator, teacher, student, data_norm: dict,
              real: Optional[torch.Tensor]) -> np.ndarray:
        device = next(generator.parameters()).device
        z = self._fixed_latent(generator).to(device)
        if getattr(generator, 'needs_sources', False):
            fake = generator(z, self._fixed_sources(generator, real).to(device))
        else:
            fake = generator(z)
        t_logits = forward_padded(teacher, fake)  # smp segmentors: logits at input size
        s_logits = forward_padded(student, fake)
        palette, names = self._colours(t_logits.shape[1])
        t_mask = t_logits.argmax(1).cpu().numpy()
        s_mask = s_logits.argmax(1).cpu().numpy()
        fake_rgb = [_to_uint8(x) for x in generator.to_unit_range(fake)]
        tile_hw = fake_rgb[0].shape[:2]
        cols = self.num_samples
        present = [t_mask, s_mask]

        rows = [
            _row('generated', fake_rgb, tile_hw, cols),
            _row('teacher\n(generated)', [overlay_mask(im, m, palette, self.alpha)
                                          for im, m in zip(fake_rgb, t_mask)], tile_hw, cols),
            _row('student\n(generated)', [overlay_mask(im, m, palette, self.alpha)
                                          for im, m in zip(fake_rgb, s_mask)], tile_hw, cols),
        ]
        if real is not None:
            real = real.to(device)
            r_mask = forward_padded(teacher, real).argmax(1).cpu().numpy()
            real_rgb = [_to_uint8(x) for x in
                        to_unit_range(real.float(), data_norm['mean'], data_norm['std'])]
            present.append(r_mask)
            rows += [_row('real OOD', real_rgb, tile_hw, cols),
                     _row('teacher\n(real OOD)', [overlay_mask(im, m, palette, self.alpha)
                                                  for im, m in zip(real_rgb, r_mask)],
                          tile_hw, cols)]

        gap = np.full((_GAP, rows[0].shape[1], 3), _WHITE, np.uint8)
        parts: List[np.ndarray] = []
        for r in rows:
            parts += [r, gap]
        grid = np.concatenate(parts[:-1], axis=0)
        if names is not None:
            ids = np.unique(np.concatenate([m.ravel() for m in present]))
            legend = draw_legend(names, palette, present=ids, width=grid.shape[1])
            if legend.shape[1] != grid.shape[1]:  # keep the grid width whatever the legend does
                legend = cv2.resize(legend, (grid.shape[1], legend.shape[0]),
                                    interpolation=cv2.INTER_NEAREST)
            grid = np.concatenate([grid, gap, legend], axis=0)
        return grid
