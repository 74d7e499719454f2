"""Train with a densekd config: ``python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]]``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a clone, too

import densekd  # noqa: E402,F401  (mmengine compat fixes)
from densekd.utils.checkpoint import trusted_checkpoints  # noqa: E402
from densekd.utils.config import apply_amp, load_config  # noqa: E402
from densekd.utils.distributed import setup_launcher  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a densekd model (teacher or student).')
    parser.add_argument('config', help='config file, e.g. '
                        'configs/kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CKPT',
                        help='resume from CKPT, or from the last checkpoint in the work dir '
                        'when given without a value')
    parser.add_argument('--amp', action='store_true', help='mixed precision for every optimizer')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow teacher/student/resume checkpoints that are full pickles '
                        '(can run arbitrary code: only for files you trust); default: '
                        'weights-only loading, .safetensors preferred')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    setup_launcher(cfg, args.launcher)  # gloo without CUDA
    if args.amp:
        apply_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise SystemExit(f'--resume: checkpoint {args.resume} does not exist')
        cfg.resume, cfg.load_from = True, args.resume
    with trusted_checkpoints(args.trust_checkpoint):
        runner = Runner.from_cfg(cfg)
        runner.train()


if __name__ == '__main__':
    main()
