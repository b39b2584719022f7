from .checkpoints import CheckpointMismatchError, SafeCheckpointHook
from .hooks import CorrelationProbeHook, CorrelationStageHook, PseudoLabelCacheCheckHook, stage_at_epoch
from .optimizers import CorrelationOptimWrapperConstructor, JointOptimWrapperDict
from .runtime import (add_runner_arguments, close_distributed, configure_resume, configure_runtime, inference_only,
                      load_config, load_runner_config)

__all__ = ['CheckpointMismatchError', 'CorrelationOptimWrapperConstructor', 'CorrelationProbeHook',
           'CorrelationStageHook', 'JointOptimWrapperDict', 'PseudoLabelCacheCheckHook', 'SafeCheckpointHook',
           'add_runner_arguments', 'close_distributed', 'configure_resume', 'configure_runtime', 'inference_only',
           'load_config', 'load_runner_config', 'stage_at_epoch']
