"""Noticing new index lines: the client's file watcher when it offers one, else polling.

When the client supports dynamic registration of ``workspace/didChangeWatchedFiles``, the
server registers a watcher for ``**/media.jsonl`` and refreshes a run when the client reports
a change. Otherwise an asyncio task polls each known index (a ``stat``, then a read of what
was appended) every ``interval`` seconds and looks for new runs every ``rescan_interval``.
Either way each run's appended lines become one ``dvcstage/changed`` notification.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from lsprotocol import types

from . import protocol as p
from .runs import INDEX_FILE, Run, RunRegistry

logger = logging.getLogger(__name__)

WATCH_GLOB = f"**/{INDEX_FILE}"
REGISTRATION_ID = "dvcstage-lsp-media-index"
MAX_CHANGED_ITEMS = 1000


def supports_dynamic_watch(capabilities: types.ClientCapabilities) -> bool:
    """Whether the client can register ``workspace/didChangeWatchedFiles`` dynamically."""
    workspace = capabilities.workspace
    watched = workspace.did_change_watched_files if workspace else None
    return bool(watched and watched.dynamic_registration)


def registration() -> types.RegistrationParams:
    """The ``client/registerCapability`` params watching every media index."""
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=WATCH_GLOB)]
    )
    return types.RegistrationParams(
        registrations=[
            types.Registration(
                id=REGISTRATION_ID,
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options,
            )
        ]
    )


def changed_params(
    run: Run, lines: list[tuple[str, int, int, bool, str]], reset: bool, new: bool
) -> p.ChangedParams:
    """The ``dvcstage/changed`` params for ``lines`` (key, step, item, has_item, kind)."""
    items: list[p.ChangedItem] = []
    for key, step, position, has_item, kind in lines[-MAX_CHANGED_ITEMS:]:
        entry: p.ChangedItem = {"key": key, "step": step, "kind": kind}
        if has_item:
            entry["item"] = position
        items.append(entry)
    params: p.ChangedParams = {"run": run.id, "lastStep": run.index.last_step, "items": items}
    if reset:
        params["reset"] = True
    if new:
        params["new"] = True
    if len(lines) > MAX_CHANGED_ITEMS:
        params["truncated"] = True
    return params


class Watcher:
    """Refreshes runs and hands each change to ``notify``."""

    def __init__(
        self,
        registry: RunRegistry,
        notify: Callable[[p.ChangedParams], None],
        interval: float = 0.1,
        rescan_interval: float = 2.0,
    ) -> None:
        self.registry = registry
        self.notify = notify
        self.interval = interval
        self.rescan_interval = rescan_interval
        self.task: asyncio.Task[None] | None = None

    def refresh(self, run: Run, new: bool = False) -> bool:
        """Read what was appended to ``run``'s index; notify if anything changed.

        A run whose index is gone (its folder deleted, or the index alone) is forgotten and
        announced with ``removed: true``; if an index appears there again, the next scan finds
        it as a new run.
        """
        appended = run.index.refresh()
        if appended.reset and not run.index.path.exists():
            self.registry.remove(run.id)
            self.notify({"run": run.id, "lastStep": None, "items": [], "removed": True})
            return True
        if not appended.lines and not appended.reset and not new:
            return False
        lines = [(x.key, x.step, x.item, x.has_item, x.kind) for x in appended.lines]
        if new:
            lines = [
                (x.key, x.step, x.item, x.has_item, x.kind)
                for x in sorted(run.index.latest.values(), key=lambda x: x.number)
            ]
        self.notify(changed_params(run, lines, appended.reset, new))
        return True

    def refresh_all(self) -> None:
        """Refresh every known run."""
        for run in list(self.registry.runs.values()):
            self.refresh(run)

    def rescan(self) -> None:
        """Look for new runs and announce them."""
        for run in self.registry.scan():
            self.refresh(run, new=True)

    def file_changed(self, path: Path) -> None:
        """An index file was created, changed or deleted (from the client's watcher)."""
        if path.name != INDEX_FILE:
            return
        run = self.registry.run_for_index(path)
        if run is not None:
            self.refresh(run)
        elif path.is_file():
            new = self.registry.add(path)
            if new is not None:
                self.refresh(new, new=True)

    async def poll(self) -> None:
        """Poll forever (until cancelled)."""
        last_scan = time.monotonic()
        while True:
            await asyncio.sleep(self.interval)
            try:
                self.refresh_all()
                if time.monotonic() - last_scan >= self.rescan_interval:
                    last_scan = time.monotonic()
                    found = await asyncio.to_thread(self.registry.find_index_files)
                    for index_file in found:
                        run = self.registry.add(index_file)
                        if run is not None:
                            self.refresh(run, new=True)
            except Exception:  # keep polling whatever a file does
                logger.exception("polling failed")

    def start_polling(self) -> None:
        """Start the polling task on the running loop."""
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.poll())

    def stop(self) -> None:
        """Stop polling."""
        if self.task is not None:
            self.task.cancel()
            self.task = None
