"""The write-ahead journal between the training process and its writer process.

A logged item is pickled (arrays out of band, protocol 5) and appended to a journal segment
with one ``writev`` before the logging call returns: from then on it survives the training
process being killed, because the bytes are in the kernel's page cache, not in the process.
The writer process reads the records in order, encodes and writes them, and publishes how far
it got (:class:`Progress`); a writer started later (a resumed run) continues from there.

Layout of a session folder (one per :class:`dvcstage.writer.MediaWriter`)::

    <run>/.dvcstage/sessions/<pid>-<token>/
        00000000.journal   records, appended by the training process
        00000001.journal   the next segment, once the first reached SEGMENT_BYTES
        progress           32 bytes, mapped by both processes (see Progress)
        errors.jsonl       one line per failed record, appended by the writer process
        writer.lock        held (flock) by the writer process while it runs
        writer.log         the writer process's stderr

A record is ``header | buffer lengths | payload | buffers``; the payload is a pickle, or for a
``FIELDS`` record text fields separated by ``\x1f`` (the common plain image: pickling costs
the logging thread more than the record's write). The header holds the total length,
so a reader knows whether a record is complete; a record cut short by a crash mid-write is
incomplete forever, and its logging call never returned. Segments end with an end record so a
reader knows to move on to the next one.
"""

from __future__ import annotations

import mmap
import os
import pickle
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAGIC = b"DSJ1"
_HEADER = struct.Struct("<4sIIQQQ")  # magic, kind, buffers, pickle bytes, total bytes, id
HEADER_BYTES = _HEADER.size
RECORD = 1  # a pickled job
SEGMENT_END = 2  # no more records in this segment: continue with the next one
FIELDS = 3  # a job as text fields and buffers: the reader's ``decode_fields`` makes it a job
FIELD_SEPARATOR = "\x1f"  # a control character: never in a checked name
SEGMENT_BYTES = 64 * 1024 * 1024
_IOV_CHUNK = 512  # below IOV_MAX (1024 on Linux)

#: The run's private folder: git-ignored, empty once the run ended.
PRIVATE_FOLDER = Path(".dvcstage")
SESSIONS_FOLDER = PRIVATE_FOLDER / "sessions"
#: Spare files of the files rewritten on every step (see :class:`dvcstage.atomic.SwapFile`).
SPARES_FOLDER = PRIVATE_FOLDER / "spares"
PROGRESS_FILE = "progress"
ERRORS_FILE = "errors.jsonl"
LOCK_FILE = "writer.lock"
LOG_FILE = "writer.log"


def segment_name(number: int) -> str:
    """The file name of segment ``number`` (``00000003.journal``)."""
    return f"{number:08d}.journal"


def segments(session: Path) -> list[tuple[int, Path]]:
    """The session's segment files, in order."""
    found = []
    for path in session.glob("*.journal"):
        stem = path.name.split(".", 1)[0]
        if stem.isdigit():
            found.append((int(stem), path))
    return sorted(found)


def _write_all(fd: int, parts: list[Any]) -> int:
    """Write every part with as few ``writev`` calls as possible; returns the bytes written."""
    views = [memoryview(part).cast("B") for part in parts]
    total = 0
    while views:
        chunk = views[:_IOV_CHUNK]
        written = os.writev(fd, chunk)
        total += written
        # Drop what was written (a short write only happens on a full disk or a signal).
        while chunk and written >= len(chunk[0]):
            written -= len(chunk[0])
            chunk.pop(0)
            views.pop(0)
        if written:
            views[0] = views[0][written:]
    return total


def encode_record(job: object, record_id: int) -> list[Any]:
    """The parts of one record (header, lengths, pickle, raw buffers), ready for ``writev``."""
    buffers: list[pickle.PickleBuffer] = []
    payload = pickle.dumps(job, protocol=5, buffer_callback=buffers.append)
    raws = [buffer.raw() for buffer in buffers]
    lengths = struct.pack(f"<{len(raws)}Q", *(raw.nbytes for raw in raws))
    total = HEADER_BYTES + len(lengths) + len(payload) + sum(raw.nbytes for raw in raws)
    header = _HEADER.pack(MAGIC, RECORD, len(raws), len(payload), total, record_id)
    return [header, lengths, payload, *raws]


class FieldsJob:
    """A job journaled as text ``fields`` and one ``buffer`` rather than pickled; the
    reader's ``decode_fields`` makes the job to run from them."""

    __slots__ = ("buffer", "fields")

    def __init__(self, fields: tuple[str, ...], buffer: Any) -> None:
        self.fields = fields
        self.buffer = buffer


def encode_fields_record(fields: tuple[str, ...], buffer: Any, record_id: int) -> list[Any]:
    """The parts of a ``FIELDS`` record: ``fields`` (without the separator) and one buffer."""
    payload = FIELD_SEPARATOR.join(fields).encode("utf-8")
    raw = memoryview(buffer).cast("B")
    total = HEADER_BYTES + 8 + len(payload) + raw.nbytes
    header = _HEADER.pack(MAGIC, FIELDS, 1, len(payload), total, record_id)
    return [header, _ONE_LENGTH.pack(raw.nbytes), payload, raw]


_ONE_LENGTH = struct.Struct("<Q")


def end_record(record_id: int) -> bytes:
    """The record that closes a segment."""
    return _HEADER.pack(MAGIC, SEGMENT_END, 0, 0, HEADER_BYTES, record_id)


class JournalAppender:
    """Appends records to a session's segments (the training process's side).

    Not thread-safe by itself: :class:`dvcstage.writer.MediaWriter` holds a lock around it.
    """

    def __init__(self, session: Path, first_segment: int = 0) -> None:
        self.session = session
        self._segment = first_segment
        self._fd = self._open(first_segment)
        self._segment_bytes = os.fstat(self._fd).st_size
        self.appended = 0  # bytes appended through this appender (all segments)
        self.next_id = 0

    def _open(self, number: int) -> int:
        path = self.session / segment_name(number)
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def append(self, job: object) -> tuple[int, int]:
        """Append ``job`` (a :class:`FieldsJob` as a ``FIELDS`` record, anything else
        pickled); returns ``(record id, bytes appended so far)`` once it is written."""
        if self._segment_bytes >= SEGMENT_BYTES:
            self._rotate(self.next_id)
        record_id = self.next_id
        if isinstance(job, FieldsJob):
            parts = encode_fields_record(job.fields, job.buffer, record_id)
        else:
            parts = encode_record(job, record_id)
        written = _write_all(self._fd, parts)
        self._segment_bytes += written
        self.appended += written
        self.next_id = record_id + 1
        return record_id, self.appended

    def _rotate(self, record_id: int) -> None:
        marker = end_record(record_id)
        _write_all(self._fd, [marker])
        self.appended += len(marker)
        self.next_id = record_id + 1
        os.close(self._fd)
        self._segment += 1
        self._fd = self._open(self._segment)
        self._segment_bytes = 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass(frozen=True)
class Record:
    """One record read back: its id, kind, size and the job (``None`` for an end record)."""

    record_id: int
    kind: int
    size: int
    job: object


class CorruptJournalError(Exception):
    """A segment holds bytes that are not a record (never written by an appender)."""


FieldsDecoder = Callable[[list[str], list[memoryview]], object]


def _decode(
    data: bytearray, kind: int, buffers: int, size: int, decode_fields: FieldsDecoder | None
) -> object:
    lengths = struct.unpack_from(f"<{buffers}Q", data, HEADER_BYTES)
    at = HEADER_BYTES + 8 * buffers
    payload = memoryview(data)[at : at + size]
    at += size
    views = []
    for length in lengths:
        views.append(memoryview(data)[at : at + length])
        at += length
    try:
        if kind == FIELDS:
            fields = bytes(payload).decode("utf-8").split(FIELD_SEPARATOR)
            return (fields, views) if decode_fields is None else decode_fields(fields, views)
        return pickle.loads(payload, buffers=views)
    except Exception as exc:  # one bad record must not stop the ones after it
        return UndecodableJob(f"{type(exc).__name__}: {exc}")


class UndecodableJob:
    """A complete record whose job cannot be rebuilt (written by another version, say): it
    fails when run, so the writer reports it as that record's error and goes on."""

    shard = ""
    barrier = False

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def run(self, out: object) -> None:
        raise CorruptJournalError(f"a journal record cannot be read back ({self.problem})")

    def describe(self) -> str:
        return "an unreadable journal record"


class JournalReader:
    """Reads complete records of a session in order (the writer process's side).

    ``decode_fields`` makes the job of a ``FIELDS`` record from its fields and buffers; without
    it such a record's job is the pair.
    """

    def __init__(
        self,
        session: Path,
        segment: int = 0,
        offset: int = 0,
        decode_fields: FieldsDecoder | None = None,
    ) -> None:
        self.session = session
        self.decode_fields = decode_fields
        self.segment = segment
        self.offset = offset
        self._fd: int | None = None

    def _file(self) -> int | None:
        if self._fd is None:
            path = self.session / segment_name(self.segment)
            try:
                self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except FileNotFoundError:
                return None
        return self._fd

    def read(self) -> Iterator[Record]:
        """Every complete record from the current position; stops at an incomplete one."""
        while True:
            fd = self._file()
            if fd is None:
                return
            size = os.fstat(fd).st_size
            if size - self.offset < HEADER_BYTES:
                return
            header = os.pread(fd, HEADER_BYTES, self.offset)
            magic, kind, buffers, pickled, total, record_id = _HEADER.unpack(header)
            if magic != MAGIC or total < HEADER_BYTES:
                raise CorruptJournalError(
                    f"{self.session / segment_name(self.segment)} at byte {self.offset}"
                )
            if size - self.offset < total:
                return  # still being written, or cut short by a crash
            if kind == SEGMENT_END:
                os.close(fd)
                self._fd = None
                self.segment += 1
                self.offset = 0
                yield Record(record_id, kind, total, None)
                continue
            data = bytearray(total)
            view = memoryview(data)
            got = 0
            while got < total:
                chunk = os.preadv(fd, [view[got:]], self.offset + got)
                if chunk <= 0:
                    raise CorruptJournalError(f"short read in {segment_name(self.segment)}")
                got += chunk
            self.offset += total
            job = _decode(data, kind, buffers, pickled, self.decode_fields)
            yield Record(record_id, kind, total, job)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def count_pending(session: Path) -> int:
    """Records of ``session`` not written yet (complete ones: a cut-short one never
    returned to its caller). Reads record headers only."""
    try:
        progress = Progress(session / PROGRESS_FILE)
    except (OSError, ValueError):
        _, segment, offset = 0, 0, 0
    else:
        _, segment, offset, _ = progress.read()
        progress.close()
    count = 0
    for number, path in segments(session):
        if number < segment:
            continue
        at = offset if number == segment else 0
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            while size - at >= HEADER_BYTES:
                handle.seek(at)
                magic, kind, _, _, total, _ = _HEADER.unpack(handle.read(HEADER_BYTES))
                if magic != MAGIC or total < HEADER_BYTES or size - at < total:
                    break
                count += kind in (RECORD, FIELDS)
                at += total
    return count


class Progress:
    """Four counters shared by both processes through a mapped file.

    ``applied``: bytes of the journal (counted as the appender counts them) whose records are
    all written; ``segment`` and ``offset``: where the first unwritten record starts;
    ``errors``: how many lines ``errors.jsonl`` has. Only the writer process writes them.
    """

    _LAYOUT = struct.Struct("<QQQQ")

    def __init__(self, path: Path, create: bool = False) -> None:
        if create:
            with open(path, "wb") as handle:
                handle.write(b"\0" * self._LAYOUT.size)
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            self._map = mmap.mmap(fd, self._LAYOUT.size)
        finally:
            os.close(fd)

    def read(self) -> tuple[int, int, int, int]:
        """``(applied, segment, offset, errors)``."""
        applied, segment, offset, errors = self._LAYOUT.unpack_from(self._map, 0)
        return applied, segment, offset, errors

    @property
    def applied(self) -> int:
        return int.from_bytes(self._map[0:8], "little")

    @property
    def errors(self) -> int:
        return int.from_bytes(self._map[24:32], "little")

    def write(self, applied: int, segment: int, offset: int, errors: int) -> None:
        self._LAYOUT.pack_into(self._map, 0, applied, segment, offset, errors)

    def close(self) -> None:
        self._map.close()
