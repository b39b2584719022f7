from .runtime import add_runner_arguments, configure_runtime, load_runner_config

__all__ = ['add_runner_arguments', 'configure_runtime', 'load_runner_config']
