"""mmengine's Runner with a short terminal start-up (the log file keeps everything)."""
from __future__ import annotations

import itertools
import os.path as osp

from mmengine.runner import Runner

from densekd.utils.terminal import log_file_of, shorten_terminal_log


class DensekdRunner(Runner):
    """mmengine's ``Runner``; the system environment, full config and hook order go to the log
    file only (:func:`~densekd.utils.terminal.shorten_terminal_log`).

    The config key ``terminal_verbose=True`` (``tools/train.py --verbose``) prints them on the
    terminal as well, as mmengine does.

    Every runner after the first in a process gets ``-<n>`` added to its experiment name.
    mmengine names the logger, message hub and visualizer ``<name>_<timestamp>`` (to the
    second) and ``get_instance`` hands back an existing instance of that name, so a second run
    started in the same second (tests, notebooks) inherited the first's message hub: its
    list of kept checkpoints made the CheckpointHook delete the new run's files.
    """

    _runs_in_process = itertools.count()

    def __init__(self, *args, **kwargs):
        number = next(DensekdRunner._runs_in_process)
        if number:
            cfg = kwargs.get('cfg')
            name = kwargs.get('experiment_name')
            if name is None:
                filename = getattr(cfg, 'filename', None)
                name = osp.splitext(osp.basename(filename))[0] if filename else 'run'
            kwargs['experiment_name'] = f'{name}-{number}'
        super().__init__(*args, **kwargs)

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        """Build mmengine's logger, then filter its terminal handler unless verbose."""
        logger = super().build_logger(log_level=log_level, log_file=log_file, **kwargs)
        if not self.cfg.get('terminal_verbose', False):
            shorten_terminal_log(logger)
            if log_file_of(logger):
                logger.info(f'Environment, config and hook order: in {log_file_of(logger)} '
                            '(--verbose prints them here)')
        return logger
