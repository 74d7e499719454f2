"""Evaluate a checkpoint: ``python tools/test.py CONFIG CKPT [--model student|teacher]``.

Prints the per-class IoU table and writes the metrics to ``--metrics-json`` (default
``<work_dir>/metrics.json``: config, checkpoint, evaluated network and every metric) for
scripts to read; ``--show-dir`` writes image | ground truth | prediction overlays, ``--out``
writes predicted label PNGs.

``CKPT`` is a densekd training checkpoint of ``CONFIG`` (every weight of the model is
loaded), or a plain segmentor state dict / ``.safetensors`` file (an exported teacher or
student), loaded into the evaluated network with every key checked. Files are read
weights-only (:mod:`densekd.utils.checkpoint`); ``--trust-checkpoint`` allows a full pickle.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import densekd  # noqa: E402,F401
from densekd.engine.runner import DensekdRunner  # noqa: E402
from densekd.models.segmentors import load_state, segmentor_state  # noqa: E402
from densekd.utils.atomic import write_json_atomic  # noqa: E402
from densekd.utils.checkpoint import load_checkpoint, trusted_checkpoints  # noqa: E402
from densekd.utils.config import load_config  # noqa: E402
from densekd.utils.distributed import setup_launcher  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
from mmengine.model import is_model_wrapper  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Evaluate a densekd checkpoint (mIoU).')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='training checkpoint of the config, or a plain '
                        'segmentor state dict / .safetensors for the evaluated network')
    parser.add_argument('--model', choices=['student', 'teacher'], default='student',
                        help='which network of a distiller to evaluate')
    parser.add_argument('--work-dir')
    parser.add_argument('--show-dir', help='write overlays (image | GT | prediction) here')
    parser.add_argument('--out', help='write predicted label PNGs here')
    parser.add_argument('--metrics-json', help='write the metrics here as JSON (default: '
                        '<work_dir>/metrics.json)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--verbose', action='store_true', help='print the environment, full '
                        'config and hook order on the terminal too (always in the log file)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--trust-checkpoint', action='store_true',
                        help='allow checkpoints that are full pickles (can run arbitrary code: '
                        'only for files you trust); default: weights-only loading')
    return parser.parse_args(argv)


def is_training_checkpoint(checkpoint, model) -> bool:
    """Whether ``checkpoint`` is an mmengine checkpoint holding every weight of ``model``."""
    state = checkpoint.get('state_dict') if isinstance(checkpoint, dict) else None
    if not isinstance(state, dict) or 'meta' not in checkpoint:
        return False
    keys = {k[len('module.'):] if k.startswith('module.') else k for k in state}
    return keys == set(model.state_dict())


def main(argv=None):
    args = parse_args(argv)
    with trusted_checkpoints(args.trust_checkpoint):
        return run(args)


def run(args):
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    # Weights-only (or refused) before anything is built; what it holds decides how it loads.
    checkpoint = load_checkpoint(args.checkpoint, map_location='cpu')
    cfg = load_config(args.config, args.cfg_options, args.work_dir)
    setup_launcher(cfg, args.launcher)  # gloo without CUDA
    cfg.load_from = None
    cfg.resume = False
    if args.verbose:
        cfg.terminal_verbose = True
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
    runner = DensekdRunner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if is_training_checkpoint(checkpoint, model):
        runner.load_checkpoint(args.checkpoint, map_location='cpu')
    else:
        # A plain segmentor state dict (or a training checkpoint of another config): the
        # evaluated network must match it key for key, or nothing is scored.
        load_state(model.eval_network, segmentor_state(checkpoint, args.checkpoint),
                   args.checkpoint)
        runner.logger.info(f'Loaded {args.checkpoint} into the evaluated network '
                           f'({type(model.eval_network).__name__})')
    del checkpoint
    metrics = runner.test()  # the same on every rank
    if is_main_process():
        write_metrics(args.metrics_json or osp.join(cfg.work_dir, 'metrics.json'),
                      dict(config=args.config, checkpoint=args.checkpoint, model=args.model,
                           metrics={k: v.item() if hasattr(v, 'item') else v
                                    for k, v in metrics.items()}))
    return metrics


def write_metrics(path: str, record: dict) -> None:
    """Write ``record`` as JSON, atomically: a reader never sees a half-written file."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    write_json_atomic(path, record, indent=2)
    print(f'metrics written to {path}')


if __name__ == '__main__':
    main()
