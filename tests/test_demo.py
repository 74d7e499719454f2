"""tools/demo.py: the budgeted config each method runs with."""
from mmengine.config import Config

from conftest import load_tool

demo = load_tool('demo')


def test_budget_config_anneals_in_time_and_merges_overrides(tmp_path):
    config, _, s_per_iter = demo.METHODS['MosaicKD']
    out = demo.budget_config(config, str(tmp_path / 'cfg.py'), 120, s_per_iter, False,
                             {'model.student_steps': 2})
    cfg = Config.fromfile(out)
    assert cfg.param_scheduler is None
    hook = [h for h in cfg.custom_hooks if h['type'] == 'TimeBudgetHook']
    assert hook == [dict(type='TimeBudgetHook', seconds=120, anneal_eta_min=1e-5)]
    assert cfg.model.student_steps == 2
    expected = int(120 / s_per_iter)
    assert cfg.train_cfg.max_iters > expected  # the budget, not the cap, ends the run
    samples = [h for h in cfg.custom_hooks if h['type'] == 'GeneratorSamplesHook']
    assert samples[0]['interval'] == expected // 4


def test_quick_runs_stop_after_four_iterations(tmp_path):
    config, _, s_per_iter = demo.METHODS['KD-ORI']
    cfg = Config.fromfile(demo.budget_config(config, str(tmp_path / 'cfg.py'), 120, s_per_iter,
                                             True))
    assert cfg.train_cfg.max_iters == cfg.train_cfg.val_interval == 4
