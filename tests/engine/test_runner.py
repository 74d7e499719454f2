"""DensekdRunner: a short terminal start-up, the whole dump in the log file."""
import glob
import os.path as osp
import time

import pytest

from densekd.engine.runner import DensekdRunner
from tests.engine.test_budget_loop import SlowModel

DUMP = ('System environment:', 'Config:\n', 'Hooks will be executed in the following order')


@pytest.mark.parametrize('verbose', [False, True])
def test_start_up_dump_goes_to_the_file_and_to_the_terminal_only_if_verbose(
        tmp_path, capsys, verbose):
    runner = DensekdRunner(model=SlowModel(), work_dir=str(tmp_path),
                           cfg=dict(terminal_verbose=verbose, marker_key='marker_value'),
                           experiment_name=f'runner_{time.time_ns()}', default_scope='densekd')
    runner.logger.info('after the start-up')
    terminal = capsys.readouterr().out
    (log_file,) = glob.glob(osp.join(str(tmp_path), '*', '*.log'))
    with open(log_file) as f:
        log = f.read()
    assert all(part in log for part in DUMP) and "marker_key = 'marker_value'" in log
    assert 'after the start-up' in terminal
    assert all((part in terminal) == verbose for part in DUMP)
    assert (f'in {log_file}' in terminal) != verbose  # where to find it, when not shown
