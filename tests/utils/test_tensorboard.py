"""--tensorboard: the backend added to the config, or a clear error without tensorboard."""
import importlib.util

import pytest
from mmengine.config import Config
from mmengine.visualization import Visualizer

from densekd.utils.tensorboard import add_tensorboard_backend, require_tensorboard


def test_backend_added_once_next_to_the_local_one(tmp_path):
    cfg = Config(dict(visualizer=dict(type='Visualizer',
                                      vis_backends=[dict(type='LocalVisBackend')])))
    add_tensorboard_backend(cfg)
    add_tensorboard_backend(cfg)
    types = [b['type'] for b in cfg.visualizer.vis_backends]
    assert types == ['LocalVisBackend', 'TensorboardVisBackend']
    # mmengine builds it (its writer starts at the first scalar, where tensorboard is needed)
    visualizer = Visualizer.get_instance('tb_test', save_dir=str(tmp_path),
                                         vis_backends=cfg.visualizer.vis_backends)
    assert 'TensorboardVisBackend' in visualizer._vis_backends


@pytest.mark.skipif(importlib.util.find_spec('tensorboard') is not None,
                    reason='tensorboard is installed')
def test_missing_tensorboard_says_how_to_install():
    with pytest.raises(SystemExit, match=r"pip install -e '\.\[tensorboard\]'"):
        require_tensorboard()
