"""mmengine's Runner with a short terminal start-up (the log file keeps everything)."""
from __future__ import annotations

from mmengine.runner import Runner

from densekd.utils.terminal import log_file_of, shorten_terminal_log


class DensekdRunner(Runner):
    """mmengine's ``Runner``; the system environment, full config and hook order go to the log
    file only (:func:`~densekd.utils.terminal.shorten_terminal_log`).

    The config key ``terminal_verbose=True`` (``tools/train.py --verbose``) prints them on the
    terminal as well, as mmengine does.
    """

    def build_logger(self, log_level='INFO', log_file=None, **kwargs):
        """Build mmengine's logger, then filter its terminal handler unless verbose."""
        logger = super().build_logger(log_level=log_level, log_file=log_file, **kwargs)
        if not self.cfg.get('terminal_verbose', False):
            shorten_terminal_log(logger)
            if log_file_of(logger):
                logger.info(f'Environment, config and hook order: in {log_file_of(logger)} '
                            '(--verbose prints them here)')
        return logger
