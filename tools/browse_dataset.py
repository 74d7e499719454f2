"""Write a grid of what a config feeds its model: ``tools/browse_dataset.py CONFIG --out grid.png``.

``--split train|val|test`` shows that dataloader's dataset as training builds it (pipeline and
augmentations included): images above their masks in the dataset's palette, with a legend of
the classes present, or images alone for the OOD pools; ``--split ood`` shows the data family's
OOD pool (``ood_dataset``). For DFAD, DAFL and MosaicKD configs ``--split generator`` (their
default) draws the generator's images, from ``--checkpoint`` (a training checkpoint) or from
its random initialisation. Examples::

    python tools/browse_dataset.py configs/teacher/deeplabv3plus_r18_synthrooms-96x128.py \\
        --split val --out grid.png -n 16
    python tools/browse_dataset.py configs/dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py \\
        --checkpoint work_dirs/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128/iter_300.pth
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a clone, too

import cv2  # noqa: E402

import densekd  # noqa: E402,F401
from densekd.utils.checkpoint import trusted_checkpoints  # noqa: E402
from densekd.utils.config import load_config  # noqa: E402
from densekd.visualization.dataset_browser import SPLITS, browse, default_split  # noqa: E402
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Write a grid of a config\'s samples.')
    parser.add_argument('config')
    parser.add_argument('--split', choices=SPLITS, help='default: generator for DFAD, DAFL and '
                        'MosaicKD configs, train otherwise')
    parser.add_argument('--out', default='grid.png', help='PNG to write (default: grid.png)')
    parser.add_argument('-n', '--num', type=int, default=16, help='samples (default: 16)')
    parser.add_argument('--cols', type=int, help='samples per row (default: about square)')
    parser.add_argument('--scale', type=int, default=1, help='integer upscaling of each tile')
    parser.add_argument('--checkpoint', help='--split generator: a training checkpoint of the '
                        'config (default: the randomly initialised generator)')
    parser.add_argument('--seed', type=int, default=0, help='--split generator: seed of the '
                        'initialisation and the latent noise')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow a checkpoint that is a full pickle (only for files you trust)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    split = args.split or default_split(cfg)
    if args.checkpoint is not None and not osp.isfile(args.checkpoint):
        raise SystemExit(f'--checkpoint: {args.checkpoint} does not exist')
    try:
        with trusted_checkpoints(args.trust_checkpoint):
            grid = browse(cfg, split, num=args.num, cols=args.cols, scale=args.scale,
                          checkpoint=args.checkpoint, seed=args.seed)
    except ValueError as e:
        raise SystemExit(f'browse_dataset: {e}') from None
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    if not cv2.imwrite(args.out, cv2.cvtColor(grid, cv2.COLOR_RGB2BGR)):
        raise SystemExit(f'browse_dataset: could not write {args.out}')
    source = (f'generator from {args.checkpoint}' if args.checkpoint else
              'randomly initialised generator') if split == 'generator' else f'split {split}'
    print(f'wrote {args.out} ({grid.shape[1]}x{grid.shape[0]}, {source})')
    return grid


if __name__ == '__main__':
    main()
