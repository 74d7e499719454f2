"""Measure training speed of a config: seconds per iteration, iterations/s, peak memory.

``python tools/benchmark.py CONFIG [--iters 20] [--warmup 3] [--threads N] [--cfg-options ...]``

Runs the real Runner for ``--warmup + --iters`` iterations (no validation, no checkpoints)
and averages the iteration times mmengine's IterTimerHook records, after the warm-up. Figures vary between runs on shared machines;
compare configs within one invocation (several CONFIGs may be given).
"""
import argparse
import os.path as osp
import resource
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

import densekd  # noqa: E402,F401
from densekd.utils.config import load_config  # noqa: E402


def benchmark(config: str, iters: int, warmup: int, cfg_options: dict) -> dict:
    cfg = load_config(config, cfg_options, work_dir=osp.join('work_dirs', 'benchmark'))
    cfg.log_level = 'WARNING'
    cfg.train_cfg.max_iters = warmup + iters
    cfg.train_cfg.val_interval = 10 ** 9
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] != 'GeneratorSamplesHook']
    runner = Runner.from_cfg(cfg)
    runner.train()
    # IterTimerHook records the time of every iteration (data loading included).
    times = runner.message_hub.get_scalar('train/time').data[0][warmup:]
    seconds = float(times.mean())
    return dict(config=config, s_per_iter=seconds, iters_per_s=1 / seconds,
                peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--iters', type=int, default=20)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = [benchmark(c, args.iters, args.warmup, args.cfg_options) for c in args.configs]
    print(f'threads={torch.get_num_threads()}')
    for row in rows:
        print(f"{row['s_per_iter']:7.3f} s/iter {row['iters_per_s']:6.2f} it/s "
              f"peak RSS {row['peak_rss_mb']:6.0f} MB  {row['config']}")
    return rows


if __name__ == '__main__':
    main()
