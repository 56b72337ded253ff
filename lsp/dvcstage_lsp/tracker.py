"""Keeping the runs of git revisions and DVC experiments current, in the background.

After ``initialized`` a task finds the workspace's git repositories and lists the runs of the
selected revisions (:func:`dvcstage_lsp.revisions.discover`, on a worker thread), then every
``interval`` seconds compares the refs (one ``git for-each-ref``, a few milliseconds) and
lists again when they changed: a new commit, branch, tag or experiment. Runs that appear are
announced with ``dvcstage/changed`` (``new: true``, their ``kind``, no items: ask
``dvcstage/media``); runs that disappear with ``removed: true``; a run whose id now names
another commit (an experiment re-run under its name) with ``reset: true``.

Requests never wait for this: ``dvcstage/runs`` answers with what is known.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from . import protocol as p
from .revisions import (
    IndexCache,
    RevisionRun,
    RevisionSpec,
    WorkspaceRepo,
    discover,
    refs_signature,
    workspace_repos,
)
from .runs import RunRegistry

logger = logging.getLogger(__name__)


class RevisionTracker:
    """Lists the revisions' runs into ``registry.revision_runs`` and announces changes."""

    def __init__(
        self,
        registry: RunRegistry,
        spec: RevisionSpec,
        cache_dir: Path,
        notify: Callable[[p.ChangedParams], None],
        interval: float = 5.0,
    ) -> None:
        self.registry = registry
        self.spec = spec
        self.cache_dir = cache_dir
        self.notify = notify
        self.interval = interval
        self.indexes = IndexCache()
        self.repos: list[WorkspaceRepo] = []
        self.signature: list[bytes] | None = None
        self.task: asyncio.Task[None] | None = None
        self.discovered = asyncio.Event()
        self.seconds: float | None = None  # how long the first listing took

    def start(self) -> None:
        """Start the background task on the running loop."""
        if self.task is None and self.spec.tokens and self.spec.max_revisions > 0:
            self.task = asyncio.get_running_loop().create_task(self.run())
        elif self.task is None:
            self.discovered.set()

    def stop(self) -> None:
        """Stop tracking."""
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def _signatures(self) -> list[bytes]:
        return [refs_signature(repo.root) for repo in self.repos]

    def _discover(self) -> dict[str, RevisionRun]:
        several = len(self.registry.folders) > 1
        return discover(self.repos, self.spec, self.cache_dir, self.indexes, several)

    async def run(self) -> None:
        """Find the repositories, list their revisions' runs, and look again on ref changes."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            self.repos = await asyncio.to_thread(workspace_repos, self.registry.folders)
        except Exception:
            logger.exception("cannot find the workspace's git repositories")
        if not self.repos:
            self.discovered.set()
            return
        while True:
            try:
                signature = await asyncio.to_thread(self._signatures)
                if signature != self.signature:
                    found = await asyncio.to_thread(self._discover)
                    self.apply(found)
                    self.signature = signature
            except asyncio.CancelledError:
                raise
            except Exception:  # a git failure must not end tracking
                logger.exception("listing the revisions failed")
            if not self.discovered.is_set():
                self.seconds = loop.time() - started
                logger.info("revisions listed in %.3f s", self.seconds)
                self.discovered.set()
            await asyncio.sleep(self.interval)

    def apply(self, found: dict[str, RevisionRun]) -> None:
        """Replace the revision runs by ``found`` and announce the differences."""
        old = self.registry.revision_runs
        self.registry.revision_runs = dict(found)
        for run_id, run in found.items():
            before = old.get(run_id)
            if isinstance(before, RevisionRun) and before.revision.sha == run.revision.sha:
                continue
            params: p.ChangedParams = {
                "run": run_id,
                "lastStep": run.index.last_step,
                "items": [],
                "kind": run.kind,
            }
            params["reset" if before is not None else "new"] = True
            self.notify(params)
        for run_id, old_run in old.items():
            if run_id not in found:
                gone: p.ChangedParams = {
                    "run": run_id,
                    "lastStep": None,
                    "items": [],
                    "removed": True,
                }
                if isinstance(old_run, RevisionRun):
                    gone["kind"] = old_run.kind
                self.notify(gone)
