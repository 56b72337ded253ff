"""Editor features for Python sources: hovers and code lenses on the names of log calls.

The calls are found with :mod:`ast` (never by running anything):

- ``<anything>.log_image("pred/3.png", ...)`` (or ``name=...``): the key is the one the
  library derives (:func:`dvcstage.names.key_and_step_of`), here ``pred``. An f-string whose
  placeholders all lie in the last segment, such as ``f"pred/{live.step}.png"``, is key
  ``pred`` too.
- ``<anything>.log_<kind>("weights", ...)`` for the other media kinds and ``log_metric``: the
  key is the name.
- ``<anything>.log({"examples": img, "eval": {"pred": img}})`` (or ``data=...``): each string
  key of the dict literal, nested dicts joined with ``/`` (``eval/pred``) as ``live.log`` does.

A hover on such a name shows the latest item logged under the key in the workspace's runs
(preferring the run whose index changed last); a code lens above the call offers the
``dvcstage.openMedia`` command with ``{run, key}``. Ranges are in the position encoding agreed
with the client. A source that does not parse yields no hover and no lenses.
"""

from __future__ import annotations

import ast
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lsprotocol import types

from dvcstage.names import check_relative_name, key_and_step_of

from . import protocol as p
from . import queries
from .paths import PathRefusedError, file_uri, resolve_inside
from .positions import LineIndex
from .runs import IndexLine, KeyInfo, Run, RunRegistry
from .series import metric_path, metric_series

OPEN_MEDIA = "dvcstage.openMedia"
PYTHON_SUFFIXES = (".py", ".pyi")
MAX_SOURCE_CHARS = 4 * 1024 * 1024
MAX_DICT_DEPTH = 16
MAX_CAPTION_CHARS = 200
MAX_FACTS = 12
# ``log_<kind>`` methods whose first argument names a key (``log_image`` is handled apart).
KIND_METHODS = frozenset(
    {"histogram", "audio", "video", "html", "table", "object3d", "molecule", "metric"}
)
_PLACEHOLDER = "\x00"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_CACHE_SIZE = 8

Position = tuple[int, int]
Span = tuple[Position, Position]


@dataclass(frozen=True)
class LogCall:
    """One key named in a log call, with where its name and its call are.

    ``method`` is the called attribute (``log_image``, ``log``, ``log_histogram``, ...);
    ``kind`` the kind the method logs (``None`` for ``log``, whose values decide);
    ``dynamic`` whether the name is an f-string. Spans are ``((line, character), (line,
    character))`` in the client's position encoding.
    """

    key: str
    method: str
    kind: str | None
    dynamic: bool
    name: Span
    call: Span


def is_python(uri: str, language_id: str | None) -> bool:
    """Whether the document is Python source (by language id, else by file suffix)."""
    if language_id:
        return language_id == "python"
    return uri.lower().endswith(PYTHON_SUFFIXES)


class _Positions:
    """Converts ``ast`` locations (1-based lines, UTF-8 byte columns) to LSP positions."""

    def __init__(self, source: str, encoding: str) -> None:
        self.lines = _LINE_BREAK.split(source)  # the line breaks Python and LSP both use
        self.encoding = encoding
        self._encoded: dict[int, bytes] = {}

    def position(self, lineno: int, col_offset: int) -> Position:
        line = min(max(lineno - 1, 0), len(self.lines) - 1)
        encoded = self._encoded.get(line)
        if encoded is None:
            encoded = self._encoded[line] = self.lines[line].encode("utf-8", "surrogatepass")
        prefix = encoded[:col_offset].decode("utf-8", "replace")
        return line, LineIndex(prefix, self.encoding).position(len(prefix))[1]

    def span(self, node: ast.AST) -> Span:
        start = self.position(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end_line = getattr(node, "end_lineno", None) or node.lineno  # type: ignore[attr-defined]
        end_col = getattr(node, "end_col_offset", None)
        end = self.position(end_line, end_col) if end_col is not None else start
        return start, end


def _template(node: ast.expr) -> tuple[str, bool] | None:
    """A string literal's text (f-string placeholders as NUL) and whether it had any."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value, False
    if isinstance(node, ast.JoinedStr):
        parts: list[str] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            else:
                parts.append(_PLACEHOLDER)
        return "".join(parts), True
    return None


def _valid(name: str) -> bool:
    try:
        check_relative_name(name)
    except ValueError:  # InvalidMediaNameError (not imported: it pulls in dvclive)
        return False
    return True


def image_key(text: str, dynamic: bool) -> str | None:
    """The key ``log_image`` files a name under; ``None`` if it cannot be known statically.

    ``pred/3.png`` -> ``pred``; ``numpy.png`` -> ``numpy.png``; an f-string template (NUL for
    each placeholder) such as ``pred/\\0.png`` -> ``pred`` when every placeholder lies in the
    last segment (the slider pattern).
    """
    if not dynamic:
        return key_and_step_of(PurePosixPath(text))[0] if _valid(text) else None
    folder, _, _ = text.rpartition("/")
    if not folder or _PLACEHOLDER in folder or not _valid(folder):
        return None
    return folder


def _argument(call: ast.Call, keyword: str) -> ast.expr | None:
    """The first positional argument of ``call``, or its ``keyword`` argument."""
    if call.args and not isinstance(call.args[0], ast.Starred):
        return call.args[0]
    for item in call.keywords:
        if item.arg == keyword:
            return item.value
    return None


class _Finder:
    """Collects the :class:`LogCall` of a parsed module."""

    def __init__(self, positions: _Positions) -> None:
        self.positions = positions
        self.found: list[LogCall] = []

    def add(
        self, key: str, method: str, kind: str | None, dynamic: bool, name: ast.AST, call: ast.AST
    ) -> None:
        self.found.append(
            LogCall(
                key=key,
                method=method,
                kind=kind,
                dynamic=dynamic,
                name=self.positions.span(name),
                call=self.positions.span(call),
            )
        )

    def visit(self, call: ast.Call) -> None:
        if not isinstance(call.func, ast.Attribute):
            return
        method = call.func.attr
        if method == "log":
            data = _argument(call, "data")
            if isinstance(data, ast.Dict):
                self.dict_keys(data, "", call, 0)
            return
        if method == "log_image":
            kind = "image"
        elif method.startswith("log_") and method[4:] in KIND_METHODS:
            kind = method[4:]
        else:
            return
        name = _argument(call, "name")
        template = _template(name) if name is not None else None
        if name is None or template is None:
            return
        text, dynamic = template
        if kind == "image":
            key = image_key(text, dynamic)
        else:
            key = text if not dynamic and _valid(text) else None
        if key is not None:
            self.add(key, method, kind, dynamic, name, call)

    def dict_keys(self, data: ast.Dict, prefix: str, call: ast.Call, depth: int) -> None:
        for key_node, value in zip(data.keys, data.values, strict=True):
            if not (isinstance(key_node, ast.Constant) and isinstance(key_node.value, str)):
                continue  # ``**other``, a computed key or not a string
            key = prefix + key_node.value
            if not _valid(key):
                continue
            if isinstance(value, ast.Dict):
                if depth < MAX_DICT_DEPTH:
                    self.dict_keys(value, f"{key}/", call, depth + 1)
                continue
            self.add(key, "log", None, False, key_node, call)


_cache: OrderedDict[tuple[str, str], list[LogCall] | None] = OrderedDict()


def find_log_calls(source: str, encoding: str = "utf-16") -> list[LogCall] | None:
    """Every key named in a log call of ``source``, in source order; ``None`` if it won't parse.

    Results are cached for the last few (source, encoding) pairs.
    """
    cache_key = (encoding, source)
    if cache_key in _cache:
        _cache.move_to_end(cache_key)
        return _cache[cache_key]
    result: list[LogCall] | None
    if len(source) > MAX_SOURCE_CHARS:
        result = None
    else:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            result = None
        else:
            finder = _Finder(_Positions(source, encoding))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    finder.visit(node)
            result = sorted(finder.found, key=lambda c: (c.name, c.call))
    _cache[cache_key] = result
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return result


# -- what the runs hold -----------------------------------------------------------------------


@dataclass(frozen=True)
class Logged:
    """The latest item of a key: its run, the key's steps and the index line."""

    run: Run
    info: KeyInfo
    line: IndexLine


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _by_recency(runs: list[Run], path_of: Any) -> list[Run]:
    """``runs`` with the most recently changed first (ties by id)."""
    return sorted(runs, key=lambda run: (-_mtime(path_of(run)), run.id))


def latest_media(registry: RunRegistry, key: str) -> Logged | None:
    """The latest item logged under ``key``, from the most recently changed run holding it."""
    holding = [run for run in registry.runs.values() if key in run.index.keys]
    for run in _by_recency(holding, lambda r: r.index.path):
        info = run.index.keys[key]
        steps = info.sorted_steps()
        if not steps:
            continue
        for position in sorted(info.items) or [0]:
            line = run.index.latest.get((key, steps[-1], position))
            if line is not None:
                return Logged(run=run, info=info, line=line)
    return None


def latest_metric(registry: RunRegistry, name: str) -> tuple[Run, Path] | None:
    """The run (most recently changed first) with a DVCLive metric series ``name``."""
    found: dict[str, Path] = {}
    for run in registry.runs.values():
        try:
            target = resolve_inside(run.dir, metric_path(name), registry.folders)
        except PathRefusedError:
            continue
        if target.is_file():
            found[run.id] = target
    if not found:
        return None
    ordered = _by_recency([registry.runs[i] for i in found], lambda r: found[r.id])
    return ordered[0], found[ordered[0].id]


# -- markdown ---------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")  # enough inline, after other text


def _escape(text: str, limit: int = MAX_CAPTION_CHARS) -> str:
    """``text`` as literal markdown on one line (cut to ``limit`` characters)."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


def _code(text: str) -> str:
    """``text`` as an inline code span (enough backticks around it)."""
    text = " ".join(text.split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _plural(count: int, word: str, plural: str = "") -> str:
    return f"{count} {word}" if count == 1 else f"{count} {plural or word + 's'}"


def _fact(value: object) -> str:
    """A fact's value as markdown (floats to 6 significant digits)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return _escape(str(value))


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / 1024 / 1024:.1f} MiB"


def _count_overlays(sidecar: dict[str, Any]) -> list[str]:
    """How many annotation boxes, W&B boxes and masks a sidecar holds, in words."""
    facts: list[str] = []
    annotations = sidecar.get("annotations")
    if isinstance(annotations, dict):
        count = sum(len(v) for v in annotations.values() if isinstance(v, list))
        if count:
            facts.append(_plural(count, "annotation box", "annotation boxes"))
    boxes = sidecar.get("boxes")
    if isinstance(boxes, dict):
        count = sum(
            len(group["box_data"])
            for group in boxes.values()
            if isinstance(group, dict) and isinstance(group.get("box_data"), list)
        )
        if count:
            facts.append(_plural(count, "box", "boxes"))
    masks = sidecar.get("masks")
    if isinstance(masks, dict) and masks:
        names = ", ".join(_code(str(name)) for name in sorted(masks))
        facts.append(f"{_plural(len(masks), 'mask')} ({names})")
    return facts


def _header(key: str, kind: str, logged: Logged) -> str:
    steps = logged.info.sorted_steps()
    step = logged.line.step
    item = f", item {logged.line.item}" if logged.line.has_item else ""
    return (
        f"**dvcstage** {_code(key)} — {kind}, step {step}{item} "
        f"(latest of {_plural(len(steps), 'step')}) in run {_code(logged.run.id)}"
    )


def _media_markdown(registry: RunRegistry, key: str, logged: Logged) -> str:
    params: dict[str, Any] = {"run": logged.run.id, "key": key, "step": logged.line.step}
    if logged.line.has_item:
        params["item"] = logged.line.item
    try:
        result: p.ItemResult = queries.item(registry, params)
    except p.QueryError as exc:
        return f"**dvcstage** {_code(key)}: {_escape(exc.message)}"
    kind = result["kind"]
    lines = [_header(key, kind, logged), ""]
    sidecar = result["sidecar"] or {}
    files = [f for f in result["files"] if f["role"] != "sidecar"]
    main = next((f for f in files if f["role"] == kind), files[0] if files else None)
    if kind == "image" and main is not None and main["exists"]:
        alt = _escape(f"{key} step {result['step']}")
        lines += [f"![{alt}]({main['uri']})", ""]
    facts: list[str] = []
    if "width" in result and "height" in result:
        facts.append(f"{result['width']}x{result['height']} px")
    if main is not None and main["bytes"]:
        facts.append(_size(main["bytes"]))
    facts.append(f"step {result['step']}")
    caption = sidecar.get("caption")
    if isinstance(caption, str) and caption:
        facts.append(f"caption: {_escape(caption)}")
    facts += _count_overlays(sidecar)
    lines += [" · ".join(facts), ""]
    extra = result.get("facts") or {}
    if extra:
        lines += [
            f"- {_escape(str(k))}: {_escape(str(v))}" for k, v in list(extra.items())[:MAX_FACTS]
        ]
        lines.append("")
    links = []
    for file in result["files"]:
        label = file["role"] + (f" {file['name']}" if "name" in file else "")
        missing = "" if file["exists"] else " (missing)"
        links.append(f"[{_escape(label)}]({file['uri']}){missing}")
    if links:
        lines.append(" · ".join(links))
    lines += [f"- {_escape(problem)}" for problem in result["problems"]]
    return "\n".join(lines).rstrip() + "\n"


def _metric_markdown(key: str, run: Run, path: Path) -> str:
    try:
        points = metric_series(path)
    except OSError as exc:
        return f"**dvcstage** {_code(key)} — metric in run {_code(run.id)}: cannot read ({exc})"
    head = f"**dvcstage** {_code(key)} — metric in run {_code(run.id)}"
    if not points:
        return f"{head}: no values yet\n\n[{_escape(path.name)}]({file_uri(path)})\n"
    last = points[-1]
    value = "not a finite number" if last["value"] is None else f"{last['value']:.6g}"
    return (
        f"{head}, step {last['step']}: {value} ({_plural(len(points), 'step')})\n\n"
        f"[{_escape(path.name)}]({file_uri(path)})\n"
    )


def _nothing_markdown(registry: RunRegistry, call: LogCall) -> str:
    runs = len(registry.runs)
    where = f"in the workspace's {_plural(runs, 'run')}" if runs else "(no dvcstage runs yet)"
    note = " (key of an f-string name)" if call.dynamic else ""
    return f"**dvcstage** {_code(call.key)}{note}: nothing logged under this key yet {where}.\n"


def describe(registry: RunRegistry, call: LogCall) -> str:
    """The hover markdown of ``call``'s key: its latest item, or why there is none."""
    if call.kind != "metric":
        logged = latest_media(registry, call.key)
        if logged is not None:
            return _media_markdown(registry, call.key, logged)
    if call.kind in (None, "metric"):
        metric = latest_metric(registry, call.key)
        if metric is not None:
            return _metric_markdown(call.key, *metric)
    return _nothing_markdown(registry, call)


def _range(span: Span) -> types.Range:
    (start_line, start_char), (end_line, end_char) = span
    return types.Range(
        start=types.Position(line=start_line, character=start_char),
        end=types.Position(line=end_line, character=end_char),
    )


def call_at(calls: list[LogCall], position: types.Position) -> LogCall | None:
    """The call whose name covers ``position`` (start inclusive, end exclusive)."""
    at = (position.line, position.character)
    for call in calls:
        if call.name[0] <= at < call.name[1]:
            return call
    return None


def hover(
    registry: RunRegistry, source: str, position: types.Position, encoding: str = "utf-16"
) -> types.Hover | None:
    """The hover at ``position`` of a Python ``source``: ``None`` off a log call's name."""
    calls = find_log_calls(source, encoding)
    call = call_at(calls, position) if calls else None
    if call is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=describe(registry, call)
        ),
        range=_range(call.name),
    )


def lens_title(key: str, info: KeyInfo) -> str:
    """``dvcstage: pred — 12 steps`` (and the list positions, if a list was logged)."""
    title = f"dvcstage: {key} — {_plural(len(info.steps), 'step')}"
    if info.items:
        title += f", {_plural(len(info.items), 'item')}"
    return title


def code_lenses(
    registry: RunRegistry, source: str, encoding: str = "utf-16"
) -> list[types.CodeLens]:
    """A lens above each log call, for each of its keys that a run holds media under."""
    lenses: list[types.CodeLens] = []
    for call in find_log_calls(source, encoding) or []:
        if call.kind == "metric":
            continue
        logged = latest_media(registry, call.key)
        if logged is None:
            continue
        arguments: list[Any] = [{"run": logged.run.id, "key": call.key}]
        lenses.append(
            types.CodeLens(
                range=_range(call.call),
                command=types.Command(
                    title=lens_title(call.key, logged.info),
                    command=OPEN_MEDIA,
                    arguments=arguments,
                ),
            )
        )
    return lenses
