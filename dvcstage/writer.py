"""The training process's side of the media writer: journal, writer process, progress.

:meth:`MediaWriter.submit` pickles a job (the validated media object with its copied arrays)
and appends it to the session's journal with one ``writev``; once it returns, the item
survives the training process being killed. A writer process (:mod:`dvcstage.writer_process`,
started on the first submit) encodes and writes the items and publishes its progress in a
mapped file, so the training thread learns of progress and errors by reading memory. The
training process runs no writer threads: nothing it does waits for a GIL held by media work.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import select
import shutil
import subprocess
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from pathlib import Path

from .errors import MediaWriteError
from .journal import (
    ERRORS_FILE,
    LOG_FILE,
    PRIVATE_FOLDER,
    PROGRESS_FILE,
    SESSIONS_FOLDER,
    JournalAppender,
    Progress,
)

logger = logging.getLogger("dvcstage")

DEFAULT_MAX_PENDING_BYTES = 512 * 1024 * 1024
#: Seconds without any progress after which a wait gives up (a stuck disk, a hung writer).
DEFAULT_STALL_SECONDS = 120.0
_MAX_RESTARTS = 3
_WRITERS: weakref.WeakSet[MediaWriter] = weakref.WeakSet()


def default_workers() -> int:
    """Writer threads in the writer process: one per core, between 1 and 4."""
    return max(1, min(4, os.cpu_count() or 1))


def _package_root() -> str:
    """The folder holding the ``dvcstage`` package, for the writer process's import path."""
    return str(Path(__file__).resolve().parent.parent)


def private_folder(run_dir: Path, name: Path) -> Path:
    """``<run>/.dvcstage/<name>`` (made), beside a ``.gitignore`` that keeps git out."""
    folder = run_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    ignore = run_dir / PRIVATE_FOLDER / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# dvcstage's journal and spare files: never versioned\n*\n")
    return folder


def make_session_folder(run_dir: Path, name: str) -> Path:
    """``<run>/.dvcstage/sessions/<name>`` (a new folder)."""
    session = private_folder(run_dir, SESSIONS_FOLDER) / name
    session.mkdir()
    return session


class MediaWriter:
    """Journals jobs for a writer process that writes them under ``run_dir``.

    Thread-safe. ``max_pending_bytes`` bounds the journal bytes not yet written: a submit
    beyond it waits for the writer process. After ``fork`` the child's copy is inert
    (:attr:`forked`); the child starts a writer of its own when it logs.
    """

    def __init__(
        self,
        run_dir: Path,
        *,
        workers: int | None = None,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        stall_seconds: float = DEFAULT_STALL_SECONDS,
    ) -> None:
        self.run_dir = run_dir
        self.workers = workers or default_workers()
        self.max_pending_bytes = max_pending_bytes
        self.stall_seconds = stall_seconds
        self.pid = os.getpid()
        self.forked = False
        self.session = make_session_folder(run_dir, f"{self.pid}-{secrets.token_hex(4)}")
        meta = {"run": str(run_dir), "workers": self.workers, "pid": self.pid}
        (self.session / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        self.progress = Progress(self.session / PROGRESS_FILE, create=True)
        self._journal = JournalAppender(self.session)
        self._lock = threading.RLock()
        self._process: subprocess.Popen[bytes] | None = None
        self._wake: int | None = None
        self._notify: int | None = None
        self._restarts = 0
        self._pending: deque[tuple[int, str]] = deque()  # (journal bytes after it, what)
        self._targets: dict[str, int] = {}  # target -> journal bytes after its last record
        self._errors_seen = 0
        self._errors_read = 0  # bytes of errors.jsonl already raised
        self._closed = False
        self._finished = False  # closed with everything written
        _WRITERS.add(self)

    # -- submitting ----------------------------------------------------------------------------

    def submit(
        self, job: object, target: str, describe: str, cost: int = 0, *, writes: bool = True
    ) -> None:
        """Journal ``job`` for the writer process (``target``: what it writes, for ordering;
        ``writes``: whether it writes the target's files, see :meth:`idle_for`).

        Returns once the job is in the journal. Waits first while more than
        ``max_pending_bytes`` of journal are not written yet.
        """
        if self._closed:
            raise MediaWriteError("the writer is closed: Live.end() was called")
        with self._lock:
            if self._journal.appended - self.progress.applied + cost > self.max_pending_bytes:
                budget = max(0, self.max_pending_bytes - cost)
                self._wait(lambda: self._journal.appended - self.progress.applied <= budget)
            _, appended = self._journal.append(job)
            self._pending.append((appended, describe))
            if writes:
                self._targets[target] = appended
            if self._process is None:
                self._start()
            # No wake-up: the writer looks at the journal every POLL_SECONDS by itself. A
            # wake-up on every record let the writer preempt the training thread.

    def idle_for(self, target: str) -> bool:
        """Whether no job journaled to write ``target``'s files is still waiting."""
        after = self._targets.get(target)
        if after is None:
            return True
        if after <= self.progress.applied:
            del self._targets[target]
            return True
        return False

    @property
    def appended(self) -> int:
        """Journal bytes appended so far (compare with :meth:`written_up_to`)."""
        return self._journal.appended

    def written_up_to(self, appended: int) -> bool:
        """Whether everything journaled up to ``appended`` bytes is written."""
        return self._finished or self.progress.applied >= appended

    def wait_from_another_thread(self, appended: int) -> None:
        """Wait until everything journaled up to ``appended`` bytes is written (or the writer
        is closed, which writes everything): for threads other than the logging one."""
        last, since = self.progress.applied, time.monotonic()
        while not self.forked and not self.written_up_to(appended):
            self._drain_notify(0.25)
            if self.progress.applied != last:
                last, since = self.progress.applied, time.monotonic()
            elif time.monotonic() - since > self.stall_seconds:
                raise MediaWriteError(f"no progress for {self.stall_seconds:.0f} s")

    # -- the writer process ------------------------------------------------------------------

    def _start(self) -> None:
        wake_read, self._wake = os.pipe()
        self._notify, notify_write = os.pipe()
        os.set_blocking(self._wake, False)
        os.set_blocking(self._notify, False)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (_package_root(), env.get("PYTHONPATH", "")) if p
        )
        with open(self.session / LOG_FILE, "ab") as log:
            self._process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "dvcstage.writer_process",
                    str(self.session),
                    "--wake-fd",
                    str(wake_read),
                    "--notify-fd",
                    str(notify_write),
                ],
                pass_fds=(wake_read, notify_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=log,
                env=env,
                # Its own session: Ctrl-C and a terminal hang-up stop the training, not the
                # writing of what the training already logged.
                start_new_session=True,
            )
        os.close(wake_read)
        os.close(notify_write)

    def _wake_up(self) -> None:
        if self._wake is not None:
            with contextlib.suppress(BlockingIOError, BrokenPipeError):
                os.write(self._wake, b"w")

    def _drain_notify(self, timeout: float) -> None:
        fd = self._notify  # another thread may close it meanwhile (end())
        if fd is None:
            time.sleep(min(timeout, 0.05))
            return
        try:
            ready, _, _ = select.select([fd], [], [], timeout)
            if ready:
                while os.read(fd, 65536):
                    pass
        except (OSError, ValueError):  # empty for now, or closed by another thread
            pass

    def _check_process(self) -> None:
        """Start the writer again if it died (it continues where it stopped)."""
        if self._process is None or self._process.poll() is None:
            return
        code = self._process.returncode
        self._close_pipes()
        self._process = None
        if self.progress.applied >= self._journal.appended:
            return  # it had finished everything (an exit after close, or nothing pending)
        if self._restarts >= _MAX_RESTARTS:
            raise MediaWriteError(
                f"the writer process exited with code {code} {self._restarts + 1} times; "
                f"not written: {self.describe_pending()} (see {self.session / LOG_FILE})"
            )
        self._restarts += 1
        logger.warning("dvcstage: the writer process exited with code %s; restarting it", code)
        self._start()

    def _wait(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()``, as long as the writer makes progress."""
        self._wake_up()  # someone waits: no need to wait for the writer's next look
        last = self.progress.applied
        since = time.monotonic()
        while not done():
            self._check_process()
            if self._process is None and not done():
                self._start()
            self._drain_notify(0.25)
            applied = self.progress.applied
            if applied != last:
                last, since = applied, time.monotonic()
            elif time.monotonic() - since > self.stall_seconds:
                raise MediaWriteError(
                    f"the writer made no progress for {self.stall_seconds:.0f} s (a stuck disk?);"
                    f" not written: {self.describe_pending()}"
                )

    def describe_pending(self, limit: int = 5) -> str:
        """What is journaled but not written yet, e.g. ``image 'pred' at step 3 (and 2 more)``."""
        applied = self.progress.applied
        waiting = [what for after, what in self._pending if after > applied]
        if not waiting:
            return "nothing"
        more = f" (and {len(waiting) - limit} more)" if len(waiting) > limit else ""
        return ", ".join(waiting[:limit]) + more

    # -- waiting and errors ----------------------------------------------------------------

    def wait(self) -> None:
        """Wait until everything submitted so far is written (or failed)."""
        if self.forked:
            return
        with self._lock:
            target = self._journal.appended
            self._wait(lambda: self.progress.applied >= target)
            self._forget_written()

    def flush(self) -> None:
        """Wait until everything submitted so far is written, then raise any write error."""
        self.wait()
        self.raise_errors()

    def _forget_written(self) -> None:
        applied = self.progress.applied
        while self._pending and self._pending[0][0] <= applied:
            self._pending.popleft()

    def raise_errors(self) -> None:
        """Raise the first write error not raised yet (the rest are counted).

        Costs one read of shared memory when there is none.
        """
        if self.progress.errors == self._errors_seen:
            return
        self._errors_seen = self.progress.errors
        path = self.session / ERRORS_FILE
        try:
            with open(path, encoding="utf-8") as handle:
                handle.seek(self._errors_read)
                text = handle.read()
        except FileNotFoundError:
            return
        self._errors_read += len(text.encode("utf-8"))
        lines = [json.loads(row) for row in text.splitlines() if row.strip()]
        if lines:
            raise write_error(lines)

    # -- closing ----------------------------------------------------------------------------

    def close(self) -> None:
        """Let the writer finish everything, wait for it, remove the session. Idempotent.

        Raises :class:`MediaWriteError` for a write that failed, or when the writer stops
        making progress (the journal stays, and a resumed run finishes it).
        """
        if self._closed or self.forked:
            return
        with self._lock:
            self._closed = True
            try:
                if self._process is not None:
                    target = self._journal.appended
                    self._wait(lambda: self.progress.applied >= target)
                    self._close_pipes()  # end of input: the writer exits
                    self._wait_exit()
                self.raise_errors()
            finally:
                self._journal.close()
                self._finished = self.progress.applied >= self._journal.appended
            self._remove_session()

    def _wait_exit(self) -> None:
        assert self._process is not None
        try:
            self._process.wait(timeout=self.stall_seconds)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def _close_pipes(self) -> None:
        for fd in (self._wake, self._notify):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake = self._notify = None

    def _remove_session(self) -> None:
        from .sessions import remove_empty_folders

        self.progress.close()
        shutil.rmtree(self.session, ignore_errors=True)
        remove_empty_folders(self.run_dir)

    def abandon_in_child(self) -> None:
        """After ``fork``, in the child: let go of the parent's pipes and journal."""
        self.forked = True
        self._close_pipes()
        self._journal.close()
        self._process = None


def write_error(lines: list[dict[str, object]]) -> MediaWriteError:
    """The error for failed writes reported in ``errors.jsonl`` lines."""
    first = lines[0]
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return MediaWriteError(f"a background write failed: {first['item']}: {first['error']}{more}")


def _after_fork_in_child() -> None:
    for writer in list(_WRITERS):
        writer.abandon_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
