"""Runs in git revisions and DVC experiments, found with git alone (no checkout, no DVC).

Which revisions: a :class:`RevisionSpec` such as ``HEAD,branches,tags,experiments`` (the
default), each token being ``HEAD``, ``branches`` (local branches), ``tags``, ``experiments``
(DVC's experiment refs, ``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>``) or a ref name or
commit. At most ``max_revisions`` commits and as many experiments are kept, newest first.

How: ``git for-each-ref`` lists the refs (a few milliseconds), ``git ls-tree -r`` lists each
revision's git-tracked files and ``git cat-file --batch`` reads every media index at once. An
index is immutable in a revision: parsed indexes are cached by blob id, so revisions sharing an
index share one :class:`~dvcstage_lsp.runs.RunIndex`. The run folders are those a workspace
scan would find (the same folders skipped). Media files are not read here: see
:mod:`dvcstage_lsp.materialise`.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from .runs import INDEX_FILE, MAX_SCAN_DEPTH, RUN_OUTPUT_DIRS, SKIP_DIRS, Run, RunIndex
from .series import METRICS_FOLDER

logger = logging.getLogger(__name__)

DEFAULT_REVISIONS = "HEAD,branches,tags,experiments"
DEFAULT_MAX_REVISIONS = 20
GIT_TIMEOUT = 60.0
SHORT_SHA = 7
SELECTORS = frozenset({"HEAD", "branches", "tags", "experiments"})
# DVC's experiment refs: refs/exps/<2 hex>/<38 hex>/<name> (not exec/, celery/, temp refs).
_EXP_REF = re.compile(r"refs/exps/([0-9a-f]{2})/([0-9a-f]{38})/(.+)")
_FORMAT = "%00".join(
    (
        "%(refname)",
        "%(objecttype)",
        "%(objectname)",
        "%(*objectname)",
        "%(committerdate:unix)",
        "%(*committerdate:unix)",
    )
)
RevisionKind = Literal["commit", "experiment"]
_GROUPS = {"refs/heads/": "branches", "refs/tags/": "tags"}


class RevisionSpecError(ValueError):
    """A ``--revisions`` value (or ``revisions`` option) that cannot be understood."""


@dataclass(frozen=True)
class RevisionSpec:
    """Which revisions to list: selector tokens and explicit refs, and how many at most."""

    tokens: tuple[str, ...] = tuple(DEFAULT_REVISIONS.split(","))
    max_revisions: int = DEFAULT_MAX_REVISIONS

    @classmethod
    def parse(cls, value: str | Sequence[str], max_revisions: int) -> RevisionSpec:
        """From ``"HEAD,main,tags"`` or ``["HEAD", "main"]``; ``""`` or ``none``: no revisions.

        >>> RevisionSpec.parse("HEAD, tags", 5).tokens
        ('HEAD', 'tags')
        """
        parts = value.split(",") if isinstance(value, str) else list(value)
        tokens = tuple(part.strip() for part in parts if part.strip())
        for token in tokens:
            if not isinstance(token, str) or token.startswith("-") or "\x00" in token:
                raise RevisionSpecError(
                    f"revisions: {token!r} is not HEAD, branches, tags, experiments, none "
                    "or a ref name"
                )
        if tokens == ("none",):
            tokens = ()
        if isinstance(max_revisions, bool) or not isinstance(max_revisions, int):
            raise RevisionSpecError(f"maxRevisions: expected an integer, got {max_revisions!r}")
        if max_revisions < 0:
            raise RevisionSpecError(f"maxRevisions: must be >= 0, got {max_revisions}")
        return cls(tokens, max_revisions)


@dataclass
class Revision:
    """One commit to read: its sha, the names pointing at it, and what it is."""

    sha: str
    kind: RevisionKind
    names: list[str] = field(default_factory=list)
    time: int = 0
    baseline: str | None = None  # experiments: the commit they were run from
    remote: str | None = None  # experiments only on a git remote: its name (not fetched yet)

    @property
    def short(self) -> str:
        """The abbreviated sha used in run ids."""
        return self.sha[:SHORT_SHA]


@dataclass
class RevisionRun(Run):
    """A run as committed in a revision: its index from git, its files read on demand.

    ``dir`` is where the run's files are materialised (``<cache>/<sha>/<repo_dir>``);
    ``repo_root`` the git work tree and ``repo_dir`` the run folder relative to it.
    """

    revision: Revision
    repo_root: Path
    repo_dir: str
    folder_dir: str
    label: str
    metric_names: list[str]

    @property
    def kind(self) -> RevisionKind:
        """``commit`` or ``experiment``."""
        return self.revision.kind

    @property
    def relative_dir(self) -> str:
        """The run's folder relative to its workspace folder."""
        return self.folder_dir

    @property
    def cache_root(self) -> Path:
        """``<cache>/<sha>``: the revision's materialised files lie below."""
        return (
            self.dir.parents[len(PurePosixPath(self.repo_dir).parts) - 1]
            if (self.repo_dir != ".")
            else self.dir
        )

    def metrics(self) -> list[str]:
        """The metric series committed in the revision (from its git tree)."""
        return self.metric_names

    def file_roots(self, folders: list[Path]) -> list[Path]:
        """Only the revision's cache folder: nothing of the workspace."""
        return [self.cache_root]

    def repo_path(self, relative: str) -> str:
        """The repository-relative POSIX path of a run-relative path."""
        return relative if self.repo_dir == "." else f"{self.repo_dir}/{relative}"


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run ``git -C root args``; its stdout, or :class:`subprocess.CalledProcessError`."""
    done = subprocess.run(
        ["git", "-C", str(root), *args],
        input=stdin,
        capture_output=True,
        check=True,
        timeout=GIT_TIMEOUT,
    )
    return done.stdout


def git_root(folder: Path) -> Path | None:
    """The work tree holding ``folder``, or ``None`` if it is not in a git repository."""
    try:
        out = git(folder, "rev-parse", "--show-toplevel")
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.decode("utf-8", "surrogateescape").strip()
    return Path(text).resolve() if text else None


def refs_signature(root: Path) -> bytes:
    """Everything the revision list depends on: HEAD and every ref (cheap to compare)."""
    try:
        head = git(root, "rev-parse", "--verify", "-q", "HEAD")
    except subprocess.CalledProcessError:
        head = b""
    return head + git(root, "for-each-ref", f"--format={_FORMAT}")


def _refs(signature: bytes) -> tuple[str | None, list[tuple[str, str, int]]]:
    """(HEAD's sha, [(refname, commit sha, commit time)]) from :func:`refs_signature`."""
    text = signature.decode("utf-8", "surrogateescape")
    lines = text.split("\n")
    head: str | None = None
    if lines and "\x00" not in lines[0] and re.fullmatch(r"[0-9a-f]{40,64}", lines[0].strip()):
        head = lines.pop(0).strip()
    refs: list[tuple[str, str, int]] = []
    for line in lines:
        fields = line.split("\x00")
        if len(fields) != 6:
            continue
        name, kind, sha, peeled, time, peeled_time = fields
        if kind == "tag" and peeled:
            sha, time = peeled, peeled_time
        elif kind != "commit":
            continue
        refs.append((name, sha, int(time) if time.isdigit() else 0))
    return head, refs


def select_revisions(
    root: Path, spec: RevisionSpec, signature: bytes, pinned: Iterable[str] = ()
) -> list[Revision]:
    """The revisions ``spec`` names, newest first: commits, then experiments.

    Experiments whose sha is in ``pinned`` (fetched from a remote when opened) are kept even
    beyond the ``max_revisions`` newest.
    """
    head, refs = _refs(signature)
    times = {sha: time for _, sha, time in refs}
    commits: dict[str, Revision] = {}
    experiments: dict[str, Revision] = {}

    def commit(sha: str, name: str, time: int | None = None) -> None:
        revision = commits.setdefault(sha, Revision(sha, "commit", time=times.get(sha, 0)))
        if time is not None:
            revision.time = time
        if name not in revision.names:
            revision.names.append(name)

    tokens = set(spec.tokens)
    for token in spec.tokens:
        if token == "HEAD" and head is not None:
            commit(head, "HEAD", _commit_time(root, head) if head not in times else None)
    for name, sha, time in refs:
        short = name.split("/", 2)[-1]
        group = _GROUPS.get(name[: len(name) - len(short)])
        if group is not None and (group in tokens or short in tokens):
            commit(sha, short)
        elif name in tokens:
            commit(sha, name)
        match = _EXP_REF.fullmatch(name)
        if match and "experiments" in tokens:
            revision = experiments.setdefault(
                sha,
                Revision(sha, "experiment", time=time, baseline=match.group(1) + match.group(2)),
            )
            revision.names.append(match.group(3))
    known = {"HEAD"} | {n for name, _, _ in refs for n in (name, name.split("/", 2)[-1])}
    for token in spec.tokens:
        if token in SELECTORS or token in known:
            continue
        resolved = _resolve(root, token)
        if resolved is None:
            logger.warning("revisions: %r names no commit; skipped", token)
        else:
            commit(resolved, token, _commit_time(root, resolved))
    for sha, revision in experiments.items():  # an experiment that is also a branch
        other = commits.pop(sha, None)
        if other is not None:
            revision.names.extend(n for n in other.names if n not in revision.names)

    def newest(revisions: Iterable[Revision]) -> list[Revision]:
        return sorted(revisions, key=lambda r: (-r.time, r.sha))[: spec.max_revisions]

    kept = newest(experiments.values())
    shown = {r.sha for r in kept}
    kept += [experiments[sha] for sha in sorted(set(pinned)) if sha in experiments.keys() - shown]
    return newest(commits.values()) + kept


def _resolve(root: Path, name: str) -> str | None:
    try:
        out = git(root, "rev-parse", "--verify", "-q", "--end-of-options", f"{name}^{{commit}}")
    except subprocess.CalledProcessError:
        return None
    return out.decode().strip() or None


def _commit_time(root: Path, sha: str) -> int:
    try:
        return int(git(root, "show", "-s", "--format=%ct", sha).decode().strip() or 0)
    except (subprocess.CalledProcessError, ValueError):
        return 0


@dataclass(frozen=True)
class TreeRuns:
    """The run folders of one revision (repository-relative) with their index blobs."""

    runs: dict[str, str]  # run dir -> blob id of its media.jsonl
    metrics: dict[str, list[str]]  # run dir -> metric names


def _is_run_index(folders: tuple[str, ...], run_dirs: set[tuple[str, ...]]) -> bool:
    """Whether a workspace scan would find the index in ``folders`` (same folders skipped)."""
    if len(folders) > MAX_SCAN_DEPTH or any(part in SKIP_DIRS for part in folders):
        return False
    return not any(
        folders[:depth] in run_dirs and folders[depth] in RUN_OUTPUT_DIRS
        for depth in range(len(folders))
    )


def tree_runs(root: Path, sha: str, prefix: str) -> TreeRuns:
    """The runs of revision ``sha`` under ``prefix`` (a repository-relative folder, or ``""``).

    Run folders are repository-relative (``.`` for the root).
    """
    out = git(root, "ls-tree", "-r", "-z", "--full-tree", sha)
    skip = len(prefix.split("/")) if prefix else 0
    indexes: dict[tuple[str, ...], str] = {}
    tsvs: list[tuple[str, ...]] = []
    for entry in out.split(b"\x00"):
        meta, tab, raw_path = entry.partition(b"\t")
        if not tab:
            continue
        path = raw_path.decode("utf-8", "surrogateescape")
        if prefix and not path.startswith(prefix + "/"):
            continue
        parts = tuple(path.split("/"))
        if parts[-1] == INDEX_FILE:
            fields = meta.split()
            if len(fields) == 3 and fields[1] == b"blob":
                indexes[parts[:-1]] = fields[2].decode()
        elif parts[-1].endswith(".tsv"):
            tsvs.append(parts)
    local_runs = {folders[skip:] for folders in indexes}
    runs: dict[str, str] = {}
    metrics: dict[str, list[str]] = {}
    metric_parts = PurePosixPath(METRICS_FOLDER).parts
    for folders in sorted(indexes):
        if not _is_run_index(folders[skip:], local_runs):
            continue
        run_dir = "/".join(folders) or "."
        runs[run_dir] = indexes[folders]
        head = (*folders, *metric_parts)
        metrics[run_dir] = sorted(
            "/".join(p[len(head) :])[: -len(".tsv")] for p in tsvs if p[: len(head)] == head
        )
    return TreeRuns(runs, metrics)


def read_blobs(root: Path, blobs: Iterable[str]) -> dict[str, bytes]:
    """The content of each blob, read by one ``git cat-file --batch``."""
    wanted = sorted(set(blobs))
    if not wanted:
        return {}
    out = git(root, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in wanted).encode())
    found: dict[str, bytes] = {}
    at = 0
    for blob in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) == 3:
            size = int(header[2])
            found[blob] = out[at : at + size]
            at += size + 1
    return found


class IndexCache:
    """Parsed indexes by blob id: an index in a revision never changes."""

    def __init__(self) -> None:
        self.indexes: dict[str, RunIndex] = {}

    def get(self, root: Path, blobs: Iterable[str]) -> dict[str, RunIndex]:
        """A :class:`RunIndex` for each blob (read and parsed once)."""
        wanted = set(blobs)
        missing = wanted - set(self.indexes)
        for blob, data in read_blobs(root, missing).items():
            index = RunIndex(Path(f"git-blob-{blob}") / INDEX_FILE)
            index.load_bytes(data)
            self.indexes[blob] = index
        return {blob: self.indexes[blob] for blob in wanted if blob in self.indexes}


def run_label(revision: Revision, folder_dir: str) -> str:
    """``main, HEAD: dvclive``, ``exp-a: dvclive``, ``a1b2c3d: dvclive``."""
    names = ", ".join(revision.names) or revision.short
    return f"{names}: {folder_dir}"


def run_id(revision: Revision, folder_dir: str, duplicate_name: bool) -> str:
    """``commit:<short sha>:<dir>`` or ``experiment:<name>:<dir>``.

    An experiment name used by two experiments (on different baselines) gets ``@<short sha>``.
    """
    if revision.kind == "experiment" and revision.names:
        name = revision.names[0]
        if duplicate_name:
            name = f"{name}@{revision.short}"
        return f"experiment:{name}:{folder_dir}"
    return f"commit:{revision.short}:{folder_dir}"


@dataclass(frozen=True)
class WorkspaceRepo:
    """A workspace folder inside a git work tree."""

    folder: Path
    root: Path
    prefix: str  # the folder relative to root ("" for the root itself)
    id_prefix: str  # what run ids put before the run dir (the folder name, with several)


def workspace_repos(folders: Sequence[Path]) -> list[WorkspaceRepo]:
    """The workspace folders that lie in a git work tree."""
    found = []
    for folder in folders:
        root = git_root(folder)
        if root is None:
            continue
        prefix = folder.resolve().relative_to(root).as_posix() if folder != root else ""
        found.append(WorkspaceRepo(folder, root, "" if prefix == "." else prefix, folder.name))
    return found


def revision_run(
    repo: WorkspaceRepo,
    revision: Revision,
    repo_dir: str,
    index: RunIndex,
    cache_dir: Path,
    several_folders: bool,
    duplicate_name: bool,
    metric_names: list[str] | None = None,
) -> RevisionRun | None:
    """The run in ``repo_dir`` (repository-relative) of ``revision``; ``None`` outside the
    workspace folder."""
    if repo.prefix and not (repo_dir == repo.prefix or repo_dir.startswith(repo.prefix + "/")):
        return None
    local = (repo_dir[len(repo.prefix) + 1 :] if repo.prefix else repo_dir) or "."
    shown = f"{repo.id_prefix}/{local}" if several_folders else local
    if several_folders and local == ".":
        shown = repo.id_prefix
    return RevisionRun(
        id=run_id(revision, shown, duplicate_name),
        folder=repo.folder,
        dir=cache_dir / revision.sha / repo_dir,
        index=index,
        revision=revision,
        repo_root=repo.root,
        repo_dir=repo_dir,
        folder_dir=local,
        label=run_label(revision, shown),
        metric_names=metric_names or [],
    )


def discover(
    repos: Sequence[WorkspaceRepo],
    spec: RevisionSpec,
    cache_dir: Path,
    indexes: IndexCache,
    several_folders: bool,
    pinned: Iterable[str] = (),
) -> dict[str, RevisionRun]:
    """Every run of every selected revision of every workspace repository, by run id.

    Blocking (git subprocesses): call it from a worker thread.
    """
    result: dict[str, RevisionRun] = {}
    pinned = frozenset(pinned)
    for repo in repos:
        signature = refs_signature(repo.root)
        revisions = select_revisions(repo.root, spec, signature, pinned)
        names = [r.names[0] for r in revisions if r.kind == "experiment" and r.names]
        duplicates = {n for n in names if names.count(n) > 1}
        trees = {r.sha: tree_runs(repo.root, r.sha, repo.prefix) for r in revisions}
        parsed = indexes.get(repo.root, (b for t in trees.values() for b in t.runs.values()))
        for revision in revisions:
            tree = trees[revision.sha]
            for repo_dir, blob in tree.runs.items():
                index = parsed.get(blob)
                if index is None:
                    continue
                duplicate = bool(revision.names) and revision.names[0] in duplicates
                run = revision_run(
                    repo,
                    revision,
                    repo_dir,
                    index,
                    cache_dir,
                    several_folders,
                    duplicate,
                    tree.metrics.get(repo_dir, []),
                )
                if run is not None:
                    result[run.id] = run
    return result
