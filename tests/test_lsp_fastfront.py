"""The language server's fast front: the first answers before pygls is imported.

The front answers ``initialize`` exactly as pygls would (compared for the capabilities of
real editors), answers ``dvcstage/runs`` and ``dvcstage/media`` from the runs it loaded
without importing pygls' protocol types, and leaves everything else, in order, to pygls.
The end-to-end behaviour through the real server process is what every other
``test_lsp_*`` file exercises.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from dvcstage_lsp.fastfront import initialize_result
from dvcstage_lsp.server import create_server
from lsprotocol import types
from pytest_lsp import client_capabilities
from test_lsp_server import LSP_DIR, child_env, start_logging

CLIENTS = ["visual-studio-code", "neovim", "emacs", None]


def _pygls_initialize(params: dict[str, Any]) -> Any:
    """The ``initialize`` result pygls itself sends for ``params``."""
    server = create_server()
    sent: list[bytes] = []

    class Sink:
        def write(self, data: bytes) -> None:
            sent.append(data)

        def close(self) -> None:
            pass

    server.protocol.set_writer(Sink())
    message = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    server.protocol.handle_message(
        json.loads(json.dumps(message), object_hook=server.protocol.structure_message)
    )
    (data,) = sent
    return json.loads(data.split(b"\r\n\r\n", 1)[1])["result"]


@pytest.mark.parametrize("client", CLIENTS)
def test_the_front_answers_initialize_as_pygls_does(client: str | None) -> None:
    from lsprotocol.converters import get_converter

    capabilities = (
        get_converter().unstructure(client_capabilities(client), types.ClientCapabilities)
        if client
        else {}
    )
    for encodings in (None, ["utf-8", "utf-16"], ["utf-32"], ["latin-1", "utf-8"]):
        caps = dict(capabilities)
        if encodings is not None:
            caps["general"] = {**caps.get("general", {}), "positionEncodings": encodings}
        params = {"processId": None, "rootUri": "file:///tmp", "capabilities": caps}
        assert initialize_result(params) == _pygls_initialize(params), (client, encodings)


FRONT = textwrap.dedent(
    """
    import json, os, sys
    from dvcstage_lsp.fastfront import FastFront, StdinBuffer
    from dvcstage_lsp.options import ServerOptions

    read_end = int(sys.argv[1])
    out = open(sys.argv[2], "wb")
    stdin = StdinBuffer(read_end)
    handover = FastFront(ServerOptions(), stdin, out).run()
    out.close()
    left = []  # what pygls reads next, in order
    while (message := stdin.message(0)) is not None:
        left.append(message[1].get("method"))
    print(json.dumps({
        "left": left,
        "answered": handover.answered,
        "replay": handover.initialize is not None,
        "runs": sorted(handover.registry.runs) if handover.registry else None,
        "pygls_types_imported": any(
            name in sys.modules for name in ("lsprotocol.types", "pygls.protocol")
        ),
    }))
    """
)


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _frames(data: bytes) -> list[dict[str, Any]]:
    found = []
    while data:
        header, _, rest = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1]) for line in header.split(b"\r\n") if b"Content-Length" in line
        )
        found.append(json.loads(rest[:length]))
        data = rest[length:]
    return found


def test_runs_and_media_are_answered_before_pygls_is_imported(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    assert start_logging(root, "dvclive", 2, 0.0).wait(timeout=120) == 0
    uri = root.as_uri()
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"processId": None, "rootUri": uri, "capabilities": {},
                    "workspaceFolders": [{"uri": uri, "name": "ws"}],
                    "initializationOptions": {"cacheDir": str(tmp_path / "cache")}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "dvcstage/runs", "params": {}},
        {"jsonrpc": "2.0", "id": 3, "method": "dvcstage/media",
         "params": {"run": "workspace:dvclive"}},
        {"jsonrpc": "2.0", "id": 4, "method": "dvcstage/media", "params": {"run": "nope"}},
        {"jsonrpc": "2.0", "id": 5, "method": "textDocument/hover", "params": {}},
    ]  # fmt: skip
    read_end, write_end = os.pipe()
    os.write(write_end, b"".join(map(_frame, messages)))
    os.close(write_end)  # the front sees everything at once, then the end: no timing
    out = tmp_path / "out"
    env = {**child_env(tmp_path), "PYTHONPATH": str(LSP_DIR)}
    done = subprocess.run(
        [sys.executable, "-c", FRONT, str(read_end), str(out)],
        pass_fds=(read_end,),
        capture_output=True,
        text=True,
        env=env,
    )
    os.close(read_end)
    assert done.returncode == 0, done.stderr
    state = json.loads(done.stdout)
    assert state == {
        "left": ["initialized", "textDocument/hover"],
        "answered": 3,  # runs, media, and media's error
        "replay": True,
        "runs": ["workspace:dvclive"],
        "pygls_types_imported": False,
    }
    answers = {a["id"]: a for a in _frames(out.read_bytes())}
    assert sorted(answers) == [1, 2, 3, 4]  # hover is left to pygls
    assert answers[1]["result"]["serverInfo"]["name"] == "dvcstage-lsp"
    assert [r["id"] for r in answers[2]["result"]["runs"]] == ["workspace:dvclive"]
    keys = {k["key"]: k["steps"] for k in answers[3]["result"]["keys"]}
    assert keys["pred"] == [0, 1]
    assert (
        answers[4]["error"]["code"] == -32001
        and "unknown run 'nope'" in answers[4]["error"]["message"]
    )
