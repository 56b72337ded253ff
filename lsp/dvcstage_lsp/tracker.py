"""Keeping the runs of git revisions and DVC experiments current, in the background.

After ``initialized`` a task finds the workspace's git repositories and lists the runs of the
selected revisions (:func:`dvcstage_lsp.revisions.discover`, on a worker thread), then every
``interval`` seconds compares the refs (one ``git for-each-ref``, a few milliseconds) and
lists again when they changed: a new commit, branch, tag or experiment. Runs that appear are
announced with ``dvcstage/changed`` (``new: true``, their ``kind``, no items: ask
``dvcstage/media``); runs that disappear with ``removed: true``; a run whose id now names
another commit (an experiment re-run under its name) with ``reset: true``.

Experiments that exist only on a git remote (:mod:`dvcstage_lsp.remote_exps`) are merged in
as runs marked ``remote``; once fetched, such a run is local and announced with
``reset: true``.

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
        self.repos_found = asyncio.Event()  # set once self.repos is known
        self.seconds: float | None = None  # how long the first listing took
        self.local: dict[str, RevisionRun] = {}  # runs of local revisions, by id
        self.remote: dict[Path, dict[str, RevisionRun]] = {}  # remote-only runs, by repository
        self.pinned: set[str] = set()  # experiments fetched when opened: always listed
        self.lock = asyncio.Lock()  # one listing at a time

    def start(self) -> None:
        """Start the background task on the running loop."""
        if self.task is None and self.spec.tokens and self.spec.max_revisions > 0:
            self.task = asyncio.get_running_loop().create_task(self.run())
        elif self.task is None:
            self.discovered.set()
            self.repos_found.set()

    def stop(self) -> None:
        """Stop tracking."""
        if self.task is not None:
            self.task.cancel()
            self.task = None

    def _signatures(self) -> list[bytes]:
        return [refs_signature(repo.root) for repo in self.repos]

    def _discover(self) -> dict[str, RevisionRun]:
        several = len(self.registry.folders) > 1
        return discover(
            self.repos, self.spec, self.cache_dir, self.indexes, several, set(self.pinned)
        )

    async def run(self) -> None:
        """Find the repositories, list their revisions' runs, and look again on ref changes."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            self.repos = await asyncio.to_thread(workspace_repos, self.registry.folders)
        except Exception:
            logger.exception("cannot find the workspace's git repositories")
        self.repos_found.set()
        if not self.repos:
            self.discovered.set()
            return
        while True:
            try:
                await self.refresh(force=False)
            except asyncio.CancelledError:
                raise
            except Exception:  # a git failure must not end tracking
                logger.exception("listing the revisions failed")
            if not self.discovered.is_set():
                self.seconds = loop.time() - started
                logger.info("revisions listed in %.3f s", self.seconds)
                self.discovered.set()
            await asyncio.sleep(self.interval)

    async def refresh(self, force: bool = True) -> None:
        """List the revisions' runs again (if the refs changed, or ``force``) and announce."""
        async with self.lock:
            signature = await asyncio.to_thread(self._signatures)
            if force or signature != self.signature:
                found = await asyncio.to_thread(self._discover)
                self.apply(found)
                self.signature = signature

    def apply(self, found: dict[str, RevisionRun]) -> None:
        """Replace the local revisions' runs by ``found`` and announce the differences."""
        self.local = dict(found)
        self.publish()

    def set_remote(self, root: Path, runs: dict[str, RevisionRun]) -> None:
        """Replace the remote-only experiment runs of repository ``root`` and announce."""
        self.remote[root] = dict(runs)
        self.publish()

    def merged(self) -> dict[str, RevisionRun]:
        """The local runs, then the remote-only runs whose id and experiment are not local."""
        result = dict(self.local)
        local = {(run.revision.sha, tuple(run.revision.names[:1])) for run in self.local.values()}
        for runs in self.remote.values():
            for run_id, run in runs.items():
                experiment = (run.revision.sha, tuple(run.revision.names[:1]))
                if run_id not in result and experiment not in local:
                    result[run_id] = run
        return result

    def publish(self) -> None:
        """Make the merged runs the registry's revision runs; announce the differences."""
        found = self.merged()
        old = self.registry.revision_runs
        self.registry.revision_runs = dict(found)
        for run_id, run in found.items():
            before = old.get(run_id)
            if (
                isinstance(before, RevisionRun)
                and before.revision.sha == run.revision.sha
                and before.revision.remote == run.revision.remote
            ):
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
