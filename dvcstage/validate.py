"""``dvcstage validate``: every sidecar and index line of every run under a folder."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from . import schemas
from .atomic import is_temporary
from .errors import DvcStageError
from .index import INDEX_FILE, line_problems, parse_line
from .index_grammar import RawLine, file_fields, valid_rows
from .media.base import IMAGES_FOLDER
from .names import IMAGE_SUFFIXES


@dataclass(frozen=True)
class Problem:
    """One problem, printed as ``file:line:column: message`` (``file:line:`` without one)."""

    file: Path
    line: int
    message: str
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:  # about a whole file or folder
            return f"{self.file}: {self.message}"
        where = f"{self.line}:{self.column}" if self.column else f"{self.line}"
        return f"{self.file}:{where}: {self.message}"


# -- positions (dvcstage.locate): each problem at the line and column of its value ----------


def _schema_problems(path: Path, document: Any, schema: str) -> list[Problem]:
    """``document``'s schema problems, each at the value it is about."""
    if not schemas.schema_errors(schema, document):
        return []
    from .locate import schema_problems_at

    text = path.read_text(encoding="utf-8")
    return [
        Problem(path, x.line, x.message, x.column)
        for x in schema_problems_at(text, document, schema)
    ]


def _at(path: Path, where: tuple[str | int, ...], message: str) -> Problem:
    """A problem at the value ``where`` points to in the JSON file ``path``."""
    from .locate import value_position

    line, column = value_position(path.read_text(encoding="utf-8"), where)
    return Problem(path, line, message, column)


# ---------------------------------------------------------------------------------------------


def find_runs(root: str | os.PathLike[str]) -> list[Path]:
    """Run folders under ``root`` (``root`` included): those with an index or a plots/images."""
    base = Path(root)
    found = {p.parent for p in base.rglob(INDEX_FILE)}
    found |= {
        p.parent.parent for p in base.rglob("images") if p.is_dir() and p.parent.name == "plots"
    }
    return sorted(p for p in found if ".dvc" not in p.parts and ".git" not in p.parts)


def _load_json(path: Path) -> tuple[Any, list[Problem]]:
    """The parsed file, or the problem that kept it from parsing."""
    try:
        return json.loads(path.read_text(encoding="utf-8")), []
    except json.JSONDecodeError as exc:
        return None, [Problem(path, exc.lineno, f"not JSON: {exc.msg}", exc.colno)]
    except UnicodeDecodeError as exc:
        return None, [Problem(path, 1, f"not UTF-8: {exc.reason}")]


def _check_sidecar(path: Path) -> list[Problem]:
    document, problems = _load_json(path)
    if problems:
        return problems
    problems = _schema_problems(path, document, schemas.IMAGE_SIDECAR)
    if problems:
        return problems
    for name, mask in (document.get("masks") or {}).items():
        mask_path = path.parent / mask["path"]
        if not mask_path.is_file():
            message = f"masks/{name}: {mask['path']} does not exist"
            problems.append(_at(path, ("masks", name, "path"), message))
            continue
        try:
            with PILImage.open(mask_path) as opened:
                size = opened.size
        except OSError as exc:
            problems.append(Problem(mask_path, 1, f"not a readable PNG: {exc}"))
            continue
        expected = (document.get("width"), document.get("height"))
        if None not in expected and size != expected:
            message = f"masks/{name}: size {size} differs from {expected}"
            problems.append(_at(path, ("masks", name), message))
    return problems


def _check_document(path: Path, schema: str) -> list[Problem]:
    """A JSON file the index says matches ``schemas/<schema>.schema.json``."""
    if not schemas.known(schema):
        return [Problem(path, 1, f"unknown schema {schema!r}")]
    if schema == "pts":
        return _check_point_cloud(path)
    document, problems = _load_json(path)
    if problems:
        return problems
    problems = _schema_problems(path, document, schema)
    files = document.get("files", []) if isinstance(document, dict) and not problems else []
    for number, file in enumerate(files):
        if not (path.parent / file["path"]).is_file():
            message = f"files: {file['path']} does not exist"
            problems.append(_at(path, ("files", number, "path"), message))
    return problems


def _check_point_cloud(path: Path) -> list[Problem]:
    """A ``.pts.json``: points checked with NumPy, the rest against the schema.

    Checking a million points one by one in Python would take minutes; the schema limits
    each column to a range, so the rows holding each column's extremes stand for all.
    """
    from .media.object3d import scene_from_pts_json

    try:
        scene = scene_from_pts_json(path.read_bytes(), str(path))
    except DvcStageError as exc:
        return [Problem(path, 1, str(exc))]
    document = scene.document(scene.point_rows(scene.extreme_rows()))
    return [Problem(path, 1, p) for p in schemas.schema_errors("pts", document)]


def _check_image(path: Path) -> list[Problem]:
    """A whole image file: its header and every chunk's checksum (PNG), without decoding
    the pixels (half the time, for the same verdict on a cut or damaged file)."""
    try:
        with PILImage.open(path) as opened:
            opened.verify()
    except (OSError, SyntaxError) as exc:
        return [Problem(path, 1, f"not a readable image: {exc}")]
    return []


def validate_run(run: Path) -> list[Problem]:
    """Problems in one run folder: images, sidecars, journals and the index."""
    problems: list[Problem] = []
    images = run / IMAGES_FOLDER
    if images.is_dir():
        for path in sorted(images.rglob("*")):
            if not path.is_file() or is_temporary(path):
                continue
            if path.suffix == ".json" and any(
                path.with_suffix(s).is_file() for s in IMAGE_SUFFIXES
            ):
                problems.extend(_check_sidecar(path))
            elif path.suffix in IMAGE_SUFFIXES:
                problems.extend(_check_image(path))
    problems.extend(_check_sessions(run))
    problems.extend(_check_index(run))
    return problems


def _index_rows(text: bytes) -> Iterator[tuple[int, bytes, RawLine | None]]:
    """The index's complete lines, in the writer's layout where they are (see
    :mod:`dvcstage.index_grammar`), else for a full check."""
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:  # a bad line somewhere: every line is parsed on its own
        for number, row in enumerate(text.split(b"\n")[:-1], start=1):
            yield number, row, None
        return
    yield from valid_rows(text)


_IMAGE_FILE = re.compile(rb'"path":"([^"]*)","role":"image"')


def _raw_line(line: dict[str, Any]) -> RawLine:
    """A line checked by the schema, in the quick check's form."""
    files = b",".join(
        json.dumps({"path": f["path"], "role": f["role"], "bytes": 0}
                   | ({"schema": f["schema"]} if "schema" in f else {}),
                   separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        for f in line["files"]
    )  # fmt: skip
    item = line.get("item")
    key = json.dumps(line["key"], ensure_ascii=False).encode("utf-8")
    return RawLine(str(line["step"]).encode(), key, line["kind"].encode("utf-8"), files,
                   None if item is None else str(item).encode())  # fmt: skip


def _check_index(run: Path) -> list[Problem]:
    """Every line against the index schema; every file the current lines name exists, and
    every JSON document among them matches its schema."""
    index = run / INDEX_FILE
    try:
        raw = index.read_bytes()
    except FileNotFoundError:
        return []
    problems: list[Problem] = []
    current: dict[object, tuple[int, RawLine]] = {}  # later lines replace earlier ones
    for number, row, fields in _index_rows(raw[: raw.rfind(b"\n") + 1]):
        if fields is None:
            if not row.strip():
                continue
            line, problem = parse_line(row)
            if line is None:
                problems.append(Problem(index, number, problem or "not JSON"))
                continue
            errors = line_problems(line)
            if errors:
                problems.extend(Problem(index, number, e) for e in errors)
                continue
            fields = _raw_line(line)
        if fields.kind == b"image":  # a name logged at every step: the last line holds
            main = _IMAGE_FILE.search(fields.files)
            current[main.group(1) if main else fields.key] = (number, fields)
        else:
            current[(fields.kind, fields.key, fields.step, fields.item)] = (number, fields)
    exists: dict[bytes, bool] = {}  # a series file is named by a line per step: look once
    checked: set[bytes] = set()
    images = f"{IMAGES_FOLDER}/".encode()
    for number, fields in sorted(current.values(), key=lambda pair: pair[0]):
        for path, _, schema in file_fields(fields.files):
            found = exists.get(path)
            if found is None:
                found = exists[path] = (run / path.decode("utf-8")).is_file()
            if not found:
                problems.append(Problem(index, number, f"{path.decode()} does not exist"))
            elif schema and path not in checked and not path.startswith(images):
                checked.add(path)
                problems.extend(_check_document(run / path.decode("utf-8"), schema.decode()))
    return problems


def _check_sessions(run: Path) -> list[Problem]:
    """Journals of earlier processes: items logged but not written, writes that failed.

    A session whose writer is running (its run is in progress) is not a problem.
    """
    from .journal import ERRORS_FILE, count_pending
    from .sessions import earlier_sessions, writer_running

    problems = []
    for session in earlier_sessions(run, set()):
        if writer_running(session):
            continue
        pending = count_pending(session)
        if pending:
            problems.append(
                Problem(
                    session,
                    0,
                    f"{pending} item(s) logged but not written yet: their writer stopped "
                    "(Live(resume=True) on this run writes them)",
                )
            )
        errors = session / ERRORS_FILE
        if errors.is_file():
            for number, row in enumerate(errors.read_text(encoding="utf-8").splitlines(), 1):
                line, _ = parse_line(row)
                if line is not None:
                    what = f"could not be written: {line.get('item')}: {line.get('error')}"
                    problems.append(Problem(errors, number, what))
    return problems


def validate_tree(root: str | os.PathLike[str]) -> list[Problem]:
    """Problems in every run under ``root``."""
    return [problem for run in find_runs(root) for problem in validate_run(run)]
