from .runtime import configure_runtime

__all__ = ['configure_runtime']
