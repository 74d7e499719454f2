"""Loss and metric curves from mmengine's ``scalars.json`` (one or more runs, one PNG).

mmengine's ``LocalVisBackend`` writes ``<work_dir>/<timestamp>/vis_data/scalars.json``: one
JSON object per line, training rows (``loss``, ``lr``, ..., ``iter``, ``step``) at the logged
iterations and validation rows (``mIoU``, ``aAcc``, ``IoU.<class>``, ..., ``step``) at each
evaluation; ``step`` is the training iteration in both.
"""
from __future__ import annotations

import fnmatch
import glob
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

SCALARS = osp.join('vis_data', 'scalars.json')
#: Columns that are bookkeeping, never curves.
_NOT_CURVES = {'step', 'iter', 'epoch'}


def find_scalars(path: str) -> str:
    """The ``scalars.json`` that ``path`` names.

    Args:
        path: a ``scalars.json`` file, a run's ``<timestamp>`` folder, or a work dir (its newest
            ``<timestamp>/vis_data/scalars.json``, timestamps compared by name).

    Returns:
        Path of the file.

    Raises:
        FileNotFoundError: nothing to read there.
    """
    if osp.isfile(path):
        return path
    if not osp.isdir(path):
        raise FileNotFoundError(f'{path} is neither a scalars.json file nor a folder')
    if osp.isfile(osp.join(path, SCALARS)):
        return osp.join(path, SCALARS)
    found = sorted(glob.glob(osp.join(glob.escape(path), '*', SCALARS)))
    if not found:
        raise FileNotFoundError(f'no <timestamp>/{SCALARS} under {path} (is it a work dir of '
                                f'tools/train.py?)')
    return found[-1]


def load_scalars(path: str) -> List[dict]:
    """The rows of a ``scalars.json`` (blank lines skipped).

    Raises:
        ValueError: a line is not a JSON object (names the file and line).
    """
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f'{path}:{number}: not a JSON line ({e.msg})') from None
            if not isinstance(row, dict):
                raise ValueError(f'{path}:{number}: expected a JSON object, got {row!r:.40}')
            rows.append(row)
    return rows


def run_name(scalars_path: str) -> str:
    """A run's legend name: its work dir's name, or the file's stem outside that layout."""
    vis_data = osp.dirname(osp.abspath(scalars_path))
    if osp.basename(vis_data) != 'vis_data':
        return osp.splitext(osp.basename(scalars_path))[0]
    work_dir = osp.dirname(osp.dirname(vis_data))  # <work_dir>/<timestamp>/vis_data
    return osp.basename(work_dir)


def match_columns(columns: Sequence[str], key: str) -> List[str]:
    """The columns a ``--keys`` entry selects, in ``columns`` order.

    ``key`` selects the column of that name, the columns ending in ``.<key>`` (``loss`` also
    plots a distiller's ``student.loss``, ``gen.loss`` and ``disc.loss``), or, when it holds
    ``*``, ``?`` or ``[``, the columns it matches as a shell pattern (``'IoU.*'``).
    """
    if any(c in key for c in '*?['):
        return [c for c in columns if fnmatch.fnmatchcase(c, key) and c not in _NOT_CURVES]
    return [c for c in columns if c == key or c.endswith('.' + key)]


def curve(rows: Sequence[dict], column: str) -> Tuple[List[float], List[float]]:
    """``(steps, values)`` of the rows that hold ``column`` (a row without ``step`` is skipped)."""
    points = [(row['step'], row[column]) for row in rows
              if column in row and 'step' in row and isinstance(row[column], (int, float))]
    return [float(s) for s, _ in points], [float(v) for _, v in points]


def plot_curves(paths: Sequence[str], out: str, keys: Sequence[str] = ('loss', 'mIoU'),
                labels: Optional[Sequence[str]] = None) -> Dict[str, List[str]]:
    """Plot one panel per key, one line per run and matched column, to a PNG.

    Args:
        paths: runs, each a ``scalars.json``, a ``<timestamp>`` folder or a work dir
            (:func:`find_scalars`).
        out: the PNG to write (folders created).
        keys: what to plot (:func:`match_columns`).
        labels: legend names, one per path; the work dirs' names by default (with the
            timestamp folder added when two runs share a name).

    Returns:
        For each key, the ``'<run>: <column>'`` lines drawn.

    Raises:
        FileNotFoundError: a path holds no ``scalars.json``.
        ValueError: no keys, labels of the wrong length, or a key that no run logged (the
            error lists the columns there are).
    """
    from matplotlib.figure import Figure  # Agg canvas, no display and no pyplot state

    if not keys:
        raise ValueError('no keys to plot')
    files = [find_scalars(p) for p in paths]
    if labels is not None and len(labels) != len(files):
        raise ValueError(f'got {len(labels)} labels for {len(files)} runs')
    if labels is None:
        labels = [run_name(f) for f in files]
        if len(set(labels)) < len(labels):  # same work dir name: tell the runs apart
            labels = [f'{n} ({osp.basename(osp.dirname(osp.dirname(f)))})'
                      for n, f in zip(labels, files)]
    runs = [(label, load_scalars(f)) for label, f in zip(labels, files)]

    fig = Figure(figsize=(6.4, 2.8 * len(keys)), dpi=100)
    axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
    drawn: Dict[str, List[str]] = {}
    for ax, key in zip(axes, keys):
        drawn[key] = []
        for label, rows in runs:
            columns = list(dict.fromkeys(c for row in rows for c in row))
            for column in match_columns(columns, key):
                steps, values = curve(rows, column)
                if not steps:
                    continue
                name = label if column == key else f'{label}: {column}'
                ax.plot(steps, values, marker='o' if len(steps) < 30 else None, ms=3, lw=1.2,
                        label=name)
                drawn[key].append(f'{label}: {column}')
        if not drawn[key]:
            available = sorted({c for _, rows in runs for row in rows for c in row}
                               - _NOT_CURVES)
            raise ValueError(f'key {key!r}: no run logged it; columns: {", ".join(available)}')
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    axes[-1].set_xlabel('iteration')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out)
    return drawn
