"""The server core of ``dvcstage view``: the real language server, as a child process.

The view is a second host of the same panel (docs/panel-host.md), so it asks the same server
the VS Code extension asks: ``python -m dvcstage_lsp --cache-dir DIR`` over stdio, driven by
pygls' language client. The bridge initialises it on the workspace folder, forwards
``dvcstage/*`` requests, hands every ``dvcstage/changed`` notification to a callback, and
stops the child (``shutdown``, ``exit``, then a kill) when the view stops. If the child dies,
every request fails with code -32099 and a message that says why (its exit code and the end of
its error output); :mod:`.supervisor` then starts a new one.

The child's error output is read in bounded chunks to its end, whatever it writes (a line of
any length, binary noise): a reader that stopped would let the pipe fill, block the child on
its next write, and keep its exit from ever being seen.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cattrs
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcException
from pygls.io_ import run_async
from pygls.lsp.client import LanguageClient
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage

logger = logging.getLogger(__name__)

CHANGED = "dvcstage/changed"
METHOD_PREFIX = "dvcstage/"
SERVER_NOT_RUNNING = -32099
INTERNAL_ERROR = -32603
STDERR_LINES_KEPT = 20
STDERR_CHUNK = 64 * 1024
STDERR_LINE_KEPT_CHARS = 2000


class ServerError(Exception):
    """A JSON-RPC error to pass on to the panel: ``code`` and ``message``."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def as_json(self) -> dict[str, Any]:
        """The ``error`` member of a response."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def _plain_converter() -> cattrs.Converter:
    """pygls' converter, but custom messages keep params and results as plain JSON."""
    converter: cattrs.Converter = get_converter()

    def keep(data: dict[str, Any], cls: type[Any]) -> Any:
        return cls(**data)

    for message in (JsonRPCRequestMessage, JsonRPCResponseMessage, JsonRPCNotification):
        converter.register_structure_hook(message, keep)
    return converter


def server_command(cache_dir: Path, extra: Sequence[str] = ()) -> list[str]:
    """The command that starts the language server with this interpreter."""
    return [sys.executable, "-m", "dvcstage_lsp", "--cache-dir", str(cache_dir), *extra]


class LanguageServerBridge:
    """One language server child process and the pygls client that talks to it."""

    def __init__(
        self,
        folder: Path,
        cache_dir: Path,
        on_notification: Callable[[str, Any], None],
        extra_args: Sequence[str] = (),
    ) -> None:
        self.folder = folder
        self.cache_dir = cache_dir
        self.on_notification = on_notification
        self.command = server_command(cache_dir, extra_args)
        self.client = LanguageClient("dvcstage-view", "1", converter_factory=_plain_converter)
        self.process: asyncio.subprocess.Process | None = None
        self.failure: str | None = None
        self.stopping = False
        self.on_exit: Callable[[str], None] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES_KEPT)
        self._tasks: list[asyncio.Task[Any]] = []

        def changed(_client: LanguageClient, params: Any) -> None:
            self.on_notification(CHANGED, params)

        self.client.feature(CHANGED)(changed)

        def log_message(_client: LanguageClient, params: Any) -> None:  # the server's log
            logger.info(
                "dvcstage-lsp: %s", params.get("message") if isinstance(params, dict) else params
            )

        self.client.feature(types.WINDOW_LOG_MESSAGE)(log_message)

    async def start(self, timeout: float = 60.0) -> None:
        """Start the child and initialise it; raises :class:`ServerError` when it cannot."""
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = await asyncio.create_subprocess_exec(
            *self.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert self.process.stdin and self.process.stdout and self.process.stderr
        self.client.protocol.set_writer(self.process.stdin)
        self._tasks = [
            asyncio.create_task(
                run_async(
                    stop_event=self.client._stop_event,
                    reader=self.process.stdout,
                    protocol=self.client.protocol,
                    logger=logger,
                )
            ),
            asyncio.create_task(self._drain_stderr(self.process.stderr)),
            asyncio.create_task(self._watch_exit(self.process)),
        ]
        uri = self.folder.as_uri()
        params = types.InitializeParams(
            process_id=os.getpid(),
            root_uri=uri,
            workspace_folders=[types.WorkspaceFolder(uri=uri, name=self.folder.name or uri)],
            capabilities=types.ClientCapabilities(),
            client_info=types.ClientInfo(name="dvcstage view"),
        )
        try:
            await asyncio.wait_for(self.client.initialize_async(params), timeout)
        except (asyncio.TimeoutError, RuntimeError, JsonRpcException) as exc:
            await self.stop()
            raise ServerError(
                SERVER_NOT_RUNNING, self.failure or f"the language server did not start: {exc}"
            ) from exc
        self.client.initialized(types.InitializedParams())

    async def _drain_stderr(self, stream: asyncio.StreamReader) -> None:
        """Read the child's error output to its end, in bounded chunks; keep its last lines.

        ``readline()`` would raise on a line longer than the stream's limit (64 KiB) and
        reading would stop there; chunks never do. Each kept line holds at most
        ``STDERR_LINE_KEPT_CHARS`` bytes of the line (and says how long it was).
        """
        kept = bytearray()
        length = 0
        while chunk := await stream.read(STDERR_CHUNK):
            start = 0
            while True:
                newline = chunk.find(b"\n", start)
                piece = chunk[start:] if newline < 0 else chunk[start:newline]
                room = STDERR_LINE_KEPT_CHARS - len(kept)
                if room > 0:
                    kept += piece[:room]
                length += len(piece)
                if newline < 0:
                    break
                self._keep_stderr_line(bytes(kept), length)
                kept, length, start = bytearray(), 0, newline + 1
        if length:
            self._keep_stderr_line(bytes(kept), length)

    def _keep_stderr_line(self, start: bytes, length: int) -> None:
        text = start.decode(errors="replace").rstrip()
        if length > len(start):
            text += f" … ({length:,} bytes)"
        self._stderr.append(text)
        logger.debug("dvcstage-lsp: %s", text)

    async def _watch_exit(self, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        with contextlib.suppress(Exception):  # the end of its error output, if it comes soon
            await asyncio.wait_for(asyncio.shield(self._tasks[1]), 1.0)
        tail = "\n".join(self._stderr)
        self.failure = f"the language server exited with code {code}" + (
            f":\n{tail}" if tail and not self.stopping else ""
        )
        for future in list(self.client.protocol._request_futures.values()):
            if not future.done():
                future.set_exception(ServerError(SERVER_NOT_RUNNING, self.failure))
        self.client._stop_event.set()
        if not self.stopping and self.on_exit is not None:
            self.on_exit(self.failure)

    async def request(self, method: str, params: Any) -> Any:
        """The server's answer to ``method``; raises :class:`ServerError` on any error."""
        if not method.startswith(METHOD_PREFIX):
            raise ServerError(-32601, f"method not forwarded: {method}")
        if self.failure is not None or self.process is None:
            raise ServerError(
                SERVER_NOT_RUNNING, self.failure or "the language server is not running"
            )
        try:
            return await self.client.protocol.send_request_async(method, params)
        except ServerError:
            raise
        except JsonRpcException as exc:
            raise ServerError(exc.code, exc.message, exc.data) from exc
        except Exception as exc:  # a dead pipe, a malformed answer
            if self.failure is not None:
                raise ServerError(SERVER_NOT_RUNNING, self.failure) from exc
            raise ServerError(INTERNAL_ERROR, f"{method}: {exc}") from exc

    @property
    def pid(self) -> int | None:
        """The child's process id (None before :meth:`start`)."""
        return None if self.process is None else self.process.pid

    async def stop(self, timeout: float = 2.0) -> None:
        """Ask the child to shut down and exit; kill it if it does not within ``timeout``.

        Returns within about ``timeout`` + 1 s whatever the child does.
        """
        self.stopping = True
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.shutdown_async(None), timeout / 2)
                self.client.exit(None)
            try:
                await asyncio.wait_for(process.wait(), timeout / 2)
            except asyncio.TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                try:
                    # wait() also waits for the pipes' end; a stuck pipe must not keep us here
                    await asyncio.wait_for(process.wait(), 1.0)
                except asyncio.TimeoutError:
                    logger.warning("the language server (pid %s) did not exit", process.pid)
        self.client._stop_event.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
