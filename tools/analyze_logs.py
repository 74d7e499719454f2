"""Plot loss and mIoU curves of one or more runs: ``python tools/analyze_logs.py RUN [RUN ...]``.

Each RUN is a work dir (its newest ``<timestamp>/vis_data/scalars.json``), a ``<timestamp>``
folder or a ``scalars.json``; several runs are overlaid, named by their work dirs. Examples::

    python tools/analyze_logs.py work_dirs/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128
    python tools/analyze_logs.py work_dirs/kd-ori_* work_dirs/kd-blind_* --keys student.loss_kd \\
        mIoU --out curves.png
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a clone, too

from densekd.visualization.log_curves import plot_curves  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Plot training curves from scalars.json.')
    parser.add_argument('runs', nargs='+', help='work dirs, <timestamp> folders or '
                        'scalars.json files')
    parser.add_argument('--keys', nargs='+', default=['loss', 'mIoU'],
                        help="columns to plot, one panel each: a name, its '.<name>' family "
                        "(loss: student.loss, gen.loss, ...) or a pattern such as 'IoU.*' "
                        '(default: loss mIoU)')
    parser.add_argument('--labels', nargs='+', help='legend names, one per run '
                        '(default: the work dir names)')
    parser.add_argument('--out', default='curves.png', help='PNG to write (default: curves.png)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        drawn = plot_curves(args.runs, args.out, keys=args.keys, labels=args.labels)
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(f'analyze_logs: {e}') from None
    for key, lines in drawn.items():
        print(f'{key}: {", ".join(lines)}')
    print(f'wrote {args.out}')
    return drawn


if __name__ == '__main__':
    main()
