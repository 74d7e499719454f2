"""mmengine glue: optimizer constructor keyed by submodule, the budget loop, hooks, the
multi-process model wrapper."""
from .optim_constructor import SubmoduleOptimConstructor  # noqa: F401
from .budget_loop import BudgetTrainLoop  # noqa: F401,E402
from .visualization_hook import SegVisualizationHook  # noqa: F401,E402
from .generator_hook import GeneratorSamplesHook  # noqa: F401,E402
from .run_summary_hook import RunSummaryHook  # noqa: F401,E402
from .model_wrapper import DistributedAlgorithmWrapper  # noqa: F401,E402
