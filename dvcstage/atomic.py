"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A crash at any moment leaves either the old file or the new one, never a torn one. Temporary
files carry :data:`TEMP_MARK` in their name so that a run that was killed mid-write can be
cleaned up (:func:`remove_stale_temporaries`) and readers can skip them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import BinaryIO

TEMP_MARK = ".dvcstage-tmp"


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old content or the new, never a mix."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{secrets.token_hex(6)}{TEMP_MARK}")  # short: names may be long
    # os.open honours the umask (unlike mkstemp's 0600), so media stay readable like any file.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        temp.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise


def link_atomic(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> int:
    """Make ``path`` a hard link to ``source`` (a copy where links fail), atomically.

    Returns the size of the file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{secrets.token_hex(6)}{TEMP_MARK}")
    try:
        os.link(source, temp)
    except OSError:  # another file system, or links not supported: copy
        data = Path(source).read_bytes()
        write_bytes_atomic(target, data)
        return len(data)
    try:
        temp.replace(target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
    return target.stat().st_size


def append_bytes(path: str | os.PathLike[str], data: bytes, header: bytes | None = None) -> None:
    """Append ``data`` as one write; a torn tail from an earlier crash is cut first.

    For line-oriented files (series): if the file does not end with a newline, the partial
    last line a killed writer left is removed before appending. ``header`` is written first
    when the file is new or empty.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "ab+") as handle:
        cut_torn_tail(handle)
        if header is not None and handle.seek(0, os.SEEK_END) == 0:
            data = header + data
        handle.write(data)


def cut_torn_tail(handle: BinaryIO, chunk: int = 1 << 20) -> int:
    """Truncate a partial last line (no newline) that a killed writer left in ``handle``.

    The partial line may be of any length (a table's line can exceed megabytes): the file is
    searched backwards for the last newline. Returns the number of bytes cut.
    """
    size = handle.seek(0, os.SEEK_END)
    if size == 0:
        return 0
    handle.seek(size - 1)
    if handle.read(1) == b"\n":
        return 0
    end = size
    while end > 0:
        start = max(0, end - chunk)
        handle.seek(start)
        cut = handle.read(end - start).rfind(b"\n")
        if cut >= 0:
            keep = start + cut + 1
            handle.truncate(keep)
            return size - keep
        end = start
    handle.truncate(0)
    return size


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """:func:`write_bytes_atomic` for UTF-8 text."""
    write_bytes_atomic(path, text.encode("utf-8"))


def is_temporary(path: str | os.PathLike[str]) -> bool:
    """True for a temporary file left by :func:`write_bytes_atomic`."""
    return os.fspath(path).endswith(TEMP_MARK)


def remove_stale_temporaries(root: str | os.PathLike[str]) -> int:
    """Delete temporary files a killed process left under ``root``; returns how many."""
    removed = 0
    base = Path(root)
    if not base.is_dir():
        return 0
    for temp in base.rglob(f"*{TEMP_MARK}"):
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
            removed += 1
    return removed


class SwapFile:
    """A small file rewritten atomically many times (``metrics.json`` on every step).

    :func:`write_bytes_atomic` creates a temporary file and renames it over the old one, which
    frees the old file; on some file systems (ext4 mounted with ``discard``) freeing costs a
    millisecond or more. Here two files take turns instead: the new content goes into a spare
    file (kept in ``spare_dir``, on the same file system), the current file is linked into the
    spare folder, then the spare is renamed over it. Readers see the old content or the new,
    as with a plain atomic write; no file is created or freed after the first write. Where a
    link or rename fails (another file system), it falls back to :func:`write_bytes_atomic`.
    """

    def __init__(self, path: str | os.PathLike[str], spare_dir: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.spare_dir = Path(spare_dir)
        token = secrets.token_hex(4)
        # Plain strings: this runs on every training step, where pathlib's work shows.
        self._target = os.fspath(path)
        self._spare = f"{os.fspath(spare_dir)}/{self.path.name}.{token}.a"
        self._other = f"{os.fspath(spare_dir)}/{self.path.name}.{token}.b"
        self._fast = True

    def write(self, data: bytes) -> None:
        """Replace the file's content with ``data``, atomically."""
        if self._fast:
            try:
                self._swap(data)
                return
            except OSError:
                self._fast = False  # e.g. the spare folder is on another file system
        write_bytes_atomic(self.path, data)

    def _swap(self, data: bytes) -> None:
        try:
            fd = os.open(self._spare, os.O_WRONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self.spare_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._spare, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            os.pwrite(fd, data, 0)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)
        try:
            os.link(self._target, self._other)  # keeps the current file's inode: nothing is freed
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)  # the first write
        os.replace(self._spare, self._target)  # noqa: PTH105 (per step: no path objects)
        self._spare, self._other = self._other, self._spare

    def close(self) -> None:
        """Remove the spare files."""
        for spare in (self._spare, self._other):
            with contextlib.suppress(FileNotFoundError):
                Path(spare).unlink()
