"""The language server's first answers, before pygls is imported.

Importing pygls costs about half a second (``lsprotocol.types`` alone defines a thousand
classes), more than loading a run of 100,000 items. Over stdio the server therefore starts
with this small front: it reads the client's messages itself, answers ``initialize`` (the
same result pygls gives, see :func:`initialize_result`), loads the workspace's runs at once,
and answers ``dvcstage/runs`` and ``dvcstage/media`` from them. At the first message it does
not handle, or when the client has been quiet for ``GRACE_S``, it hands over: pygls is
imported, replays ``initialize`` (its answer discarded: the client has it already) and gets
every message not answered yet — ``initialized`` first — in the order they came, then reads
stdin on. The server that takes over uses the runs already loaded.

Anything unusual (a first message that is not ``initialize``, bad initialization options, a
malformed message) is handed over untouched: pygls answers it as it would have.
"""

from __future__ import annotations

import json
import os
import select
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from . import __version__, queries
from . import protocol as p
from .options import OptionError, ServerOptions
from .runs import RunRegistry

GRACE_S = 0.2
READ_CHUNK = 1 << 16
MAX_HEADER_BYTES = 8192
CONTENT_TYPE = "application/vscode-jsonrpc; charset=utf-8"
SUPPORTED_ENCODINGS = ("utf-8", "utf-16", "utf-32")

# What pygls' ServerCapabilitiesBuilder gives for the features create_server registers
# (tests compare the two for several editors' capabilities); "positionEncoding" and the
# will-save members of "textDocumentSync" depend on the client (see initialize_result).
CAPABILITIES: dict[str, Any] = {
    "textDocumentSync": {"openClose": True, "change": 1, "save": True},
    "hoverProvider": True,
    "codeLensProvider": {"resolveProvider": False},
    "executeCommandProvider": {"commands": []},
    "workspace": {
        "workspaceFolders": {"supported": True, "changeNotifications": True},
        "fileOperations": {},
    },
}
FAST_METHODS = frozenset({p.RUNS, p.MEDIA})


def position_encoding(params: dict[str, Any]) -> str:
    """The encoding pygls chooses: the client's first supported one, else UTF-16."""
    general = (params.get("capabilities") or {}).get("general") or {}
    for encoding in general.get("positionEncodings") or ():
        if encoding in SUPPORTED_ENCODINGS:
            return str(encoding)
    return "utf-16"


def initialize_result(params: dict[str, Any]) -> dict[str, Any]:
    """The result of ``initialize`` for these params, as pygls computes it."""
    capabilities = {"positionEncoding": position_encoding(params), **CAPABILITIES}
    text_document = (params.get("capabilities") or {}).get("textDocument") or {}
    synchronization = text_document.get("synchronization") or {}
    sync = dict(CAPABILITIES["textDocumentSync"])
    for member in ("willSave", "willSaveWaitUntil"):
        # pygls: "client supports it and the server has the feature"; it has not: False,
        # or nothing when the client does not say
        if synchronization.get(member) is not None:
            sync[member] = False
    capabilities["textDocumentSync"] = sync
    return {
        "capabilities": capabilities,
        "serverInfo": {"name": "dvcstage-lsp", "version": __version__},
    }


def workspace_folders(params: dict[str, Any]) -> list[Path]:
    """The folders pygls' workspace would hold (``workspaceFolders``, else the root)."""
    from pygls.uris import from_fs_path, to_fs_path  # pygls.uris imports no lsprotocol

    paths: list[Path] = []
    for folder in params.get("workspaceFolders") or ():
        path = to_fs_path(folder["uri"]) if isinstance(folder, dict) else None
        if path:
            paths.append(Path(path))
    if not paths:
        root_uri = params.get("rootUri")
        if root_uri is None and params.get("rootPath") is not None:
            root_uri = from_fs_path(params["rootPath"])
        root = to_fs_path(root_uri) if root_uri else None
        if root:
            paths.append(Path(root))
    return [path for path in paths if path.is_dir()]


class StdinBuffer:
    """stdin's file descriptor with a buffer in front of it.

    The front reads whole messages from it and may put them back; pygls then reads through
    :meth:`readline` and :meth:`read` (its reader's interface), from the buffer first. Only
    one reader at a time (pygls reads from one thread after the other).
    """

    def __init__(self, fd: int = 0) -> None:
        self.fd = fd
        self.buffer = bytearray()
        self.eof = False
        self._lock = threading.Lock()

    def _fill(self, timeout: float | None) -> bool:
        """Read what is there (waiting at most ``timeout`` s); False if nothing came."""
        if self.eof:
            return False
        if timeout is not None:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            if not ready:
                return False
        data = os.read(self.fd, READ_CHUNK)
        if not data:
            self.eof = True
            return False
        self.buffer += data
        return True

    def _complete(self) -> tuple[int, int] | None:
        """(header end, message end) of a whole first message in the buffer, else None."""
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        length = None
        for line in bytes(self.buffer[:end]).split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length" and value.strip().isdigit():
                length = int(value.strip())
        if length is None:
            raise ValueError("a message without Content-Length")
        total = end + 4 + length
        return (end + 4, total) if len(self.buffer) >= total else None

    def message(self, timeout: float | None) -> tuple[bytes, Any] | None:
        """The next whole message (its raw bytes, its parsed body), waiting at most
        ``timeout`` s for it (None: as long as it takes); None if none came (or EOF)."""
        while True:
            found = self._complete()
            if found is not None:
                start, end = found
                raw = bytes(self.buffer[:end])
                del self.buffer[:end]
                return raw, json.loads(raw[start:])
            if len(self.buffer) > MAX_HEADER_BYTES and self.buffer.find(b"\r\n\r\n") < 0:
                raise ValueError("a header longer than any real one")
            if not self._fill(timeout):
                return None

    def unread(self, raw: bytes) -> None:
        """Put ``raw`` back in front of what is buffered."""
        self.buffer[:0] = raw

    # -- pygls' reader interface ------------------------------------------------------------

    def readline(self) -> bytes:
        """One line (with its newline), b"" at the end."""
        with self._lock:
            while (at := self.buffer.find(b"\n")) < 0 and self._fill(None):
                pass
            end = len(self.buffer) if at < 0 else at + 1
            line = bytes(self.buffer[:end])
            del self.buffer[:end]
            return line

    def read(self, size: int) -> bytes:
        """``size`` bytes (fewer only at the end)."""
        with self._lock:
            while len(self.buffer) < size and self._fill(None):
                pass
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
            return data


@dataclass
class Handover:
    """What the front leaves to the full server."""

    initialize: bytes | None = None  # the raw initialize request, to replay
    options: ServerOptions = field(default_factory=ServerOptions)
    registry: RunRegistry | None = None
    answered: int = 0


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message)  # ASCII: its length in characters is its length in bytes
    return f"Content-Length: {len(body)}\r\nContent-Type: {CONTENT_TYPE}\r\n\r\n{body}".encode()


class FastFront:
    """Answers ``initialize``, ``dvcstage/runs`` and ``dvcstage/media`` until it hands over."""

    def __init__(self, options: ServerOptions, stdin: StdinBuffer, stdout: BinaryIO) -> None:
        self.options = options
        self.stdin = stdin
        self.stdout = stdout

    def _send(self, message: dict[str, Any]) -> None:
        self.stdout.write(_frame({"jsonrpc": "2.0", **message}))
        self.stdout.flush()

    def run(self) -> Handover:
        """Serve until a message it does not answer, or quiet; returns what to hand over."""
        handover = Handover(options=self.options)
        try:
            first = self.stdin.message(None)
        except ValueError:
            return handover  # malformed: pygls says what it says about it
        if first is None:
            return handover
        raw, message = first
        if not isinstance(message, dict) or message.get("method") != "initialize":
            self.stdin.unread(raw)
            return handover
        params = message.get("params") or {}
        try:
            options = self.options.with_client_options(params.get("initializationOptions"))
            folders = workspace_folders(params)
        except (OptionError, TypeError, ValueError, KeyError, AttributeError):
            self.stdin.unread(raw)  # pygls warns the user about it
            return handover
        self._send({"id": message.get("id"), "result": initialize_result(params)})
        handover.initialize = raw
        handover.options = options
        handover.registry = self._load(folders, options)
        self._serve(handover)
        return handover

    def _load(self, folders: list[Path], options: ServerOptions) -> RunRegistry:
        from .materialise import default_cache_dir

        registry = RunRegistry(folders, options.cache_dir or default_cache_dir(folders))
        registry.scan()
        return registry

    def _serve(self, handover: Handover) -> None:
        held: list[bytes] = []  # notifications for the full server, in order
        try:
            while (next_one := self.stdin.message(GRACE_S)) is not None:
                raw, message = next_one
                method = message.get("method") if isinstance(message, dict) else None
                if method == "initialized" and "id" not in message and not held:
                    held.append(raw)
                    continue
                if method in FAST_METHODS and "id" in message and handover.registry:
                    self._answer(message, handover.registry)
                    handover.answered += 1
                    continue
                held.append(raw)
                break
        except ValueError:
            pass  # a malformed message: pygls reads it as it is
        finally:
            for raw in reversed(held):
                self.stdin.unread(raw)

    def _answer(self, message: dict[str, Any], registry: RunRegistry) -> None:
        method = message["method"]
        compute: Callable[[dict[str, Any]], Any] = (
            (lambda _: queries.runs(registry))
            if method == p.RUNS
            else (lambda q: queries.media(registry, q["run"]))
        )
        try:
            result = compute(queries.check_params(method, message.get("params")))
        except p.QueryError as exc:
            self._send({"id": message["id"], "error": {"code": exc.code, "message": exc.message}})
            return
        self._send({"id": message["id"], "result": result})


def serve_stdio(options: ServerOptions) -> None:
    """Run the server over stdin/stdout: the fast front, then pygls."""
    stdin = StdinBuffer(sys.stdin.fileno())
    stdout = sys.stdout.buffer
    handover = FastFront(options, stdin, stdout).run()

    from .server import create_server, replay_initialize

    server = create_server(handover.options)
    if handover.initialize is not None:
        server.registry = handover.registry
        replay_initialize(server, handover.initialize)
    server.start_io(stdin=stdin, stdout=stdout)  # type: ignore[arg-type]
