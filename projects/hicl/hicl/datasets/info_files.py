"""Reading dataset info files safely in the runtime datasets."""
import pickle

from ..safe_pickle import info_file_error


class SafeInfoFileMixin:
    """For mmengine datasets: errors of the restricted info-file unpickler (:mod:`hicl.safe_pickle`, mmengine's
    .pkl handler) while ``load_data_list`` reads ``ann_file`` name the file and the fix."""

    def load_data_list(self):
        try:
            return super().load_data_list()
        except (pickle.UnpicklingError, EOFError) as err:  # UnsafePickleError included
            raise info_file_error(self.ann_file, err) from err
