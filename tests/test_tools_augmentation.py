"""End to end through tools/analyze_augmentation.py: T. stddev of two augmentation configs."""
import json
import textwrap

import pytest

from densekd.evaluation import teacher_t_stddev
from tests.helpers import TINY_SEGMENTOR, load_tool, write_config, write_tiny_segmentor

pytestmark = pytest.mark.e2e

IDENTITY = 'augmentation/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos_identity.py'
STRONG = 'augmentation/kd-blind_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64_photos_strong.py'


def tiny_body(checkpoint: str, num_samples: int = 24) -> str:
    """The real pipeline of the config on a few 48x64 crops of two photos, a tiny teacher."""
    return textwrap.dedent(f"""
        model = dict(teacher=dict(_delete_=True, checkpoint={checkpoint!r}, **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
        train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False,
                                dataset=dict(num_samples={num_samples}, sources=['sklearn']))
    """)


@pytest.fixture(scope='module')
def teacher(tmp_path_factory):
    return write_tiny_segmentor(tmp_path_factory.mktemp('aug_teacher'), seed=0)


def table_rows(stdout: str):
    """(rank, pipeline, T. stddev) of the printed table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ['rank', 'pipeline'])
    rows = []
    for line in lines[start + 1:]:
        parts = line.split()
        if not parts or not parts[0].isdigit():
            break
        rows.append((int(parts[0]), parts[1], float(parts[2])))
    return rows


def test_ranking_printed_matches_the_json(teacher, tmp_path, capsys):
    # The config names its teacher file as missing: --teacher replaces it.
    missing = str(tmp_path / 'no_such_teacher.pth')
    configs = [write_config(tmp_path, STRONG, tiny_body(missing)),
               write_config(tmp_path, IDENTITY, tiny_body(missing))]
    out = tmp_path / 'res' / 'tstd.json'
    rows = load_tool('analyze_augmentation').main(
        configs + ['--teacher', teacher, '--epochs', '2', '--group-batches', '2', '--out',
                   str(out), '--no-progress'])
    printed = table_rows(capsys.readouterr().out)
    saved = json.loads(out.read_text())
    results = saved['results']
    assert [r['config'] for r in rows] == [r['config'] for r in results]
    assert sorted(r['config'] for r in results) == sorted(configs)
    values = [r['t_stddev'] for r in results]
    assert values == sorted(values) and values[0] < values[1]  # two different pipelines
    assert [(r['rank'], r['pipeline']) for r in results] == [p[:2] for p in printed]
    for (_, _, shown), r in zip(printed, results):
        assert shown == pytest.approx(r['t_stddev'], rel=1e-3)
    # 24 images, batch 4, 2 epochs = 12 batches = 6 groups of 2 batches.
    assert all(r['groups'] == 6 and r['images'] == 48 for r in results)
    assert all(0 < r['mean_entropy'] <= 2.565 for r in results)  # <= ln 13
    assert saved['epochs'] == 2 and saved['group_batches'] == 2 and saved['teacher'] == teacher
    # Same settings, same numbers: the seed fixes order, augmentation and nothing else varies.
    again = teacher_t_stddev(configs[0], teacher=teacher, epochs=2, group_batches=2,
                             progress=False)
    first = next(r for r in results if r['config'] == configs[0])
    assert again['t_stddev'] == pytest.approx(first['t_stddev'], rel=1e-9)


def test_original_stream_doubles_the_images_and_identity_has_one_stream(teacher, tmp_path):
    strong = write_config(tmp_path, STRONG, tiny_body(teacher))
    identity = write_config(tmp_path, IDENTITY, tiny_body(teacher))
    kwargs = dict(epochs=1, group_batches=2, progress=False, include_original=True)
    both = teacher_t_stddev(strong, **kwargs)
    assert both['streams'] == 'original+augmented'
    assert both['images'] == 48 and both['groups'] == 3  # 6 batches of 4 + 4 images
    plain = teacher_t_stddev(identity, **kwargs)
    assert plain['streams'] == 'augmented' and plain['images'] == 24


def test_missing_files_and_too_few_groups_are_clear_errors(teacher, tmp_path):
    tool = load_tool('analyze_augmentation')
    with pytest.raises(SystemExit, match='config file .*nope.py does not exist'):
        tool.main([str(tmp_path / 'nope.py')])
    missing = str(tmp_path / 'no_such_teacher.pth')
    cfg = write_config(tmp_path, IDENTITY, tiny_body(missing))
    with pytest.raises(SystemExit, match='model.teacher.checkpoint .*no_such_teacher.pth does '
                                         'not exist.*--random-teacher'):
        tool.main([cfg])
    with pytest.raises(SystemExit, match='teacher .*other.pth does not exist'):
        tool.main([cfg, '--teacher', str(tmp_path / 'other.pth')])
    with pytest.raises(SystemExit, match='fewer than 2 groups of 5 batches'):
        tool.main([cfg, '--teacher', teacher, '--epochs', '1', '--no-progress'])


def test_students_results_give_the_rank_correlation(teacher, tmp_path, capsys):
    """--students reads a benchmark results.json of the same configs and prints Spearman's rho
    of T. stddev with the students' mIoU (mean and per seed)."""
    jitter = IDENTITY.replace('_identity', '_jitter')
    configs = [write_config(tmp_path, name, tiny_body(teacher))
               for name in (IDENTITY, STRONG, jitter)]
    tool = load_tool('analyze_augmentation')
    args = configs + ['--epochs', '2', '--group-batches', '2', '--no-progress']
    ranked = [r['config'] for r in tool.main(args)]
    capsys.readouterr()
    # Students in the reverse order of T. stddev (the best student has the lowest T. stddev),
    # except seed 1, which is in the same order.
    miou = {c: 30.0 - 10 * i for i, c in enumerate(ranked)}
    rows = [dict(method=f'm{i}', config=c, miou_mean=miou[c],
                 miou_per_seed=[miou[c], 100 - miou[c]]) for i, c in enumerate(configs)]
    results = tmp_path / 'results.json'
    results.write_text(json.dumps(dict(rows=rows)))
    out = tmp_path / 'tstd.json'
    tool.main(args + ['--students', str(results), '--out', str(out)])
    printed = capsys.readouterr().out
    assert 'Spearman rho of T. stddev with student mIoU' in printed
    assert '-1.00 over the seeds\' means; per seed: -1.00, +1.00' in printed
    saved = json.loads(out.read_text())
    assert saved['spearman'] == dict(mean=pytest.approx(-1.0), per_seed=[
        pytest.approx(-1.0), pytest.approx(1.0)])
    assert [r['student']['miou_mean'] for r in saved['results']] == [30.0, 20.0, 10.0]
    # A results file without a row for one of the configs is an error naming it.
    results.write_text(json.dumps(dict(rows=rows[:2])))
    with pytest.raises(SystemExit, match=f'no finished row for {configs[2]}'):
        tool.main(args + ['--students', str(results)])
