"""Benchmark distillation methods: ``python tools/benchmark.py SUITE`` or ``--speed CONFIG...``.

A suite (``configs/benchmarks/*.py``) names a teacher, method configs and a budget. Every run of
it trains the teacher once (cached per config and code version), then each method with each
seed under the same budget, side by side where cores allow, and writes under ``--work-dir``
(default ``work_dirs/benchmarks/<suite>``): ``results.json``, ``results.md``, ``miou.png``,
``curves.png`` and ``samples.png``. Finished runs are cached; ``--rerun`` runs them again.

Examples::

    python tools/benchmark.py configs/benchmarks/demo.py                 # make demo
    python tools/benchmark.py configs/benchmarks/synthrooms_cpu.py       # make bench
    python tools/benchmark.py configs/benchmarks/synthrooms_cpu.py --budget 120 --seeds 2
    python tools/benchmark.py configs/benchmarks/synthrooms_cpu.py --steps 400
    python tools/benchmark.py configs/benchmarks/synthrooms_48x64.py --student-steps 1500
    python tools/benchmark.py --speed \
        configs/kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from densekd.benchmark.harness import format_command, run_suite  # noqa: E402
from densekd.benchmark.suite import ROOT, load_suite  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark distillation methods (a suite), or measure their speed.',
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split('::')[1])
    parser.add_argument('suite', nargs='?', help='suite config, e.g. configs/benchmarks/demo.py')
    parser.add_argument('--work-dir', help='default: work_dirs/benchmarks/<suite name>')
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument('--budget', type=float, help='training seconds per run (equal '
                        'wall-clock: what a user gets in N seconds)')
    budget.add_argument('--steps', type=int, help='iterations per run (reproducible across '
                        'machines)')
    budget.add_argument('--student-steps', type=int, help='student updates per run, whatever '
                        'an iteration of each method costs (the papers\' framing)')
    parser.add_argument('--seeds', type=int, help='runs per row (default: the suite\'s)')
    parser.add_argument('--only', nargs='+', metavar='METHOD', help='run these methods only')
    parser.add_argument('--rerun', action='store_true', help='ignore cached finished runs')
    parser.add_argument('--parallel', type=int, help='runs side by side (default: cores / '
                        'threads)')
    parser.add_argument('--threads', type=int, help='threads per run (default: the suite\'s)')
    parser.add_argument('--cache-dir', help='where trained teachers are cached (default: '
                        'work_dirs/benchmarks/teachers)')
    parser.add_argument('--speed', nargs='+', metavar='CONFIG',
                        help='per-iteration speed breakdown of these configs instead of a suite')
    parser.add_argument('--iters', type=int, default=10, help='--speed: measured iterations')
    parser.add_argument('--warmup', type=int, default=3, help='--speed: iterations not measured')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='--speed: overrides of the measured configs, e.g. '
                        'model.channels_last=True')
    parser.add_argument('--formats', action='store_true', help='--speed: also time teacher '
                        'forward and student train step in fp32 / channels-last / bf16')
    parser.add_argument('--teacher', help='teacher checkpoint: with a SUITE, used instead of '
                        'training the suite\'s teacher; with --speed, default random weights '
                        '(speed does not depend on them)')
    args = parser.parse_args(argv)
    if not args.speed and not args.suite:
        parser.error('give a SUITE, or --speed CONFIG...')
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.speed:
        from densekd.benchmark.speed import print_formats, print_speed, speed_report
        rows = [speed_report(c, iters=args.iters, warmup=args.warmup, threads=args.threads or 2,
                             teacher=args.teacher, formats=args.formats,
                             cfg_options=args.cfg_options) for c in args.speed]
        print_speed(rows)
        print_formats(rows)
        return rows
    suite = load_suite(args.suite)
    out = args.work_dir or osp.join(ROOT, 'work_dirs', 'benchmarks', suite.name)
    results = run_suite(suite, osp.abspath(out), budget_s=args.budget, steps=args.steps,
                        seeds=args.seeds, rerun=args.rerun, parallel=args.parallel,
                        threads=args.threads, only=args.only, cache_dir=args.cache_dir,
                        teacher_checkpoint=args.teacher,
                        command=format_command(argv), student_steps=args.student_steps)
    with open(osp.join(out, results['files']['md'])) as f:
        print('\n' + f.read())
    print(f'results in {out}/ ({", ".join(results["files"].values())}); '
          f'wall time {results["wall_s"]:.0f} s')
    failed = [r['method'] for r in results['rows'] if r['status'] != 'done']
    if failed:
        print(f'failed rows: {failed} (see errors in results.json)')
    return results


if __name__ == '__main__':
    main()
