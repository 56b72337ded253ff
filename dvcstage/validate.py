"""``dvcstage validate``: every sidecar and index line of every run under a folder."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image as PILImage

from . import schemas
from .atomic import is_temporary
from .errors import DvcStageError
from .index import IMAGES_FOLDER, INDEX_FILE, current_lines, read_index
from .names import IMAGE_SUFFIXES


@dataclass(frozen=True)
class Problem:
    """One problem, printed as ``file:line:column: message`` (``file:line:`` without one)."""

    file: Path
    line: int
    message: str
    column: int = 0

    def __str__(self) -> str:
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
    try:
        with PILImage.open(path) as opened:
            opened.load()
    except (OSError, SyntaxError) as exc:
        return [Problem(path, 1, f"not a readable image: {exc}")]
    return []


def validate_run(run: Path) -> list[Problem]:
    """Problems in one run folder: images, sidecars and the index."""
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
    index = run / INDEX_FILE
    contents = read_index(index)
    problems.extend(Problem(index, number, message) for number, message in contents.problems)
    for number, line in current_lines(contents.lines, contents.numbers):
        for file in line["files"]:
            path = run / PurePosixPath(file["path"])
            if not path.is_file():
                problems.append(Problem(index, number, f"{file['path']} does not exist"))
            elif "schema" in file and not path.is_relative_to(run / IMAGES_FOLDER):
                problems.extend(_check_document(path, file["schema"]))
    return problems


def validate_tree(root: str | os.PathLike[str]) -> list[Problem]:
    """Problems in every run under ``root``."""
    return [problem for run in find_runs(root) for problem in validate_run(run)]
