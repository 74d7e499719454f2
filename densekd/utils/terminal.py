"""What reaches the terminal: deprecation warnings of third-party code and mmengine's start-up dump.

Two things a user can do nothing about are kept off the terminal:

* Python deprecation warnings (``DeprecationWarning``, ``PendingDeprecationWarning``,
  ``FutureWarning``) raised from inside mmengine, torch or timm: the deprecated call sits in
  those packages' code. Python attributes a warning to the module its ``stacklevel`` points
  at, so a deprecation that densekd code or a config triggers is still shown, and so is
  every other warning category. Nothing is filtered when the user chose filters with
  ``python -W`` or ``PYTHONWARNINGS`` (the ``sys.warnoptions`` rule of the
  :mod:`warnings` documentation).
* mmengine's start-up dump (system environment, the full config, the hook order: about 380
  lines) and notices about mmengine's own internals. A filter on the logger's terminal
  handler drops them there; the log file still gets every record.
"""
from __future__ import annotations

import logging
import re
import sys
import warnings
from typing import Optional

#: Packages whose own deprecation warnings are not shown.
THIRD_PARTY_PACKAGES = ('mmengine', 'torch', 'timm')
DEPRECATION_CATEGORIES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)

#: mmengine 0.10.7 messages that go to the log file only (matched at the message start).
FILE_ONLY_MESSAGES = (
    r'\n-+\nSystem environment:',                  # Runner._log_env
    r'Config:\n',                                  # Runner._log_env: cfg.pretty_text
    r'Hooks will be executed in the following order',
    r'"FileClient" will be deprecated',            # CheckpointHook.before_train's own call
    r'"HardDiskBackend" is the alias',
    r'Dataset \w+ has no metainfo',                # OOD and data-free datasets have no classes
    r'`save_param_scheduler` is True but',         # loops that set the LR themselves
)


def quiet_third_party_deprecations() -> bool:
    """Ignore deprecation warnings raised inside :data:`THIRD_PARTY_PACKAGES`.

    Returns:
        Whether the filters were installed (not when ``sys.warnoptions`` is set, i.e. the
        user passed ``-W`` or ``PYTHONWARNINGS``).
    """
    if sys.warnoptions:
        return False
    module = r'(%s)(\.|$)' % '|'.join(re.escape(p) for p in THIRD_PARTY_PACKAGES)
    for category in DEPRECATION_CATEGORIES:
        warnings.filterwarnings('ignore', category=category, module=module)
    return True


class FileOnlyFilter(logging.Filter):
    """Logging filter that drops the records matching :data:`FILE_ONLY_MESSAGES`."""

    _pattern = re.compile('|'.join(f'(?:{p})' for p in FILE_ONLY_MESSAGES))

    def filter(self, record: logging.LogRecord) -> bool:
        return not self._pattern.match(str(record.msg))


def _terminal_handlers(logger: logging.Logger):
    return [h for h in logger.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]


def log_file_of(logger: logging.Logger) -> Optional[str]:
    """The file a logger writes to (its first ``FileHandler``), or None."""
    files = [h.baseFilename for h in logger.handlers if isinstance(h, logging.FileHandler)]
    return files[0] if files else None


def shorten_terminal_log(logger: logging.Logger) -> None:
    """Keep mmengine's start-up dump off ``logger``'s terminal handlers (file handlers keep it).

    Idempotent: a logger that already has the filter is left as it is.
    """
    for handler in _terminal_handlers(logger):
        if not any(isinstance(f, FileOnlyFilter) for f in handler.filters):
            handler.addFilter(FileOnlyFilter())
