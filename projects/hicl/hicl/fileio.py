"""Writing files so that a failure never leaves a half-written one behind, and checking an output folder before
the work that fills it."""
import os
import tempfile

PROBE_BYTES = 4096


class UnwritableFolderError(OSError):
    """An output folder that cannot be created or written; the message names it, the reason and the fix."""


def atomic_write(path, content):
    """Write ``content`` to ``path`` through a temporary file next to it, then move it onto ``path``: the one way
    this package writes a file.

    ``content`` is bytes, a str (written as UTF-8), or a function ``write(file)`` that writes into the open binary
    temporary file (e.g. ``functools.partial(image.save, format='PNG')``). Creates the parent folder when needed;
    on any error the temporary file is removed and ``path`` is untouched.
    An OSError (a full disk, a read-only folder) is raised again naming ``path`` and the reason, with its errno
    (and so its subclass, e.g. PermissionError).
    """
    tmp_path = f'{path}.tmp{os.getpid()}'
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(tmp_path, 'wb') as file:
            if callable(content):
                content(file)
            else:
                file.write(content.encode() if isinstance(content, str) else content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp_path, path)
    except OSError as err:
        message = f'could not write {path}: {err.strerror or err}'
        raise (OSError(err.errno, message) if err.errno is not None else OSError(message)) from err
    finally:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)


def check_writable_folder(path):
    """Create the folder ``path`` if needed and write, fsync and delete a probe file of PROBE_BYTES in it, so that a
    tool refuses an output folder it cannot fill (read-only, an existing file, a full disk) before its work.

    Raises :class:`UnwritableFolderError` naming ``path``, the reason and the fix.
    """
    try:
        os.makedirs(path, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix='.write_probe_', dir=path)
        try:
            with os.fdopen(handle, 'wb') as file:
                file.write(b'\0' * PROBE_BYTES)
                file.flush()
                os.fsync(file.fileno())
        finally:
            os.remove(probe)
    except OSError as err:
        reason = 'it is a file, not a folder' if os.path.isfile(path) else err.strerror or str(err)
        raise UnwritableFolderError(f'cannot write into the folder {path}: {reason}; pass a folder that can be '
                                    'created and written to, on a disk with free space') from err
