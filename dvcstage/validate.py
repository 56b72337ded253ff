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
from .index import INDEX_FILE, current_lines, parse_line, read_index
from .media.base import IMAGES_FOLDER
from .names import IMAGE_SUFFIXES


@dataclass(frozen=True)
class Problem:
    """One problem, printed as ``file:line: message``."""

    file: Path
    line: int
    message: str

    def __str__(self) -> str:
        if self.line <= 0:  # about a whole file or folder
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


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
        return None, [Problem(path, exc.lineno, f"not JSON: {exc.msg}")]
    except UnicodeDecodeError as exc:
        return None, [Problem(path, 1, f"not UTF-8: {exc.reason}")]


def _check_sidecar(path: Path) -> list[Problem]:
    document, problems = _load_json(path)
    if problems:
        return problems
    problems = [Problem(path, 1, p) for p in schemas.schema_errors(schemas.IMAGE_SIDECAR, document)]
    if problems:
        return problems
    for name, mask in (document.get("masks") or {}).items():
        mask_path = path.parent / mask["path"]
        if not mask_path.is_file():
            problems.append(Problem(path, 1, f"masks/{name}: {mask['path']} does not exist"))
            continue
        try:
            with PILImage.open(mask_path) as opened:
                size = opened.size
        except OSError as exc:
            problems.append(Problem(mask_path, 1, f"not a readable PNG: {exc}"))
            continue
        expected = (document.get("width"), document.get("height"))
        if None not in expected and size != expected:
            problems.append(Problem(path, 1, f"masks/{name}: size {size} differs from {expected}"))
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
    problems = [Problem(path, 1, p) for p in schemas.schema_errors(schema, document)]
    for file in document.get("files", []) if isinstance(document, dict) and not problems else []:
        if not (path.parent / file["path"]).is_file():
            problems.append(Problem(path, 1, f"files: {file['path']} does not exist"))
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
    problems.extend(_check_sessions(run))
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
