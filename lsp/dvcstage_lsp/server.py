"""The language server: pygls ``LanguageServer`` and the registration of every feature.

Custom requests are answered from the runs in memory (:mod:`.queries`); new index lines are
noticed by :mod:`.watch`; runs of git revisions and DVC experiments are listed in the
background by :mod:`.tracker` and their files copied into the server's cache on demand by
:mod:`.materialise`; open and saved sidecars, index files and ``dvc.yaml`` files get
diagnostics (:mod:`.diagnostics`). Params and results are plain JSON objects (see
``docs/protocol.md``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cattrs
from lsprotocol import types
from lsprotocol.converters import get_converter
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import JsonRPCNotification, JsonRPCRequestMessage, JsonRPCResponseMessage
from pygls.uris import to_fs_path

from . import __version__, queries
from . import protocol as p
from .materialise import Materialiser, default_cache_dir
from .options import OptionError, ServerOptions
from .positions import LineIndex
from .remote_exps import RemoteExperiments
from .revisions import RevisionRun
from .runs import RunRegistry
from .tracker import RevisionTracker
from .watch import Watcher, registration, supports_dynamic_watch

if TYPE_CHECKING:
    from .diagnostics import Problem

# The editor features and the diagnostics (and jsonschema, which they use) are imported when
# first needed: not before the first answers to dvcstage/runs and dvcstage/media.

logger = logging.getLogger(__name__)
SOURCE = "dvcstage"
DIAGNOSTIC_DELAY = 0.15
LENS_REFRESH_DELAY = 0.5


class PlainJson(dict[str, Any]):
    """A custom request's result: plain JSON already, sent as it is.

    (pygls' converter would otherwise walk it value by value: 100,000 steps take a tenth of a
    second.)
    """


def _as_is(value: PlainJson) -> PlainJson:
    return value


def plain_converter() -> cattrs.Converter:
    """pygls' converter, but custom messages keep their params and results as plain JSON.

    (pygls turns unknown params into namedtuples, which mangle keys such as ``"1"``.)
    """
    converter: cattrs.Converter = get_converter()
    converter.register_unstructure_hook(PlainJson, _as_is)

    def keep(data: dict[str, Any], cls: type[Any]) -> Any:
        if cls is not JsonRPCResponseMessage and "params" not in data:
            data = {**data, "params": None}  # JSON-RPC allows omitting params
        return cls(**data)

    for message in (JsonRPCRequestMessage, JsonRPCResponseMessage, JsonRPCNotification):
        converter.register_structure_hook(message, keep)
    return converter


class DvcstageLanguageServer(LanguageServer):
    """The server's state: the runs, the watcher and pending diagnostics."""

    def __init__(self, options: ServerOptions | None = None) -> None:
        super().__init__(
            "dvcstage-lsp",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
            converter_factory=plain_converter,
        )
        self.registry: RunRegistry | None = None
        self.options = options or ServerOptions()
        self.watcher: Watcher | None = None
        self.tracker: RevisionTracker | None = None
        self.remote_exps: RemoteExperiments | None = None
        self._materialiser: Materialiser | None = None
        self.versions: dict[str, int] = {}
        self.lens_refresh: asyncio.TimerHandle | None = None

    def runs(self) -> RunRegistry:
        """The workspace's runs, found and loaded on first use."""
        if self.registry is None:
            folders = self.folders()
            cache_dir = self.options.cache_dir or default_cache_dir(folders)
            self.registry = RunRegistry(folders, cache_dir)
            self.registry.scan()
        return self.registry

    def cache_dir(self) -> Path:
        """Where files of other revisions are materialised (resolved)."""
        cache_dir = self.runs().cache_dir
        assert cache_dir is not None  # runs() always sets it
        return cache_dir

    def materialiser(self) -> Materialiser:
        """The copier of revision files (its worker thread starts on first use)."""
        if self._materialiser is None:
            self._materialiser = Materialiser(self.cache_dir())
        return self._materialiser

    def start_tracking_revisions(self) -> None:
        """List the revisions' runs in the background (and keep them current)."""
        self.tracker = RevisionTracker(
            self.runs(),
            self.options.revisions,
            self.cache_dir(),
            self.send_changed,
            self.options.revision_interval,
        )
        self.tracker.start()
        options = self.options
        self.remote_exps = RemoteExperiments(
            self.tracker,
            options.remote_experiments,
            options.remote_interval,
            options.remote_timeout,
            self.log_message,
        )
        self.remote_exps.start()

    async def open_remote(self, params: Any) -> None:
        """Fetch a run's experiment first if it exists only on a git remote (remote_exps)."""
        if self.remote_exps is not None and isinstance(params, dict):
            await self.remote_exps.open(params.get("run"))

    def log_message(self, level: int, message: str) -> None:
        """Send ``window/logMessage`` (the client's log of the server)."""
        kind = types.MessageType.Warning if level >= logging.WARNING else types.MessageType.Info
        self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def folders(self) -> list[Path]:
        """The workspace folders (the root if the client sent no folders)."""
        paths: list[Path] = []
        for folder in self.workspace.folders.values():
            path = to_fs_path(folder.uri)
            if path:
                paths.append(Path(path))
        if not paths and self.workspace.root_path:
            paths.append(Path(self.workspace.root_path))
        return [path for path in paths if path.is_dir()]

    def send_changed(self, params: p.ChangedParams) -> None:
        """Send ``dvcstage/changed``."""
        self.protocol.notify(p.CHANGED, params)
        self.refresh_code_lenses()

    def refresh_code_lenses(self) -> None:
        """Ask the client to re-request code lenses (their step counts changed).

        Only if it supports ``workspace/codeLens/refresh``; changes within
        ``LENS_REFRESH_DELAY`` seconds share one request.
        """
        workspace = self.client_capabilities.workspace
        lens = workspace.code_lens if workspace else None
        if not (lens and lens.refresh_support) or self.lens_refresh is not None:
            return

        def send() -> None:
            self.lens_refresh = None
            self.protocol.send_request(types.WORKSPACE_CODE_LENS_REFRESH, None)

        self.lens_refresh = asyncio.get_running_loop().call_later(LENS_REFRESH_DELAY, send)

    def encoding(self) -> str:
        """The position encoding agreed with the client (``utf-16`` unless negotiated)."""
        encoding = self.workspace.position_encoding
        return str(
            encoding.value
            if isinstance(encoding, types.PositionEncodingKind)
            else encoding or "utf-16"
        )


def _to_diagnostic(problem: Problem, lines: LineIndex) -> types.Diagnostic:
    from .diagnostics import Severity

    start = lines.position(problem.start)
    end = lines.position(max(problem.end, problem.start))
    return types.Diagnostic(
        range=types.Range(
            start=types.Position(line=start[0], character=start[1]),
            end=types.Position(line=end[0], character=end[1]),
        ),
        message=problem.message,
        severity=(
            types.DiagnosticSeverity.Error
            if problem.severity is Severity.ERROR
            else types.DiagnosticSeverity.Warning
        ),
        code=problem.code,
        source=SOURCE,
    )


async def publish_problems(ls: DvcstageLanguageServer, uri: str, delay: float = 0.0) -> None:
    """Check the open document ``uri`` (after ``delay``) and publish its diagnostics."""
    if delay:
        await asyncio.sleep(delay)
    path_text = to_fs_path(uri)
    if not path_text:
        return
    document = ls.workspace.get_text_document(uri)
    version = document.version
    if version is not None and ls.versions.get(uri, version) != version:
        return  # a newer change is on its way
    text = document.source
    roots = ls.runs().folders
    from .diagnostics import document_problems

    problems = await asyncio.to_thread(document_problems, Path(path_text), text, roots)
    if problems is None:
        return
    if version is not None and ls.versions.get(uri, version) != version:
        return
    lines = LineIndex(text, ls.encoding())
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri, diagnostics=[_to_diagnostic(x, lines) for x in problems], version=version
        )
    )


def _answer(method: str, compute: Callable[[dict[str, Any]], Any], params: Any) -> Any:
    """Check ``params``, compute the answer, turn a QueryError into a JSON-RPC error."""
    try:
        return PlainJson(compute(queries.check_params(method, params)))
    except p.QueryError as exc:
        raise JsonRpcException(message=exc.message, code=exc.code) from exc


async def _answer_later(answer: Awaitable[Any]) -> PlainJson:
    """Await an answer; a QueryError becomes the JSON-RPC error it names."""
    try:
        return PlainJson(await answer)
    except p.QueryError as exc:
        raise JsonRpcException(message=exc.message, code=exc.code) from exc


async def item_answer(ls: DvcstageLanguageServer, params: Any) -> p.ItemResult:
    """``dvcstage/item``; a revision's files are materialised first."""
    query = queries.check_params(p.ITEM, params)
    await ls.open_remote(query)
    registry = ls.runs()
    run = queries.find_run(registry, query["run"])
    problems: list[str] = []
    if isinstance(run, RevisionRun):
        line = queries.index_line(run, query).parsed()
        problems = await ls.materialiser().item_files(run, line)
    result = queries.item(registry, query)
    result["problems"] = problems + result["problems"]
    return result


async def items_answer(ls: DvcstageLanguageServer, params: Any) -> p.ItemsResult:
    """``dvcstage/items``: each item as ``dvcstage/item`` answers it, or its own error.

    The items are answered concurrently (a revision's files are materialised meanwhile); one
    item's error (an unknown step, a run gone) leaves the others' answers alone.
    """
    items = params.get("items") if isinstance(params, dict) else None
    if isinstance(items, list) and len(items) > p.MAX_ITEMS:  # said before a long schema message
        raise p.QueryError(
            p.INVALID_PARAMS,
            f"{p.ITEMS}: invalid params: {len(items)} items asked, at most {p.MAX_ITEMS} at once",
        )
    query = queries.check_params(p.ITEMS, params)

    async def one(request: dict[str, Any]) -> p.ItemAnswer:
        try:
            return {"result": await item_answer(ls, request)}
        except p.QueryError as exc:
            return {"error": {"code": exc.code, "message": exc.message}}
        except Exception as exc:  # one item's failure is that item's error alone
            logger.exception("dvcstage/items: %r failed", request)
            message = f"{type(exc).__name__}: {exc}"[: p.MAX_ERROR_MESSAGE]
            return {"error": {"code": p.INTERNAL_ERROR, "message": message}}

    answers = await asyncio.gather(*(one(request) for request in query["items"]))
    return {"items": list(answers)}


async def series_answer(ls: DvcstageLanguageServer, params: Any) -> p.SeriesResult:
    """``dvcstage/series``; a revision's series file is materialised first."""
    query = queries.check_params(p.SERIES, params)
    await ls.open_remote(query)
    registry = ls.runs()
    run = queries.find_run(registry, query["run"])
    if isinstance(run, RevisionRun):
        if query["kind"] == "histogram":
            info = run.index.keys.get(query["key"])
            if info is None or info.kind != "histogram":
                raise p.QueryError(
                    p.UNKNOWN_KEY, f"run {run.id!r} has no histogram {query['key']!r}"
                )
        await ls.materialiser().series_file(run, query)
    return queries.series(registry, query)


class _Discard:
    """A writer that drops what is written (the replayed ``initialize``'s answer)."""

    def write(self, data: bytes) -> None:
        """Drop ``data``."""

    def close(self) -> None:
        """Nothing to close."""


def replay_initialize(server: DvcstageLanguageServer, raw: bytes) -> None:
    """Hand ``server`` the ``initialize`` request the fast front answered (raw, with its
    header): pygls sets up the client's capabilities and the workspace; its answer is dropped.
    """
    import json

    body = raw[raw.index(b"\r\n\r\n") + 4 :]
    message = json.loads(body, object_hook=server.protocol.structure_message)
    server.protocol.set_writer(_Discard())
    server.protocol.handle_message(message)


def create_server(options: ServerOptions | None = None) -> DvcstageLanguageServer:
    """A server with every feature registered."""
    server = DvcstageLanguageServer(options)

    @server.feature(types.INITIALIZE)
    def initialize(ls: DvcstageLanguageServer, params: types.InitializeParams) -> None:
        try:
            ls.options = ls.options.with_client_options(params.initialization_options)
        except OptionError as exc:
            logger.warning("initializationOptions ignored: %s", exc)
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message=f"dvcstage-lsp: {exc}"
                )
            )

    @server.feature(types.INITIALIZED)
    async def initialized(ls: DvcstageLanguageServer, params: types.InitializedParams) -> None:
        registry = ls.runs()
        options = ls.options
        ls.watcher = Watcher(
            registry, ls.send_changed, options.poll_interval, options.rescan_interval
        )
        ls.start_tracking_revisions()
        if supports_dynamic_watch(ls.client_capabilities):
            try:
                await ls.client_register_capability_async(registration())
                return
            except Exception:  # the client refused: poll instead
                logger.warning("client refused the file watcher registration; polling")
        ls.watcher.start_polling()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(
        ls: DvcstageLanguageServer, params: types.DidChangeWatchedFilesParams
    ) -> None:
        if ls.watcher is None:
            return
        for change in params.changes:
            path = to_fs_path(change.uri)
            if path:
                ls.watcher.file_changed(Path(path))

    @server.feature(p.RUNS)
    def runs(ls: DvcstageLanguageServer, params: Any) -> Any:
        return _answer(p.RUNS, lambda _: queries.runs(ls.runs()), params)

    @server.feature(p.MEDIA)
    async def media(ls: DvcstageLanguageServer, params: Any) -> Any:
        try:
            await ls.open_remote(queries.check_params(p.MEDIA, params))
        except p.QueryError as exc:
            raise JsonRpcException(message=exc.message, code=exc.code) from exc
        return _answer(p.MEDIA, lambda q: queries.media(ls.runs(), q["run"]), params)

    @server.feature(p.ITEM)
    async def item(ls: DvcstageLanguageServer, params: Any) -> Any:
        return await _answer_later(item_answer(ls, params))

    @server.feature(p.ITEMS)
    async def items(ls: DvcstageLanguageServer, params: Any) -> Any:
        return await _answer_later(items_answer(ls, params))

    @server.feature(p.SERIES)
    async def series(ls: DvcstageLanguageServer, params: Any) -> Any:
        return await _answer_later(series_answer(ls, params))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: DvcstageLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.versions[params.text_document.uri] = params.text_document.version
        await publish_problems(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(
        ls: DvcstageLanguageServer, params: types.DidChangeTextDocumentParams
    ) -> None:
        ls.versions[params.text_document.uri] = params.text_document.version
        await publish_problems(ls, params.text_document.uri, DIAGNOSTIC_DELAY)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: DvcstageLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
        await publish_problems(ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DvcstageLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.versions.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: DvcstageLanguageServer, params: types.HoverParams) -> types.Hover | None:
        from . import editor

        document = ls.workspace.get_text_document(params.text_document.uri)
        if not editor.is_python(document.uri, document.language_id):
            return None
        return editor.hover(ls.runs(), document.source, params.position, ls.encoding())

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    def code_lens(ls: DvcstageLanguageServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        from . import editor

        document = ls.workspace.get_text_document(params.text_document.uri)
        if not editor.is_python(document.uri, document.language_id):
            return []
        return editor.code_lenses(ls.runs(), document.source, ls.encoding())

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: DvcstageLanguageServer, params: None) -> None:
        if ls.watcher is not None:
            ls.watcher.stop()
        if ls.tracker is not None:
            ls.tracker.stop()
        if ls.remote_exps is not None:
            ls.remote_exps.stop()
        if ls._materialiser is not None:
            ls._materialiser.close()

    # The media panel's runs table and saved layout (modules of their own).
    from . import panel_state, summary

    summary.register(server)
    panel_state.register(server)
    return server
