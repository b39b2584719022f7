from .checkpoints import CheckpointMismatchError, SafeCheckpointHook
from .finite import FiniteLossHook, NonFiniteError
from .hooks import (CorrelationInstrumentHook, CorrelationProbeHook, CorrelationStageHook, PseudoLabelCacheCheckHook,
                    stage_at_epoch)
from .optimizers import CorrelationOptimWrapperConstructor, JointOptimWrapperDict
from .runtime import (add_runner_arguments, add_settings_mismatch_argument, close_distributed, configure_resume,
                      configure_runtime, inference_only, load_config, load_runner_config)
from .work_dir import WorkDirLockedError, work_dir_lock

__all__ = ['CheckpointMismatchError', 'CorrelationInstrumentHook', 'CorrelationOptimWrapperConstructor',
           'CorrelationProbeHook',
           'CorrelationStageHook', 'FiniteLossHook', 'JointOptimWrapperDict', 'NonFiniteError',
           'PseudoLabelCacheCheckHook', 'SafeCheckpointHook', 'WorkDirLockedError', 'add_runner_arguments',
           'add_settings_mismatch_argument', 'close_distributed', 'configure_resume', 'configure_runtime',
           'inference_only', 'load_config', 'load_runner_config', 'stage_at_epoch', 'work_dir_lock']
