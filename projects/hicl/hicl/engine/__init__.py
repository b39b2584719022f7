from .hooks import CorrelationStageHook, stage_at_epoch
from .optimizers import CorrelationOptimWrapperConstructor, JointOptimWrapperDict
from .runtime import add_runner_arguments, configure_runtime, inference_only, load_runner_config

__all__ = ['CorrelationOptimWrapperConstructor', 'CorrelationStageHook', 'JointOptimWrapperDict',
           'add_runner_arguments', 'configure_runtime', 'inference_only', 'load_runner_config', 'stage_at_epoch']
