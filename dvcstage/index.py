"""The per-run media index: ``<run dir>/media.jsonl``, one JSON line per written item.

The index is a cache of facts the files already hold: it is append-only (a reader can tail
it), a torn last line after a crash is ignored and cut off before the next append, and
:func:`rebuild_index` recreates it from the files alone.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from . import schemas
from .atomic import cut_torn_tail, is_temporary, write_text_atomic
from .media.base import MEDIA_FOLDER, EncodedItem
from .names import IMAGE_SUFFIXES, key_and_step_of, masks_folder, sidecar_name

INDEX_FILE = "media.jsonl"
IMAGES_FOLDER = PurePosixPath("plots/images")
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
    """Appends validated lines to a run's index; safe to share between writer threads."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None

    def append(self, line: dict[str, Any]) -> None:
        """Validate ``line`` against its schema and append it as one write."""
        schemas.check_document(schemas.MEDIA_INDEX_LINE, line, str(self.path))
        text = json.dumps(line, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.path, "ab+") as raw:
                    cut_torn_tail(raw)
                self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
            self._handle.write(text)
            self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None


@dataclass
class IndexContents:
    """What :func:`read_index` found: valid lines, problems by line number, a torn tail."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    torn_tail: bool = False


def read_index(path: str | os.PathLike[str], validate: bool = True) -> IndexContents:
    """Read an index file. A last line without newline is a torn write and is skipped."""
    contents = IndexContents()
    try:
        raw = Path(path).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return contents
    rows = raw.split("\n")
    if rows and rows[-1] != "":
        contents.torn_tail = True
    for number, row in enumerate(rows[:-1], start=1):
        if not row.strip():
            continue
        try:
            line = json.loads(row)
        except json.JSONDecodeError as exc:
            contents.problems.append((number, f"not JSON: {exc.msg}"))
            continue
        if validate:
            problems = schemas.schema_errors(schemas.MEDIA_INDEX_LINE, line)
            if problems:
                contents.problems.extend((number, p) for p in problems)
                continue
        contents.lines.append(line)
        contents.numbers.append(number)
    return contents


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


def _image_line(run_dir: Path, image: Path) -> dict[str, Any]:
    from PIL import Image as PILImage

    rel = PurePosixPath(image.relative_to(run_dir).as_posix())
    name = rel.relative_to(IMAGES_FOLDER)
    key, step = key_and_step_of(name)
    item: int | None = None
    head, _, last = key.rpartition("/")
    if head and last.isdigit():  # live.log({"k": [img, ...]}) writes k/<item>/<step>.png
        key, item = head, int(last)
    with PILImage.open(image) as opened:
        width, height = opened.size
    files = []
    sidecar_rel: str | None = None
    sidecar = run_dir / sidecar_name(rel)
    if sidecar.is_file():
        document = json.loads(sidecar.read_text(encoding="utf-8"))
        if step is None and isinstance(document.get("step"), int):
            step = document["step"]
        for mask_name, mask in (document.get("masks") or {}).items():
            mask_rel = rel.parent / mask["path"]
            if (run_dir / mask_rel).is_file():
                files.append(
                    {
                        "path": str(mask_rel),
                        "role": "mask",
                        "name": mask_name,
                        "bytes": (run_dir / mask_rel).stat().st_size,
                    }
                )
        sidecar_rel = str(sidecar_name(rel))
    files.append({"path": str(rel), "role": "image", "bytes": image.stat().st_size})
    if sidecar_rel is not None:
        files.append({"path": sidecar_rel, "role": "sidecar", "bytes": sidecar.stat().st_size})
    line: dict[str, Any] = {
        "v": 1,
        "step": step or 0,
        "key": key,
        "kind": "image",
        "files": files,
        "width": width,
        "height": height,
        "sidecar": sidecar_rel,
    }
    if item is not None:
        line["item"] = item
    line["time"] = round(image.stat().st_mtime, 3)
    return line


def _media_lines(root: Path) -> list[dict[str, Any]]:
    """Lines of the other kinds, from their sidecars ``media/<kind>/<key>/<step>.json``.

    Kind-specific facts (frames, rows, ...) are not recovered; the sidecars hold them.
    """
    lines = []
    media = root / MEDIA_FOLDER
    for sidecar in sorted(media.rglob("*.json")) if media.is_dir() else ():
        rel = PurePosixPath(sidecar.relative_to(root).as_posix())
        if is_temporary(sidecar) or any(part.endswith(".cells") for part in rel.parts):
            continue  # table cells belong to their table's line
        try:
            document = json.loads(sidecar.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if not isinstance(document, dict) or document.get("kind") != rel.parts[1]:
            continue  # a payload (e.g. a .pts.json point cloud), not a sidecar
        files = [
            {"path": str(rel.parent / f["path"]), "role": f["role"]}
            | ({"name": f["name"]} if "name" in f else {})
            for f in document.get("files", [])
        ]
        files.append({"path": str(rel), "role": "sidecar", "schema": document["kind"]})
        for file in files:
            target = root / file["path"]
            file["bytes"] = target.stat().st_size if target.is_file() else 0
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
        lines.append(line)
    return lines


def _histogram_lines(root: Path) -> list[dict[str, Any]]:
    """One line per step of each histogram series ``plots/histograms/<key>.tsv``."""
    lines = []
    folder = root / HISTOGRAMS_FOLDER
    for series in sorted(folder.rglob("*.tsv")) if folder.is_dir() else ():
        rel = PurePosixPath(series.relative_to(root).as_posix())
        key = str(rel.relative_to(HISTOGRAMS_FOLDER).with_suffix(""))
        head, _, last = key.rpartition("/")
        item = int(last) if head and last.isdigit() else None  # <key>/<item>.tsv: a list item
        key = head if item is not None else key
        sizes: dict[int, int] = {}
        for row in series.read_bytes().splitlines(keepends=True)[1:]:
            field = row.split(b"\t", 1)[0]
            if row.endswith(b"\n") and field.isdigit():
                sizes[int(field)] = sizes.get(int(field), 0) + len(row)
        for step, size in sizes.items():
            line: dict[str, Any] = {"v": 1, "step": step, "key": key, "kind": "histogram"}
            if item is not None:
                line["item"] = item
            line["files"] = [{"path": str(rel), "role": "series", "bytes": size}]
            lines.append(line)
    return lines


def rebuild_index(run_dir: str | os.PathLike[str]) -> int:
    """Recreate ``<run_dir>/media.jsonl`` from the files; returns the number of lines.

    Steps come from the slider pattern (``key/<step>.png``) or the sidecar's ``step``.
    """
    root = Path(run_dir)
    images_dir = root / IMAGES_FOLDER
    lines = []
    if images_dir.is_dir():
        for path in sorted(images_dir.rglob("*")):
            if (
                not path.is_file()
                or is_temporary(path)
                or path.suffix not in IMAGE_SUFFIXES
                or path.parent.suffix == masks_folder(PurePosixPath("x.png")).suffix
            ):
                continue
            lines.append(_image_line(root, path))
    lines.extend(_media_lines(root))
    lines.extend(_histogram_lines(root))
    for line in lines:
        schemas.check_document(schemas.MEDIA_INDEX_LINE, line, "rebuilt index line")
    lines.sort(key=lambda line: (line["step"], line["key"], line.get("item", 0)))
    text = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
    write_text_atomic(root / INDEX_FILE, text)
    return len(lines)
