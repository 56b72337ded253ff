"""Files of other revisions, read without a checkout and written into the server's cache.

DVC's filesystem of a revision (``dvc.repo.Repo(root, rev=sha).dvcfs``) serves git-tracked
files from git objects and DVC-tracked ones from the DVC cache, or from the default remote
when the cache lacks them. A file is copied once into ``<cache>/<sha>/<repo path>`` (a
temporary file, then ``os.replace``: a file there is always complete), so answers can hand out
plain ``file://`` URIs. A revision never changes, so a file once there is never read again.

DVC is imported (about a second) and used only here, on one worker thread: a ``Repo`` is not
thread-safe, and requests must not wait for the import.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .paths import PathRefusedError, check_relative
from .revisions import RevisionRun
from .series import histogram_path, metric_path

logger = logging.getLogger(__name__)

MAX_OPEN_REPOS = 4
COPY_CHUNK = 1024 * 1024
MAX_SIDECAR_BYTES = 16 * 1024 * 1024


def default_cache_dir(folders: Iterable[Path]) -> Path:
    """``$XDG_CACHE_HOME/dvcstage-lsp/<sha256 of the workspace folders>[:16]``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    key = "\n".join(sorted(str(Path(f).resolve()) for f in folders))
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return Path(base) / "dvcstage-lsp" / digest


def sidecar_paths(sidecar: dict[str, Any]) -> list[str]:
    """The paths a sidecar holds, relative to its folder: mask files and a kind's files."""
    found: list[str] = []
    masks = sidecar.get("masks")
    if isinstance(masks, dict):
        for mask in masks.values():
            if isinstance(mask, dict) and isinstance(mask.get("path"), str):
                found.append(mask["path"])
    files = sidecar.get("files")
    if isinstance(files, list):
        for file in files:
            if isinstance(file, dict) and isinstance(file.get("path"), str):
                found.append(file["path"])
    return found


class Materialiser:
    """Copies files of revisions into the cache, on its own thread."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dvcstage-dvc")
        self._repos: OrderedDict[tuple[Path, str], Any] = OrderedDict()

    async def item_files(self, run: RevisionRun, line: dict[str, Any]) -> list[str]:
        """Materialise an index line's files, its sidecar and what the sidecar names.

        Returns problems (files the revision lacks or that cannot be read).
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._item_files, run, line)

    async def series_file(self, run: RevisionRun, params: dict[str, Any]) -> list[str]:
        """Materialise the TSV a ``dvcstage/series`` request asks for."""
        if params["kind"] == "histogram":
            relative = histogram_path(params["key"], params.get("item"))
        else:
            relative = metric_path(params["key"])
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self._files, run, [relative])

    def _item_files(self, run: RevisionRun, line: dict[str, Any]) -> list[str]:
        paths = [f["path"] for f in line.get("files", []) if isinstance(f, dict)]
        sidecar = next(
            (f["path"] for f in line.get("files", []) if f.get("role") == "sidecar"), None
        )
        if sidecar is None and isinstance(line.get("sidecar"), str):
            sidecar = line["sidecar"]
            paths.append(sidecar)
        problems = self._files(run, paths)
        if sidecar is None:
            return problems
        document = self._sidecar(run, sidecar)
        if document is not None:
            folder = sidecar.rpartition("/")[0]
            linked = [f"{folder}/{p}" if folder else p for p in sidecar_paths(document)]
            problems += self._files(run, [p for p in linked if p not in paths])
        return problems

    def _sidecar(self, run: RevisionRun, relative: str) -> dict[str, Any] | None:
        try:
            target = run.dir.joinpath(*check_relative(relative).parts)
            if target.stat().st_size > MAX_SIDECAR_BYTES:
                return None
            document = json.loads(target.read_bytes())
        except (OSError, ValueError, RecursionError, PathRefusedError):
            return None  # the query reports it
        return document if isinstance(document, dict) else None

    def _files(self, run: RevisionRun, paths: list[str]) -> list[str]:
        """Copy each run-relative path of ``run`` into the cache; problems for failures."""
        problems: list[str] = []
        for relative in paths:
            try:
                pure = check_relative(relative)
            except PathRefusedError:
                continue  # the query refuses it with its own message
            target = run.dir.joinpath(*pure.parts)
            if target.is_file():
                continue
            try:
                self._copy(run, run.repo_path(pure.as_posix()), target)
            except FileNotFoundError:
                problems.append(f"{relative}: not in revision {run.revision.short}")
            except Exception as exc:  # DVC raises many kinds: a missing remote, a network error
                logger.warning("cannot read %s at %s", relative, run.revision.sha, exc_info=True)
                problems.append(
                    f"{relative}: cannot be read from revision {run.revision.short}: "
                    f"{type(exc).__name__}: {exc}"
                )
        return problems

    def _copy(self, run: RevisionRun, repo_path: str, target: Path) -> None:
        fs = self._filesystem(run.repo_root, run.revision.sha)
        if fs.isdir(repo_path):
            raise FileNotFoundError(repo_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        temp = Path(name)
        try:
            with os.fdopen(handle, "wb") as out, fs.open(repo_path, "rb") as source:
                shutil.copyfileobj(source, out, COPY_CHUNK)
            temp.replace(target)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

    def _filesystem(self, root: Path, sha: str) -> Any:
        """DVC's filesystem of revision ``sha`` (a few ``Repo`` objects kept open)."""
        key = (root, sha)
        repo = self._repos.get(key)
        if repo is None:
            from dvc.repo import Repo  # slow to import: only here, on the worker thread

            repo = Repo(str(root), rev=sha, uninitialized=True)
            self._repos[key] = repo
            while len(self._repos) > MAX_OPEN_REPOS:
                _, old = self._repos.popitem(last=False)
                with contextlib.suppress(Exception):
                    old.close()
        self._repos.move_to_end(key)
        return repo.dvcfs

    def close(self) -> None:
        """Close the open repositories and stop the worker thread."""

        def close_all() -> None:
            for repo in self._repos.values():
                with contextlib.suppress(Exception):
                    repo.close()
            self._repos.clear()

        with contextlib.suppress(RuntimeError):
            self.executor.submit(close_all)
        self.executor.shutdown(wait=False)
