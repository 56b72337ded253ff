"""The background writer: encodes and writes media off the training thread.

Jobs go to one of several worker threads, chosen by the job's target name, so two writes of
the same file always happen in the order they were logged. Memory is bounded: each job
declares the bytes it holds (its copied pixels), and when the pending total would exceed
``max_pending_bytes`` (or ``max_pending_jobs`` jobs wait) the caller waits until workers catch
up. A worker's error is kept and raised to the caller at its next call
(:meth:`BackgroundWriter.raise_errors`).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from .atomic import append_bytes, write_bytes_atomic, write_text_atomic
from .errors import MediaWriteError
from .index import MediaIndex, index_line
from .media.base import EncodedItem

Encode = Callable[[], EncodedItem]
_STOP = object()
DEFAULT_MAX_PENDING_BYTES = 512 * 1024 * 1024
DEFAULT_MAX_PENDING_JOBS = 10_000


def default_workers() -> int:
    """Writer threads: one per core, between 1 and 4 (Pillow and zlib release the GIL)."""
    return max(1, min(4, os.cpu_count() or 1))


class BackgroundWriter:
    """Runs encode jobs on worker threads and writes their files atomically under ``root``."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        index: MediaIndex,
        workers: int | None = None,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        max_pending_jobs: int = DEFAULT_MAX_PENDING_JOBS,
    ) -> None:
        self.root = Path(root)
        self.index = index
        count = workers or default_workers()
        self._queues: list[queue.Queue[object]] = [queue.Queue() for _ in range(count)]
        self._max_bytes = max_pending_bytes
        self._max_jobs = max_pending_jobs
        self._pending_bytes = 0
        self._pending_jobs = 0
        self._room = threading.Condition()
        self._latest: dict[Path, str] = {}
        self._latest_lock = threading.Lock()
        self._errors: list[BaseException] = []
        self._errors_lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(q,), name=f"dvcstage-writer-{i}", daemon=True)
            for i, q in enumerate(self._queues)
        ]
        for thread in self._threads:
            thread.start()
        self._closed = False

    def submit(self, target: str, encode: Encode, cost: int = 0) -> None:
        """Queue ``encode`` for the worker that owns ``target``.

        ``cost`` is the memory the job holds until it runs (bytes). The call waits while the
        pending jobs already hold ``max_pending_bytes`` or number ``max_pending_jobs``; a
        single job larger than the budget runs alone.
        """
        self.run(target, lambda: self._write(encode()), cost)

    def write_latest(self, path: str | os.PathLike[str], text: str) -> None:
        """Write a small file (a summary, a signal) atomically in the background.

        Writes to one path coalesce: if an earlier text is still waiting, it is replaced, so
        the file always ends with the latest text and a fast caller is never held up.
        """
        target = Path(path)
        with self._latest_lock:
            waiting = target in self._latest
            self._latest[target] = text
        if not waiting:
            self.run(str(target), lambda: self._write_latest(target), len(text))

    def _write_latest(self, target: Path) -> None:
        with self._latest_lock:
            text = self._latest.pop(target)
        write_text_atomic(target, text)

    def run(self, target: str, job: Callable[[], None], cost: int = 0) -> None:
        """Run ``job`` on the worker that owns ``target`` (its errors are kept, like writes')."""
        if self._closed:
            raise MediaWriteError("the writer is closed: Live.end() was called")
        with self._room:
            self._room.wait_for(
                lambda: (
                    self._pending_jobs == 0
                    or (
                        self._pending_bytes + cost <= self._max_bytes
                        and self._pending_jobs < self._max_jobs
                    )
                )
            )
            self._pending_bytes += cost
            self._pending_jobs += 1
        self._queues[zlib.crc32(target.encode("utf-8")) % len(self._queues)].put((job, cost))

    def flush(self) -> None:
        """Wait until everything queued so far is written, then raise any worker error."""
        for q in self._queues:
            q.join()
        self.raise_errors()

    def raise_errors(self) -> None:
        """Raise the first error a worker met since the last call (the rest are counted)."""
        with self._errors_lock:
            errors, self._errors = self._errors, []
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            raise MediaWriteError(f"a background write failed: {errors[0]}{more}") from errors[0]

    def close(self) -> None:
        """Flush, stop the workers and close the index. Idempotent."""
        if self._closed:
            return
        try:
            self.flush()
        finally:
            self._closed = True
            for q in self._queues:
                q.put(_STOP)
            for thread in self._threads:
                thread.join()
            self.index.close()

    def _run(self, jobs: queue.Queue[object]) -> None:
        while True:
            job = jobs.get()
            if job is _STOP:
                jobs.task_done()
                return
            run: Callable[[], None]
            cost: int
            run, cost = job  # type: ignore[misc]
            try:
                run()
            except BaseException as exc:  # kept and raised to the caller, never swallowed
                with self._errors_lock:
                    self._errors.append(exc)
            finally:
                with self._room:
                    self._pending_bytes -= cost
                    self._pending_jobs -= 1
                    self._room.notify_all()
                jobs.task_done()

    def _write(self, item: EncodedItem) -> None:
        sizes: dict[PurePosixPath, int] = {}
        for file in item.files:
            if file.append:
                append_bytes(self.root / file.path, file.data, file.header)
            else:
                write_bytes_atomic(self.root / file.path, file.data)
            sizes[file.path] = len(file.data)
        self._remove_stale(item)
        self.index.append(index_line(item, sizes))

    def _remove_stale(self, item: EncodedItem) -> None:
        """Delete what an earlier write of the same item left and this one did not write."""
        written = {self.root / f.path for f in item.files}
        for owned in item.owned:
            path = self.root / owned
            if path.is_dir():
                for child in sorted(path.rglob("*"), reverse=True):  # children before parents
                    if child.is_dir():
                        with contextlib.suppress(OSError):
                            child.rmdir()  # only if empty
                    elif child not in written:
                        child.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.rmdir()
            elif path not in written:
                path.unlink(missing_ok=True)
