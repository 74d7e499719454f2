"""Generate a SynthRooms dataset (NYUv2 layout) and optionally a preview grid.

Examples::

    python tools/make_synthrooms.py --out data/synthrooms
    python tools/make_synthrooms.py --out /tmp/sr --num-train 16 --num-test 0 \\
        --grid docs/synthrooms_grid.png
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout, uninstalled

from densekd.datasets.nyuv2 import NYUV2_CLASSES, NYUV2_PALETTE  # noqa: E402
from densekd.synthrooms import VOID, generate_synthrooms  # noqa: E402
from densekd.visualization import colorize_mask, draw_legend  # noqa: E402


def legend(width: int) -> np.ndarray:
    """A band listing every class id and name with its colour swatch, and void (RGB)."""
    names = [f'{i} {name}' for i, name in enumerate(NYUV2_CLASSES)] + [f'{VOID} void']
    colors = list(NYUV2_PALETTE) + [(0, 0, 0)]  # colorize_mask draws void black
    return draw_legend(names, colors, width=width)


def make_grid(root: str | os.PathLike, out_png: str | os.PathLike, split: str = 'train',
              num: int = 16, cols: int = 4, scale: int = 2) -> np.ndarray:
    """Tile ``num`` samples (image above its colour mask) with a legend and write a PNG.

    Args:
        root: Dataset root in the NYUv2 layout.
        out_png: Output file.
        split: Split to sample from (the first ``num`` images, sorted by name).
        num: Number of samples.
        cols: Samples per grid row.
        scale: Integer upscaling (nearest neighbour keeps mask edges exact).

    Returns:
        The grid (RGB uint8).
    """
    root = Path(root)
    names = sorted(p.name for p in (root / 'image' / split).glob('*.png'))[:num]
    if not names:
        raise FileNotFoundError(f'no images in {root / "image" / split}')
    tiles = []
    for name in names:
        img = cv2.cvtColor(cv2.imread(str(root / 'image' / split / name)), cv2.COLOR_BGR2RGB)
        seg = cv2.imread(str(root / 'seg13' / split / name), cv2.IMREAD_UNCHANGED)
        tile = np.concatenate([img, colorize_mask(seg, NYUV2_PALETTE)], 0)
        tile = cv2.resize(tile, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        tiles.append(cv2.copyMakeBorder(tile, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=(255,) * 3))
    while len(tiles) % cols:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.concatenate(tiles[i:i + cols], 1) for i in range(0, len(tiles), cols)]
    grid = np.concatenate(rows, 0)
    grid = np.concatenate([grid, legend(grid.shape[1])], 0)
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out_png), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR),
                [cv2.IMWRITE_PNG_COMPRESSION, 9])
    return grid


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', required=True, help='dataset root to write (NYUv2 layout)')
    ap.add_argument('--num-train', type=int, default=800)
    ap.add_argument('--num-test', type=int, default=200)
    ap.add_argument('--height', type=int, default=96)
    ap.add_argument('--width', type=int, default=128)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--workers', type=int, default=min(4, os.cpu_count() or 1),
                    help='rendering processes (default: min(4, CPUs))')
    ap.add_argument('--grid', default=None, help='also write a preview grid PNG here')
    ap.add_argument('--grid-num', type=int, default=16, help='samples in the grid')
    ap.add_argument('--grid-split', default='train', choices=['train', 'test'])
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    stats = generate_synthrooms(args.out, args.num_train, args.num_test, args.height, args.width,
                                args.seed, num_workers=args.workers, verbose=True)
    n = args.num_train + args.num_test
    print(f'wrote {n} images to {args.out} in {stats["seconds"]:.1f} s '
          f'({stats["images_per_second"]:.1f} img/s, {args.workers} worker(s))')
    print('class        pixels   images')
    for c in NYUV2_CLASSES:
        pix, img = 100 * stats['pixel_share'][c], 100 * stats['image_share'][c]
        print(f'{c:10s} {pix:6.1f} % {img:6.1f} %')
    print(f'void       {100 * stats["void_share"]:6.2f} %')
    if args.grid:
        make_grid(args.out, args.grid, args.grid_split, args.grid_num)
        print(f'grid -> {args.grid}')
    return stats


if __name__ == '__main__':
    json.dumps(main())  # stats are JSON-serialisable (also in <out>/synthrooms.json)
