"""mmengine glue: optimizer constructor keyed by submodule, hooks."""
from .optim_constructor import SubmoduleOptimConstructor  # noqa: F401
from .visualization_hook import SegVisualizationHook  # noqa: F401,E402
from .generator_hook import GeneratorSamplesHook  # noqa: F401,E402
from .time_budget_hook import TimeBudgetHook  # noqa: F401,E402
