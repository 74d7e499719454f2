"""Figures of a benchmark: mIoU bars with error bars, learning curves, a sample grid."""
from __future__ import annotations

import os.path as osp
from typing import List, Optional

import cv2
import numpy as np

from .suite import ROOT
from .table import budget_text


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')  # files only, no display
    import matplotlib.pyplot as plt
    return plt


def bar_chart(results: dict, path: str) -> str:
    """mIoU per method (mean ± std over seeds, each seed a dot), teacher as a dashed line."""
    plt = _pyplot()
    rows = [r for r in results['rows'] if r['miou_mean'] is not None]
    fig, ax = plt.subplots(figsize=(1.3 * max(4, len(rows)) + 1, 3.6), dpi=110)
    x = np.arange(len(rows))
    ax.bar(x, [r['miou_mean'] for r in rows], yerr=[r['miou_std'] for r in rows], capsize=4,
           color='#7aa6d6', edgecolor='#2b5d8c')
    for i, r in enumerate(rows):
        ax.scatter([i] * len(r['miou_per_seed']), r['miou_per_seed'], s=10, color='k', zorder=3)
    teacher = results['teacher'].get('miou')
    if teacher is not None:
        ax.axhline(teacher, color='#c0392b', ls='--', lw=1)
        ax.text(len(rows) - 0.5, teacher, f' teacher {teacher:.1f}', va='bottom', ha='right',
                color='#c0392b', fontsize=8)
    ax.set_xticks(x, [r['method'] for r in rows], rotation=15, fontsize=8)
    ax.set_ylabel('test mIoU %')
    ax.set_title(_budget_title(results), fontsize=9)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def curves(results: dict, path: str) -> str:
    """mIoU against student steps, generator steps and training seconds, mean ± std band.

    The generator panel shows the rows that train a generator.
    """
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6), dpi=110, sharey=True)
    for k, r in enumerate(results['rows']):
        pts = r.get('curve') or []
        if not pts:
            continue
        color = f'C{k % 10}'
        mean = np.array([p['miou_mean'] for p in pts])
        std = np.array([p['miou_std'] or 0.0 for p in pts])
        for ax, key in zip(axes, ('steps', 'generator_steps', 'train_s')):
            if any(p.get(key) is None for p in pts):
                continue
            xs = np.array([p[key] for p in pts])
            ax.plot(xs, mean, marker='o', ms=3, label=r['method'], color=color)
            ax.fill_between(xs, mean - std, mean + std, alpha=0.15, color=color)
    for ax, label in zip(axes, ('student steps', 'generator steps', 'training seconds')):
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel('test mIoU %')
    axes[2].legend(fontsize=7, loc='lower right')
    fig.suptitle(_budget_title(results), fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _budget_title(results: dict) -> str:
    return f'{results["suite"]}: {budget_text(results["budget"])}, {results["seeds"]} seeds'


def sample_grid(teacher_cfg: dict, test_dataset_cfg: dict, students: List[tuple], path: str,
                num_images: int = 4, data_norm: Optional[dict] = None) -> str:
    """image | ground truth | teacher | each student, one row per test image.

    Args:
        teacher_cfg: the teacher segmentor config, with ``checkpoint``.
        test_dataset_cfg: the test dataset config (images are its first ``num_images``).
        students: ``(name, student segmentor config, checkpoint path)`` per method.
        path: PNG to write.
        num_images: rows of the grid.
        data_norm: ``dict(mean, std)`` of the inputs, to show the images.
    """
    import torch
    from mmengine.registry import init_default_scope

    from densekd.algorithms.base import build_model
    from densekd.models.segmentors import forward_padded, load_weights
    from densekd.registry import DATASETS
    from densekd.visualization.overlay import colorize_mask, denormalize, draw_legend, side_by_side
    from densekd.visualization.palette import default_palette

    init_default_scope('densekd')
    dataset = DATASETS.build(_rooted(test_dataset_cfg))
    meta = getattr(dataset, 'metainfo', {}) or {}
    classes = list(meta.get('classes') or [str(i) for i in range(teacher_cfg['classes'])])
    palette = meta.get('palette') or default_palette(len(classes))
    norm = data_norm or dict(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    nets = [('teacher', build_model(dict(teacher_cfg)))]
    for name, cfg, ckpt in students:
        net = build_model({k: v for k, v in cfg.items() if k != 'checkpoint'})
        nets.append((name, load_weights(net, ckpt, prefix='student.')))
    rows = []
    with torch.no_grad():
        for i in range(min(num_images, len(dataset))):
            item = dataset[i]
            inputs = torch.as_tensor(item['inputs'])[None].float()
            tiles = [denormalize(inputs[0], norm['mean'], norm['std']),
                     colorize_mask(np.asarray(item['seg']), palette)]
            for _, net in nets:
                net.eval()
                tiles.append(colorize_mask(forward_padded(net, inputs).argmax(1)[0].numpy(),
                                           palette))
            titles = ['image', 'ground truth'] + [n for n, _ in nets] if not rows else None
            rows.append(side_by_side(tiles, titles=titles, height=tiles[0].shape[0] * 2))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0)), constant_values=255)
            for r in rows]
    grid = np.concatenate(rows, axis=0)
    legend = draw_legend(classes, palette)
    legend = np.pad(legend, ((0, 0), (0, max(0, width - legend.shape[1])), (0, 0)),
                    constant_values=255)[:, :width]
    grid = np.concatenate([grid, legend], axis=0)
    cv2.imwrite(path, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    return path


def _rooted(dataset_cfg: dict) -> dict:
    """The dataset config with a relative ``data_root`` made relative to the repository."""
    cfg = dict(dataset_cfg)
    root = cfg.get('data_root')
    if isinstance(root, str) and not osp.isabs(root):
        cfg['data_root'] = osp.join(ROOT, root)
    return cfg
