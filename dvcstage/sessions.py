"""Journal sessions a run folder holds from earlier processes: finish them or discard them.

A session whose training process died is finished by its writer process, which outlives
it; if that died too, :func:`finish_sessions` starts a writer for it and waits. A resumed run
does this before it reads anything, so it starts from everything that was logged. A fresh
(not resumed) run discards them instead (:func:`discard_sessions`), as it discards the files.
Sessions of processes still running (another run logging to the same folder) are left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .journal import ERRORS_FILE, LOCK_FILE, PRIVATE_FOLDER, SESSIONS_FOLDER, SPARES_FOLDER
from .processes import process_alive
from .writer_process import TAKEN

logger = logging.getLogger("dvcstage")


@dataclass
class SessionReport:
    """What happened to earlier sessions: finished, discarded, left alone, failed writes."""

    finished: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)


def _owner(session: Path) -> int:
    try:
        return int(json.loads((session / "meta.json").read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _writer_pid(session: Path) -> int:
    try:
        return int((session / LOCK_FILE).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def _lock_is_free(session: Path) -> bool:
    """Whether no writer process holds the session's lock right now."""
    try:
        fd = os.open(session / LOCK_FILE, os.O_RDWR | os.O_CLOEXEC)
    except OSError:  # no writer ever started (or the folder is being removed)
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def remove_empty_folders(run_dir: Path) -> None:
    """Remove ``.dvcstage`` once no session and no spare file is left in it."""
    private = run_dir / PRIVATE_FOLDER
    for folder in (run_dir / SESSIONS_FOLDER, run_dir / SPARES_FOLDER):
        with contextlib.suppress(OSError):
            folder.rmdir()
    with contextlib.suppress(OSError):
        if {p.name for p in private.iterdir()} <= {".gitignore"}:
            (private / ".gitignore").unlink(missing_ok=True)
            private.rmdir()


def remove_dead_spares(run_dir: Path) -> None:
    """Spare files of processes that ended without ``end()`` (see ``SwapFile``)."""
    spares = run_dir / SPARES_FOLDER
    for folder in spares.iterdir() if spares.is_dir() else ():
        owner = folder.name.split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and not process_alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def writer_running(session: Path) -> bool:
    """Whether a writer process works on ``session`` now (it holds the session's lock)."""
    return not _lock_is_free(session)


def earlier_sessions(run_dir: Path, own: set[Path]) -> list[Path]:
    """Session folders of the run, except ``own`` (sessions of this process's writers)."""
    folder = run_dir / SESSIONS_FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and p not in own)


def _wait_free(session: Path, stall_seconds: float) -> bool:
    """Wait while a writer works on ``session``; ``False`` if it stopped making progress."""
    progress = session / "progress"
    last, since = b"", time.monotonic()
    while not _lock_is_free(session):
        with contextlib.suppress(OSError):
            now = progress.read_bytes()
            if now != last:
                last, since = now, time.monotonic()
        if time.monotonic() - since > stall_seconds:
            return False
        time.sleep(0.05)
    return True


def _finish(session: Path, stall_seconds: float) -> bool:
    """Wait for the session's writer, or start one, until its journal is written.

    A writer that is still starting (its training process died just after starting it)
    does not hold the lock yet: the one started here may then find it taken, and waits.
    ``False`` when a writer stops making progress.
    """
    while True:
        if not _wait_free(session, stall_seconds):
            return False
        if not any(session.glob("*.journal")):
            return True
        if _run_writer(session) != TAKEN:  # written, or failed: its errors are reported
            return True


def _run_writer(session: Path) -> int:
    """Finish ``session`` with a writer process of our own (its previous writer died)."""
    from .writer import _package_root

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_package_root(), env.get("PYTHONPATH")) if p)
    with open(session / "writer.log", "ab") as log:
        return subprocess.call(
            [sys.executable, "-m", "dvcstage.writer_process", str(session)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env=env,
        )


def _read_errors(session: Path) -> list[dict[str, object]]:
    try:
        text = (session / ERRORS_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(row) for row in text.splitlines() if row.strip()]


def finish_sessions(run_dir: Path, own: set[Path], stall_seconds: float = 120.0) -> SessionReport:
    """Write everything earlier sessions journaled, then remove them (a resumed run)."""
    report = SessionReport()
    for session in earlier_sessions(run_dir, own):
        owner = _owner(session)
        if owner != os.getpid() and process_alive(owner):
            report.running.append(session.name)
            continue
        if not _finish(session, stall_seconds):
            logger.warning(
                "dvcstage: the writer of %s made no progress for %.0f s; it is left running",
                session,
                stall_seconds,
            )
            report.running.append(session.name)
            continue
        report.errors.extend(_read_errors(session))
        if any(session.glob("*.journal")):  # the writer could not finish: keep it for later
            report.running.append(session.name)
            continue
        shutil.rmtree(session, ignore_errors=True)
        report.finished.append(session.name)
    for error in report.errors:
        logger.warning(
            "dvcstage: an earlier run could not write %s: %s", error.get("item"), error.get("error")
        )
    remove_dead_spares(run_dir)
    remove_empty_folders(run_dir)
    return report


def discard_sessions(run_dir: Path, own: set[Path]) -> SessionReport:
    """Stop the writers of earlier, dead runs and drop their journals (a fresh run)."""
    report = SessionReport()
    for session in earlier_sessions(run_dir, own):
        owner = _owner(session)
        if owner != os.getpid() and process_alive(owner):
            report.running.append(session.name)
            continue
        if owner == os.getpid():
            continue  # another Live of this process that has not ended: not ours to touch
        writer = _writer_pid(session)
        if not _lock_is_free(session) and process_alive(writer):
            with contextlib.suppress(OSError):
                os.kill(writer, signal.SIGTERM)
            _wait_free(session, 10.0)
        shutil.rmtree(session, ignore_errors=True)
        report.discarded.append(session.name)
    remove_dead_spares(run_dir)
    remove_empty_folders(run_dir)
    return report
