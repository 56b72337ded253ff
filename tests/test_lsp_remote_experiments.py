"""dvcstage-lsp and experiments a teammate pushed: listed from the git remote, fetched when opened.

Two clones of one bare git repository share a DVC remote (a folder). Teammate A runs two
experiments with ``dvc exp run`` (a stage logging annotated images with ``dvcstage.Live``)
and pushes them with ``dvc exp push origin``. Teammate B never runs ``dvc exp pull``: B's
language server (the real process, driven by pytest-lsp) must list both experiments as
remote, fetch exactly the one B opens, and hand out its files, byte for byte A's, read through
the DVC remote. The git remote also holds 40 more experiment refs (the listing is bounded).
"""

from __future__ import annotations

import asyncio
import http.server
import os
import socket
import sys
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import attrs
import pytest
import pytest_lsp
from conftest import exp_run, make_repo, repo_environment, run
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES
from test_lsp_server import child_env, init_params, request

pytestmark = [pytest.mark.timeout(300), pytest.mark.asyncio(loop_scope="module")]

TRAIN = textwrap.dedent(
    """
    import numpy as np
    from ruamel.yaml import YAML
    from dvcstage import Live

    p = YAML(typ="safe").load(open("params.yaml"))["train"]
    with Live("dvclive", save_dvc_exp=False) as live:
        for step in range(2):
            live.log_image(
                f"pred/{live.step}.png",
                np.full((8, 8, 3), p["shade"] + step, np.uint8),
                annotations={"boxes": [[1, 1, 5, 6]], "labels": ["cat"], "scores": [0.5],
                             "box_format": "tlbr"},
            )
            live.log_metric("loss", p["shade"] / (step + 1))
            live.next_step()
    """
)
DVC_YAML = textwrap.dedent(
    """
    stages:
      train:
        cmd: python train.py
        deps: [train.py]
        params: [train]
        outs:
          - dvclive/plots/images
          - dvclive/plots/previews
    """
).lstrip()
BULK = 40  # extra experiment refs on the remote, run from a commit B does not have
MAX = 5  # the server's maxRevisions
IMAGES = "dvclive/plots/images/pred"


def git(repo: Path, *args: str) -> str:
    return run("git", *args, cwd=repo).stdout.strip()


def dvc(repo: Path, *args: str) -> str:
    done = run("dvc", *args, cwd=repo, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@dataclass
class Team:
    """The git remote, and two teammates' clones; A's files of exp-a, read right after its run."""

    base: Path
    remote: Path
    a: Path
    b: Path
    main: str
    exps: dict[str, str]  # name -> experiment commit sha
    files_a: dict[str, bytes] = field(default_factory=dict)  # run-relative path -> bytes


def clone(team_base: Path, name: str) -> Path:
    path = team_base / name
    # --no-local: through git's transport, as from a server (a local clone copies every object)
    run("git", "clone", "-q", "--no-local", str(team_base / "git-remote.git"), str(path))
    git(path, "config", "user.email", f"{name}@example.com")
    git(path, "config", "user.name", name)
    return path


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp("team")
    with repo_environment(base):
        remote = base / "git-remote.git"
        run("git", "init", "-q", "--bare", "-b", "main", str(remote))
        (base / "dvc-remote").mkdir()
        a = make_repo(base / "a")
        git(a, "remote", "add", "origin", str(remote))
        (a / "train.py").write_text(TRAIN)
        (a / "params.yaml").write_text("train:\n  shade: 10\n")
        (a / "dvc.yaml").write_text(DVC_YAML)
        dvc(a, "remote", "add", "-d", "store", str(base / "dvc-remote"))
        git(a, "add", "-A")
        git(a, "commit", "-q", "-m", "the stage")
        git(a, "push", "-q", "-u", "origin", "main")
        main = git(a, "rev-parse", "HEAD")
        exp_run(a, "exp-a", "-S", "train.shade=50")
        files_a = {
            f"plots/images/pred/{name}": (a / IMAGES / name).read_bytes()
            for name in ("0.png", "1.png", "0.json", "1.json")
        } | {  # what DVC draws of them: their annotated previews
            f"plots/previews/pred/{name}": (a / "dvclive/plots/previews/pred" / name).read_bytes()
            for name in ("0.jpg", "1.jpg")
        }
        exp_run(a, "exp-b", "-S", "train.shade=90")
        dvc(a, "exp", "push", "origin", "exp-a", "exp-b")
        exps = {}
        for line in git(remote, "for-each-ref", "--format=%(objectname) %(refname)").split("\n"):
            sha, refname = line.split()
            if refname.startswith("refs/exps/"):
                exps[refname.rsplit("/", 1)[1]] = sha
        assert set(exps) == {"exp-a", "exp-b"}
        fake = "ff" + "0" * 38  # a baseline nobody has
        updates = "".join(
            f"create refs/exps/ff/{fake[2:]}/bulk-{i:02d} {exps['exp-a']}\n" for i in range(BULK)
        )
        run_stdin(["git", "-C", str(remote), "update-ref", "--stdin"], updates)
        b = clone(base, "b")
        yield Team(base, remote, a, b, main, exps, files_a)


def run_stdin(command: list[str], text: str) -> None:
    import subprocess

    subprocess.run(command, input=text, text=True, check=True, capture_output=True)


class Recorder:
    """What the server sent: ``dvcstage/changed`` params and ``window/logMessage`` texts."""

    def __init__(self) -> None:
        self.changed: list[dict[str, Any]] = []
        self.logs: list[str] = []
        self.event = asyncio.Event()

    def add(self, kind: str, value: Any) -> None:
        (self.changed if kind == "changed" else self.logs).append(value)
        self.event.set()

    async def wait_for(self, predicate: Callable[[Recorder], bool]) -> None:
        """Until ``predicate(self)`` holds (the test's timeout is the only limit)."""
        while not predicate(self):
            self.event.clear()
            await self.event.wait()


def make_client() -> LanguageClient:
    """pytest-lsp's client with plain JSON params, recording notifications and log messages."""
    from dvcstage_lsp.server import plain_converter

    client = LanguageClient(converter_factory=plain_converter)
    recorder = Recorder()
    client.recorder = recorder  # type: ignore[attr-defined]
    features = dict(DEFAULT_CLIENT_FEATURES)
    default_log = features.pop(types.WINDOW_LOG_MESSAGE)

    def log_message(client: LanguageClient, params: types.LogMessageParams) -> None:
        default_log(client, params)
        recorder.add("log", params.message)

    features[types.WINDOW_LOG_MESSAGE] = log_message
    for method, handler in features.items():
        client.feature(method)(handler)

    @client.feature("dvcstage/changed")
    def changed(params: dict[str, Any]) -> None:
        recorder.add("changed", params)

    return client


def server_config(*options: str, log_file: Path | None = None) -> ClientServerConfig:
    command = [sys.executable, "-m", "dvcstage_lsp", "--revision-interval", "0.3", *options]
    if log_file is not None:
        command += ["-v", "--log-file", str(log_file)]
    return ClientServerConfig(
        server_command=command, client_factory=make_client, server_env=child_env(Path(os.sep))
    )


def initialize(root: Path, **options: Any) -> types.InitializeParams:
    return attrs.evolve(
        init_params(root),
        initialization_options={"cacheDir": str(root.parent / f"{root.name}-lsp-cache")} | options,
    )


def recorder_of(client: LanguageClient) -> Recorder:
    recorder: Recorder = client.recorder  # type: ignore[attr-defined]
    return recorder


async def runs_by_id(client: LanguageClient) -> dict[str, dict[str, Any]]:
    result = await request(client, "dvcstage/runs", {})
    return {r["id"]: r for r in result["runs"]}


def path_of(uri: str) -> Path:
    assert uri.startswith("file://")
    return Path(unquote(urlparse(uri).path))


def exp_refs(repo: Path) -> list[str]:
    return git(repo, "for-each-ref", "--format=%(refname)", "refs/exps/").split()


def has_object(repo: Path, sha: str) -> bool:
    return run("git", "cat-file", "-e", sha, cwd=repo, check=False).returncode == 0


@pytest_lsp.fixture(config=server_config("--remote-interval", "0.3"), scope="module")
async def client(lsp_client: LanguageClient, team: Team) -> AsyncIterator[None]:
    """Teammate B's server; ready once the remote experiments are listed."""
    await lsp_client.initialize_session(initialize(team.b, maxRevisions=MAX))
    recorder = recorder_of(lsp_client)
    await recorder.wait_for(
        lambda r: sum(1 for n in r.changed if n.get("kind") == "experiment" and n.get("new")) >= MAX
    )
    yield
    await lsp_client.shutdown_session()


async def test_experiments_on_the_remote_are_listed_without_a_pull(
    client: LanguageClient, team: Team
) -> None:
    runs = await runs_by_id(client)
    remote = {i: r for i, r in runs.items() if "remote" in r}
    assert len(remote) == MAX  # bounded: 42 experiments on the remote
    exp_a, exp_b = runs["experiment:exp-a:dvclive"], runs["experiment:exp-b:dvclive"]
    for name, found in (("exp-a", exp_a), ("exp-b", exp_b)):
        assert found["remote"] == "origin" and found["kind"] == "experiment"
        assert found["revision"] == team.exps[name] and found["baseline"] == team.main
        assert (found["lastStep"], found["items"], found["refs"]) == (None, 0, [name])
        assert found["label"] == f"{name}: dvclive" and found["dir"] == "dvclive"
        assert "time" not in found
    # run from B's HEAD first; then the others (their baseline is unknown here) by name
    bulk = sorted(r["refs"][0] for i, r in remote.items() if r is not exp_a and r is not exp_b)
    assert bulk == [f"bulk-{i:02d}" for i in range(MAX - 2)]
    # nothing was fetched: no experiment ref, no experiment commit in B's repository
    assert exp_refs(team.b) == []
    assert not any(has_object(team.b, sha) for sha in team.exps.values())
    assert not (team.b / ".dvc" / "cache").exists()


async def test_opening_an_experiment_fetches_it_and_its_media_come_from_the_dvc_remote(
    client: LanguageClient, team: Team
) -> None:
    recorder = recorder_of(client)
    run_id = "experiment:exp-a:dvclive"
    media = await request(client, "dvcstage/media", {"run": run_id})
    assert media["run"] == run_id
    assert {k["key"]: k["steps"] for k in media["keys"]} == {"pred": [0, 1]}
    assert [m["name"] for m in media["metrics"]] == ["loss"]
    # exactly that one ref was fetched, as `dvc exp pull origin exp-a` would
    refname = f"refs/exps/{team.main[:2]}/{team.main[2:]}/exp-a"
    assert exp_refs(team.b) == [refname]
    assert git(team.b, "rev-parse", refname) == team.exps["exp-a"]
    assert not has_object(team.b, team.exps["exp-b"])
    await recorder.wait_for(lambda r: any(n["run"] == run_id and n.get("reset") for n in r.changed))
    runs = await runs_by_id(client)
    assert "remote" not in runs[run_id]
    assert (runs[run_id]["lastStep"], runs[run_id]["items"]) == (1, 2)
    assert runs["experiment:exp-b:dvclive"]["remote"] == "origin"
    for step in (0, 1):
        item = await request(client, "dvcstage/item", {"run": run_id, "key": "pred", "step": step})
        assert item["problems"] == []
        assert {f["role"] for f in item["files"]} == {"image", "sidecar", "preview"}
        for file in item["files"]:
            assert file["exists"]
            assert path_of(file["uri"]).read_bytes() == team.files_a[file["path"]]
        labels = item["sidecar"]["annotations"]
        assert list(labels) == ["cat"] and labels["cat"][0]["score"] == 0.5
    # the images came through DVC's remote: B's workspace and DVC cache have none of them
    assert not (team.b / "dvclive").exists()
    metric = await request(
        client, "dvcstage/series", {"run": run_id, "key": "loss", "kind": "metric"}
    )
    assert metric["points"] == [{"step": 0, "value": 50}, {"step": 1, "value": 25}]
    assert any("fetched exp-a from origin" in text for text in recorder.logs)


async def test_opening_by_item_fetches_too(client: LanguageClient, team: Team) -> None:
    """The panel may ask an item first (a column restored); that fetches as well."""
    run_id = "experiment:exp-b:dvclive"
    item = await request(client, "dvcstage/item", {"run": run_id, "key": "pred", "step": 1})
    assert item["problems"] == [] and all(f["exists"] for f in item["files"])
    assert has_object(team.b, team.exps["exp-b"])
    assert len(exp_refs(team.b)) == 2


async def test_an_experiment_deleted_on_the_remote_is_announced(
    client: LanguageClient, team: Team
) -> None:
    recorder = recorder_of(client)
    runs = await runs_by_id(client)
    gone = next(i for i, r in runs.items() if r.get("refs") == ["bulk-00"])
    dvc(team.a, "exp", "remove", "-g", "origin", "bulk-00")
    await recorder.wait_for(lambda r: any(n["run"] == gone and n.get("removed") for n in r.changed))
    runs = await runs_by_id(client)
    assert gone not in runs
    assert sorted(r["refs"][0] for r in runs.values() if "remote" in r) == [
        f"bulk-{i:02d}"
        for i in range(1, MAX + 1)  # the next ones fill the list
    ]
    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async("dvcstage/media", {"run": gone})
    assert caught.value.code == -32001


async def test_a_wrong_guess_of_the_run_folder_is_corrected_when_fetched(
    client: LanguageClient, team: Team
) -> None:
    """An experiment whose run lies elsewhere than the guess: opening it names the real one."""
    recorder = recorder_of(client)
    worktree = team.base / "a-moved"
    git(team.a, "worktree", "add", "-q", "--detach", str(worktree), team.exps["exp-a"])
    (worktree / "elsewhere").mkdir()
    git(worktree, "mv", "dvclive/media.jsonl", "elsewhere/media.jsonl")
    git(worktree, "commit", "-q", "-m", "the run moved")
    refname = f"refs/exps/{team.main[:2]}/{team.main[2:]}/exp-moved"
    git(worktree, "push", "-q", "origin", f"HEAD:{refname}")
    guess = "experiment:exp-moved:dvclive"
    await recorder.wait_for(lambda r: any(n["run"] == guess and n.get("new") for n in r.changed))
    assert (await runs_by_id(client))[guess]["remote"] == "origin"
    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async("dvcstage/media", {"run": guess})
    assert caught.value.code == -32001
    assert caught.value.message.endswith("(its runs: experiment:exp-moved:elsewhere)")
    runs = await runs_by_id(client)
    assert guess not in runs
    moved = runs["experiment:exp-moved:elsewhere"]
    assert "remote" not in moved and moved["lastStep"] == 1 and moved["dir"] == "elsewhere"
    media = await request(client, "dvcstage/media", {"run": moved["id"]})
    assert [k["key"] for k in media["keys"]] == ["pred"]
    assert any(n["run"] == guess and n.get("removed") for n in recorder.changed)


async def test_opening_an_experiment_deleted_since_it_was_listed(team: Team) -> None:
    """The remote lost the ref between the listing and the opening: a clear error."""
    teammate = clone(team.base, "c")
    config = server_config("--remote-interval", "3600")  # no second listing
    client = await config.start()
    try:
        await client.initialize_session(initialize(teammate, maxRevisions=MAX))
        recorder = recorder_of(client)
        await recorder.wait_for(
            lambda r: any(n["run"] == "experiment:bulk-01:dvclive" for n in r.changed)
        )
        git(team.remote, "update-ref", "-d", f"refs/exps/ff/{'0' * 38}/bulk-01")
        with pytest.raises(JsonRpcException) as caught:
            await client.protocol.send_request_async(
                "dvcstage/media", {"run": "experiment:bulk-01:dvclive"}
            )
        assert caught.value.code == -32005
        assert "'bulk-01' is no longer on origin" in caught.value.message
        await recorder.wait_for(
            lambda r: any(
                n["run"] == "experiment:bulk-01:dvclive" and n.get("removed") for n in r.changed
            )
        )
        assert exp_refs(teammate) == []
        await client.shutdown_session()
    finally:
        await client.stop()


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections, reads, and never answers."""

    def __init__(self) -> None:
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.accepted = threading.Semaphore(0)
        self.closed = threading.Semaphore(0)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)
            self.accepted.release()
            threading.Thread(target=self._drain, args=(connection,), daemon=True).start()

    def _drain(self, connection: socket.socket) -> None:
        """Read until the client goes away (its process killed), then count it closed."""
        try:
            while connection.recv(65536):
                pass
        except OSError:
            pass
        self.closed.release()

    async def wait_accepted(self) -> None:
        await asyncio.to_thread(self.accepted.acquire)

    async def wait_closed(self) -> None:
        await asyncio.to_thread(self.closed.acquire)

    def close(self) -> None:
        self.socket.close()
        for connection in self.connections:
            connection.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def clone_with_exp_a(team: Team, name: str) -> Path:
    """A teammate's clone holding exp-a's ref, fetched as ``dvc exp pull`` fetches it."""
    path = clone(team.base, name)
    refname = f"refs/exps/{team.main[:2]}/{team.main[2:]}/exp-a"
    git(path, "fetch", "-q", "origin", f"{refname}:{refname}")
    return path


async def test_a_remote_that_never_answers_delays_nothing(
    team: Team, silent: SilentServer, tmp_path: Path
) -> None:
    """The local experiment is listed and answered while the remote's listing hangs."""
    teammate = clone_with_exp_a(team, "d")
    url = f"http://token:s3cret@127.0.0.1:{silent.port}/team.git"
    log_file = tmp_path / "server.log"
    config = server_config("--remote-timeout", "3600", log_file=log_file)
    client = await config.start()
    try:
        await client.initialize_session(initialize(teammate, remoteExperiments=url))
        await silent.wait_accepted()  # git ls-remote is talking to the silent server
        recorder = recorder_of(client)
        await recorder.wait_for(
            lambda r: any(n["run"] == "experiment:exp-a:dvclive" for n in r.changed)
        )
        runs = await runs_by_id(client)
        assert runs["experiment:exp-a:dvclive"]["lastStep"] == 1
        assert not any("remote" in r for r in runs.values())
        media = await request(client, "dvcstage/media", {"run": "experiment:exp-a:dvclive"})
        assert media["keys"][0]["key"] == "pred"
        assert not silent.closed.acquire(blocking=False)  # the listing still hangs
        await client.shutdown_session()
        await silent.wait_closed()  # stopping the server killed git and its helper
    finally:
        await client.stop()
    assert "s3cret" not in log_file.read_text()


async def test_an_unreachable_remote_times_out_with_a_clear_log(
    team: Team, silent: SilentServer, tmp_path: Path
) -> None:
    teammate = clone_with_exp_a(team, "e")
    url = f"http://token:s3cret@127.0.0.1:{silent.port}/team.git"
    log_file = tmp_path / "server.log"
    options = ("--remote-timeout", "0.5", "--remote-interval", "3600")
    client = await server_config(*options, log_file=log_file).start()
    recorder = recorder_of(client)
    try:
        await client.initialize_session(initialize(teammate, remoteExperiments=url))
        await recorder.wait_for(lambda r: any("cannot list" in text for text in r.logs))
        (message,) = [text for text in recorder.logs if "cannot list" in text]
        assert message.startswith(
            "remote experiments: cannot list the experiments on "
            f"http://***@127.0.0.1:{silent.port}/team.git: no answer within 0.5 s"
        ), message
        await silent.wait_closed()  # the listing's git was killed
        await recorder.wait_for(
            lambda r: any(n["run"] == "experiment:exp-a:dvclive" for n in r.changed)
        )
        runs = await runs_by_id(client)  # the server goes on
        assert runs["experiment:exp-a:dvclive"]["lastStep"] == 1
        await client.shutdown_session()
    finally:
        await client.stop()
    text = log_file.read_text()
    assert "no answer within 0.5 s" in text and "s3cret" not in text
    assert all("s3cret" not in m for m in recorder.logs)


class PasswordServer(http.server.BaseHTTPRequestHandler):
    """Answers every request with 401 and a Basic challenge, as a private remote does."""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="team"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_a_remote_asking_for_a_password_fails_without_a_prompt(team: Team) -> None:
    """No terminal prompt, no askpass dialog: a clear log instead (and no hang: the timeout
    is an hour)."""
    teammate = clone_with_exp_a(team, "f")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PasswordServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/team.git"
    client = await server_config("--remote-timeout", "3600").start()
    recorder = recorder_of(client)
    try:
        await client.initialize_session(initialize(teammate, remoteExperiments=url))
        await recorder.wait_for(lambda r: any("cannot list" in text for text in r.logs))
        (message,) = [text for text in recorder.logs if "cannot list" in text]
        assert f"cannot list the experiments on {url}: " in message
        assert "could not read Username" in message, message
        await client.shutdown_session()
    finally:
        await client.stop()
        server.shutdown()


async def test_no_remote(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "alone")
    config = server_config()
    client = await config.start()
    try:
        await client.initialize_session(initialize(repo))
        recorder = recorder_of(client)
        await recorder.wait_for(lambda r: any("has no git remote" in text for text in r.logs))
        assert (await runs_by_id(client)) == {}
        await client.shutdown_session()
    finally:
        await client.stop()
