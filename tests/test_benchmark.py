"""tools/benchmark.py on a tiny suite: results fields, caching, a failed row, the figures."""
import json
import os
import os.path as osp
import textwrap

import pytest

from densekd.benchmark.suite import load_suite
from tests.helpers import ROOT, TINY_SEGMENTOR, load_tool, tiny_data_body, write_config

# Only the tests that run the tiny suite through tools/benchmark.py are end to end.
e2e = pytest.mark.e2e

ROW_FIELDS = {'method', 'config', 'teacher', 'data', 'budget_s', 'budget_steps', 'steps',
              'generator_steps', 'seeds', 'miou_per_seed', 'miou_mean', 'miou_std',
              'per_class_iou', 'pct_teacher', 'gap_closed', 'steps_per_s', 'peak_rss_mb',
              'wall_s', 'train_s', 'curve', 'status', 'failed_seeds', 'errors',
              'budget_student_steps', 'baseline'}


@pytest.fixture(scope='module')
def tiny_suite(tmp_path_factory, synthrooms_root):
    tmp = tmp_path_factory.mktemp('suite')
    data = tiny_data_body(synthrooms_root)
    teacher = write_config(tmp, 'teacher/deeplabv3plus_r18_synthrooms-96x128.py',
                           data + textwrap.dedent(f"""
        model = dict(segmentor={TINY_SEGMENTOR!r})
        train_cfg = dict(max_iters=20, val_interval=20)
        param_scheduler = [dict(type='CosineAnnealingLR', T_max=20, by_epoch=False)]
        default_hooks = dict(checkpoint=dict(interval=20))
    """))
    models = textwrap.dedent(f"""
        model = dict(teacher=dict(_delete_=True, checkpoint='set by the benchmark',
                                  **{TINY_SEGMENTOR!r}),
                     student=dict(_delete_=True, **{TINY_SEGMENTOR!r}))
    """)
    kd = write_config(tmp, 'kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py', data + models)
    photos = textwrap.dedent("""
        train_dataloader = dict(dataset=dict(num_samples=64, crop_size=(64, 64)))
    """)
    blind = write_config(tmp, 'kd/kd-blind_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py',
                         data + models + photos)
    broken = write_config(tmp, 'kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py',
                          data + models + "model.update(losses=dict(kd=dict(type='NoSuchLoss')))\n")
    suite = osp.join(str(tmp), 'tiny_suite.py')
    with open(suite, 'w') as f:
        f.write(textwrap.dedent(f"""
            teacher = dict(name='teacher', config={teacher!r})
            methods = [dict(name='KD-ORI', config={kd!r}),
                       dict(name='blind KD', config={blind!r}),
                       dict(name='broken', config={broken!r})]
            steps = 6
            seeds = 2
            num_evals = 2
            lower, upper = 'blind KD', 'KD-ORI'
        """))
    return dict(suite=suite, out=str(tmp / 'bench'), cache=str(tmp / 'teachers'))


@pytest.fixture(scope='module')
def first_run(tiny_suite):
    args = [tiny_suite['suite'], '--work-dir', tiny_suite['out'], '--cache-dir',
            tiny_suite['cache'], '--parallel', '2']
    return load_tool('benchmark').main(args), args


@e2e
def test_results_json_has_every_field(first_run, tiny_suite):
    results, _ = first_run
    with open(osp.join(tiny_suite['out'], 'results.json')) as f:
        on_disk = json.load(f)
    assert on_disk['rows'] == results['rows']
    assert on_disk['teacher']['miou'] is not None and on_disk['budget'] == dict(
        seconds=None, steps=6, student_steps=None)
    rows = {r['method']: r for r in on_disk['rows']}
    for row in rows.values():
        assert ROW_FIELDS <= set(row), ROW_FIELDS - set(row)
    kd = rows['KD-ORI']
    assert kd['status'] == 'done' and kd['seeds'] == [0, 1] and len(kd['miou_per_seed']) == 2
    assert kd['steps'] == 6 and kd['generator_steps'] is None
    assert kd['miou_mean'] == pytest.approx(sum(kd['miou_per_seed']) / 2, abs=0.01)
    assert [p['steps'] for p in kd['curve']] == [3, 6]  # two evaluations per run
    assert set(kd['per_class_iou']) <= set(on_disk['teacher']['per_class_iou'])
    assert kd['peak_rss_mb'] > 100 and kd['steps_per_s'] > 0
    assert rows['blind KD']['data'].endswith('bundled photos (skimage, sklearn)')
    assert rows['KD-ORI']['gap_closed'] == 100.0 and rows['blind KD']['gap_closed'] == 0.0
    for name in ('results.md', 'miou.png', 'curves.png', 'samples.png'):
        assert os.path.getsize(osp.join(tiny_suite['out'], name)) > 0, name


@e2e
def test_failed_row_is_reported_and_does_not_stop_the_others(first_run):
    results, _ = first_run
    broken = next(r for r in results['rows'] if r['method'] == 'broken')
    assert broken['status'] == 'failed' and broken['failed_seeds'] == [0, 1]
    assert broken['miou_mean'] is None and 'NoSuchLoss' in broken['errors'][0]
    assert all(r['status'] == 'done' for r in results['rows'] if r['method'] != 'broken')


@e2e
def test_markdown_table_lists_every_row(first_run, tiny_suite):
    with open(osp.join(tiny_suite['out'], 'results.md')) as f:
        text = f.read()
    for name in ('| teacher |', '| KD-ORI |', '| blind KD |', '| broken |'):
        assert name in text


@e2e
def test_a_second_run_reuses_finished_rows(first_run, tiny_suite, capsys):
    _, args = first_run
    log = osp.join(tiny_suite['out'], 'runs', 'KD-ORI', 'seed0', 'train.log')
    before = os.stat(log).st_mtime_ns
    load_tool('benchmark').main(args + ['--only', 'KD-ORI'])
    assert os.stat(log).st_mtime_ns == before  # not run again
    out = capsys.readouterr().out
    assert 'cached: KD-ORI seed 0' in out and 'cached: KD-ORI seed 1' in out


def test_suite_errors_name_the_key(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("teacher = dict(name='t', config='configs/teacher/nope.py')\nmethods = []\n")
    with pytest.raises(FileNotFoundError, match='nope.py'):
        load_suite(str(bad))
    bad.write_text("methods = []\n")
    with pytest.raises(ValueError, match="'teacher'"):
        load_suite(str(bad))


def test_shipped_suites_load():
    for name in ('demo', 'synthrooms_cpu'):
        suite = load_suite(osp.join(ROOT, 'configs', 'benchmarks', f'{name}.py'))
        assert suite.budget_s and {'KD-ORI', 'blind KD', 'MosaicKD'} <= {
            m.name for m in suite.methods}
    tier = load_suite(osp.join(ROOT, 'configs', 'benchmarks', 'synthrooms_48x64.py'))
    assert {m.name: m.baseline for m in tier.methods if m.baseline} == {
        'MosaicKD (related)': 'KD-REL', 'MosaicKD (unrelated)': 'blind KD'}


def test_every_shipped_suite_loads_and_names_existing_configs():
    import glob
    suites = sorted(glob.glob(osp.join(ROOT, 'configs', 'benchmarks', '*.py')))
    assert len(suites) >= 7
    for path in suites:
        suite = load_suite(path)
        for method in [suite.teacher, *suite.methods]:
            assert osp.isfile(osp.join(ROOT, method.config)), (path, method.config)
    seeds = load_suite(osp.join(ROOT, 'configs', 'benchmarks', 'synthrooms_48x64_seed_methods.py'))
    assert (seeds.lower, seeds.upper, seeds.student_steps) == ('blind KD', 'KD-ORI', 1000)


def test_a_given_teacher_is_keyed_by_its_content(tmp_path):
    from densekd.benchmark.harness import given_teacher
    path = tmp_path / 'teacher.pth'
    path.write_bytes(b'weights one')
    job = given_teacher(str(path))
    assert job.status == 'done' and job.weights == str(path)
    path.write_bytes(b'weights two')
    assert given_teacher(str(path)).key != job.key  # other weights, other cached rows
    with pytest.raises(FileNotFoundError, match='--teacher'):
        given_teacher(str(tmp_path / 'missing.pth'))


def _row(name, mean, std, baseline=None):
    return dict(method=name, miou_mean=mean, miou_std=std, baseline=baseline, gap_closed=None)


def test_a_row_is_measured_against_its_own_baseline():
    from densekd.benchmark.table import add_baseline_margins, add_gap_closed
    rows = [_row('KD-ORI', 30.0, 1.0), _row('blind KD', 10.0, 0.5), _row('KD-REL', 20.0, 1.0),
            _row('M-unrel', 11.0, 0.2, 'blind KD'), _row('M-rel', 25.0, 1.5, 'KD-REL')]
    add_gap_closed(rows, 'blind KD', 'KD-ORI')
    add_baseline_margins(rows, 'KD-ORI')
    by = {r['method']: r for r in rows}
    # +1.0 over blind KD is within 0.2 + 0.5? no: 1.0 > 0.7, so it beats it, closing 5%.
    assert by['M-unrel']['margin'] == 1.0 and by['M-unrel']['beats_baseline']
    assert by['M-unrel']['gap_closed'] == 5.0
    # Measured from KD-REL, not from blind KD: (25 - 20) / (30 - 20).
    assert by['M-rel']['gap_closed'] == 50.0 and by['M-rel']['margin_spread'] == 2.5
    assert by['KD-REL']['gap_closed'] == 50.0 and 'margin' not in by['KD-REL']
    rows[3]['miou_mean'] = 10.6  # +0.6 < 0.7 combined std: not a win
    add_baseline_margins(rows, 'KD-ORI')
    assert not rows[3]['beats_baseline']


def test_student_step_budget_converts_per_method(tmp_path):
    from densekd.benchmark.harness import iterations_for
    dfad = 'configs/dfad/dfad_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64.py'
    kd = 'configs/kd/kd-ori_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64.py'
    assert iterations_for(dfad, 1000) == 200  # 5 student steps per DFAD iteration
    assert iterations_for(dfad, 1001) == 201  # never fewer student steps than asked
    assert iterations_for(kd, 1000) == 1000


def test_a_baseline_must_be_a_row(tmp_path):
    bad = tmp_path / 'bad.py'
    kd = 'configs/kd/kd-ori_dlv3p-r10t_dlv3p-mbv3s050_synthrooms-48x64.py'
    bad.write_text(f"teacher = dict(name='t', config={kd!r})\n"
                   f"methods = [dict(name='a', config={kd!r}, baseline='nope')]\nsteps = 1\n")
    with pytest.raises(ValueError, match="baseline='nope'"):
        load_suite(str(bad))
