"""mmengine glue: optimizer constructor keyed by submodule, the budget loop, hooks, LR
schedules, the multi-process model wrapper."""
from .optim_constructor import SubmoduleOptimConstructor  # noqa: F401
from .budget_loop import BudgetTrainLoop  # noqa: F401,E402
from .visualization_hook import SegVisualizationHook  # noqa: F401,E402
from .generator_hook import GeneratorSamplesHook  # noqa: F401,E402
from .run_summary_hook import RunSummaryHook  # noqa: F401,E402
from .checkpoint_hook import AtomicCheckpointHook  # noqa: F401,E402
from .random_state_hook import RandomStateHook  # noqa: F401,E402
from .logger_hook import EarlyLoggerHook  # noqa: F401,E402
from .finite_check_hook import FiniteCheckHook  # noqa: F401,E402
from .schedulers import ProgressMultiStepLR  # noqa: F401,E402
from .model_wrapper import DistributedAlgorithmWrapper  # noqa: F401,E402
from .augkd_stage_hook import AuGKDStageHook  # noqa: F401,E402
