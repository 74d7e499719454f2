"""Evaluate a checkpoint: ``python tools/test.py CONFIG CKPT [--model student|teacher]``.

Prints the per-class IoU table; ``--show-dir`` writes image | ground truth | prediction
overlays, ``--out`` writes predicted label PNGs.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import densekd  # noqa: E402,F401
from densekd.utils.config import load_config  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a densekd checkpoint (mIoU).')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint of the config (or a plain segmentor '
                        'state dict for Supervised configs)')
    parser.add_argument('--model', choices=['student', 'teacher'], default='student',
                        help='which network of a distiller to evaluate')
    parser.add_argument('--work-dir')
    parser.add_argument('--show-dir', help='write overlays (image | GT | prediction) here')
    parser.add_argument('--out', help='write predicted label PNGs here')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.model == 'teacher':
        if 'teacher' not in cfg.model:
            raise SystemExit(f'--model teacher: {args.config} has no teacher (model.type='
                             f'{cfg.model.type})')
        cfg.model.eval_teacher = True
    vis = cfg.default_hooks.setdefault('visualization', dict(type='SegVisualizationHook'))
    if args.show_dir:
        vis.update(draw=True, out_dir=args.show_dir)
    if args.out:
        vis.update(label_out_dir=args.out)
    runner = Runner.from_cfg(cfg)
    return runner.test()


if __name__ == '__main__':
    main()
