#!/usr/bin/env python
"""Convert the official NYUv2 files into the layout densekd's NYUv2Dataset reads.

Example::

    python datasets/prepare_nyuv2.py \\
        --labeled nyu_depth_v2_labeled.mat --splits splits.mat \\
        --mapping40 classMapping40.mat --out data/NYUv2

writes ``image/``, ``seg13/`` and ``seg40/`` with ``train/`` (795) and ``test/`` (654) PNGs named
by the 1-based frame index (``%05d.png``); labels use 255 for void. See datasets/README.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from densekd.datasets.nyuv2 import DatasetError
    from densekd.datasets.nyuv2_convert import convert_nyuv2
except ImportError:  # run from a checkout without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from densekd.datasets.nyuv2 import DatasetError
    from densekd.datasets.nyuv2_convert import convert_nyuv2


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(
        description='Convert the official NYUv2 .mat files into image/, seg13/, seg40/ PNGs.')
    parser.add_argument('--labeled', required=True,
                        help='nyu_depth_v2_labeled.mat (MATLAB v7.3 / HDF5, ~2.8 GB)')
    parser.add_argument('--splits', required=True, help='splits.mat (trainNdxs / testNdxs)')
    parser.add_argument('--mapping40', required=True,
                        help='classMapping40.mat (mapClass: 894 raw classes -> 40)')
    parser.add_argument('--out', required=True, help='output root, e.g. data/NYUv2')
    parser.add_argument('--split', choices=('train', 'test', 'both'), default='both',
                        help='which split(s) to write (default: both)')
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the conversion; returns the process exit code (2 with a message for bad inputs)."""
    args = parse_args(argv)
    which = ('train', 'test') if args.split == 'both' else (args.split,)
    try:
        convert_nyuv2(args.labeled, args.splits, args.mapping40, args.out, which=which)
    except DatasetError as exc:  # the message names the file and what was expected
        print(f'prepare_nyuv2.py: error: {exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
