"""The writer process: reads a session's journal and writes every item into the run folder.

Started by :class:`dvcstage.writer.MediaWriter` as ``python -m dvcstage.writer_process``. It
runs until the training process closes its end of the wake pipe (``end()``, or the process
died) and every complete record is written; a run resumed later starts one without a pipe to
finish a session whose writer died too. Its own threads encode in parallel (Pillow and zlib
release the GIL); none of that Python work competes with the training thread for a GIL.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import queue
import select
import shutil
import signal
import sys
import threading
import traceback
import zlib
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .jobs import job_from_fields
from .journal import (
    ERRORS_FILE,
    LOCK_FILE,
    PROGRESS_FILE,
    SEGMENT_END,
    JournalReader,
    Progress,
    Record,
    segment_name,
)
from .processes import process_alive

META_FILE = "meta.json"
#: The exit code when another writer already works on the session.
TAKEN = 3
#: How much lower the writer's scheduling priority is than the training process's.
NICENESS = 10
#: How often the writer looks for new records when nobody woke it (a wait, the end).
POLL_SECONDS = 0.02
_STOP = object()


@dataclass
class _Entry:
    """A record on its way: its size, the position after it, and whether it is done."""

    record_id: int
    size: int
    segment: int
    offset: int
    done: bool = False


class WriterService:
    """Dispatches journal records to worker threads and publishes the contiguous progress."""

    def __init__(self, session: Path, run_dir: Path, workers: int, *, replaying: bool) -> None:
        from .index import MediaIndex
        from .item_writer import ItemWriter

        self.session = session
        self.progress = Progress(session / PROGRESS_FILE)
        self.applied, self.segment, self.offset, self.error_count = self.progress.read()
        self.reader = JournalReader(session, self.segment, self.offset, job_from_fields)
        self.out = ItemWriter(run_dir, MediaIndex(run_dir / "media.jsonl"))
        # A session another writer worked on may hold records written but not yet counted.
        self.out.replaying = replaying
        self.notify_fd: int | None = None
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._entries: deque[_Entry] = deque()
        self._queues: list[queue.Queue[Any]] = [queue.Queue() for _ in range(workers)]
        self._threads = [
            threading.Thread(target=self._work, args=(q,), daemon=True) for q in self._queues
        ]
        for thread in self._threads:
            thread.start()

    def pump(self) -> int:
        """Dispatch every complete record now in the journal; returns how many."""
        count = 0
        for record in self.reader.read():
            entry = _Entry(record.record_id, record.size, self.reader.segment, self.reader.offset)
            with self._lock:
                self._entries.append(entry)
            if record.kind == SEGMENT_END:
                self._finish(entry)
            elif getattr(record.job, "barrier", False):
                self._wait_idle(entry)  # everything before it is written
                self._run(record, entry)
            else:
                shard = getattr(record.job, "shard", "")
                worker = zlib.crc32(shard.encode("utf-8")) % len(self._queues)
                self._queues[worker].put((record, entry))
            count += 1
        return count

    def idle(self) -> bool:
        """Whether every dispatched record is done."""
        with self._lock:
            return not self._entries

    def wait_idle(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for every dispatched record to be done."""
        with self._done:
            self._done.wait_for(lambda: not self._entries, timeout)

    def _wait_idle(self, entry: _Entry) -> None:
        """Wait until every record before ``entry`` is done."""
        with self._done:
            self._done.wait_for(lambda: self._entries[0] is entry)

    def _work(self, jobs: queue.Queue[Any]) -> None:
        while True:
            task = jobs.get()
            if task is _STOP:
                return
            self._run(*task)

    def _run(self, record: Record, entry: _Entry) -> None:
        try:
            record.job.run(self.out)  # type: ignore[attr-defined]
        except BaseException as exc:  # reported to the training process, never lost
            self._report(record, exc)
        self._finish(entry)

    def _report(self, record: Record, exc: BaseException) -> None:
        describe = getattr(record.job, "describe", None)
        what = describe() if callable(describe) else f"record {record.record_id}"
        line = {
            "record": record.record_id,
            "item": what,
            "error": f"{type(exc).__name__}: {exc}",
        }
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        with self._lock:
            with open(self.session / ERRORS_FILE, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.error_count += 1

    def _finish(self, entry: _Entry) -> None:
        """Mark ``entry`` done and advance the published progress past every done record."""
        finished_segments = []
        with self._lock:
            entry.done = True
            while self._entries and self._entries[0].done:
                head = self._entries.popleft()
                self.applied += head.size
                if head.segment != self.segment:  # an end record: its segment is all written
                    finished_segments.append(self.segment)
                self.segment, self.offset = head.segment, head.offset
            self.progress.write(self.applied, self.segment, self.offset, self.error_count)
            self._done.notify_all()
        for number in finished_segments:
            (self.session / segment_name(number)).unlink(missing_ok=True)
        if self.notify_fd is not None:
            # A full pipe has a wake-up waiting already; a closed one has nobody listening.
            with contextlib.suppress(OSError):
                os.write(self.notify_fd, b".")

    def close(self) -> None:
        for q in self._queues:
            q.put(_STOP)
        for thread in self._threads:
            thread.join()
        self.reader.close()
        if self.out.index is not None:
            self.out.index.close()


def _take_lock(session: Path) -> tuple[int, bool] | None:
    """The session's writer lock and whether a writer held it before, or ``None`` if another
    writer holds it now. The lock file holds the pid of the writer that took it."""
    fd = os.open(session / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    used_before = os.fstat(fd).st_size > 0
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd, used_before


def serve(session: Path, wake_fd: int | None, notify_fd: int | None) -> int:
    """Write the session's records until the training process is gone and all are written."""
    meta = json.loads((session / META_FILE).read_text(encoding="utf-8"))
    taken = _take_lock(session)
    if taken is None:
        print(f"dvcstage writer: {session} has a writer already", file=sys.stderr)
        return TAKEN
    lock, used_before = taken
    service = WriterService(session, Path(meta["run"]), int(meta["workers"]), replaying=used_before)
    service.notify_fd = notify_fd
    if notify_fd is not None:
        os.set_blocking(notify_fd, False)
    parent_gone = wake_fd is None
    try:
        while True:
            service.pump()
            if parent_gone:
                service.wait_idle(0.5)
                if service.idle() and service.pump() == 0 and service.idle():
                    break
                continue
            assert wake_fd is not None
            ready, _, _ = select.select([wake_fd], [], [], POLL_SECONDS)
            if ready:
                try:
                    data = os.read(wake_fd, 65536)
                except OSError:
                    data = b""
                if not data:
                    parent_gone = True
                    os.close(wake_fd)
                    wake_fd = None
    finally:
        service.close()
    _clean_up(session, service, owner_alive=_owner_alive(meta))
    os.close(lock)
    return 0


def _owner_alive(meta: dict[str, Any]) -> bool:
    return process_alive(int(meta.get("pid", 0)))


def _clean_up(session: Path, service: WriterService, owner_alive: bool) -> None:
    """Remove the drained journal. With its owner gone, remove the session too (keeping
    ``errors.jsonl`` if writes failed, for ``dvcstage validate`` and a resumed run)."""
    for path in session.glob("*.journal"):
        path.unlink(missing_ok=True)
    if owner_alive:
        return  # the owner reads the errors and removes the session
    if service.error_count == 0:
        shutil.rmtree(session, ignore_errors=True)


def _light_dvclive() -> None:
    """Make ``import dvclive.error`` load only that module.

    dvcstage's exceptions derive from DVCLive's (``dvcstage.errors``); importing them runs
    ``dvclive/__init__.py``, which imports DVC and pandas (0.3 s). This process uses nothing
    else of DVCLive, and its errors reach the training process as text, so a bare package
    module standing in for ``dvclive`` is enough: it starts writing that much sooner.
    """
    import importlib.util
    import types

    if "dvclive" in sys.modules:
        return
    spec = importlib.util.find_spec("dvclive")
    if spec is None or spec.submodule_search_locations is None:
        return
    package = types.ModuleType("dvclive")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    sys.modules["dvclive"] = package


def main(argv: list[str] | None = None) -> int:
    _light_dvclive()
    parser = argparse.ArgumentParser(prog="python -m dvcstage.writer_process")
    parser.add_argument("session", type=Path)
    parser.add_argument("--wake-fd", type=int)
    parser.add_argument("--notify-fd", type=int)
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group: the training process decides; this one only
    # finishes what was logged. SIGTERM (a deliberate stop) ends it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Background work: where cores are scarce, the training process goes first.
    with contextlib.suppress(OSError):
        os.nice(NICENESS)
    return serve(args.session, args.wake_fd, args.notify_fd)


if __name__ == "__main__":
    code = main()
    sys.stderr.flush()
    os._exit(code)  # everything is written and closed: skip the interpreter's teardown
