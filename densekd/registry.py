"""densekd's registries: children of mmengine's root registries, scope ``densekd``.

Configs set ``default_scope = 'densekd'``; the ``locations`` make each registry import the
package that fills it the first time something is built, so tools need no explicit imports.

Under that default scope mmengine looks every build up in the ``densekd`` child of the root
registry first and, when the tree has no such child, warns ("Failed to search registry with
scope densekd ...") before falling back to the root. The last group below therefore holds no
densekd type: those children only give mmengine's runner the scope it searches when it builds
the visualizer, its backends, samplers, optimizers and optimizer wrappers, whose types
(``Visualizer``, ``InfiniteSampler``, ``AdamW``, ``OptimWrapper``, ...) then come from mmengine
as before. The LR-scheduler child holds densekd's ``ProgressMultiStepLR``; mmengine's own
(``MultiStepLR``, ``CosineAnnealingLR``, ...) are found through its parent.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

# Registries that hold densekd types.
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='densekd',
                  locations=['densekd.models', 'densekd.losses', 'densekd.algorithms'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope='densekd',
                    locations=['densekd.datasets'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope='densekd',
                   locations=['densekd.evaluation'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='densekd', locations=['densekd.engine'])
LOOPS = Registry('loop', parent=MMENGINE_LOOPS, scope='densekd', locations=['densekd.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope='densekd',
    locations=['densekd.engine'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope='densekd',
                          locations=['densekd.engine'])
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS, scope='densekd',
                      locations=['densekd.models'])
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS,
                            scope='densekd', locations=['densekd.engine'])

# Scope-only children (see the module docstring): no densekd type is registered in them.
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS, scope='densekd')
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS, scope='densekd')
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS, scope='densekd')
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS, scope='densekd')
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='densekd')
