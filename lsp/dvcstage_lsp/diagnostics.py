"""Problems in sidecars and index files, with the exact span of each offending value.

Everything here is pure: it takes a document's text (as the editor has it) and returns
:class:`Problem` objects holding character offsets into that text. The server turns offsets
into LSP ranges. Nothing a file holds can make these functions raise: truncated, malformed,
huge or hostile input becomes problems.

- An index file (``media.jsonl``): each line must parse and match
  ``media-index-line.schema.json``; files of current lines (those no later line replaced)
  must exist inside the workspace; a last line without newline is flagged (readers skip it).
- An image sidecar (``plots/images/**/<stem>.json``): ``image-sidecar.schema.json``, and each
  mask it names must exist.
- A media sidecar (``media/<kind>/**/<step>.json``): ``<kind>.schema.json``, and each file
  it lists must exist.
- A ``dvc.yaml``: its top-level ``plots`` (see :mod:`dvcstage_lsp.dvcyaml`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError, best_match

from dvcstage import schemas

from .jsonpos import Spans, scan
from .paths import PathRefusedError, resolve_inside
from .runs import INDEX_FILE

MAX_DOCUMENT_CHARS = 64 * 1024 * 1024
MAX_PROBLEMS = 200
MAX_ERRORS_PER_VALUE = 20
IMAGE_SIDECAR = "image-sidecar"
INDEX_LINE = "media-index-line"


class Severity(Enum):
    """How bad a problem is (mapped to LSP's DiagnosticSeverity)."""

    ERROR = 1
    WARNING = 2


@dataclass(frozen=True)
class Problem:
    """A problem spanning ``text[start:end]``."""

    start: int
    end: int
    message: str
    severity: Severity = Severity.ERROR
    code: str = "schema"


@dataclass(frozen=True)
class DocumentKind:
    """What a file is to the server: an index or a sidecar, its run and its schema."""

    role: str  # "index" | "sidecar" | "dvcyaml"
    run_dir: Path
    schema: str


def classify(path: Path) -> DocumentKind | None:
    """What ``path`` is (an index, a sidecar with its schema), or ``None`` if not ours."""
    if path.name == INDEX_FILE:
        return DocumentKind("index", path.parent, INDEX_LINE)
    if path.name == "dvc.yaml":
        return DocumentKind("dvcyaml", path.parent, "")
    if path.suffix != ".json" or path.name.endswith(".pts.json"):
        return None
    parts = path.parts
    for at in range(len(parts) - 2, 0, -1):
        if parts[at : at + 2] == ("plots", "images"):
            inner = parts[at + 2 : -1]
            if any(p.endswith((".masks", ".cells")) for p in inner):
                return None
            return DocumentKind("sidecar", Path(*parts[:at]), IMAGE_SIDECAR)
        if parts[at] == "media" and at + 2 < len(parts) - 1:
            run_dir = Path(*parts[:at])
            kind = parts[at + 1]
            inner = parts[at + 2 : -1]
            if any(p.endswith(".cells") for p in inner) or not (run_dir / INDEX_FILE).exists():
                continue
            if kind not in ("images",) and _known_schema(kind):
                return DocumentKind("sidecar", run_dir, kind)
            return None
    return None


def _known_schema(name: str) -> bool:
    return re.fullmatch(r"[a-z0-9-]+", name) is not None and schemas.known(name)


def _where(path: Sequence[Any]) -> str:
    return "/".join(str(p) for p in path) or "(root)"


def _multiline(text: str, span: tuple[int, int]) -> bool:
    return "\n" in text[span[0] : span[1]]


def _extra_key(error: ValidationError) -> str | None:
    """The unexpected member an additional/unevaluated properties error is about."""
    if not isinstance(error.instance, dict):
        return None
    if error.validator == "propertyNames":
        return None
    for key in error.instance:
        if isinstance(key, str) and repr(key) in error.message:
            return key
    return None


def error_span(text: str, spans: Spans, error: ValidationError) -> tuple[int, int]:
    """Where a schema error should be shown: the offending value (or key) itself."""
    path = tuple(error.absolute_path)
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        extra = _extra_key(error)
        if extra is not None:
            span = spans.key((*path, extra))
            if span is not None:
                return span
    if error.validator == "propertyNames" and isinstance(error.instance, str):
        span = spans.key((*path, error.instance))
        if span is not None:
            return span
    value = spans.value(path)
    key = spans.key(path) if path else None
    if value is None:
        return (0, min(1, len(text)))
    if spans.values.get(path) is None and key is None:
        return (value[0], value[0] + 1)  # only an ancestor was found
    if error.validator == "required" or _multiline(text, value):
        return key if key is not None else (value[0], value[0] + 1)
    return value


def _message(error: ValidationError) -> str:
    message = error.message
    if error.context:
        closest = best_match(error.context)
        message += f" (closest: {_where(closest.absolute_path)}: {closest.message})"
    if len(message) > 500:
        message = message[:497] + "..."
    return f"{_where(error.absolute_path)}: {message}"


def schema_problems(text: str, document: Any, schema: str, offset: int = 0) -> list[Problem]:
    """Schema errors of ``document`` (parsed from ``text`` at ``offset``) with their spans."""
    try:
        errors = sorted(
            schemas.validator(schema).iter_errors(document), key=lambda e: list(e.path)
        )[:MAX_ERRORS_PER_VALUE]
    except RecursionError:
        return [Problem(offset, offset + 1, "too deeply nested to check")]
    if not errors:
        return []
    spans = scan(text, offset)
    problems = []
    for error in errors:
        start, end = error_span(text, spans, error)
        problems.append(Problem(start, end, _message(error)))
    return problems


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse(text: str, start: int = 0, end: int | None = None) -> tuple[Any, Problem | None]:
    """Parse ``text[start:end]`` as strict JSON: the value, or the problem at its position."""
    stop = len(text) if end is None else end
    try:
        return json.loads(text[start:stop], parse_constant=_reject_constant), None
    except json.JSONDecodeError as exc:
        at = start + exc.pos
        line_end = text.find("\n", at, stop)
        line_end = stop if line_end < 0 else line_end
        end_at = min(stop, max(at + 1, line_end))
        return None, Problem(at, end_at, f"not JSON: {exc.msg}", code="json")
    except RecursionError:
        return None, Problem(start, start + 1, "not JSON: nested too deeply", code="json")
    except ValueError as exc:  # NaN, Infinity
        at = scan(text[:stop], start).stop
        return None, Problem(at, min(stop, at + 8), f"not JSON: {exc}", code="json")


def _missing(
    base: Path, relative: Any, roots: Sequence[Path], span: tuple[int, int] | None, what: str
) -> Problem | None:
    """A problem if ``base / relative`` is not a file inside the workspace."""
    if not isinstance(relative, str) or span is None:
        return None
    try:
        target = resolve_inside(base, relative, roots)
    except PathRefusedError as exc:
        return Problem(*span, f"{what}: {exc}", code="outside-workspace")
    if not target.is_file():
        return Problem(
            *span, f"{what}: {relative} does not exist", Severity.WARNING, "missing-file"
        )
    return None


def _too_large(text: str) -> list[Problem] | None:
    if len(text) > MAX_DOCUMENT_CHARS:
        message = f"larger than {MAX_DOCUMENT_CHARS} characters: not checked"
        return [Problem(0, min(1, len(text)), message, Severity.WARNING, "too-large")]
    return None


def sidecar_problems(
    text: str, path: Path, schema: str, roots: Sequence[Path] = ()
) -> list[Problem]:
    """Problems of a sidecar: JSON, its schema, and the files it references."""
    too_large = _too_large(text)
    if too_large is not None:
        return too_large
    document, problem = parse(text)
    if problem is not None:
        return [problem]
    problems = schema_problems(text, document, schema)
    if problems or not isinstance(document, dict) or not roots:
        return problems[:MAX_PROBLEMS]
    spans = scan(text)
    if schema == IMAGE_SIDECAR:
        masks = document.get("masks") or {}
        for name, mask in masks.items() if isinstance(masks, dict) else ():
            found = _missing(
                path.parent,
                mask.get("path") if isinstance(mask, dict) else None,
                roots,
                spans.values.get(("masks", name, "path")),
                f"masks/{name}",
            )
            if found is not None:
                problems.append(found)
    files = document.get("files")  # every media sidecar's, images' too (media-common)
    for i, file in enumerate(files if isinstance(files, list) else []):
        found = _missing(
            path.parent,
            file.get("path") if isinstance(file, dict) else None,
            roots,
            spans.values.get(("files", i, "path")),
            f"files/{i}",
        )
        if found is not None:
            problems.append(found)
    return problems[:MAX_PROBLEMS]


def _lines(text: str) -> Iterable[tuple[int, int, int]]:
    """(line number from 1, start offset, end offset without the newline) of each line."""
    start = 0
    number = 1
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield number, start, len(text)
            return
        yield number, start, end
        start = end + 1
        number += 1


def _identity(line: dict[str, Any]) -> tuple[Any, ...]:
    """What a later line replaces: the image file for images, else (kind, key, step, item)."""
    if line.get("kind") == "image":
        for file in line.get("files") or []:
            if isinstance(file, dict) and file.get("role") == "image":
                return ("image", file.get("path"))
    return (line.get("kind"), line.get("key"), line.get("step"), line.get("item"))


def index_problems(
    text: str, run_dir: Path | None = None, roots: Sequence[Path] = ()
) -> list[Problem]:
    """Problems of an index file's text, one or more per bad line.

    With ``run_dir`` and ``roots``, the files of current lines must exist inside ``roots``.
    """
    too_large = _too_large(text)
    if too_large is not None:
        return too_large
    problems: list[Problem] = []
    current: dict[tuple[Any, ...], tuple[int, dict[str, Any]]] = {}
    for number, start, end in _lines(text):
        if len(problems) >= MAX_PROBLEMS:
            break
        row_end = end - 1 if end > start and text[end - 1] == "\r" else end
        if not text[start:row_end].strip():
            continue
        if end == len(text) and not text.endswith("\n"):
            problems.append(
                Problem(
                    start,
                    row_end,
                    f"line {number}: no newline at the end: a write in progress or torn by a "
                    "crash; readers ignore this line",
                    Severity.WARNING,
                    "torn-line",
                )
            )
            continue
        line, problem = parse(text, start, row_end)
        if problem is not None:
            problems.append(problem)
            continue
        line_problems = schema_problems(text, line, INDEX_LINE, start)
        if line_problems:
            problems.extend(line_problems)
            continue
        current[_identity(line)] = (start, line)
    if run_dir is not None and roots:
        for start, line in sorted(current.values(), key=lambda pair: pair[0]):
            if len(problems) >= MAX_PROBLEMS:
                break
            spans: Spans | None = None
            for i, file in enumerate(line["files"]):
                target = run_dir.joinpath(*file["path"].split("/"))
                try:
                    exists = target.is_file()
                except (OSError, ValueError):
                    exists = False
                if exists and resolve_ok(target, roots):
                    continue
                spans = spans or scan(text, start)
                found = _missing(
                    run_dir,
                    file["path"],
                    roots,
                    spans.values.get(("files", i, "path")),
                    f"files/{i}",
                )
                if found is not None:
                    problems.append(found)
    return problems[:MAX_PROBLEMS]


def resolve_ok(target: Path, roots: Sequence[Path]) -> bool:
    """Whether ``target`` resolves inside ``roots`` (a cheap check before the full one)."""
    try:
        real = target.resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return any(real == root or real.is_relative_to(root) for root in roots)


def clamp(problems: list[Problem], length: int) -> list[Problem]:
    """``problems`` with spans kept inside a text of ``length`` characters."""
    clamped = []
    for problem in problems:
        start = max(0, min(problem.start, length))
        end = max(start, min(problem.end, length))
        if (start, end) != (problem.start, problem.end):
            problem = Problem(start, end, problem.message, problem.severity, problem.code)
        clamped.append(problem)
    return clamped


def document_problems(path: Path, text: str, roots: Sequence[Path] = ()) -> list[Problem] | None:
    """Problems of the document at ``path`` with content ``text``; ``None`` if not ours.

    Never raises: an unexpected failure is itself reported as a problem.
    """
    kind = classify(path)
    if kind is None:
        return None
    try:
        if kind.role == "index":
            return clamp(index_problems(text, kind.run_dir, roots), len(text))
        if kind.role == "dvcyaml":
            too_large = _too_large(text)
            if too_large is not None:
                return too_large
            from .dvcyaml import dvcyaml_problems  # PyYAML only for dvc.yaml files

            return clamp(dvcyaml_problems(text, path, roots), len(text))
        return clamp(sidecar_problems(text, path, kind.schema, roots), len(text))
    except Exception as exc:  # the server must never crash on a file's content
        message = f"internal error while checking this file: {type(exc).__name__}: {exc}"
        return [Problem(0, min(1, len(text)), message, Severity.WARNING, "internal")]
