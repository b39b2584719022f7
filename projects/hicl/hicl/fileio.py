"""Writing files so that a failure never leaves a half-written one behind."""
import os


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary binary file next to ``path``, then move it onto ``path``.

    Creates the parent folder when needed; on any error the temporary file is removed and ``path`` is untouched.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp_path = f'{path}.tmp{os.getpid()}'
    try:
        with open(tmp_path, 'wb') as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_path, path)
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
