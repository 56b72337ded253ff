"""DVC experiments that exist only on a git remote: listed with git alone, fetched when opened.

``dvc exp push origin exp-a`` leaves the experiment's commit on the git remote under DVC's
experiment ref, ``refs/exps/<baseline[:2]>/<baseline[2:]>/exp-a``. A teammate's server lists
those refs as ``dvc exp list origin`` does, with one ``git ls-remote <remote> refs/exps/*``
(only names and shas travel), and shows each experiment that the local repository lacks as a
run marked ``remote``: its index is not known yet (``lastStep`` null, no items).

When such a run is first asked for (``dvcstage/media``, ``/item`` or ``/series``) that one
ref is fetched, as ``dvc exp pull`` fetches it (``git fetch <remote>
refs/exps/…/exp-a:refs/exps/…/exp-a``), the revisions are listed again and the run answers
like any local experiment: its media are read through DVC's filesystem (from the DVC cache,
or from the DVC remote) by :mod:`dvcstage_lsp.materialise`.

Bounds: every git call that talks to the remote runs in its own process group with a
timeout (the group is killed when it expires) and never prompts (``GIT_TERMINAL_PROMPT=0``, no
askpass dialog, no controlling terminal: git's credential helpers and ssh keys still work);
the listing reads at most :data:`MAX_LISTING_BYTES` and keeps at
most ``max_revisions`` experiments: those run from HEAD first, then from other local commits
(newest first), then the rest, by name. It runs in the background, never delaying a request,
every ``interval`` seconds. A remote's URL may hold credentials: it is never logged (remote
URLs in messages, ours or git's, lose their user information).

Which run folders a remote experiment has is not known before it is fetched: the folders of
the runs in its baseline commit (when that commit is local), else those of the local
experiments, else those of the workspace's runs, else ``dvclive`` (DVCLive's default). A guess
that proves wrong is corrected when the experiment is fetched (its runs are announced).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from . import protocol as p
from .credentials import redact
from .revisions import (
    Revision,
    RevisionRun,
    WorkspaceRepo,
    git,
    revision_run,
    tree_runs,
)
from .runs import INDEX_FILE, RunIndex
from .tracker import RevisionTracker

logger = logging.getLogger(__name__)

AUTO = "auto"
NONE = "none"
DEFAULT_INTERVAL = 60.0
DEFAULT_TIMEOUT = 30.0
FETCH_TIMEOUT_FACTOR = 4  # fetching moves objects: it may take longer than a listing
MAX_LISTING_BYTES = 32 * 1024 * 1024
MAX_STDERR_BYTES = 64 * 1024
DEFAULT_RUN_DIR = "dvclive"
EXPS_NAMESPACE = "refs/exps/"
_EXP_REF = re.compile(r"refs/exps/([0-9a-f]{2})/([0-9a-f]{38})/(.+)")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# What git refuses in a ref name component (git check-ref-format), and a remote name.
_BAD_REF_CHARS = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
LogCallback = Callable[[int, str], None]  # (logging level, message)


class RemoteSettingError(ValueError):
    """A ``remoteExperiments`` value that cannot name a git remote."""


def check_remote_setting(value: object) -> str:
    """``auto``, ``none``, a git remote's name or a URL; else :class:`RemoteSettingError`.

    >>> check_remote_setting("origin")
    'origin'
    """
    if (
        not isinstance(value, str)
        or not value
        or value.startswith("-")
        or any(c in value for c in "\x00\n\r")
    ):
        raise RemoteSettingError(
            f"remoteExperiments: expected auto, none, a git remote's name or URL, got "
            f"{redact(str(value))!r}"
        )
    return value


def valid_ref_name(name: str) -> bool:
    """Whether ``name`` (an experiment's name, maybe with ``/``) is a ref name git accepts."""
    if not name or name.endswith((".", "/")) or ".." in name or "@{" in name or name == "@":
        return False
    if _BAD_REF_CHARS.search(name):
        return False
    return all(
        part and not part.startswith(".") and not part.endswith(".lock") for part in name.split("/")
    )


@dataclass(frozen=True)
class RemoteExperiment:
    """One experiment ref on a git remote."""

    refname: str  # refs/exps/<2>/<38>/<name>
    sha: str  # the experiment's commit
    baseline: str
    name: str


def parse_listing(output: bytes) -> list[RemoteExperiment]:
    """The experiments in ``git ls-remote`` output (``<sha>\\t<ref>`` lines).

    Other refs (DVC's ``exec``, ``celery`` and temporary refs), malformed lines and names git
    would refuse are skipped; a torn last line (a listing cut at its size limit) too.
    """
    found: dict[str, RemoteExperiment] = {}
    text = output.decode("utf-8", "replace")
    lines = text.split("\n")
    if not text.endswith("\n"):
        lines.pop()
    for line in lines:
        sha, tab, refname = line.partition("\t")
        if not tab or not _SHA.fullmatch(sha):
            continue
        match = _EXP_REF.fullmatch(refname)
        if match is None or not valid_ref_name(match.group(3)):
            continue
        found[refname] = RemoteExperiment(
            refname, sha, match.group(1) + match.group(2), match.group(3)
        )
    return list(found.values())


class RemoteGitError(Exception):
    """A git command talking to a remote failed or timed out; the message is redacted."""

    def __init__(self, message: str, timed_out: bool = False, missing_ref: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.timed_out = timed_out
        self.missing_ref = missing_ref


def git_env() -> dict[str, str]:
    """The environment of git commands that talk to a remote: never a prompt (git's
    credential helpers and ssh keys still work), C locale (messages are parsed)."""
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["GIT_ASKPASS"] = "false"  # no editor's or desktop's password dialog either
    env["SSH_ASKPASS_REQUIRE"] = "never"
    env["GCM_INTERACTIVE"] = "never"  # Git Credential Manager
    env["LC_ALL"] = "C"
    return env


async def _read(stream: asyncio.StreamReader | None, limit: int) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes of ``stream``; and whether there was more."""
    if stream is None:
        return b"", False
    data = bytearray()
    while True:
        chunk = await stream.read(64 * 1024)
        if not chunk:
            return bytes(data), False
        data += chunk
        if len(data) > limit:
            return bytes(data[:limit]), True


async def remote_git(
    root: Path, args: Sequence[str], timeout: float, max_bytes: int = MAX_LISTING_BYTES
) -> tuple[bytes, bool]:
    """Run ``git -C root args`` (talking to a remote): its stdout and whether it was cut.

    The command runs in a process group of its own, without a terminal; after ``timeout``
    seconds (or once stdout exceeds ``max_bytes``) the whole group is killed. A failure or a
    timeout raises :class:`RemoteGitError` (its message redacted).
    """
    process = await asyncio.create_subprocess_exec(
        "git",
        "-C",
        str(root),
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=git_env(),
        start_new_session=True,
    )

    def kill() -> None:
        # Only while git is not reaped: its pid (and group id) cannot have been reused.
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    async def communicate() -> tuple[bytes, bool, bytes]:
        (out, cut), (err, _) = await asyncio.gather(
            _read(process.stdout, max_bytes), _read(process.stderr, MAX_STDERR_BYTES)
        )
        if cut:
            kill()
        await process.wait()
        return out, cut, err

    try:
        out, cut, err = await asyncio.wait_for(communicate(), timeout)
    except asyncio.TimeoutError:
        kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)
        raise RemoteGitError(f"no answer within {timeout:g} s", timed_out=True) from None
    except BaseException:  # cancelled (the server stops): leave nothing running
        kill()
        raise
    if process.returncode != 0 and not cut:
        message = redact(err.decode("utf-8", "replace")).strip()
        missing = "couldn't find remote ref" in message
        lines = [line for line in message.splitlines() if line.strip()]
        raise RemoteGitError(
            "; ".join(lines[-3:]) or f"git exited with {process.returncode}",
            missing_ref=missing,
        )
    return out, cut


def resolve_remote(root: Path, setting: str) -> tuple[str, str] | None:
    """``(what git is given, what is shown)`` for the remote to list, or ``None``.

    ``auto``: the remote of the current branch's upstream, else ``origin``, else the only
    remote. A remote's name is shown as it is; a URL without its user information.
    """
    if setting == NONE:
        return None
    if setting != AUTO:
        return setting, redact(setting)
    try:
        remotes = git(root, "remote").decode("utf-8", "replace").split()
    except (OSError, subprocess.SubprocessError):
        return None
    upstream = ""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        branch = git(root, "symbolic-ref", "-q", "--short", "HEAD").decode().strip()
        if branch:
            upstream = git(root, "config", "--get", f"branch.{branch}.remote").decode().strip()
    for name in (upstream, "origin"):
        if name and name in remotes:
            return name, name
    if len(remotes) == 1:
        return remotes[0], remotes[0]
    return None


def remote_ref(revision: Revision) -> str:
    """DVC's ref of a (remote) experiment revision: ``refs/exps/<2>/<38>/<name>``."""
    baseline = revision.baseline or ""
    return f"{EXPS_NAMESPACE}{baseline[:2]}/{baseline[2:]}/{revision.names[0]}"


def local_exp_refs(root: Path) -> set[str]:
    """The experiment refs the local repository has."""
    out = git(root, "for-each-ref", "--format=%(refname)", EXPS_NAMESPACE)
    return set(out.decode("utf-8", "surrogateescape").split())


def rank(root: Path, experiments: list[RemoteExperiment], limit: int) -> list[RemoteExperiment]:
    """At most ``limit`` experiments: run from HEAD first, then from other local commits
    (newest baseline first), then the rest; by name within each."""
    try:
        head = git(root, "rev-parse", "--verify", "-q", "HEAD").decode().strip()
    except subprocess.CalledProcessError:
        head = ""
    baselines = sorted({e.baseline for e in experiments})
    times: dict[str, int] = {}
    if baselines:
        out = git(
            root,
            "log",
            "--no-walk=unsorted",
            "--ignore-missing",
            "--stdin",
            "--format=%H %ct",
            stdin="".join(f"{b}\n" for b in baselines).encode(),
        )
        for line in out.decode().splitlines():
            sha, _, time = line.partition(" ")
            times[sha] = int(time) if time.isdigit() else 0

    def order(e: RemoteExperiment) -> tuple[int, int, str, str]:
        group = 0 if e.baseline == head else 1 if e.baseline in times else 2
        return group, -times.get(e.baseline, 0), e.name, e.sha

    return sorted(experiments, key=order)[: max(0, limit)]


def guess_dirs(
    root: Path, prefix: str, baseline: str, known: Sequence[str], commits: set[str]
) -> list[str]:
    """The repository-relative run folders a remote experiment probably has (see above)."""
    if baseline in commits:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = list(tree_runs(root, baseline, prefix).runs)
            if found:
                return found
    if known:
        return sorted(set(known))
    return [f"{prefix}/{DEFAULT_RUN_DIR}" if prefix else DEFAULT_RUN_DIR]


@dataclass
class RemoteState:
    """What one repository's remote holds, as last listed."""

    remote: str  # given to git: a remote's name or a URL
    shown: str  # the remote's name, or its URL without credentials
    experiments: dict[str, RemoteExperiment]  # by ref name: the listed (ranked, bounded)
    dirs: dict[str, list[str]]  # ref name -> guessed repository-relative run folders
    problem: str | None = None  # the last listing's failure, logged once


class RemoteExperiments:
    """Lists remote-only experiments into the tracker and fetches one when it is opened."""

    def __init__(
        self,
        tracker: RevisionTracker,
        setting: str = AUTO,
        interval: float = DEFAULT_INTERVAL,
        timeout: float = DEFAULT_TIMEOUT,
        log: LogCallback | None = None,
    ) -> None:
        self.tracker = tracker
        self.setting = setting
        self.interval = interval
        self.timeout = timeout
        self.log = log
        self.states: dict[Path, RemoteState] = {}
        self.fetches: dict[str, asyncio.Task[None]] = {}
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start listing in the background (nothing with ``none``, or without experiments)."""
        spec = self.tracker.spec
        wanted = "experiments" in spec.tokens and spec.max_revisions > 0
        if self.task is None and self.setting != NONE and wanted:
            self.task = asyncio.get_running_loop().create_task(self.run())

    def stop(self) -> None:
        """Stop listing and fetching (their git processes are killed)."""
        for task in [self.task, *self.fetches.values()]:
            if task is not None:
                task.cancel()
        self.task = None

    def _say(self, level: int, message: str) -> None:
        logger.log(level, "%s", message)
        if self.log is not None:
            with contextlib.suppress(Exception):
                self.log(level, message)

    async def run(self) -> None:
        """List every ``interval`` seconds (one listing at a time, each bounded in time)."""
        await self.tracker.discovered.wait()
        while True:
            for repo in self._repos():
                try:
                    await self.list_repo(repo)
                except asyncio.CancelledError:
                    raise
                except Exception:  # a failure must not end the listing
                    logger.exception("listing the remote experiments of %s failed", repo.root)
            await asyncio.sleep(self.interval)

    def _repos(self) -> list[WorkspaceRepo]:
        """One workspace folder per git repository (the first)."""
        seen: dict[Path, WorkspaceRepo] = {}
        for repo in self.tracker.repos:
            seen.setdefault(repo.root, repo)
        return list(seen.values())

    async def list_repo(self, repo: WorkspaceRepo) -> None:
        """List the experiments of ``repo``'s remote and hand the remote-only ones over."""
        resolved = await asyncio.to_thread(resolve_remote, repo.root, self.setting)
        if resolved is None:
            if repo.root not in self.states:
                self._say(
                    logging.INFO,
                    f"remote experiments: {repo.root} has no git remote to list "
                    "(set remoteExperiments to a remote's name)",
                )
                self.states[repo.root] = RemoteState("", "", {}, {}, problem="no remote")
            return
        remote, shown = resolved
        state = self.states.get(repo.root)
        if state is None or state.remote != remote:
            state = self.states[repo.root] = RemoteState(remote, shown, {}, {})
        started = asyncio.get_running_loop().time()
        try:
            out, cut = await remote_git(
                repo.root, ["ls-remote", "--refs", remote, f"{EXPS_NAMESPACE}*"], self.timeout
            )
        except RemoteGitError as exc:
            problem = f"cannot list the experiments on {shown}: {exc.message}"
            if state.problem != problem:
                self._say(
                    logging.WARNING,
                    f"remote experiments: {problem} (shown as last listed; trying again "
                    f"every {self.interval:g} s)",
                )
                state.problem = problem
            return
        if state.problem is not None and state.problem != "no remote":
            self._say(logging.INFO, f"remote experiments: {shown} answers again")
        state.problem = None
        listed = parse_listing(out)
        if cut:
            self._say(
                logging.WARNING,
                f"remote experiments: the listing of {shown} is larger than "
                f"{MAX_LISTING_BYTES} bytes; only its first {len(listed)} experiments are used",
            )
        state.experiments, state.dirs = await asyncio.to_thread(
            self._choose, repo, dict(state.dirs), listed
        )
        logger.info(
            "remote experiments: %d on %s, %d remote-only shown (%.3f s)",
            len(listed),
            shown,
            len(state.experiments),
            asyncio.get_running_loop().time() - started,
        )
        self.publish(repo)

    def _choose(
        self, repo: WorkspaceRepo, dirs: dict[str, list[str]], listed: list[RemoteExperiment]
    ) -> tuple[dict[str, RemoteExperiment], dict[str, list[str]]]:
        """The remote-only experiments to show (bounded, by ref name) and their run folders
        (``dirs``: the guesses made so far, kept so that run ids stay stable)."""
        local = local_exp_refs(repo.root)
        only_remote = [e for e in listed if e.refname not in local]
        chosen = rank(repo.root, only_remote, self.tracker.spec.max_revisions)
        baselines = sorted({e.baseline for e in chosen if e.refname not in dirs})
        commits: set[str] = set()
        if baselines:
            out = git(
                repo.root,
                "cat-file",
                "--batch-check=%(objectname) %(objecttype)",
                stdin="".join(f"{b}\n" for b in baselines).encode(),
            )
            commits = {
                line.split()[0] for line in out.decode().splitlines() if line.endswith(" commit")
            }
        known = self._known_dirs(repo)
        kept: dict[str, list[str]] = {}
        for experiment in chosen:
            kept[experiment.refname] = dirs.get(experiment.refname) or guess_dirs(
                repo.root, repo.prefix, experiment.baseline, known, commits
            )
        return {e.refname: e for e in chosen}, kept

    def _known_dirs(self, repo: WorkspaceRepo) -> list[str]:
        """Run folders (repository-relative) of the local experiments, else the workspace's."""
        experiments = [
            run.repo_dir
            for run in self.tracker.local.values()
            if run.repo_root == repo.root and run.kind == "experiment"
        ]
        if experiments:
            return experiments
        found = []
        for run in self.tracker.registry.runs.values():
            with contextlib.suppress(ValueError):
                found.append(run.dir.relative_to(repo.root).as_posix() or ".")
        return found

    def publish(self, repo: WorkspaceRepo) -> None:
        """Hand ``repo``'s remote-only experiment runs to the tracker."""
        state = self.states.get(repo.root)
        if state is None:
            return
        several = len(self.tracker.registry.folders) > 1
        local_names = [
            r.revision.names[0]
            for r in self.tracker.local.values()
            if r.kind == "experiment" and r.revision.names
        ]
        remote_names = [e.name for e in state.experiments.values()]
        runs: dict[str, RevisionRun] = {}
        for refname, experiment in state.experiments.items():
            revision = Revision(
                experiment.sha,
                "experiment",
                names=[experiment.name],
                baseline=experiment.baseline,
                remote=state.shown,
            )
            duplicate = experiment.name in local_names or remote_names.count(experiment.name) > 1
            for repo_dir in state.dirs.get(refname, []):
                index = RunIndex(Path(f"remote-{experiment.sha}") / INDEX_FILE)
                run = revision_run(
                    repo,
                    revision,
                    repo_dir,
                    index,
                    self.tracker.cache_dir,
                    several,
                    duplicate,
                )
                if run is not None:
                    runs[run.id] = run
        self.tracker.set_remote(repo.root, runs)

    async def open(self, run_id: object) -> None:
        """Fetch the remote-only experiment of run ``run_id`` (if it is one), then list again.

        Raises :class:`~dvcstage_lsp.protocol.QueryError` when the fetch fails, or when the
        fetched experiment has no run where the remote run guessed one.
        """
        if not isinstance(run_id, str):
            return
        run = self.tracker.registry.revision_runs.get(run_id)
        if not isinstance(run, RevisionRun) or run.revision.remote is None:
            return
        sha = run.revision.sha
        refname = remote_ref(run.revision)
        task = self.fetches.get(refname)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch(run, refname))
            self.fetches[refname] = task
            task.add_done_callback(lambda done: self._fetched(refname, done))
        await asyncio.shield(task)
        if self.tracker.registry.get(run_id) is None:
            others = sorted(
                r.id
                for r in self.tracker.registry.revision_runs.values()
                if isinstance(r, RevisionRun) and r.revision.sha == sha
            )
            where = f"its runs: {', '.join(others)}" if others else "it holds no run"
            raise p.QueryError(
                p.UNKNOWN_RUN,
                f"experiment {run.revision.names[0]!r} was fetched from "
                f"{run.revision.remote}: {run_id!r} is not one of its runs ({where})",
            )

    def _fetched(self, refname: str, task: asyncio.Task[None]) -> None:
        self.fetches.pop(refname, None)
        if not task.cancelled():
            task.exception()  # retrieved: every waiter has its own copy

    async def _fetch(self, run: RevisionRun, refname: str) -> None:
        """Fetch one experiment ref (as ``dvc exp pull`` does for git), then list again."""
        state = self.states.get(run.repo_root)
        experiment = state.experiments.get(refname) if state else None
        if state is None or experiment is None:
            raise p.QueryError(p.REMOTE_FAILED, f"{run.id!r} is no longer listed on a remote")
        name = experiment.name
        refspec = f"{experiment.refname}:{experiment.refname}"
        started = asyncio.get_running_loop().time()
        logger.info("fetching experiment %s from %s", name, state.shown)
        fetch = ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", state.remote, refspec]
        try:
            try:
                await remote_git(run.repo_root, fetch, self.timeout * FETCH_TIMEOUT_FACTOR)
            except RemoteGitError as exc:
                if "no-write-fetch-head" not in exc.message:
                    raise
                fetch.remove("--no-write-fetch-head")  # git < 2.29
                await remote_git(run.repo_root, fetch, self.timeout * FETCH_TIMEOUT_FACTOR)
        except RemoteGitError as exc:
            if exc.missing_ref:  # deleted on the remote since it was listed
                state.experiments.pop(refname, None)
                self.publish(self._repo_of(run))
                message = f"experiment {name!r} is no longer on {state.shown} (deleted there)"
            else:
                message = f"cannot fetch experiment {name!r} from {state.shown}: {exc.message}"
            self._say(logging.WARNING, f"remote experiments: {message}")
            raise p.QueryError(p.REMOTE_FAILED, message) from None
        self._say(
            logging.INFO,
            f"remote experiments: fetched {name} from {state.shown} in "
            f"{asyncio.get_running_loop().time() - started:.2f} s",
        )
        self.tracker.pinned.add(experiment.sha)
        state.experiments.pop(refname, None)
        await self.tracker.refresh()
        self.publish(self._repo_of(run))

    def _repo_of(self, run: RevisionRun) -> WorkspaceRepo:
        for repo in self._repos():
            if repo.root == run.repo_root:
                return repo
        return WorkspaceRepo(run.folder, run.repo_root, "", run.folder.name)
