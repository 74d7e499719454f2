"""Train with a densekd config: ``python tools/train.py CONFIG [--work-dir D] [--resume [CKPT]]``.

Refuses to start when another run holds the work dir (:mod:`densekd.utils.work_dir_lock`);
a run stopped by a NaN/inf loss or weights exits with status 1 naming the last good checkpoint.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a clone, too

import densekd  # noqa: E402,F401  (mmengine compat fixes)
from densekd.utils.checkpoint import trusted_checkpoints  # noqa: E402
from densekd.engine.runner import DensekdRunner  # noqa: E402
from densekd.utils.config import apply_amp, load_config  # noqa: E402
from densekd.utils.tensorboard import add_tensorboard_backend, require_tensorboard  # noqa: E402
from densekd.utils.finite import stopped_message  # noqa: E402
from densekd.utils.work_dir_lock import WorkDirBusyError, work_dir_lock  # noqa: E402
from densekd.utils.distributed import setup_launcher  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import init_dist, is_distributed  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a densekd model (teacher or student).')
    parser.add_argument('config', help='config file, e.g. '
                        'configs/kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CKPT',
                        help='resume from CKPT; without a value, from the checkpoint the work '
                        "dir's last_checkpoint names, else its newest complete iter_*.pth, "
                        'else from scratch (said in the log)')
    parser.add_argument('--amp', action='store_true', help='mixed precision for every optimizer')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow teacher/student/resume checkpoints that are full pickles '
                        '(can run arbitrary code: only for files you trust); default: '
                        'weights-only loading, .safetensors preferred')
    parser.add_argument('--check-data', action='store_true',
                        help='decode every image and label of every dataset in the config, list '
                        'the unreadable, truncated or out-of-range ones and exit (1 if any)')
    parser.add_argument('--tensorboard', action='store_true',
                        help="also log scalars to TensorBoard (pip install -e '.[tensorboard]')")
    parser.add_argument('--verbose', action='store_true', help='print the environment, full '
                        'config and hook order on the terminal too (always in the log file)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    if args.check_data:
        from densekd.datasets.data_check import check_config_data
        report = check_config_data(cfg)
        print(report.format())
        raise SystemExit(0 if report.ok else 1)
    setup_launcher(cfg, args.launcher)  # gloo without CUDA
    if args.amp:
        apply_amp(cfg)
    if args.tensorboard:
        require_tensorboard()
        add_tensorboard_backend(cfg)
    if args.verbose:
        cfg.terminal_verbose = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise SystemExit(f'--resume: checkpoint {args.resume} does not exist')
        cfg.resume, cfg.load_from = True, args.resume
    if args.launcher != 'none' and not is_distributed():
        # The work-dir lock needs the ranks; the Runner reuses them (without CUDA,
        # setup_launcher has already started the gloo group).
        init_dist(args.launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))
    try:
        with work_dir_lock(cfg.work_dir), trusted_checkpoints(args.trust_checkpoint):
            runner = DensekdRunner.from_cfg(cfg)
            try:
                runner.train()
            except FloatingPointError as err:  # a NaN/inf loss or weights: say what is safe
                message = stopped_message(err, cfg.work_dir)
                runner.logger.error(message)
                raise SystemExit(message) from None
    except WorkDirBusyError as err:
        raise SystemExit(str(err)) from None


if __name__ == '__main__':
    main()
