"""hicl.fileio: an output folder is checked (created, a probe written and removed) before a tool's work, and a
failed write names the file and leaves neither a partial nor a temporary file."""
import errno
import os

import pytest

from hicl.fileio import UnwritableFolderError, atomic_write, check_writable_folder


def disk_full(monkeypatch):
    """Make every fsync fail as on a full disk (where the file system reports ENOSPC)."""
    def fsync(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', fsync)


def test_a_writable_folder_is_created_and_left_empty(tmp_path):
    check_writable_folder(str(tmp_path / 'a' / 'b'))
    assert os.listdir(tmp_path / 'a' / 'b') == []


def test_a_file_or_a_path_through_a_file_is_refused(tmp_path):
    (tmp_path / 'file').write_text('x')
    with pytest.raises(UnwritableFolderError, match=f'cannot write into the folder {tmp_path / "file"}: it is a '
                                                    'file, not a folder; pass a folder that can be created'):
        check_writable_folder(str(tmp_path / 'file'))
    with pytest.raises(UnwritableFolderError, match='file/sub: Not a directory'):
        check_writable_folder(str(tmp_path / 'file' / 'sub'))


def test_a_full_disk_is_refused_and_the_probe_removed(tmp_path, monkeypatch):
    (tmp_path / 'out').mkdir()
    disk_full(monkeypatch)
    with pytest.raises(UnwritableFolderError, match=f'folder {tmp_path / "out"}: No space left on device; pass a '
                                                    'folder .* on a disk with free space'):
        check_writable_folder(str(tmp_path / 'out'))
    assert os.listdir(tmp_path / 'out') == []


def test_a_full_disk_while_writing_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / 'scene.npy'
    path.write_bytes(b'old')
    disk_full(monkeypatch)
    with pytest.raises(OSError, match=f'could not write {path}: No space left on device') as failure:
        atomic_write(str(path), lambda file: file.write(b'new contents'))
    assert failure.value.errno == errno.ENOSPC
    assert path.read_bytes() == b'old' and os.listdir(tmp_path) == ['scene.npy']  # no temporary file left


@pytest.mark.parametrize('content, expected', [
    (b'\x00\x01', b'\x00\x01'), ('chaise \u00e0 bras', 'chaise \u00e0 bras'.encode()),
    (lambda file: file.write(b'from a writer'), b'from a writer')])
def test_bytes_text_or_a_writer_function_land_whole_in_a_new_folder(tmp_path, content, expected):
    path = tmp_path / 'new' / 'file.bin'
    atomic_write(str(path), content)
    assert path.read_bytes() == expected and os.listdir(path.parent) == ['file.bin']
