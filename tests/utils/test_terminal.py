"""The third-party deprecation filter and the terminal-only log filter."""
import logging
import sys
import warnings

from mmengine.utils import deprecated_api_warning

from densekd.utils.terminal import FileOnlyFilter, quiet_third_party_deprecations


@deprecated_api_warning({'old': 'new'})
def _mmengine_deprecated(new=0):
    return new


def _caught(monkeypatch, warnoptions):
    """The warnings raised after installing the filters under ``sys.warnoptions``."""
    monkeypatch.setattr(sys, 'warnoptions', warnoptions)
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter('always')
        installed = quiet_third_party_deprecations()
        # mmengine's own DeprecationWarning, raised inside mmengine.utils.misc
        assert _mmengine_deprecated(old=3) == 3
        warnings.warn('our own deprecation', DeprecationWarning)  # attributed to this module
        warnings.warn_explicit('mmengine user warning', UserWarning, 'runner.py', 1,
                               module='mmengine.runner.runner')
        warnings.warn_explicit('timm future change', FutureWarning, 'x.py', 1,
                               module='timm.layers')
        warnings.warn_explicit('torchvision is not filtered', FutureWarning, 'x.py', 1,
                               module='torchvision.models')
    return installed, [str(w.message) for w in caught]


def test_third_party_deprecations_hidden_real_warnings_shown(monkeypatch):
    installed, messages = _caught(monkeypatch, [])
    assert installed
    assert messages == ['our own deprecation', 'mmengine user warning',
                        'torchvision is not filtered']


def test_user_warning_options_win(monkeypatch):
    installed, messages = _caught(monkeypatch, ['default'])  # python -W default
    assert not installed
    assert len(messages) == 5 and any('"old" is deprecated' in m for m in messages)


def _record(msg):
    return logging.LogRecord('mmengine', logging.INFO, __file__, 1, msg, None, None)


def test_file_only_filter_drops_the_start_up_dump_only():
    keep = FileOnlyFilter().filter
    dump = ['\n' + '-' * 60 + '\nSystem environment:\n    sys.platform: linux',
            "Config:\nmodel = dict(type='KD')",
            'Hooks will be executed in the following order:\nbefore_run:',
            '"FileClient" will be deprecated in future. Please use io functions',
            'Dataset BundledPhotosDataset has no metainfo. ``dataset_meta`` in visualizer will '
            'be None.']
    assert not any(keep(_record(m)) for m in dump)
    for message in ['Iter(train) [1/5]  lr: 1.0e-03  loss: 2.5', 'Checkpoints will be saved',
                    'per-class results:', 'the Config: of the teacher is missing']:
        assert keep(_record(message)), message
