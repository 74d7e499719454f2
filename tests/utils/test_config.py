"""densekd.utils.config: load_config's work dir order and overrides, apply_amp."""
import os.path as osp

import pytest
from mmengine.config import Config

from densekd.utils.config import ConfigKeyError, apply_amp, load_config
from tests.helpers import write_config

# Real shipped configs as bases, so the loaded configs are ones the tools really see.
TEACHER = 'teacher/deeplabv3plus_r18_synthrooms-96x128.py'
KD_ORI = 'kd/kd-ori_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128.py'
MOSAICKD = 'mosaickd/mosaickd_dlv3p-r18_dlv3p-mbv2_synthrooms-96x128_photos.py'


def test_work_dir_argument_wins(tmp_path):
    path = write_config(tmp_path, TEACHER, "work_dir = 'from_config'\n")
    cfg = load_config(path, cfg_options={'work_dir': 'from_options'}, work_dir='from_argument')
    assert cfg.work_dir == 'from_argument'


def test_then_the_configs_work_dir_after_overrides(tmp_path):
    path = write_config(tmp_path, TEACHER, "work_dir = 'from_config'\n")
    assert load_config(path).work_dir == 'from_config'
    # --cfg-options are merged first, so they may set it too.
    assert load_config(path, cfg_options={'work_dir': 'from_options'}).work_dir == 'from_options'


def test_then_work_dirs_slash_config_stem(tmp_path):
    path = write_config(tmp_path, TEACHER, '')
    stem = osp.splitext(osp.basename(path))[0]
    assert load_config(path).work_dir == osp.join('work_dirs', stem)
    # An explicit work_dir = None in the config counts as unset.
    none = write_config(tmp_path, TEACHER, 'work_dir = None\n')
    assert load_config(none).work_dir == osp.join(
        'work_dirs', osp.splitext(osp.basename(none))[0])


def test_cfg_options_merge_into_the_inherited_config(tmp_path):
    path = write_config(tmp_path, KD_ORI, '')
    base = load_config(path)
    cfg = load_config(path, cfg_options={'train_cfg.max_iters': 7,
                                         'model.losses.kd.tau': 4.0,
                                         'model.student.decoder_channels': 64})
    assert cfg.train_cfg.max_iters == 7 and base.train_cfg.max_iters != 7
    assert cfg.model.losses.kd.tau == 4.0
    assert cfg.model.student.decoder_channels == 64
    # Merged key by key: the siblings of an overridden key keep their inherited values.
    assert cfg.train_cfg.type == base.train_cfg.type == 'BudgetTrainLoop'
    assert cfg.model.losses.kd.loss_weight == base.model.losses.kd.loss_weight
    assert cfg.model.student.encoder_name == base.model.student.encoder_name
    assert cfg.model.teacher == base.model.teacher


def test_without_options_only_the_work_dir_is_added(tmp_path):
    path = write_config(tmp_path, KD_ORI, '')
    for options in (None, {}):
        loaded = load_config(path, cfg_options=options).to_dict()
        assert loaded.pop('work_dir')
        assert loaded == Config.fromfile(path).to_dict()


def test_missing_config_file_is_a_clear_error(tmp_path):
    missing = str(tmp_path / 'nope.py')
    with pytest.raises(FileNotFoundError, match=f'config file {missing} does not exist'):
        load_config(missing)


def test_misspelt_top_level_key_is_an_error(tmp_path):
    path = write_config(tmp_path, TEACHER, "modle = dict(type='Supervised')\n")
    with pytest.raises(ConfigKeyError, match=rf"^{path}: top-level key 'modle' is not a runner "
                                             r"setting.*did you mean 'model'\?"):
        load_config(path)


def test_config_variables_are_accepted(tmp_path):
    # Variables of a config file for its own use: far from any runner key, or private.
    path = write_config(tmp_path, TEACHER, "max_iters = 7\nood_dataset = dict()\n"
                                           "_modle = 1\ntier_crop = (48, 64)\n")
    assert load_config(path).max_iters == 7


def test_cfg_option_of_a_config_variable_is_an_error(tmp_path):
    path = write_config(tmp_path, TEACHER, '')
    with pytest.raises(ConfigKeyError,
                       match=r"^--cfg-options max_iters: 'max_iters' is a variable of the config "
                             r"file.*would change nothing; override the setting that uses it, "
                             r"e\.g\. train_cfg\.max_iters$"):
        load_config(path, cfg_options={'max_iters': 4})


def test_cfg_option_of_an_unknown_top_level_key_is_an_error(tmp_path):
    path = write_config(tmp_path, TEACHER, '')
    with pytest.raises(ConfigKeyError, match=r"^--cfg-options trian_cfg\.max_iters: 'trian_cfg' "
                                             r"is neither.*did you mean 'train_cfg'\?$"):
        load_config(path, cfg_options={'trian_cfg.max_iters': 4})


def test_cfg_option_through_a_missing_key_names_the_closest_sibling(tmp_path):
    path = write_config(tmp_path, TEACHER, '')
    with pytest.raises(ConfigKeyError, match=r"^--cfg-options default_hooks\.chekpoint\.interval: "
                                             r"default_hooks has no key 'chekpoint'; did you mean "
                                             r"'checkpoint'\? \(keys: timer, logger, "):
        load_config(path, cfg_options={'default_hooks.chekpoint.interval': 1})
    with pytest.raises(ConfigKeyError, match=r"param_scheduler is a list of 1; '2' is not an"):
        load_config(path, cfg_options={'param_scheduler.2.eta_min': 0.0})
    with pytest.raises(ConfigKeyError, match=r"train_cfg\.max_iters is 600, not a dict"):
        load_config(path, cfg_options={'train_cfg.max_iters.x': 0})


def test_valid_cfg_options_still_apply(tmp_path):
    cfg = load_config(write_config(tmp_path, TEACHER, ''), cfg_options={
        'experiment_name': 'run',  # a runner setting the config leaves at its default
        'model.segmentor.encoder_depth': 4,  # a new argument (the last key may be new)
        'param_scheduler.0.eta_min': 0.0,  # an index into a list
        'default_hooks.checkpoint.interval': 1})
    assert cfg.experiment_name == 'run' and cfg.model.segmentor.encoder_depth == 4
    assert cfg.param_scheduler[0].eta_min == 0.0 and cfg.default_hooks.checkpoint.interval == 1


def test_apply_amp_single_wrapper():
    cfg = Config(dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1),
                                         clip_grad=dict(max_norm=1.0))))
    apply_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.1)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=1.0)


def test_apply_amp_every_submodule_wrapper_and_keeps_a_given_loss_scale():
    cfg = Config(dict(optim_wrapper=dict(
        constructor='SubmoduleOptimConstructor',
        student=dict(optimizer=dict(type='AdamW', lr=1e-3)),
        generator=dict(optimizer=dict(type='Adam', lr=1e-3), loss_scale=512.0))))
    apply_amp(cfg)
    wrapper = cfg.optim_wrapper
    assert wrapper.constructor == 'SubmoduleOptimConstructor'
    assert wrapper.student.type == wrapper.generator.type == 'AmpOptimWrapper'
    assert wrapper.student.loss_scale == 'dynamic'
    assert wrapper.generator.loss_scale == 512.0


@pytest.mark.parametrize('base, names', [(TEACHER, None), (KD_ORI, ['student']),
                                         (MOSAICKD, ['discriminator', 'generator', 'student'])])
def test_apply_amp_on_shipped_configs(tmp_path, base, names):
    cfg = load_config(write_config(tmp_path, base, ''))
    apply_amp(cfg)
    optim = cfg.optim_wrapper
    if names is None:
        assert optim.type == 'AmpOptimWrapper'
    else:
        assert sorted(k for k in optim if k != 'constructor') == names
        assert all(optim[n].type == 'AmpOptimWrapper' for n in names)
