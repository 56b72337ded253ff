"""The HTTP side of ``dvcstage view``: routes, the token check and the WebSocket bridge.

=======================  ===============================================================
Route                    What
=======================  ===============================================================
``GET /``                the panel's page (with ``?token=``: sets the cookie, then
                         redirects to ``/`` so the token leaves the address bar)
``GET /panel.js`` ...    the bundled panel (``dvcstage/view/static/``)
``GET /files/R/PATH``    a file of root ``R`` (``w0``: the workspace, ``cache``: the
                         language server's cache), see :mod:`.files`
``GET /api/ws``          the panel's WebSocket: JSON messages of docs/panel-host.md
=======================  ===============================================================

Every route needs the token (cookie or ``?token=``) and a ``Host`` naming this server, else
403. Every response carries a Content-Security-Policy and ``X-Content-Type-Options: nosniff``.

A panel's requests are small (a run id, a key, a step): a WebSocket message larger than
``MAX_REQUEST_BYTES`` is answered with an error naming the limit and never reaches the
language server; one larger than ``MAX_MESSAGE_BYTES`` closes the socket (code 1009).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any, Protocol

from aiohttp import WSMsgType, web

from .answers import AnswerCache
from .auth import TOKEN_PARAMETER, Access
from .files import FILES_PREFIX, FileRefusedError, FileRoots, rewrite_file_uris
from .inline import inline_images
from .lsp_bridge import METHOD_PREFIX, ServerError
from .page import NOTHING_CSP, WEBSOCKET_PATH, file_csp, new_nonce, page_csp, panel_page

logger = logging.getLogger(__name__)

STATIC_DIR = Path(str(package_files("dvcstage.view") / "static"))
METHOD_NOT_FOUND = -32601
INVALID_REQUEST = -32600
SEND_TIMEOUT = 10.0
SMALL_FILE = 1 << 20
MAX_REQUEST_BYTES = 64 * 1024
MAX_MESSAGE_BYTES = 1 << 20


class Requester(Protocol):
    """What answers the panel's requests: the language server's supervisor (or a bridge)."""

    async def request(self, method: str, params: Any) -> Any:
        """The answer to ``method``; raises :class:`ServerError`."""


@dataclass
class ViewState:
    """What the handlers share: access rules, file roots, the bridge and open sockets."""

    access: Access
    roots: FileRoots
    bridge: Requester | None = None
    answers: AnswerCache | None = field(default_factory=AnswerCache)
    static_dir: Path = STATIC_DIR
    sockets: set[PanelSocket] = field(default_factory=set)

    def send_command(self, command: str, args: Any = None) -> None:
        """Send a host command (docs/panel-host.md) to every open panel."""
        text = json.dumps({"kind": "command", "command": command, "args": args or {}})
        for socket in list(self.sockets):
            socket.send_later(text)

    def broadcast(self, method: str, params: Any) -> None:
        """Send a server notification to every open panel (stale answers are dropped)."""
        if self.answers is not None:
            run = params.get("run") if isinstance(params, dict) else None
            self.answers.changed(run if isinstance(run, str) else None)
        message = {
            "kind": "notification",
            "method": method,
            "params": rewrite_file_uris(params, self.roots),
        }
        text = json.dumps(message)
        for socket in list(self.sockets):
            socket.send_later(text)


STATE = web.AppKey("state", ViewState)


class PanelSocket:
    """One panel's WebSocket; sends go through one task so they never interleave."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=1000)
        self.sender = asyncio.create_task(self._send_all())
        self.closing: asyncio.Task[bool] | None = None

    def send_later(self, text: str) -> None:
        """Queue ``text``; a panel that stopped reading is closed rather than buffered."""
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            logger.warning("a panel stopped reading; closing its socket")
            self.sender.cancel()
            self.closing = asyncio.create_task(self.ws.close())

    async def _send_all(self) -> None:
        while True:
            text = await self.outbox.get()
            if self.ws.closed:
                return
            try:
                await asyncio.wait_for(self.ws.send_str(text), SEND_TIMEOUT)
            except (ConnectionError, asyncio.TimeoutError, RuntimeError):
                await self.ws.close()
                return

    async def close(self) -> None:
        """Stop sending and close the socket."""
        self.sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.sender
        await self.ws.close()


def _forbidden(reason: str) -> web.Response:
    return web.Response(status=403, text=f"403 Forbidden: {reason}\n")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Host check, then the token (cookie or ``?token=``), for every route."""
    access = request.app[STATE].access
    if not access.host_ok(request.headers.get("Host")):
        return _forbidden("unexpected Host header")
    given = request.query.get(TOKEN_PARAMETER)
    if given is not None:
        if not access.token_ok(given):
            return _forbidden("wrong token")
    elif not access.token_ok(request.cookies.get(access.cookie_name)):
        return _forbidden("open the URL with the token that `dvcstage view` printed")
    return await handler(request)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers.setdefault("Content-Security-Policy", NOTHING_CSP)
    headers.setdefault("Cache-Control", "no-store")


async def page(request: web.Request) -> web.StreamResponse:
    """The panel page; opened with the token, it sets the cookie and drops the token."""
    access = request.app[STATE].access
    host = request.headers.get("Host", "")
    if TOKEN_PARAMETER in request.query:
        response: web.StreamResponse = web.HTTPSeeOther("/")
    else:
        nonce = new_nonce()
        response = web.Response(text=panel_page(host, nonce), content_type="text/html")
        response.headers["Content-Security-Policy"] = page_csp(host, nonce)
    response.set_cookie(
        access.cookie_name,
        access.token,
        httponly=True,
        samesite="Strict",
        path="/",
    )
    return response


async def static_file(request: web.Request) -> web.StreamResponse:
    """A file of the bundle (``panel.js``, ``panel.css`` and what esbuild writes beside)."""
    state = request.app[STATE]
    name = request.match_info["name"]
    path = state.static_dir / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)


async def workspace_file(request: web.Request) -> web.StreamResponse:
    """``/files/<root>/<path>``, checked by :meth:`FileRoots.resolve` on the raw path."""
    state = request.app[STATE]
    raw = request.raw_path.split("?", 1)[0]
    if not raw.startswith(FILES_PREFIX):  # pragma: no cover - the router only sends these
        raise web.HTTPNotFound()
    root, _, rest = raw[len(FILES_PREFIX) :].partition("/")
    try:
        path = state.roots.resolve(root, rest)
    except FileRefusedError as refused:
        return web.Response(status=refused.status, text=f"{refused.status}: {refused.reason}\n")
    response = _small_file(request, path) or web.FileResponse(path)
    response.headers["Content-Security-Policy"] = file_csp(path.name)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _small_file(request: web.Request, path: Path) -> web.StreamResponse | None:
    """A small file read at once, or None for ``FileResponse`` (big files, ranges).

    Most requests are a slider's images and masks (a few KB): reading them here avoids
    ``FileResponse``'s hops to the thread pool, which cost more than the read.
    """
    if "Range" in request.headers:
        return None
    try:
        info = path.stat()
        if info.st_size > SMALL_FILE:
            return None
        etag = f'"{info.st_mtime_ns:x}-{info.st_size:x}"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=headers)
        body = path.read_bytes()
    except OSError:
        return None
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return web.Response(body=body, content_type=kind, headers=headers)


async def panel_socket(request: web.Request) -> web.StreamResponse:
    """The panel's WebSocket: requests in, responses and notifications out."""
    state = request.app[STATE]
    if not state.access.origin_ok(request.headers.get("Origin"), request.headers.get("Host")):
        return _forbidden("cross-origin WebSocket")
    ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=MAX_MESSAGE_BYTES)
    await ws.prepare(request)
    socket = PanelSocket(ws)
    state.sockets.add(socket)
    pending: set[asyncio.Task[None]] = set()
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            task = asyncio.create_task(_answer(state, socket, msg.data))
            pending.add(task)
            task.add_done_callback(pending.discard)
    finally:
        state.sockets.discard(socket)
        for task in pending:
            task.cancel()
        await socket.close()
    return ws


async def _answer(state: ViewState, socket: PanelSocket, text: str) -> None:
    try:
        message = json.loads(text)
    except ValueError:
        return
    if not isinstance(message, dict) or message.get("kind") != "request":
        return
    msg_id = message.get("id")
    method = message.get("method")
    if not isinstance(msg_id, (int, str)) or isinstance(msg_id, bool):
        return
    reply: dict[str, Any] = {"kind": "response", "id": msg_id}
    try:
        size = len(text.encode())
        if size > MAX_REQUEST_BYTES:
            raise ServerError(
                INVALID_REQUEST,
                f"request of {size:,} bytes refused: a panel request may hold at most "
                f"{MAX_REQUEST_BYTES:,} bytes",
            )
        if not isinstance(method, str) or not method.startswith(METHOD_PREFIX):
            raise ServerError(METHOD_NOT_FOUND, f"method not forwarded: {method}")
        if state.bridge is None:
            raise ServerError(-32099, "the language server is not running")
        params = message.get("params")
        if state.answers is None:
            result = await state.bridge.request(method, params)
        else:
            result = await state.answers.answer(method, params, state.bridge.request)
        reply["result"] = rewrite_file_uris(result, state.roots)
        inline_images(method, reply["result"], state.roots)
    except ServerError as error:
        reply["error"] = error.as_json()
    socket.send_later(json.dumps(reply))


async def _close_sockets(app: web.Application) -> None:
    for socket in list(app[STATE].sockets):
        await socket.close()


def create_app(state: ViewState) -> web.Application:
    """The aiohttp application for ``state`` (the bridge may be attached later)."""
    app = web.Application(middlewares=[guard], client_max_size=MAX_REQUEST_BYTES)
    app[STATE] = state
    app.on_response_prepare.append(_security_headers)
    app.on_shutdown.append(_close_sockets)
    app.router.add_get("/", page)
    app.router.add_get(WEBSOCKET_PATH, panel_socket)
    app.router.add_get(FILES_PREFIX + "{root}/{path:.*}", workspace_file)
    app.router.add_get("/{name}", static_file)
    return app
