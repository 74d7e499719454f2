"""Rank augmentation pipelines for KD by T. stddev, with the teacher alone.

    python tools/analyze_augmentation.py CONFIG [CONFIG ...] [--teacher CKPT] [--epochs E]
        [--batch-size B] [--group-batches G] [--seed S] [--out results.json]

Each CONFIG is a KD config; its train pipeline is the augmentation under test. The frozen
teacher runs over the train set for E epochs and the T. stddev of its per-pixel softmax is
computed (Wang et al., NeurIPS 2022, arXiv 2012.02909; see
:mod:`densekd.evaluation.augmentation_stats`). The table lists the pipelines from the lowest
T. stddev (predicted best for the student) to the highest. Example::

    python tools/analyze_augmentation.py configs/augmentation/*.py \\
        configs/kd/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos.py \\
        --teacher work_dirs/teachers/deeplabv3plus_r10t_synthrooms-48x64.pth --out tstd.json

Every config is measured with the same seed, batch size and group size, which the ranking
needs (T. stddev shrinks with the pixels per group). ``--random-teacher`` runs a randomly
initialised teacher: for timing only, its ranking means nothing.

``--students RESULTS`` compares the ranking with the students': RESULTS is the
``results.json`` of a ``tools/benchmark.py`` run whose rows use the same configs (e.g.
``configs/benchmarks/synthrooms_48x64_augmentation.py``); the table gains each pipeline's
student mIoU, and Spearman's rank correlation of T. stddev with the mean mIoU (and with each
seed's) is printed. A perfect prediction is -1 (lowest T. stddev = best student).
"""
import argparse
import json
import os
import os.path as osp
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)  # run from a clone, too

import densekd  # noqa: E402,F401
from densekd.evaluation.augmentation_stats import (  # noqa: E402
    spearman, teacher_config, teacher_t_stddev)
from densekd.utils.atomic import write_json_atomic  # noqa: E402
from densekd.utils.config import ConfigKeyError, load_config  # noqa: E402
from mmengine.config import DictAction  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Rank the train pipelines of KD configs by T. stddev (teacher only; '
                    'lowest first = predicted best).')
    parser.add_argument('configs', nargs='+', metavar='CONFIG', help='KD config files')
    teacher = parser.add_mutually_exclusive_group()
    teacher.add_argument('--teacher', help='teacher weights for every config (default: each '
                         "config's model.teacher.checkpoint)")
    teacher.add_argument('--random-teacher', action='store_true',
                         help='randomly initialised teacher weights: for speed checks only, '
                         'the ranking means nothing')
    parser.add_argument('--epochs', type=int, default=10,
                        help='passes over the train set (default: 10, as the reference)')
    parser.add_argument('--batch-size', type=int,
                        help="images per batch (default: the first config's "
                        'train_dataloader.batch_size, then used for every config)')
    parser.add_argument('--group-batches', type=int, default=5,
                        help='batches per group (default: 5, as the reference)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--with-original', action='store_true',
                        help='also measure the items without the random steps of the pipeline '
                        "(the reference's original + augmented layout; default: the augmented "
                        'stream only, what the KD student is distilled on)')
    parser.add_argument('--num-workers', type=int,
                        help="loader workers (default: the config's train_dataloader's)")
    parser.add_argument('--device', default='cpu', help='where the teacher runs (default: cpu)')
    parser.add_argument('--out', help='write the ranked results here as JSON')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    parser.add_argument('--students', metavar='RESULTS', help='results.json of a '
                        'tools/benchmark.py run of the same configs: add the students\' mIoU '
                        'and the rank correlation with T. stddev')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides applied to every config')
    return parser.parse_args(argv)


def pipeline_name(config: str) -> str:
    """A config's name in the table: its file name without ``.py``."""
    return osp.splitext(osp.basename(config))[0]


def read_students(path: str, rows) -> dict:
    """Each pipeline's student mIoU from a benchmark ``results.json``, matched by config.

    Returns:
        ``{config path: dict(method, miou_mean, miou_per_seed)}`` for every row of ``rows``.

    Raises:
        SystemExit: the file is missing or unreadable, or a config has no finished row.
    """
    try:
        with open(path) as f:
            results = json.load(f)
        bench = {osp.normpath(r['config']): r for r in results['rows']}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f'analyze_augmentation: --students {path}: not a tools/benchmark.py '
                         f'results.json ({e})') from None
    found = {}
    for row in rows:
        key = osp.normpath(osp.relpath(osp.abspath(row['config']), ROOT))
        match = bench.get(key) or bench.get(osp.normpath(row['config']))
        if match is None or match.get('miou_mean') is None:
            raise SystemExit(f'analyze_augmentation: --students {path}: no finished row for '
                             f'{row["config"]} (rows: {", ".join(sorted(bench))})')
        found[row['config']] = dict(method=match['method'], miou_mean=match['miou_mean'],
                                    miou_per_seed=match.get('miou_per_seed') or [])
    return found


def rank_correlations(rows) -> dict:
    """Spearman's rho of T. stddev with the students' mean mIoU and with each seed's."""
    t_std = [r['t_stddev'] for r in rows]
    out = dict(mean=spearman(t_std, [r['student']['miou_mean'] for r in rows]))
    seeds = min(len(r['student']['miou_per_seed']) for r in rows)
    out['per_seed'] = [spearman(t_std, [r['student']['miou_per_seed'][i] for r in rows])
                       for i in range(seeds)]
    return out


def format_table(rows) -> str:
    """The ranked rows as a text table (rank 1 = lowest T. stddev)."""
    width = max([len('pipeline')] + [len(r['pipeline']) for r in rows])
    students = all('student' in r for r in rows)
    lines = [f'{"rank":>4}  {"pipeline":<{width}}  {"T. stddev":>11}  {"entropy":>7}  '
             f'{"groups":>6}  {"images":>7}  {"s":>6}' + ('  student mIoU' if students else '')]
    for r in rows:
        lines.append(f'{r["rank"]:>4}  {r["pipeline"]:<{width}}  {r["t_stddev"]:>11.4e}  '
                     f'{r["mean_entropy"]:>7.4f}  {r["groups"]:>6}  {r["images"]:>7}  '
                     f'{r["seconds"]:>6.1f}'
                     + (f'  {r["student"]["miou_mean"]:>12.2f}' if students else ''))
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    if args.teacher and not osp.isfile(args.teacher):
        raise SystemExit(f'analyze_augmentation: teacher {args.teacher} does not exist')
    # Every config and its teacher are checked before the first (long) run starts.
    cfgs = []
    for path in args.configs:
        try:
            cfg = load_config(path, args.cfg_options)
            teacher_config(cfg, path, args.teacher, args.random_teacher)
        except (FileNotFoundError, KeyError, ConfigKeyError, ValueError) as e:
            raise SystemExit(f'analyze_augmentation: {e.args[0] if e.args else e}') from None
        cfgs.append(cfg)
    # One batch size for all: T. stddev depends on the pixels per group.
    batch_size = args.batch_size or int(cfgs[0].train_dataloader.get('batch_size', 16))
    if args.students and not osp.isfile(args.students):
        raise SystemExit(f'analyze_augmentation: --students {args.students} does not exist')
    rows = []
    for i, (path, cfg) in enumerate(zip(args.configs, cfgs), start=1):
        print(f'[{i}/{len(cfgs)}] {pipeline_name(path)}', file=sys.stderr, flush=True)
        try:
            row = teacher_t_stddev(
                cfg, teacher=args.teacher, epochs=args.epochs, batch_size=batch_size,
                group_batches=args.group_batches, seed=args.seed, device=args.device,
                progress=not args.no_progress, random_teacher=args.random_teacher,
                include_original=args.with_original, num_workers=args.num_workers)
        except ValueError as e:
            raise SystemExit(f'analyze_augmentation: {path}: {e}') from None
        rows.append(dict(pipeline=pipeline_name(path), **dict(row, config=path)))
    rows.sort(key=lambda r: r['t_stddev'])
    for rank, row in enumerate(rows, start=1):
        row['rank'] = rank
    correlation = None
    if args.students:
        for config, student in read_students(args.students, rows).items():
            next(r for r in rows if r['config'] == config)['student'] = student
        correlation = rank_correlations(rows)
    print(f'T. stddev, lowest first (predicted best); {args.epochs} epoch(s), batch '
          f'{batch_size}, {args.group_batches} batches per group, seed {args.seed}'
          + (', RANDOM teacher (timing only)' if args.random_teacher else ''))
    print(format_table(rows))
    if correlation is not None:
        print(f'Spearman rho of T. stddev with student mIoU ({args.students}): '
              f'{correlation["mean"]:+.2f} over the seeds\' means; per seed: '
              + ', '.join(f'{v:+.2f}' for v in correlation['per_seed'])
              + ' (-1: the T. stddev order is the students\' order)')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        write_json_atomic(args.out, dict(
            metric='T. stddev (Wang et al., NeurIPS 2022), per pixel; lower is better',
            epochs=args.epochs, batch_size=batch_size, group_batches=args.group_batches,
            seed=args.seed, with_original=args.with_original,
            teacher='random' if args.random_teacher else args.teacher, results=rows,
            students=args.students, spearman=correlation), indent=2)
        print(f'wrote {args.out}')
    return rows


if __name__ == '__main__':
    main()
