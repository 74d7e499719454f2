"""TensorBoard as a switch: add mmengine's ``TensorboardVisBackend`` to a config's visualizer."""
from __future__ import annotations

import importlib.util

from mmengine.config import Config

TENSORBOARD_BACKEND = 'TensorboardVisBackend'
INSTALL_HINT = "pip install -e '.[tensorboard]'"


def require_tensorboard() -> None:
    """Fail now, not at the first logged scalar, when ``tensorboard`` is missing.

    Raises:
        SystemExit: the ``tensorboard`` package is not installed (with the install command).
    """
    if importlib.util.find_spec('tensorboard') is None:
        raise SystemExit(f'--tensorboard: the tensorboard package is not installed; '
                         f'install it with: {INSTALL_HINT}')


def add_tensorboard_backend(cfg: Config) -> None:
    """Log the run's scalars to TensorBoard too, in ``<work_dir>/<timestamp>/vis_data/``.

    The backend is appended once to ``cfg.visualizer.vis_backends``, next to the local JSON
    backend that the tools read.
    """
    visualizer = cfg.setdefault('visualizer', dict(type='Visualizer'))
    backends = list(visualizer.get('vis_backends') or [])
    if not any(b.get('type') == TENSORBOARD_BACKEND for b in backends):
        backends.append(dict(type=TENSORBOARD_BACKEND))
    visualizer['vis_backends'] = backends
