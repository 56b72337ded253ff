"""dvcstage-lsp end to end: the real server process, driven by pytest-lsp's client.

A workspace holds a real dvcstage run (images with boxes, masks and captions, a histogram,
audio, a metric). Every request is made and every answer is checked against its schema in
``schemas/protocol-*.schema.json``; a child process logging steps makes the server send
``dvcstage/changed``; open sidecars and index files get diagnostics with exact ranges.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from dvcstage import schemas

pytestmark = pytest.mark.timeout(120)

LSP_DIR = Path(__file__).resolve().parents[1] / "lsp"
SIDE = 24
# Waits on the server end when what they wait for arrived; this bound only turns a hang into
# a failure with a message (the machine may be loaded: it is far above any real delay).
HANG_GUARD_S = 100.0

LOG_RUN = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from dvcstage import Audio, Histogram, Image, Live

    steps, pause = int(sys.argv[1]), float(sys.argv[2])
    rng = np.random.default_rng(0)
    with Live(sys.argv[3], save_dvc_exp=False) as live:
        for step in range(steps):
            img = rng.random(({side}, {side}, 3))
            mask = np.zeros(({side}, {side}), int)
            mask[2:8, 3:9] = 1
            live.log_image(
                f"pred/{{live.step}}.png",
                img,
                annotations={{"boxes": [[1, 2, 10, 12]], "labels": ["cat"], "scores": [0.9],
                             "box_format": "tlbr"}},
                boxes={{"predictions": {{"box_data": [{{"position": {{"minX": 0.1, "maxX": 0.5,
                        "minY": 0.2, "maxY": 0.6}}, "class_id": 1, "box_caption": "cat"}}],
                        "class_labels": {{1: "cat"}}}}}},
                masks={{"truth": {{"mask_data": mask, "class_labels": {{1: "cat"}}}}}},
                caption=f"step {{step}}",
            )
            live.log({{"inputs": Image(img, caption="input"),
                      "weights": Histogram(rng.normal(size=200), num_bins=8),
                      "voice": Audio(np.zeros(400), sample_rate=8000)}})
            live.log_metric("loss", 1 / (step + 1))
            live.next_step()
            live.flush()
            time.sleep(pause)
    """
).format(side=SIDE)


def child_env(tmp: Path) -> dict[str, str]:
    """The environment of processes this test starts (no git discovery above ``tmp``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LSP_DIR), env.get("PYTHONPATH")]))
    env["GIT_CEILING_DIRECTORIES"] = str(tmp)
    env["DVC_NO_ANALYTICS"] = "1"
    env["DVCLIVE_LOGLEVEL"] = "WARNING"
    return env


def start_logging(root: Path, run: str, steps: int, pause: float) -> subprocess.Popen[bytes]:
    """A child process logging ``steps`` steps into ``root / run``, ``pause`` s apart."""
    script = root / "log_run.py"
    script.write_text(LOG_RUN)
    return subprocess.Popen(
        [sys.executable, str(script), str(steps), str(pause), run],
        cwd=root,
        env=child_env(root.parent),
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace folder holding one finished run, ``dvclive`` (3 steps)."""
    root = tmp_path_factory.mktemp("lsp") / "ws"
    root.mkdir()
    assert start_logging(root, "dvclive", 3, 0.0).wait(timeout=60) == 0
    (root / ".venv" / "x").mkdir(parents=True)
    (root / ".venv" / "x" / "media.jsonl").write_text("")  # skipped: inside .venv
    outside = root.parent / "outside-secret.png"
    outside.write_bytes(b"secret")
    return root


class Notes:
    """Notifications the client received, kept from the client's start.

    Every wait is on what is recorded here, so a notification that arrives before the test
    starts waiting is never lost: a test takes ``len(notes.received)`` (or just checks the
    whole list) before the action, then waits for a predicate on what came after.
    """

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.event = asyncio.Event()
        self.registrations: list[Any] = []
        self.registered = asyncio.Event()

    def add(self, params: Any) -> None:
        self.received.append(params)
        self.event.set()

    async def wait_for(self, predicate: Any, timeout: float = HANG_GUARD_S) -> Any:
        """Wait until ``predicate(received)`` holds (``timeout`` only guards against a hang)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not (found := predicate(self.received)):
            self.event.clear()
            remaining = deadline - loop.time()
            assert remaining > 0, f"nothing after {timeout} s; received {self.received[-3:]}"
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.event.wait(), remaining)
        return found


def make_client() -> LanguageClient:
    """pytest-lsp's client, keeping custom params as plain JSON and recording notifications.

    ``client.notes`` records ``dvcstage/changed`` and ``client.published`` every
    ``textDocument/publishDiagnostics``, from the start: waits never miss one that came early.
    """
    from dvcstage_lsp.server import plain_converter

    client = LanguageClient(converter_factory=plain_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    default_publish = features.pop(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    register_lsp_features(client, features)
    notes = Notes()
    published = Notes()
    client.notes = notes  # type: ignore[attr-defined]
    client.published = published  # type: ignore[attr-defined]

    @client.feature("dvcstage/changed")
    def changed(params: dict[str, Any]) -> None:
        notes.add(params)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def publish(params: types.PublishDiagnosticsParams) -> None:
        default_publish(client, params)
        published.add(params)

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        notes.registrations.append(params)
        notes.registered.set()

    return client


def server_config(tmp: Path) -> ClientServerConfig:
    return ClientServerConfig(
        server_command=[sys.executable, "-m", "dvcstage_lsp", "--rescan-interval", "0.3"],
        client_factory=make_client,
        server_env=child_env(tmp),
    )


def init_params(root: Path, dynamic_watch: bool = False) -> types.InitializeParams:
    watched = types.DidChangeWatchedFilesClientCapabilities(dynamic_registration=dynamic_watch)
    return types.InitializeParams(
        capabilities=types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(did_change_watched_files=watched),
            text_document=types.TextDocumentClientCapabilities(
                publish_diagnostics=types.PublishDiagnosticsClientCapabilities()
            ),
        ),
        root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)],
    )


@pytest_lsp.fixture(config=server_config(Path(os.sep)), scope="module")
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """The server (polling: no dynamic registration) on the module's workspace."""
    await lsp_client.initialize_session(init_params(workspace))
    yield
    await lsp_client.shutdown_session()


async def request(client: LanguageClient, method: str, params: Any) -> Any:
    """Make a custom request; check params and result against the protocol schemas."""
    kind = method.removeprefix("dvcstage/")
    assert not schemas.schema_errors(f"protocol-{kind}-params", params)
    result = await client.protocol.send_request_async(method, params)
    assert not schemas.schema_errors(f"protocol-{kind}-result", result), result
    return result


RUN = "workspace:dvclive"
pytestmark = [pytestmark, pytest.mark.asyncio(loop_scope="module")]


async def test_runs(client: LanguageClient, workspace: Path) -> None:
    result = await request(client, "dvcstage/runs", {})
    assert [r["id"] for r in result["runs"]] == [RUN]  # .venv is skipped
    run = result["runs"][0]
    assert run["kind"] == run["revision"] == "workspace"
    assert run["lastStep"] == 2 and run["dir"] == "dvclive" and run["items"] == 12
    assert run["folder"] == workspace.as_uri()


async def test_media(client: LanguageClient) -> None:
    result = await request(client, "dvcstage/media", {"run": RUN})
    kinds = {k["key"]: (k["kind"], k["steps"]) for k in result["keys"]}
    assert kinds == {
        "pred": ("image", [0, 1, 2]),
        "inputs": ("image", [0, 1, 2]),
        "weights": ("histogram", [0, 1, 2]),
        "voice": ("audio", [0, 1, 2]),
    }
    assert [m["name"] for m in result["metrics"]] == ["loss"]


async def test_item_image_with_boxes_masks_caption(client: LanguageClient, workspace: Path) -> None:
    result = await request(client, "dvcstage/item", {"run": RUN, "key": "pred", "step": 1})
    run_dir = workspace / "dvclive"
    roles = {f["role"]: f for f in result["files"]}
    assert set(roles) == {"image", "mask", "sidecar", "preview"}
    assert roles["image"]["uri"] == (run_dir / "plots/images/pred/1.png").as_uri()
    assert roles["mask"]["name"] == "truth" and roles["mask"]["exists"]
    assert all(f["bytes"] > 0 and f["exists"] for f in result["files"])
    sidecar = result["sidecar"]
    assert not schemas.schema_errors("image-sidecar", sidecar)
    assert sidecar["caption"] == "step 1"
    assert sidecar["annotations"]["cat"][0]["box"] == {
        "top": 1,
        "left": 2,
        "bottom": 10,
        "right": 12,
    }
    assert sidecar["boxes"]["predictions"]["class_labels"] == {"1": "cat"}
    mask_uri = (run_dir / "plots/images/pred/1.masks/truth.png").as_uri()
    image_uri = (run_dir / "plots/images/pred/1.png").as_uri()
    assert sorted(result["links"], key=lambda link: link["pointer"]) == [
        {"pointer": "/files/0/path", "uri": mask_uri, "exists": True},
        {"pointer": "/files/1/path", "uri": image_uri, "exists": True},
        {"pointer": "/masks/truth/path", "uri": mask_uri, "exists": True},
    ]
    assert (result["width"], result["height"], result["problems"]) == (SIDE, SIDE, [])


async def test_item_audio(client: LanguageClient) -> None:
    result = await request(client, "dvcstage/item", {"run": RUN, "key": "voice", "step": 2})
    assert result["kind"] == "audio"
    assert {f["role"] for f in result["files"]} == {"audio", "sidecar"}
    assert not schemas.schema_errors("audio", result["sidecar"])
    assert result["facts"]["sample_rate"] == 8000
    assert result["links"][0]["pointer"] == "/files/0/path" and result["links"][0]["exists"]


async def test_series_histogram_and_metric(client: LanguageClient) -> None:
    hist = await request(
        client, "dvcstage/series", {"run": RUN, "key": "weights", "kind": "histogram"}
    )
    assert [s["step"] for s in hist["steps"]] == [0, 1, 2]
    assert all(len(s["bins"]) == 8 for s in hist["steps"])
    assert all(sum(b["count"] for b in s["bins"]) == 200 for s in hist["steps"])
    metric = await request(client, "dvcstage/series", {"run": RUN, "key": "loss", "kind": "metric"})
    assert metric["points"] == [
        {"step": 0, "value": 1.0},
        {"step": 1, "value": 0.5},
        {"step": 2, "value": pytest.approx(1 / 3)},
    ]


@pytest.mark.parametrize(
    ("method", "params", "code", "text"),
    [
        ("dvcstage/media", {"run": "workspace:nope"}, -32001, "unknown run 'workspace:nope'"),
        ("dvcstage/item", {"run": RUN, "key": "nope", "step": 0}, -32002, "no key 'nope'"),
        ("dvcstage/item", {"run": RUN, "key": "pred", "step": 99}, -32003, "no step 99"),
        ("dvcstage/item", {"run": RUN, "key": "pred", "step": -1}, -32602, "invalid params"),
        ("dvcstage/media", {}, -32602, "'run' is a required property"),
        (
            "dvcstage/series",
            {"run": RUN, "key": "pred", "kind": "histogram"},
            -32002,
            "no histogram",
        ),
        (
            "dvcstage/series",
            {"run": RUN, "key": "../../x", "kind": "metric"},
            -32004,
            "not allowed",
        ),
    ],
)
async def test_errors_are_json_rpc_errors(
    client: LanguageClient, method: str, params: Any, code: int, text: str
) -> None:
    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async(method, params)
    assert caught.value.code == code
    assert text in caught.value.message
    # the server is still alive
    assert (await request(client, "dvcstage/runs", {}))["runs"]


async def test_items_answers_each_item_or_its_own_error(client: LanguageClient) -> None:
    asked = [
        {"run": RUN, "key": "pred", "step": 1},
        {"run": RUN, "key": "pred", "step": 99},
        {"run": RUN, "key": "voice", "step": 2},
        {"run": RUN, "key": "nope", "step": 0},
        {"run": "workspace:nope", "key": "pred", "step": 0},
        {"run": RUN, "key": "inputs", "step": 0},
    ]
    result = await request(client, "dvcstage/items", {"items": asked})
    answers = result["items"]
    assert len(answers) == len(asked)
    # in the order asked, each what dvcstage/item answers on its own
    for params, answer in zip(asked, answers, strict=True):
        try:
            alone = {"result": await request(client, "dvcstage/item", params)}
        except JsonRpcException as exc:
            alone = {"error": {"code": exc.code, "message": exc.message}}
        assert answer == alone, params
    assert [a["result"]["key"] for a in answers if "result" in a] == ["pred", "voice", "inputs"]
    errors = [(a["error"]["code"], a["error"]["message"]) for a in answers if "error" in a]
    assert [code for code, _ in errors] == [-32003, -32002, -32001]
    assert "no step 99" in errors[0][1] and "no key 'nope'" in errors[1][1]
    assert "unknown run 'workspace:nope'" in errors[2][1]


async def test_items_limit_and_invalid_params_refuse_the_whole_request(
    client: LanguageClient,
) -> None:
    from dvcstage_lsp import protocol

    limit = schemas.load_schema("protocol-items-params")["properties"]["items"]["maxItems"]
    assert protocol.MAX_ITEMS == limit == 256
    one = {"run": RUN, "key": "pred", "step": 2}
    full = await request(client, "dvcstage/items", {"items": [one] * limit})
    assert len(full["items"]) == limit
    assert all(a["result"]["step"] == 2 for a in full["items"])
    refused = [
        ({"items": [one] * (limit + 1)}, "257 items asked, at most 256 at once"),
        ({"items": []}, "should be non-empty"),
        ({"items": [one, {"run": RUN, "key": "pred", "step": -1}]}, "-1"),
        ({"items": [one], "extra": 1}, "extra"),
        ({}, "'items' is a required property"),
    ]
    for params, text in refused:
        with pytest.raises(JsonRpcException) as caught:
            await client.protocol.send_request_async("dvcstage/items", params)
        assert caught.value.code == -32602, params
        assert "invalid params" in caught.value.message and text in caught.value.message, (
            caught.value.message
        )


async def test_paths_outside_the_workspace_are_refused(
    client: LanguageClient, workspace: Path
) -> None:
    run_dir = workspace / "hostile"
    (run_dir / "plots" / "images" / "evil").mkdir(parents=True)
    link = run_dir / "plots" / "images" / "evil" / "0.png"
    link.symlink_to(workspace.parent / "outside-secret.png")
    lines = [
        {
            "v": 1,
            "step": 0,
            "key": "evil",
            "kind": "image",
            "sidecar": "../../../etc/passwd",
            "files": [{"path": "plots/images/evil/0.png", "role": "image", "bytes": 6}],
        },
        {
            "v": 1,
            "step": 1,
            "key": "evil",
            "kind": "image",
            "files": [
                {"path": "/etc/passwd", "role": "image", "bytes": 1},
                {"path": "../../outside-secret.png", "role": "image", "bytes": 1},
            ],
        },
    ]
    (run_dir / "media.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    notes: Notes = client.notes  # type: ignore[attr-defined]
    await notes.wait_for(lambda r: any(n["run"] == "workspace:hostile" for n in r))
    for step in (0, 1):
        result = await request(
            client, "dvcstage/item", {"run": "workspace:hostile", "key": "evil", "step": step}
        )
        assert result["files"] == [] and result["sidecar"] is None
        assert len(result["problems"]) == 2
        assert all("outside the workspace" in p or "not allowed" in p for p in result["problems"])


async def test_changed_while_a_child_process_logs(client: LanguageClient, workspace: Path) -> None:
    notes: Notes = client.notes  # type: ignore[attr-defined]
    steps = 6
    child = start_logging(workspace, "live", steps, 0.1)
    try:
        expected = {(key, step) for key in ("pred", "weights") for step in range(steps)}

        def done(received: list[dict[str, Any]]) -> bool:
            # every line, not just the last step: one step's lines may come in two notices
            seen = {(i["key"], i["step"]) for n in received if n["run"] == "workspace:live"
                    for i in n["items"]}  # fmt: skip
            return expected <= seen

        await notes.wait_for(done)
    finally:
        assert child.wait(timeout=60) == 0
    mine = [n for n in notes.received if n["run"] == "workspace:live"]
    for note in mine:
        assert not schemas.schema_errors("protocol-changed", note)
    assert mine[0].get("new") is True
    seen = {(i["key"], i["step"]) for n in mine for i in n["items"]}
    assert {("pred", s) for s in range(steps)} <= seen
    assert {("weights", s) for s in range(steps)} <= seen
    assert len(mine) >= 3  # steps arrived as they were logged, not all at the end
    media = await request(client, "dvcstage/media", {"run": "workspace:live"})
    assert {k["key"]: k["steps"] for k in media["keys"]}["pred"] == list(range(steps))


async def test_a_run_whose_folder_is_deleted_is_removed_and_comes_back_as_new(
    client: LanguageClient, workspace: Path
) -> None:
    import shutil

    notes: Notes = client.notes  # type: ignore[attr-defined]
    run_id = "workspace:gone"
    assert start_logging(workspace, "gone", 2, 0.0).wait(timeout=60) == 0
    await notes.wait_for(lambda got: any(n["run"] == run_id and n.get("new") for n in got))
    assert run_id in [r["id"] for r in (await request(client, "dvcstage/runs", {}))["runs"]]
    before = len(notes.received)
    shutil.rmtree(workspace / "gone")

    def removed(received: list[dict[str, Any]]) -> Any:
        return next((n for n in received[before:] if n["run"] == run_id), None)

    note = await notes.wait_for(removed)
    assert note == {"run": run_id, "lastStep": None, "items": [], "removed": True}
    assert not schemas.schema_errors("protocol-changed", note)
    assert run_id not in [r["id"] for r in (await request(client, "dvcstage/runs", {}))["runs"]]
    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async("dvcstage/media", {"run": run_id})
    assert caught.value.code == -32001
    # logged again: found by the next scan, as a new run
    again = len(notes.received)
    assert start_logging(workspace, "gone", 1, 0.0).wait(timeout=60) == 0
    await notes.wait_for(lambda got: any(n["run"] == run_id and n.get("new") for n in got[again:]))
    media = await request(client, "dvcstage/media", {"run": run_id})
    assert {k["key"]: k["steps"] for k in media["keys"]}["pred"] == [0]


def _span(text: str, needle: str, occurrence: int = 0) -> types.Range:
    """The LSP range (UTF-16) of the ``occurrence``-th ``needle`` in ``text``."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at)
    start = at - (text.rfind("\n", 0, at) + 1)
    prefix = text[at - start : at]
    col = len(prefix.encode("utf-16-le")) // 2
    width = len(needle.encode("utf-16-le")) // 2
    return types.Range(
        start=types.Position(line=line, character=col),
        end=types.Position(line=line, character=col + width),
    )


_versions = iter(range(1, 1_000_000))


async def _diagnose(client: LanguageClient, path: Path, text: str) -> list[types.Diagnostic]:
    """Open ``text`` as ``path``; the diagnostics published for this version of it.

    The client records every publication from its start (``client.published``), so the
    answer is found however early it arrives.
    """
    uri = path.as_uri()
    version = next(_versions)
    published: Notes = client.published  # type: ignore[attr-defined]
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="json", version=version, text=text
            )
        )
    )

    def this_version(received: list[types.PublishDiagnosticsParams]) -> Any:
        return next((p for p in received if p.uri == uri and p.version == version), None)

    params = await published.wait_for(this_version)
    diagnostics = list(params.diagnostics)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return diagnostics


async def test_diagnostics_broken_sidecar(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "dvclive" / "plots" / "images" / "pred" / "0.json"
    good = path.read_text()
    assert await _diagnose(client, path, good) == []
    bad = good.replace('"score": 0.9', '"score": "high"').replace(
        '"0.masks/truth.png"', '"0.masks/gone.png"'
    )
    bad = bad.replace('"bit_depth": 8', '"bit_depth": 8,\n      "colour": "red"')
    found = await _diagnose(client, path, bad)
    assert [(d.range, d.code) for d in found] == [
        (_span(bad, '"high"'), "schema"),
        (_span(bad, '"colour"'), "schema"),
    ]
    assert "'high' is not of type 'number'" in found[0].message
    assert found[0].source == "dvcstage" and found[0].severity == types.DiagnosticSeverity.Error
    # once the schema is met, the missing mask file is flagged on its path
    missing = good.replace('"0.masks/truth.png"', '"0.masks/gone.png"')
    found = await _diagnose(client, path, missing)
    warning = types.DiagnosticSeverity.Warning
    assert sorted((d.range.start.line, d.code, d.severity) for d in found) == sorted(
        (_span(missing, '"0.masks/gone.png"', n).start.line, "missing-file", warning)
        for n in range(2)  # in "files" (what every media sidecar lists) and in "masks"
    )
    truncated = good[: len(good) // 2]
    found = await _diagnose(client, path, truncated)
    assert len(found) == 1 and found[0].code == "json"
    assert found[0].range.start.line == truncated.count("\n")


async def test_diagnostics_broken_index_lines(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "dvclive" / "media.jsonl"
    lines = path.read_text().splitlines()
    line1 = lines[1].replace('"step":0', '"caption":"\U0001f431 chat","step":-1', 1)
    assert line1 != lines[1]
    lines[1] = line1
    lines[3] = lines[3][:-5]  # truncated JSON
    lines[4] = lines[4].replace('"plots/images/', '"plots/nowhere/', 1)
    text = "\n".join(lines) + "\n" + '{"v":1,"step":'  # and a torn last line
    found = await _diagnose(client, path, text)
    by_line = {(d.range.start.line, d.code) for d in found}
    assert (3, "json") in by_line and (4, "missing-file") in by_line
    assert (len(lines), "torn-line") in by_line
    extra, step = (d for d in found if d.range.start.line == 1)
    # exact ranges in UTF-16 units (the cat emoji counts two)
    assert extra.range == _span(text, '"caption"', text.count('"caption"') - 1)
    assert step.range == _span(text, "-1")
    assert "-1 is less than the minimum of 0" in step.message
    missing = next(d for d in found if d.code == "missing-file")
    assert missing.range.start.line == 4
    assert text.splitlines()[4][missing.range.start.character :].startswith('"plots/nowhere/')


async def test_dynamic_registration_of_the_file_watcher(workspace: Path) -> None:
    config = server_config(workspace.parent)
    client = await config.start()
    try:
        await client.initialize_session(init_params(workspace, dynamic_watch=True))
        notes: Notes = client.notes  # type: ignore[attr-defined]
        await asyncio.wait_for(notes.registered.wait(), HANG_GUARD_S)
        (registration,) = notes.registrations[0].registrations
        assert registration.method == "workspace/didChangeWatchedFiles"
        assert registration.register_options["watchers"][0]["globPattern"] == "**/media.jsonl"
        index = workspace / "dvclive" / "media.jsonl"
        line = json.loads(index.read_text().splitlines()[0]) | {"step": 50}
        with index.open("a") as handle:
            handle.write(json.dumps(line) + "\n")
        await asyncio.sleep(0.5)
        assert notes.received == []  # no polling: the client's watcher reports changes
        client.workspace_did_change_watched_files(
            types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=index.as_uri(), type=types.FileChangeType.Changed)]
            )
        )
        await notes.wait_for(lambda r: bool(r))
        assert notes.received[0]["run"] == RUN and notes.received[0]["lastStep"] == 50
        assert notes.received[0]["items"] == [
            {"key": line["key"], "step": 50, "kind": line["kind"]}
        ]
        await client.shutdown_session()
    finally:
        await client.stop()
