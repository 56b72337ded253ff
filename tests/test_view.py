"""``dvcstage view`` end to end: a real server process over real runs and the real language
server. Every route needs the token; no path leads out of the workspace; the WebSocket speaks
docs/panel-host.md and pushes ``dvcstage/changed`` while a run is being logged."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from test_view_support import SECRET, ViewServer, make_workspace, start_logging, start_view

pytestmark = pytest.mark.timeout(180)

ROUTES = ["/", "/panel.js", "/panel.css", "/files/w0/dvclive/metrics.json", "/api/ws", "/nope"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two finished runs and links that lead out of the workspace."""
    return make_workspace(tmp_path_factory.mktemp("view"))


@pytest.fixture(scope="module")
def view(workspace: Path) -> Iterator[ViewServer]:
    """``dvcstage view`` on the workspace; stopped (and checked to stop cleanly) at the end."""
    server = start_view(workspace, "--cache-dir", str(workspace.parent / "cache"))
    yield server
    children = server.lsp_children()
    assert children, "the view should have started a language server"
    assert server.stop() == 0, "".join(server.stderr)
    for pid in children:  # the language server went with it
        assert not Path(f"/proc/{pid}").exists() or "zombie" in _state(pid)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return "zombie"


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_needs_the_token(view: ViewServer, route: str) -> None:
    sep = "&" if "?" in route else "?"
    wrong = "x" + view.token[1:]
    assert view.get(route, auth=False)[0] == 403
    assert view.get(f"{route}{sep}token={wrong}", auth=False)[0] == 403
    assert view.get(f"{route}{sep}token=", auth=False)[0] == 403
    assert view.get(route, {"Cookie": f"dvcstage-view-{view.port}={wrong}"}, auth=False)[0] == 403
    # A right cookie does not help a wrong ?token=, and the right token works either way.
    assert view.get(f"{route}{sep}token={wrong}")[0] == 403
    status = view.get(route)[0]
    assert status != 403
    assert view.get(f"{route}{sep}token={view.token}", auth=False)[0] != 403


def test_forbidden_answers_reveal_nothing(view: ViewServer) -> None:
    status, headers, body = view.get("/files/w0/dvclive/metrics.json", auth=False)
    assert status == 403
    assert b"loss" not in body
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in headers["content-security-policy"]


def test_opening_the_url_sets_a_strict_cookie_and_serves_the_page(view: ViewServer) -> None:
    status, headers, _ = view.get(f"/?token={view.token}", auth=False)
    assert status == 303 and headers["location"] == "/"
    cookie = headers["set-cookie"]
    assert cookie.startswith(f"dvcstage-view-{view.port}={view.token};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    status, headers, body = view.get("/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    csp = headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'nonce-", "frame-ancestors 'none'"):
        assert directive in csp
    nonce = csp.split("script-src 'nonce-", 1)[1].split("'", 1)[0]
    assert "unsafe-inline" not in csp and "http:" not in csp.replace(f"ws://{view.host}", "")
    page = body.decode()
    assert 'data-transport="websocket"' in page and 'data-endpoint="/api/ws"' in page
    assert f'<script nonce="{nonce}" src="/panel.js">' in page and "<script>" not in page
    assert view.get("/")[1]["content-security-policy"] != csp  # a fresh nonce per load
    assert headers["x-content-type-options"] == "nosniff"


def test_the_bundle_is_served(view: ViewServer) -> None:
    status, headers, body = view.get("/panel.js")
    assert status == 200 and "javascript" in headers["content-type"] and len(body) > 1000
    status, headers, _ = view.get("/panel.css")
    assert status == 200 and headers["content-type"].startswith("text/css")


@pytest.mark.parametrize(
    "host", ["evil.example", f"evil.example:{0}", "127.0.0.1:1", "127.0.0.1.nip.io:{port}", ""]
)
def test_a_foreign_host_header_is_refused(view: ViewServer, host: str) -> None:
    # DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends Host: evil.example.
    host = host.format(port=view.port, **{"0": view.port})
    assert view.get("/", {"Host": host})[0] == 403
    assert view.get("/", {"Host": f"localhost:{view.port}"})[0] == 200


TRAVERSALS = [
    "/files/w0/../secret.txt",
    "/files/w0/dvclive/../../secret.txt",
    "/files/w0/%2e%2e/secret.txt",
    "/files/w0/%2E%2E/secret.txt",
    "/files/w0/dvclive/%2e%2e/%2e%2e/secret.txt",
    "/files/w0/..%2fsecret.txt",
    "/files/w0/..%2Fsecret.txt",
    "/files/w0/dvclive%2f..%2f..%2fsecret.txt",
    "/files/w0/%252e%252e/secret.txt",
    "/files/w0/..%5csecret.txt",
    "/files/w0/..\\secret.txt",
    "/files/w0//etc/passwd",
    "/files/w0/%2fetc%2fpasswd",
    "/files/w0/%2Fetc/passwd",
    "/files/w0/link-out.txt",
    "/files/w0/dir-out/secret.txt",
    "/files/w0/inside.txt%00.png",
    "/files/w0/.",
    "/files/w0/",
    "/files/w0",
    "/files/../secret.txt",
    "/files/%2e%2e/secret.txt",
    "/files/cache/../ws/inside.txt",
    "/files/etc/passwd",
    "/files/w1/inside.txt",
    "/files/w0/~/secret.txt",
    "/../secret.txt",
    "/%2e%2e/secret.txt",
    "/..%2fsecret.txt",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_no_path_leads_out_of_the_workspace(view: ViewServer, workspace: Path, path: str) -> None:
    absolute = str(workspace.parent / "secret.txt")
    status, _, body = view.get(path.replace("/etc/passwd", absolute))
    assert status in (400, 403, 404), (path, status)
    assert SECRET.encode() not in body and b"root:" not in body
    assert b"inside" not in body


def test_an_absolute_path_is_refused(view: ViewServer, workspace: Path) -> None:
    absolute = (workspace.parent / "secret.txt").as_posix()
    for path in (f"/files/w0/{absolute}", f"/files/w0{absolute}", f"/files/{absolute}"):
        status, _, body = view.get(path)
        assert status in (403, 404) and SECRET.encode() not in body


def test_files_inside_are_served_with_their_type(view: ViewServer, workspace: Path) -> None:
    status, headers, body = view.get("/files/w0/dvclive/plots/images/pred/1.png")
    assert status == 200 and headers["content-type"] == "image/png"
    assert body == (workspace / "dvclive/plots/images/pred/1.png").read_bytes()
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"].startswith("sandbox;")
    # A link that stays inside the workspace is fine.
    assert view.get("/files/w0/link-in.txt")[2] == b"inside\n"
    # Encoded characters are decoded once: "%69nside.txt" is "inside.txt".
    assert view.get("/files/w0/%69nside.txt")[2] == b"inside\n"
    # Ranges work (audio and video seek with them).
    status, _, part = view.get("/files/w0/inside.txt", {"Range": "bytes=0-2"})
    assert status == 206 and part == b"ins"


def test_logged_html_is_sandboxed(view: ViewServer, workspace: Path) -> None:
    (html,) = (workspace / "dvclive").rglob("*.html")
    status, headers, body = view.get(f"/files/w0/{html.relative_to(workspace).as_posix()}")
    assert status == 200 and b"logged html" in body
    csp = headers["content-security-policy"]
    assert csp.startswith("sandbox allow-scripts;") and "allow-same-origin" not in csp
    assert "default-src 'none'" in csp and "http" not in csp


# --- the WebSocket ---------------------------------------------------------------------------


async def _ws_session(view: ViewServer, **headers: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(headers={"Cookie": view.cookie, **headers})


class Panel:
    """A panel's side of the socket: numbered requests, collected notifications."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 1
        self.answers: dict[int, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if data["kind"] == "response":
                self.answers[data["id"]] = data
            else:
                self.notifications.append(data)

    async def request(self, method: str, params: Any, timeout: float = 30) -> dict[str, Any]:
        msg_id, self.next_id = self.next_id, self.next_id + 1
        await self.ws.send_str(
            json.dumps({"kind": "request", "id": msg_id, "method": method, "params": params})
        )
        deadline = time.monotonic() + timeout
        while msg_id not in self.answers:
            assert time.monotonic() < deadline, f"no answer to {method}"
            await asyncio.sleep(0.01)
        return self.answers.pop(msg_id)


async def _round_trip(view: ViewServer, workspace: Path) -> None:
    async with (
        aiohttp.ClientSession(headers={"Cookie": view.cookie}) as session,
        session.ws_connect(f"ws://{view.host}/api/ws", origin=view.base) as ws,
    ):
        panel = Panel(ws)
        runs = (await panel.request("dvcstage/runs", {}))["result"]["runs"]
        assert {r["id"] for r in runs} >= {"workspace:dvclive", "workspace:other"}
        media = (await panel.request("dvcstage/media", {"run": "workspace:dvclive"}))["result"]
        pred = next(k for k in media["keys"] if k["key"] == "pred")
        assert pred["steps"] == [0, 1, 2, 3]
        assert media["metrics"][0]["uri"] == "/files/w0/dvclive/plots/metrics/loss.tsv"
        answer = await panel.request(
            "dvcstage/item", {"run": "workspace:dvclive", "key": "pred", "step": 2}
        )
        item = answer["result"]
        image = next(f for f in item["files"] if f["role"] == "image")
        assert image["uri"] == "/files/w0/dvclive/plots/images/pred/2.png"
        assert all(link["uri"].startswith("/files/w0/dvclive/") for link in item["links"])
        assert item["sidecar"]["caption"] == "step 2"
        async with session.get(f"{view.base}{image['uri']}") as response:
            assert response.status == 200
            expected = (workspace / "dvclive/plots/images/pred/2.png").read_bytes()
            assert await response.read() == expected
        # Several items in one request: each its answer (URIs rewritten) or its own error.
        asked = [
            {"run": "workspace:dvclive", "key": "pred", "step": 2},
            {"run": "workspace:dvclive", "key": "pred", "step": 99},
            {"run": "workspace:dvclive", "key": "pred", "step": 3},
        ]
        for _ in range(2):  # asked, then answered from what the view keeps
            both = (await panel.request("dvcstage/items", {"items": asked}))["result"]["items"]
            # the small image travels inside the answer (base64), beside its URL
            inlined = next(f for f in both[0]["result"]["files"] if f["role"] == "image")
            assert base64.b64decode(inlined.pop("data")) == expected
            assert both[0]["result"] == item
            error = both[1]["error"]
            assert error["code"] == -32003 and "no step 99" in error["message"]
            files = both[2]["result"]["files"]
            assert "/files/w0/dvclive/plots/images/pred/3.png" in [f["uri"] for f in files]
        too_many = await panel.request("dvcstage/items", {"items": asked[:1] * 257})
        assert too_many["error"]["code"] == -32602 and "at most 256" in too_many["error"]["message"]
        # The server's own errors pass through; other methods are not forwarded.
        missing = await panel.request("dvcstage/item", {"run": "nope", "key": "pred", "step": 0})
        assert missing["error"]["code"] == -32001
        other = await panel.request("shutdown", None)
        assert other["error"]["code"] == -32601
        other = await panel.request("workspace/executeCommand", {"command": "x"})
        assert other["error"]["code"] == -32601
        # Garbage is ignored; the socket stays usable.
        await ws.send_str("not json")
        await ws.send_str(json.dumps({"kind": "request", "id": None, "method": "dvcstage/runs"}))
        assert "result" in await panel.request("dvcstage/runs", None)


def test_websocket_round_trip(view: ViewServer, workspace: Path) -> None:
    asyncio.run(_round_trip(view, workspace))


async def _handshake(view: ViewServer, url: str, headers: dict[str, str]) -> int:
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers):
                return 101
        except aiohttp.WSServerHandshakeError as error:
            return error.status


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://evil.example"]
)
def test_a_cross_origin_websocket_is_refused(view: ViewServer, origin: str) -> None:
    url = f"ws://{view.host}/api/ws"
    assert asyncio.run(_handshake(view, url, {"Cookie": view.cookie, "Origin": origin})) == 403
    assert asyncio.run(_handshake(view, url, {"Cookie": view.cookie, "Origin": view.base})) == 101


def test_a_websocket_without_the_token_is_refused(view: ViewServer) -> None:
    url = f"ws://{view.host}/api/ws"
    assert asyncio.run(_handshake(view, url, {"Origin": view.base})) == 403
    wrong = f"{url}?token=x{view.token[1:]}"
    assert asyncio.run(_handshake(view, wrong, {"Origin": view.base})) == 403
    assert asyncio.run(_handshake(view, f"{url}?token={view.token}", {})) == 101


async def _live_updates(view: ViewServer, workspace: Path) -> None:
    async with (
        aiohttp.ClientSession(headers={"Cookie": view.cookie}) as session,
        session.ws_connect(f"ws://{view.host}/api/ws") as ws,
        session.ws_connect(f"ws://{view.host}/api/ws") as ws2,
    ):
        panels = [Panel(ws), Panel(ws2)]
        await panels[0].request("dvcstage/runs", {})
        logger = start_logging(workspace, "live", 4, pause=0.3)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                steps = [
                    n["params"].get("lastStep")
                    for n in panels[1].notifications
                    if n["method"] == "dvcstage/changed" and n["params"]["run"] == "workspace:live"
                ]
                if 3 in steps:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"no dvcstage/changed for step 3: {panels[1].notifications}")
        finally:
            assert await asyncio.to_thread(logger.wait, 60) == 0
        assert any(n["method"] == "dvcstage/changed" for n in panels[0].notifications)
        media = (await panels[0].request("dvcstage/media", {"run": "workspace:live"}))["result"]
        assert next(k for k in media["keys"] if k["key"] == "pred")["steps"] == [0, 1, 2, 3]


def test_changes_are_pushed_to_every_panel_while_a_run_logs(
    view: ViewServer, workspace: Path
) -> None:
    asyncio.run(_live_updates(view, workspace))


# --- the language server's life -------------------------------------------------------------


async def _after_the_server_died(view: ViewServer) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession(headers={"Cookie": view.cookie}) as session,
        session.ws_connect(f"ws://{view.host}/api/ws") as ws,
    ):
        panel = Panel(ws)
        assert "result" in await panel.request("dvcstage/runs", {})
        (child,) = view.lsp_children()
        os.kill(child, 9)
        deadline = time.monotonic() + 20
        while True:
            answer = await panel.request("dvcstage/runs", {})
            if "error" in answer or time.monotonic() > deadline:
                return answer
            await asyncio.sleep(0.1)


def test_a_dead_language_server_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    view = start_view(folder, "--cache-dir", str(tmp_path / "cache"))
    try:
        answer = asyncio.run(_after_the_server_died(view))
        assert answer["error"]["code"] == -32099
        assert "language server exited" in answer["error"]["message"]
        deadline = time.monotonic() + 10
        while "language server exited" not in "".join(view.stderr):
            assert time.monotonic() < deadline, view.stderr
            time.sleep(0.1)
    finally:
        assert view.stop() == 0


def test_cli_refuses_a_missing_folder(tmp_path: Path) -> None:
    from dvcstage.cli import main

    assert main(["view", "--no-browser", str(tmp_path / "missing")]) == 2
