"""Reading dataset info files safely: what the runtime datasets share with the labelling tools."""
import pickle

from ..safe_pickle import InfoFileError, UnsafePickleError


class SafeInfoFileMixin:
    """For mmengine datasets: ``load_data_list`` errors of the restricted info-file unpickler
    (:mod:`hicl.safe_pickle`) name the dataset's ``ann_file`` and the fix."""

    def load_data_list(self):
        try:
            return super().load_data_list()
        except UnsafePickleError as err:
            raise InfoFileError(f'info file {self.ann_file}: {err}. Info files hold only dicts, lists, numbers, '
                                'strings and numpy arrays; this one may run code when loaded, so it is refused: '
                                'convert the dataset again with tools/create_data.py') from err
        except (EOFError, ValueError, pickle.UnpicklingError) as err:
            raise InfoFileError(f'info file {self.ann_file} is truncated or not an info file '
                                f'({type(err).__name__}: {err}): convert the dataset again with '
                                'tools/create_data.py') from err
