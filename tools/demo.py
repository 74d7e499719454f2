"""The main job (``make demo``): SynthRooms teacher, then every distillation method, one table.

1. trains the SynthRooms teacher (skipped when ``work_dirs/teachers/`` already holds it) and
   prints its per-class IoU table on the SynthRooms test split;
2. distils it into the student with each method, one after the other, each with the same
   wall-clock training budget (``--budget`` seconds, enforced by ``TimeBudgetHook``);
3. prints one table: method, data, mIoU, wall time, peak memory.

Everything lands in ``work_dirs/demo/``; ``--only`` picks methods, ``--quick`` shrinks budgets.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import re
import resource
import shutil
import subprocess
import sys
import time

from mmengine.config import DictAction

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
TEACHER_CONFIG = 'configs/teacher/deeplabv3plus_r18_synthrooms-96x128.py'
TEACHER_CKPT = 'work_dirs/teachers/deeplabv3plus_r18_synthrooms-96x128.pth'
# name -> (config, data description, seconds per iteration with 2 threads, measured with
# tools/benchmark.py; it only spaces the generator-sample grids, the budget ends every run)
METHODS = {
    'KD-ORI': ('configs/kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', 'SynthRooms train',
               0.62),
    'blind KD': ('configs/kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
                 'bundled photos', 0.6),
    'DFAD': ('configs/dfad/dfad_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', 'none (data-free)',
             4.4),
    'MosaicKD': ('configs/mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
                 'bundled photos + mosaics', 4.3),
    'MosaicKD-crops': (
        'configs/mosaickd/mosaickd-oodmosaic_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
        'photos + mosaics of crops', 4.6),
}
#: The rows of a plain ``make demo`` (the others with ``--only``).
DEFAULT_METHODS = ['KD-ORI', 'blind KD', 'DFAD', 'MosaicKD']


def budget_config(config: str, out_path: str, budget: float, s_per_iter: float,
                  quick: bool, cfg_options: dict | None = None) -> str:
    """Write ``config`` for a run of ``budget`` training seconds.

    ``TimeBudgetHook`` stops the run after ``budget`` seconds and anneals every learning rate
    on a cosine in time that ends with the budget (the config's own schedulers are dropped,
    their ``eta_min`` kept), so a method's schedule ends with its budget whatever its speed on
    this machine. ``s_per_iter`` only spaces the generator-sample grids (about four per run).
    ``cfg_options`` (``--cfg-options``) are merged first, so they cannot undo the budget.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    expected = 4 if quick else max(10, int(budget / s_per_iter))
    # The budget ends a run; the iteration cap only guards it (and sizes --quick smoke runs).
    cap = expected if quick else 100 * expected
    cfg.train_cfg.max_iters = cfg.train_cfg.val_interval = cap
    cfg.default_hooks.checkpoint.interval = cap
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict) and 'type' in schedulers:
        schedulers = [schedulers]
    groups = schedulers.values() if isinstance(schedulers, dict) else [schedulers]
    eta_min = min((sch.get('eta_min', 0.0) for group in groups for sch in group), default=0.0)
    cfg.param_scheduler = None
    hooks = [h for h in cfg.get('custom_hooks', []) if h['type'] != 'TimeBudgetHook']
    for hook in hooks:
        if 'interval' in hook:
            hook['interval'] = max(1, expected // 4)
    cfg.custom_hooks = hooks + [dict(type='TimeBudgetHook', seconds=budget,
                                     anneal_eta_min=eta_min)]
    cfg.dump(out_path)
    return out_path


def run(cmd: list[str], log_path: str, threads: int) -> subprocess.Popen:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    print('$', ' '.join(cmd), f'> {log_path}', flush=True)
    with open(log_path, 'w') as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait(proc: subprocess.Popen, log_path: str) -> None:
    if proc.wait() != 0:
        with open(log_path) as f:
            tail = f.readlines()[-30:]
        sys.exit(f'command failed (exit {proc.returncode}), last lines of {log_path}:\n'
                 + ''.join(tail))


def final_metrics(work_dir: str) -> dict:
    """The last validation metrics written by mmengine in ``work_dir``."""
    found = {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if 'mIoU' in row:
                    found = row
    return found


def train_teacher(out: str, iters_scale: float) -> None:
    work_dir = osp.join(out, 'teacher')
    log = osp.join(out, 'teacher_train.log')
    extra = []
    if iters_scale != 1:
        iters = max(20, int(600 * iters_scale))
        extra = ['--cfg-options', f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
                 f'param_scheduler.0.T_max={iters}', f'default_hooks.checkpoint.interval={iters}']
    t0 = time.time()
    wait(run([sys.executable, 'tools/train.py', TEACHER_CONFIG, '--work-dir', work_dir] + extra,
             log, threads=2), log)
    ckpt = open(osp.join(work_dir, 'last_checkpoint')).read().strip()
    os.makedirs(osp.dirname(osp.join(ROOT, TEACHER_CKPT)), exist_ok=True)
    wait(run([sys.executable, 'tools/export_student.py', ckpt, TEACHER_CKPT, '--prefix',
              'segmentor.'], osp.join(out, 'teacher_export.log'), threads=2),
         osp.join(out, 'teacher_export.log'))
    print(f'teacher trained in {time.time() - t0:.0f} s -> {TEACHER_CKPT}', flush=True)


def test_teacher(out: str) -> dict:
    log = osp.join(out, 'teacher_test.log')
    # Evaluate the exported weights through a KD config's teacher: the same file students use.
    cfg = METHODS['KD-ORI'][0]
    ckpt = osp.join(out, 'teacher_as_checkpoint.pth')
    import torch
    state = torch.load(osp.join(ROOT, TEACHER_CKPT), map_location='cpu')
    torch.save({'state_dict': {f'teacher.{k}': v for k, v in state.items()}}, ckpt)
    wait(run([sys.executable, 'tools/test.py', cfg, ckpt, '--model', 'teacher', '--work-dir',
              osp.join(out, 'teacher_test'), '--show-dir', osp.join(out, 'teacher_masks')],
             log, threads=2), log)
    with open(log) as f:
        text = f.read()
    start = text.find('per-class')
    table = text[start:text.find('\n\n', start)] if start >= 0 else ''
    print(table or '(per-class table not found in the log)')
    # Test metrics are not written to scalars.json; read the summary line of the table.
    found = re.findall(r'mIoU: ([0-9.]+)', text)
    return dict(mIoU=float(found[-1])) if found else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default='work_dirs/demo')
    parser.add_argument('--only', nargs='+', choices=list(METHODS), default=DEFAULT_METHODS)
    parser.add_argument('--quick', action='store_true', help='tiny budgets (smoke run)')
    parser.add_argument('--retrain-teacher', action='store_true')
    parser.add_argument('--budget', type=float, default=120,
                        help='training seconds per student (same for every method)')
    parser.add_argument('--s-per-iter', type=float, default=None,
                        help='seconds per iteration that size the LR schedules (default: the '
                             'measured figure of each method)')
    parser.add_argument('--tag', default='',
                        help='suffix of the methods\' work dirs, to keep variants apart')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides merged into every method config run, e.g. '
                             'model.student_steps=2')
    parser.add_argument('--skip-teacher-test', action='store_true',
                        help='leave the teacher row out (faster variant runs)')
    args = parser.parse_args()
    out = osp.join(ROOT, args.out)
    os.makedirs(out, exist_ok=True)
    scale = 0.05 if args.quick else 1.0
    t_start = time.time()

    if args.retrain_teacher or not osp.isfile(osp.join(ROOT, TEACHER_CKPT)):
        train_teacher(out, scale)
    else:
        print(f'reusing the teacher {TEACHER_CKPT} (--retrain-teacher to train it again)')
    teacher = {} if args.skip_teacher_test else test_teacher(out)

    rows = [('teacher', 'SynthRooms train (labels)', teacher.get('mIoU'), None)]
    for name in args.only:
        config, data, s_per_iter = METHODS[name]
        work_dir = osp.join(out, name.replace(' ', '_') + args.tag)
        shutil.rmtree(work_dir, ignore_errors=True)
        config = budget_config(config, work_dir + '_config.py', args.budget,
                               args.s_per_iter or s_per_iter, args.quick, args.cfg_options)
        log = work_dir + '.log'
        t0 = time.time()
        wait(run([sys.executable, 'tools/train.py', config, '--work-dir', work_dir], log,
                 threads=2), log)
        rows.append((name, data, final_metrics(work_dir).get('mIoU'), time.time() - t0))
        print(f'{name}: mIoU {rows[-1][2]} ({rows[-1][3]:.0f} s)', flush=True)

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print_table(rows, args.budget)
    print(f'wall time {time.time() - t_start:.0f} s, peak memory of one run {peak:.0f} MB')


def print_table(rows: list, budget: float) -> None:
    """The method table; "gap closed" = (row - blind KD) / (KD-ORI - blind KD)."""
    miou = {name: value for name, _, value, _ in rows}
    ori, blind = miou.get('KD-ORI'), miou.get('blind KD')
    print(f'\n=== densekd demo: SynthRooms test split (200 images, 96x128), mIoU %, '
          f'{budget:.0f} s training per student ===')
    print(f'{"method":<14} {"data":<26} {"mIoU":>6} {"gap closed":>10} {"train s":>8}')
    for name, data, value, seconds in rows:
        value_s = f'{value:6.2f}' if value is not None else '   n/a'
        gap = ''
        if None not in (value, ori, blind) and ori != blind and name not in ('teacher', 'KD-ORI'):
            gap = f'{100 * (value - blind) / (ori - blind):9.0f}%'
        sec_s = f'{seconds:8.0f}' if seconds is not None else '       -'
        print(f'{name:<14} {data:<26} {value_s} {gap:>10} {sec_s}')


if __name__ == '__main__':
    main()
