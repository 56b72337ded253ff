"""The per-run media index: ``<run dir>/media.jsonl``, one JSON line per written item.

The index is a cache of facts the files already hold: it is append-only (a reader can tail
it), a torn last line after a crash is ignored and cut off before the next append, and
:func:`rebuild_index` recreates it from the files alone.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from . import schemas
from .atomic import cut_torn_tail, is_temporary, write_text_atomic
from .media.base import IMAGES_FOLDER, ITEMS_SUFFIX, MEDIA_FOLDER, PREVIEWS_FOLDER, EncodedItem
from .names import IMAGE_SUFFIXES, key_and_step_of, sidecar_name

INDEX_FILE = "media.jsonl"
HISTOGRAMS_FOLDER = PurePosixPath("plots/histograms")
# Facts with their own place in the index line; a kind's other facts go under "facts".
_TOP_LEVEL_FACTS = ("item", "width", "height", "sidecar")


def index_line(item: EncodedItem, sizes: dict[PurePosixPath, int]) -> dict[str, Any]:
    """The index line for a written item (``sizes``: bytes of each written file)."""
    line: dict[str, Any] = {"v": 1, "step": item.step, "key": item.key, "kind": item.kind}
    line["files"] = [
        {"path": str(f.path), "role": f.role, "bytes": sizes[f.path]}
        | ({"name": f.name} if f.name is not None else {})
        | ({"schema": f.schema} if f.schema is not None else {})
        for f in item.files
    ]
    top = {k: v for k, v in item.facts.items() if k in _TOP_LEVEL_FACTS}
    line.update(top)
    extra = {k: v for k, v in item.facts.items() if k not in _TOP_LEVEL_FACTS}
    if extra:
        line["facts"] = extra
    line["time"] = round(time.time(), 3)
    return line


class MediaIndex:
    """Appends validated lines to a run's index; safe to share between threads.

    Several processes may append to one index (the writer processes of two runs sharing a
    folder, a writer finishing a killed run's journal): each line is one ``write`` in append
    mode, and a line is started on a fresh line even if another process was killed halfway
    through one, so a fragment never swallows a good line.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None

    def append(self, line: dict[str, Any]) -> None:
        """Validate ``line`` against its schema and append it as one write."""
        schemas.check_document(schemas.MEDIA_INDEX_LINE, line, str(self.path))
        text = json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"
        data = text.encode("utf-8")
        with self._lock:
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(
                    self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666
                )
            size = os.fstat(self._fd).st_size
            if size and _last_byte(self.path, size) != b"\n":
                data = b"\n" + data  # a fragment a killed process left: keep it apart
            os.write(self._fd, data)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None


def _last_byte(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(size - 1)
        return handle.read(1)


def repair_torn_tail(path: str | os.PathLike[str]) -> int:
    """Cut a last line without newline (a write a crash interrupted); returns bytes cut.

    Call it only while no process appends to the index (a run's start).
    """
    try:
        with open(path, "rb+") as handle:
            return cut_torn_tail(handle)
    except FileNotFoundError:
        return 0


@dataclass
class IndexContents:
    """What :func:`read_index` found: valid lines, problems by line number, a torn tail."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    torn_tail: bool = False


def parse_line(row: str | bytes) -> tuple[dict[str, Any] | None, str | None]:
    """``(line, None)`` for a JSON object, else ``(None, why not)``; never raises.

    Hostile rows (deep nesting, a number with thousands of digits, bad UTF-8) are problems
    like any other.
    """
    try:
        value = json.loads(row)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} (column {exc.colno})"
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        return None, f"not JSON: {type(exc).__name__}: {str(exc)[:120]}"
    if not isinstance(value, dict):
        return None, f"not a JSON object: {type(value).__name__}"
    return value, None


def read_index(path: str | os.PathLike[str], validate: bool = True) -> IndexContents:
    """Read an index file. A last line without newline is a torn write and is skipped.

    With ``validate``, every line is checked against ``schemas/media-index-line.schema.json``
    (a line in the writer's own layout by a fast exact check, others by the schema).
    """
    contents = IndexContents()
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return contents
    rows = raw.split(b"\n")
    if rows and rows[-1] != b"":
        contents.torn_tail = True
    for number, row in enumerate(rows[:-1], start=1):
        if not row.strip():
            continue
        line, problem = parse_line(row)
        if line is None:
            contents.problems.append((number, problem or "not JSON"))
            continue
        if validate:
            problems = line_problems(line)
            if problems:
                contents.problems.extend((number, p) for p in problems)
                continue
        contents.lines.append(line)
        contents.numbers.append(number)
    return contents


def line_problems(line: dict[str, Any]) -> list[str]:
    """Schema problems of one parsed index line (none for a line the writer wrote)."""
    if is_writer_line(line):
        return []
    return schemas.schema_errors(schemas.MEDIA_INDEX_LINE, line)


_KINDS = frozenset(
    ("image", "histogram", "audio", "video", "table", "html", "object3d", "molecule")
)
_LINE_MEMBERS = frozenset(
    ("v", "step", "key", "kind", "files", "item", "width", "height", "sidecar", "facts", "time")
)
_FILE_MEMBERS = frozenset(("path", "role", "bytes", "name", "schema"))
_ROLE = re.compile(r"[a-z][a-z0-9-]*")
_SCHEMA_NAME = re.compile(r"[a-z0-9-]+")


def _count(value: object, least: int = 0) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def is_writer_line(line: dict[str, Any]) -> bool:
    """A quick, exact check that ``line`` matches the index-line schema.

    ``True`` only for lines the schema accepts; ``False`` means "ask the schema" (which then
    names the problems). Checking 300,000 lines this way takes about a second, against
    minutes with the schema validator.
    """
    if not _LINE_MEMBERS.issuperset(line) or line.get("v") != 1:
        return False
    key, kind, files = line.get("key"), line.get("kind"), line.get("files")
    if not _count(line.get("step")) or not isinstance(key, str) or not key:
        return False
    if kind not in _KINDS or not isinstance(files, list) or not files:
        return False
    for name, least in (("item", 0), ("width", 1), ("height", 1)):
        if name in line and not _count(line[name], least):
            return False
    if "sidecar" in line and line["sidecar"] is not None and not is_relative_path(line["sidecar"]):
        return False
    if "facts" in line and not isinstance(line["facts"], dict):
        return False
    if "time" in line and (
        not isinstance(line["time"], (int, float)) or isinstance(line["time"], bool)
    ):
        return False
    for file in files:
        if not isinstance(file, dict) or not _FILE_MEMBERS.issuperset(file):
            return False
        role = file.get("role")
        if not is_relative_path(file.get("path")) or not isinstance(role, str):
            return False
        if not _ROLE.fullmatch(role) or not _count(file.get("bytes")):
            return False
        if "name" in file and not isinstance(file["name"], str):
            return False
        if "schema" in file and not (
            isinstance(file["schema"], str) and _SCHEMA_NAME.fullmatch(file["schema"])
        ):
            return False
    return True


def is_relative_path(value: object) -> bool:
    """The index schema's ``relativePath``: not absolute, no ``.``/``..`` segment, no
    backslash or NUL."""
    if not isinstance(value, str) or not value or value.startswith("/"):
        return False
    if "\\" in value or "\x00" in value:
        return False
    return all(part not in (".", "..") for part in value.split("/"))


def latest_items(lines: list[dict[str, Any]]) -> dict[tuple[str, int, int], dict[str, Any]]:
    """The last line for each (key, step, item): later writes replace earlier ones."""
    return {(line["key"], line["step"], line.get("item", 0)): line for line in lines}


def current_lines(
    lines: list[dict[str, Any]], numbers: list[int] | None = None
) -> list[tuple[int, dict[str, Any]]]:
    """(line number, line) for each line that no later line replaced.

    An image name logged at every step (``latest.png``) has one line per write, and only
    the last describes the file on disk; other kinds are replaced per (key, step, item),
    whatever format the new write has.
    """
    last: dict[object, tuple[int, dict[str, Any]]] = {}
    for number, line in zip(numbers or range(1, len(lines) + 1), lines, strict=True):
        if line["kind"] == "image":
            main = next(f for f in line["files"] if f["role"] == "image")
            last[main["path"]] = (number, line)
        else:
            last[(line["kind"], line["key"], line["step"], line.get("item"))] = (number, line)
    return sorted(last.values(), key=lambda pair: pair[0])


@dataclass
class Rebuilt:
    """What :func:`rebuild_index` wrote: the number of lines and the files it skipped."""

    lines: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (run-relative path, why)


def _split_items(key: str) -> tuple[str, int | None]:
    """``k.items/3`` -> (``k``, 3): the folder of list items (see ``MediaSlot.for_key``)."""
    head, _, last = key.rpartition("/")
    if head.endswith(ITEMS_SUFFIX) and last.isdigit():
        return head[: -len(ITEMS_SUFFIX)], int(last)
    return key, None


def _sidecar_document(path: Path) -> dict[str, Any] | None:
    """A JSON object read from ``path`` (``None`` if missing); raises ValueError if broken."""
    if not path.is_file():
        return None
    document, problem = parse_line(path.read_bytes())
    if document is None:
        raise ValueError(problem)
    return document


def _file_entry(
    root: Path, rel: PurePosixPath, role: str, name: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"path": str(rel), "role": role, "bytes": (root / rel).stat().st_size}
    if name is not None:
        entry["name"] = name
    return entry


def _image_line(root: Path, image: Path) -> dict[str, Any]:
    """The line of an image: key, step and item from its name (the slider pattern) or its
    sidecar, files from the folder."""
    from PIL import Image as PILImage

    rel = PurePosixPath(image.relative_to(root).as_posix())
    key, step = key_and_step_of(rel.relative_to(IMAGES_FOLDER))
    key, item = _split_items(key) if step is not None else (key, None)
    sidecar_rel = sidecar_name(rel)
    document = _sidecar_document(root / sidecar_rel)
    with PILImage.open(image) as opened:
        width, height = opened.size
    files = []
    if document is not None:
        if step is None and _count(document.get("step")):
            step = document["step"]
        for mask_name, mask in (document.get("masks") or {}).items():
            mask_rel = rel.parent / str(mask["path"])
            if (root / mask_rel).is_file():
                files.append(_file_entry(root, mask_rel, "mask", str(mask_name)))
    files.append(_file_entry(root, rel, "image"))
    if document is not None:
        files.append(_file_entry(root, sidecar_rel, "sidecar") | {"schema": "image-sidecar"})
    for preview in (
        (PREVIEWS_FOLDER / rel.relative_to(IMAGES_FOLDER)).with_suffix(".jpg"),
        (PREVIEWS_FOLDER / rel.relative_to(IMAGES_FOLDER)),
    ):  # drawn (a JPEG), or the image itself under its name
        if (root / preview).is_file():
            files.append(_file_entry(root, preview, "preview"))
            break
    line: dict[str, Any] = {"v": 1, "step": step or 0, "key": key, "kind": "image"}
    line["files"] = files
    line.update(width=width, height=height)
    line["sidecar"] = str(sidecar_rel) if document is not None else None
    if item is not None:
        line["item"] = item
    line["time"] = round(image.stat().st_mtime, 3)
    return line


def _media_line(root: Path, sidecar: Path) -> dict[str, Any] | None:
    """The line of another kind's item, from its sidecar ``media/<kind>/<key>/<step>.json``
    (``None`` for a JSON payload that is not a sidecar, e.g. a ``.pts.json`` point cloud).

    Kind-specific facts (frames, rows, ...) are not recovered; the sidecars hold them.
    """
    rel = PurePosixPath(sidecar.relative_to(root).as_posix())
    document = _sidecar_document(sidecar)
    if document is None or document.get("kind") != rel.parts[1]:
        return None
    files = [
        _file_entry(root, rel.parent / str(f["path"]), str(f["role"]), f.get("name"))
        for f in document.get("files", [])
    ]
    files.append(_file_entry(root, rel, "sidecar") | {"schema": str(document["kind"])})
    line: dict[str, Any] = {
        "v": 1,
        "step": document["step"],
        "key": document["key"],
        "kind": document["kind"],
        "files": files,
    }
    if "item" in document:
        line["item"] = document["item"]
    line["time"] = round(sidecar.stat().st_mtime, 3)
    return line


def _histogram_lines(root: Path, series: Path) -> list[dict[str, Any]]:
    """One line per step of a histogram series ``plots/histograms/<key>.tsv``."""
    rel = PurePosixPath(series.relative_to(root).as_posix())
    key, item = _split_items(str(rel.relative_to(HISTOGRAMS_FOLDER).with_suffix("")))
    sizes: dict[int, int] = {}
    for row in series.read_bytes().splitlines(keepends=True)[1:]:
        field_ = row.split(b"\t", 1)[0]
        if row.endswith(b"\n") and field_.isdigit() and len(field_) < 19:
            sizes[int(field_)] = sizes.get(int(field_), 0) + len(row)
    lines = []
    for step, size in sizes.items():
        line: dict[str, Any] = {"v": 1, "step": step, "key": key, "kind": "histogram"}
        if item is not None:
            line["item"] = item
        line["files"] = [{"path": str(rel), "role": "series", "bytes": size}]
        lines.append(line)
    return lines


def _candidates(root: Path) -> list[tuple[str, Path]]:
    """Files a line can be rebuilt from: ``(kind of source, path)``."""
    found: list[tuple[str, Path]] = []
    images = root / IMAGES_FOLDER
    for path in sorted(images.rglob("*")) if images.is_dir() else ():
        if (
            path.is_file()
            and not is_temporary(path)
            and path.suffix in IMAGE_SUFFIXES
            and not any(part.endswith(".masks") for part in path.relative_to(images).parts)
        ):
            found.append(("image", path))
    media = root / MEDIA_FOLDER
    for path in sorted(media.rglob("*.json")) if media.is_dir() else ():
        rel = path.relative_to(root)
        if not is_temporary(path) and not any(p.endswith(".cells") for p in rel.parts):
            found.append(("media", path))  # table cells belong to their table's line
    histograms = root / HISTOGRAMS_FOLDER
    for path in sorted(histograms.rglob("*.tsv")) if histograms.is_dir() else ():
        found.append(("histogram", path))
    return found


def rebuild_index(run_dir: str | os.PathLike[str]) -> Rebuilt:
    """Recreate ``<run_dir>/media.jsonl`` from the files; returns what it wrote and skipped.

    Steps come from the slider pattern (``key/<step>.png``) or the sidecar's ``step``. A file
    that cannot be read back (a broken sidecar, an image Pillow cannot open, ...) is skipped
    and reported; the index written is always valid.
    """
    root = Path(run_dir)
    result = Rebuilt()
    lines: list[dict[str, Any]] = []
    for source, path in _candidates(root):
        try:
            if source == "image":
                found = [_image_line(root, path)]
            elif source == "media":
                line = _media_line(root, path)
                found = [] if line is None else [line]
            else:
                found = _histogram_lines(root, path)
        except Exception as exc:  # a broken file is reported, never fatal
            result.skipped.append((path.relative_to(root).as_posix(), _why(exc)))
            continue
        for line in found:
            problems = schemas.schema_errors(schemas.MEDIA_INDEX_LINE, line)
            if problems:
                result.skipped.append((path.relative_to(root).as_posix(), problems[0]))
            else:
                lines.append(line)
    lines.sort(key=lambda line: (line["step"], line["key"], line.get("item", 0)))
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    write_text_atomic(root / INDEX_FILE, text)
    result.lines = len(lines)
    return result


def _why(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text[:200]}"
