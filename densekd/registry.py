"""densekd's registries: children of mmengine's root registries, scope ``densekd``.

Configs set ``default_scope = 'densekd'``; the ``locations`` make each registry import the
package that fills it the first time something is built, so tools need no explicit imports.
Types not registered here (``SGD``, ``IterBasedTrainLoop``, ...) fall back to mmengine's.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='densekd',
                  locations=['densekd.models', 'densekd.losses', 'densekd.algorithms'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='densekd',
                    locations=['densekd.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, scope='densekd',
                      locations=['densekd.datasets'])
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, scope='densekd',
                     locations=['densekd.datasets'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='densekd',
                   locations=['densekd.evaluation'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='densekd', locations=['densekd.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, scope='densekd', locations=['densekd.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='densekd',
    locations=['densekd.engine'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, scope='densekd',
                      locations=['densekd.models'])
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, scope='densekd',
                       locations=['densekd.visualization'])
