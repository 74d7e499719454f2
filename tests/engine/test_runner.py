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


def test_two_runners_started_in_the_same_second_share_nothing(tmp_path, monkeypatch):
    """mmengine names logger, message hub and visualizer <name>_<timestamp> and hands back an
    existing instance of a name: a second run in the same second must not inherit the first's
    message hub (whose kept-checkpoint list once deleted the second run's checkpoints)."""
    import mmengine.runner.runner as mm_runner

    fixed = time.localtime(1_800_000_000)

    class FrozenClock:
        def __getattr__(self, name):
            return getattr(time, name)

        def localtime(self, *args):
            return fixed

    monkeypatch.setattr(mm_runner, 'time', FrozenClock())
    name = f'same_second_{time.time_ns()}'
    runners = [DensekdRunner(model=SlowModel(), work_dir=str(tmp_path / str(i)), cfg=dict(),
                             experiment_name=name, default_scope='densekd') for i in range(2)]
    first, second = runners
    assert first.timestamp == second.timestamp
    assert first.experiment_name != second.experiment_name
    assert first.message_hub is not second.message_hub
    first.message_hub.update_info('keep_ckpt_ids', [2, 4, 6])
    assert 'keep_ckpt_ids' not in second.message_hub.runtime_info
    assert first.logger is not second.logger
