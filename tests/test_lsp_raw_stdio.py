"""The server over raw stdio: messages as any JSON-RPC client may write them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pytest

pytestmark = pytest.mark.timeout(120)


def send(stdin: IO[bytes], message: dict[str, Any]) -> None:
    body = json.dumps({"jsonrpc": "2.0", **message}).encode()
    stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stdin.flush()


def receive(stdout: IO[bytes]) -> dict[str, Any]:
    length = 0
    while (header := stdout.readline().strip()) != b"":
        name, _, value = header.partition(b":")
        if name.lower() == b"content-length":
            length = int(value)
    message: dict[str, Any] = json.loads(stdout.read(length))
    return message


def answer(stdout: IO[bytes], request_id: int) -> dict[str, Any]:
    """The response to ``request_id`` (notifications and server requests skipped)."""
    while True:
        message = receive(stdout)
        if message.get("id") == request_id and "method" not in message:
            return message


def test_a_request_without_params_is_answered(tmp_path: Path) -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "dvcstage_lsp", "--cache-dir", str(tmp_path / "cache")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert server.stdin is not None and server.stdout is not None
    try:
        send(server.stdin, {"id": 1, "method": "initialize", "params": {
            "processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}})  # fmt: skip
        assert "capabilities" in answer(server.stdout, 1)["result"]
        send(server.stdin, {"method": "initialized", "params": {}})
        send(server.stdin, {"id": 2, "method": "dvcstage/runs"})  # no "params" member at all
        assert answer(server.stdout, 2)["result"] == {"runs": []}
        send(server.stdin, {"id": 3, "method": "shutdown"})
        assert answer(server.stdout, 3)["result"] is None
        send(server.stdin, {"method": "exit"})
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()
        server.wait()
