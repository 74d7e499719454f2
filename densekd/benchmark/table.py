"""Turn finished benchmark jobs into rows: mean ± std over seeds, gap closed, speed, memory."""
from __future__ import annotations

import math
import statistics
from typing import Dict, List, Optional

from mmengine.config import Config

from .jobs import Job


def _mean_std(values: List[float]) -> tuple:
    if not values:
        return None, None
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else 0.0)


def _round(value, digits=2):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) \
        else round(value, digits)


def final_metrics(summary: dict) -> dict:
    """The metrics of a run's last evaluation (empty when it never evaluated)."""
    evals = summary.get('evals') or []
    return evals[-1]['metrics'] if evals else {}


def describe_data(config: Config) -> str:
    """What a config really trains on, named from its train dataset (the pool it uses)."""
    from densekd.utils.ood_root import apply_ood_root
    apply_ood_root(config)  # a config's ood_root is the pool it really uses
    dataset = config.train_dataloader.dataset
    text = _describe_dataset(dataset)
    model_type = config.model.get('type', '')
    if model_type in ('DFAD', 'DAFL'):
        return 'generated (data-free)'
    if 'generator' in config.model:
        text += ' + generated'
    return text


def _describe_dataset(dataset: dict) -> str:
    kind = dataset.get('type', '?')
    if kind == 'SynthRoomsDataset':
        return f'SynthRooms {dataset.get("split", "train")} images ({dataset.get("data_root")})'
    if kind == 'BundledPhotosDataset':
        from densekd.datasets.ood import bundled_photo_files
        sources = dataset.get('sources', ('skimage', 'sklearn'))
        files = list(bundled_photo_files(sources))
        names = ', '.join(sorted({s for s, _ in files}))
        if set(sources) <= {'skimage', 'sklearn'}:
            return f'{len(files)} bundled photos ({names})'
        return f'{len(files)} photos from {names}'
    if kind == 'SynthRoomsCollageDataset':
        return (f'SynthRooms collages, tiles of {dataset.get("num_sources", 200)} renders '
                f'({dataset.get("data_root")})')
    if kind == 'ImageFolderDataset':
        return f'image folder {dataset.get("data_root")}'
    if kind == 'NYUv2Dataset':
        return f'NYUv2 {dataset.get("split", "train")} images'
    if kind == 'NoDataDataset':
        return 'none'
    if kind == 'MixedImagesDataset':
        return ' + '.join(_describe_dataset(d) for d in dataset.get('datasets', []))
    if kind == 'EntropySubsetDataset':
        return 'entropy subset of ' + _describe_dataset(dataset.get('dataset', {}))
    return kind


def method_row(name: str, config: str, jobs: List[Job], data: str, teacher_miou: Optional[float],
               budget_s: Optional[float], steps: Optional[int],
               student_steps: Optional[int] = None) -> dict:
    """One table row from the seeds of one method."""
    done = [j for j in jobs if j.status == 'done']
    failed = [j for j in jobs if j.status != 'done']
    summaries = [j.summary() for j in done]
    mious = [final_metrics(s).get('mIoU') for s in summaries]
    mious = [m for m in mious if m is not None]
    mean, std = _mean_std(mious)
    per_class: Dict[str, float] = {}
    for s in summaries:
        for k, v in final_metrics(s).items():
            if k.startswith('IoU.') and v is not None and not math.isnan(v):
                per_class.setdefault(k[4:], []).append(v)
    student_steps = [s.get('steps', {}).get('student', s.get('iter', 0)) for s in summaries]
    gen_steps = [s.get('steps', {}).get('generator') for s in summaries]
    train_s = [s.get('train_seconds', 0.0) for s in summaries]
    speeds = [n / t for n, t in zip(student_steps, train_s) if t]
    return dict(
        method=name, config=config, status='done' if done and not failed else
        ('failed' if not done else 'partial'),
        data=data, budget_s=budget_s, budget_steps=steps, budget_student_steps=student_steps,
        seeds=[j.seed for j in done], failed_seeds=[j.seed for j in failed],
        errors=[j.error for j in failed],
        miou_per_seed=[_round(m) for m in mious], miou_mean=_round(mean), miou_std=_round(std),
        per_class_iou={k: _round(statistics.fmean(v)) for k, v in per_class.items()},
        pct_teacher=_round(100 * mean / teacher_miou) if mean is not None and teacher_miou
        else None,
        gap_closed=None,
        steps=_round(statistics.fmean(student_steps), 1) if student_steps else None,
        generator_steps=_round(statistics.fmean(gen_steps), 1)
        if gen_steps and None not in gen_steps else None,
        train_s=_round(statistics.fmean(train_s), 1) if train_s else None,
        steps_per_s=_round(statistics.fmean(speeds), 3) if speeds else None,
        peak_rss_mb=_round(max(j.peak_rss_mb for j in done), 0) if done else None,
        wall_s=_round(statistics.fmean(j.wall_s for j in done), 1) if done else None,
        curve=curve(summaries))


def curve(summaries: List[dict]) -> List[dict]:
    """mIoU against student (and generator) steps: mean and std over seeds per evaluation."""
    points = {}
    for s in summaries:
        for k, e in enumerate(s.get('evals') or []):
            if 'mIoU' in e['metrics']:
                steps = e['steps'].get('student', e['iter'])
                points.setdefault(k, []).append((steps, e['steps'].get('generator'),
                                                 e['train_seconds'], e['metrics']['mIoU']))
    out = []
    for k in sorted(points):
        steps, gen_steps, seconds, mious = zip(*points[k])
        mean, std = _mean_std(list(mious))
        out.append(dict(steps=_round(statistics.fmean(steps), 1),
                        generator_steps=None if None in gen_steps
                        else _round(statistics.fmean(gen_steps), 1),
                        train_s=_round(statistics.fmean(seconds), 1),
                        miou_mean=_round(mean), miou_std=_round(std), n=len(mious)))
    return out


def add_gap_closed(rows: List[dict], lower: Optional[str], upper: Optional[str]) -> None:
    """``gap_closed = 100 (row - lower) / (upper - lower)`` for every row, in place."""
    by_name = {r['method']: r for r in rows}
    if lower not in by_name or upper not in by_name:
        return
    lo, hi = by_name[lower]['miou_mean'], by_name[upper]['miou_mean']
    if lo is None or hi is None or hi == lo:
        return
    for row in rows:
        if row['miou_mean'] is not None:
            row['gap_closed'] = _round(100 * (row['miou_mean'] - lo) / (hi - lo), 1)


def add_baseline_margins(rows: List[dict], upper: Optional[str]) -> None:
    """For rows with a ``baseline``: margin over it, whether it is significant, gap closed.

    ``margin = mean - baseline mean``; ``beats_baseline`` when the margin exceeds the two rows'
    standard deviations combined; ``gap_closed`` is then measured from the baseline row
    (``100 (row - baseline) / (upper - baseline)``), in place.
    """
    by_name = {r['method']: r for r in rows}
    for row in rows:
        base = by_name.get(row.get('baseline'))
        if base is None or row['miou_mean'] is None or base['miou_mean'] is None:
            continue
        margin = row['miou_mean'] - base['miou_mean']
        spread = (row['miou_std'] or 0.0) + (base['miou_std'] or 0.0)
        row.update(margin=_round(margin), margin_spread=_round(spread),
                   beats_baseline=bool(margin > spread))
        top = by_name.get(upper)
        if (top is not None and top['miou_mean'] is not None
                and top['miou_mean'] != base['miou_mean']):
            row['gap_closed'] = _round(
                100 * margin / (top['miou_mean'] - base['miou_mean']), 1)


def budget_text(budget: dict) -> str:
    """A run's budget in words: seconds, student steps or iterations per run."""
    if budget['seconds']:
        return f'{budget["seconds"]:.0f} s of training per run'
    if budget.get('student_steps'):
        return f'{budget["student_steps"]} student steps per run'
    return f'{budget["steps"]} iterations per run'


def markdown(results: dict) -> str:
    """The results as a Markdown table, with the command and the budget."""
    budget_s = budget_text(results['budget'])
    seeds = results['seeds']
    lower, upper = results.get('lower'), results.get('upper')
    gap = (f' Gap closed = (row − {lower}) / ({upper} − {lower}), or from the row\'s own '
           f'baseline where it names one (vs baseline: margin, and ✓ where it exceeds the two '
           f'rows\' std combined).' if lower and upper else '')
    lines = [f'# {results["suite"]}', '', results.get('description', ''), '',
             f'Budget: {budget_s}; {seeds} seed{"s" if seeds != 1 else ""} per row, mean ± std '
             f'(each seed\'s value in brackets).{gap}', '',
             f'Command: `{results["command"]}`  ', f'Code version {results["code_version"]}, '
             f'{results["created"]}, {results["machine"]}.', '',
             '| method | data | mIoU % | seeds | % of teacher | gap closed | vs baseline | '
             'student steps | generator steps | train s | steps/s | peak RSS MB |',
             '|---|---|---|---|---|---|---|---|---|---|---|---|']
    t = results['teacher']
    lines.append(f'| {t["method"]} | {t["data"]} | {_fmt(t["miou"])} | 1 | 100 | | | '
                 f'{_fmt(t.get("steps"), 0)} | | {_fmt(t.get("train_s"), 0)} | | '
                 f'{_fmt(t.get("peak_rss_mb"), 0)} |')
    for r in results['rows']:
        miou = (f'{r["miou_mean"]:.2f} ± {r["miou_std"]:.2f}' if r['miou_mean'] is not None
                else r['status'])
        seeds = ', '.join(f'{m:.2f}' for m in r['miou_per_seed'])
        if r['failed_seeds']:
            seeds += f'; failed: {r["failed_seeds"]}'
        gap = f'{r["gap_closed"]:.0f}%' if r['gap_closed'] is not None else ''
        versus = ''
        if r.get('margin') is not None:
            versus = (f'{r["margin"]:+.2f} vs {r["baseline"]} (std {r["margin_spread"]:.2f})'
                      f'{" ✓" if r["beats_baseline"] else ""}')
        lines.append(f'| {r["method"]} | {r["data"]} | {miou} | [{seeds}] | '
                     f'{_fmt(r["pct_teacher"], 1)} | {gap} | {versus} | {_fmt(r["steps"], 0)} | '
                     f'{_fmt(r["generator_steps"], 0)} | {_fmt(r["train_s"], 0)} | '
                     f'{_fmt(r["steps_per_s"], 2)} | {_fmt(r["peak_rss_mb"], 0)} |')
    return '\n'.join(lines) + '\n'


def _fmt(value, digits: int = 2) -> str:
    return '' if value is None else f'{value:.{digits}f}'
