"""Read W&B run folders (``dvcstage import wandb``).

Two layouts:

* **A run W&B wrote** (``wandb/offline-run-*`` or ``wandb/run-*``): its ``run-<id>.wandb``
  transaction log is read with W&B's own reader, ``wandb leet inspect --json`` (the ``wandb``
  package, the ``import`` extra); media files come from the run's ``files/`` folder, and the
  full tables (with their image cells) from the run-table artifacts the log lists.
* **Downloaded run files** (a folder with ``wandb-history.jsonl`` — history rows as JSON
  lines, as older W&B run folders hold them and ``run.scan_history()`` rows give —, and
  ``config.yaml`` / ``wandb-summary.json`` / ``media/`` as ``run.file(...).download()``
  leaves them).

History rows become metrics at their ``_step``; media values (``_type`` ``image-file`` with
boxes and masks, ``images/separated``, ``histogram``, ``audio-file``, ``video-file``,
``html-file``, ``object3D-file``, ``molecule-file``, ``table-file``) become dvcstage media at
that step; config becomes ``params.yaml``; the summary's values go to ``metrics.json``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ImportSourceError, MissingOptionalDependencyError
from .source import METRIC, SourceItem, SourceOrigin, SourceRun, all_files, flatten, safe_key

EXTRA_HELP = "pip install 'dvcstage[import]' (W&B's reader of .wandb files)"
LAYOUT_HELP = (
    "a W&B run folder (wandb/offline-run-* or wandb/run-*, with its run-<id>.wandb), a "
    "wandb/ folder or a project folder holding one, or downloaded run files "
    "(wandb-history.jsonl, config.yaml, wandb-summary.json, media/)"
)
DELIMITER = "_wandb_delimeter_"  # sic: W&B's own spelling in its config keys
INTERNAL = ("_step", "_runtime", "_timestamp", "_wandb")

MEDIA_KINDS = {
    "image-file": "image",
    "images/separated": "image",
    "histogram": "histogram",
    "audio-file": "audio",
    "video-file": "video",
    "html-file": "html",
    "object3D-file": "object3d",
    "molecule-file": "molecule",
    "table-file": "table",
}


# -- finding runs --------------------------------------------------------------------------


def _log_of(folder: Path) -> Path | None:
    logs = sorted(folder.glob("run-*.wandb"))
    return logs[0] if logs else None


def _is_export(folder: Path) -> bool:
    return any((folder / name).is_file() for name in ("wandb-history.jsonl", "wandb-summary.json"))


def find_runs(path: Path) -> list[Path]:
    """The run folders ``path`` is or holds (a run, a ``wandb/`` folder, a project folder)."""
    if path.is_file() and path.suffix == ".wandb":
        return [path.parent]
    if not path.is_dir():
        raise ImportSourceError("RUN_DIR", path, "is not a folder or a .wandb file", LAYOUT_HELP)
    if _log_of(path) is not None or _is_export(path):
        return [path]
    if (path / "files").is_dir() and _is_export(path / "files"):
        return [path / "files"]
    base = path / "wandb" if (path / "wandb").is_dir() else path
    runs: dict[Path, Path] = {}
    for child in sorted(base.iterdir()):
        if child.is_dir() and not child.is_symlink() and _log_of(child) is not None:
            runs[child.resolve()] = child
    if not runs:
        raise ImportSourceError("RUN_DIR", path, "holds no W&B run", LAYOUT_HELP)
    return list(runs.values())


# -- reading records ---------------------------------------------------------------------------


def _records(log: Path) -> Iterator[dict[str, Any]]:
    """The records of a ``.wandb`` transaction log, as W&B's reader prints them."""
    try:
        import wandb  # noqa: F401  (only to say which extra is missing)
    except ImportError as exc:
        raise MissingOptionalDependencyError(
            f"dvcstage import wandb needs the wandb package: {EXTRA_HELP}"
        ) from exc
    done = subprocess.run(
        [sys.executable, "-m", "wandb", "leet", "inspect", "--json", str(log)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise ImportSourceError(
            "RUN_DIR",
            log,
            f"could not be read by W&B's reader ({message[-1] if message else done.returncode})",
            "a .wandb log written by wandb, read with a wandb release that has "
            f"`wandb leet inspect` ({EXTRA_HELP})",
        )
    for line in done.stdout.splitlines():
        if line.strip():
            yield json.loads(line)


def _deep_update(target: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_update(target[key], value)
        else:
            target[key] = value


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"boxes.pred.path": p}`` as ``{"boxes": {"pred": {"path": p}}}``."""
    nested: dict[str, Any] = {}
    for key, value in flat.items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def split_row(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A history row's plain values and its media values (``key -> {"_type": ...}``).

    W&B flattens nested keys with ``.``; a media value is the prefix of a ``<prefix>._type``
    key (the shortest, so that a media value's own ``boxes.<group>._type`` stays inside it).
    """
    flat = flatten(row)
    prefixes = sorted((key[: -len("._type")] for key in flat if key.endswith("._type")), key=len)
    media: dict[str, dict[str, Any]] = {}
    for prefix in prefixes:
        if any(prefix.startswith(f"{known}.") for known in media):
            continue
        media[prefix] = {}
    values: dict[str, Any] = {}
    for key, value in flat.items():
        owner = next((p for p in media if key.startswith(f"{p}.")), None)
        if owner is not None:
            media[owner][key[len(owner) + 1 :]] = value
        elif key == "_type":
            continue
        else:
            values[key] = value
    return values, {key: _nest(fields) for key, fields in media.items()}


class RunFiles:
    """Where a run's media files are: its ``files/`` folder, or an artifact's staged copies."""

    def __init__(self, root: Path, manifest: dict[str, str] | None = None) -> None:
        self.root = root
        self.manifest = manifest or {}

    def path(self, relative: str) -> Path:
        staged = self.manifest.get(relative)
        if staged is not None:
            return Path(staged)
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ImportSourceError(
                "media path", relative, "points outside the run's files", "a relative path"
            )
        return path


class WandbRun:
    """The pieces of one W&B run that media conversion needs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config: dict[str, Any] = {}
        self.summary: dict[str, Any] = {}
        self.rows: list[dict[str, Any]] = []
        self.artifacts: dict[str, dict[str, str]] = {}  # client id -> {path: staged file}
        self.run_id = folder.name
        self.files = RunFiles(folder / "files" if (folder / "files").is_dir() else folder)

    def read_log(self, log: Path) -> None:
        for record in _records(log):
            kind = record.get("type")
            body = record.get(kind, {}) if isinstance(kind, str) else {}
            if kind == "run":
                self.run_id = body.get("run_id", self.run_id)
                _deep_update(self.config, body.get("config", {}).get("update", {}))
            elif kind == "config":
                _deep_update(self.config, body.get("update", {}))
            elif kind == "history":
                row = dict(body.get("item", {}))
                if "_step" not in row:
                    row["_step"] = body.get("step", {}).get("num", len(self.rows))
                self.rows.append(row)
            elif kind == "summary":
                self.summary.update(body.get("update", {}))
                for key in body.get("remove", []) or []:
                    self.summary.pop(key, None)
            elif kind == "artifact":
                contents = body.get("manifest", {}).get("contents", [])
                self.artifacts[body.get("client_id", "")] = {
                    entry["path"]: entry["local_path"]
                    for entry in contents
                    if entry.get("local_path")
                }

    def read_export(self, folder: Path) -> None:
        history = folder / "wandb-history.jsonl"
        if history.is_file():
            for number, line in enumerate(history.read_text(encoding="utf-8").splitlines()):
                if line.strip():
                    row = json.loads(line)
                    row.setdefault("_step", number)
                    self.rows.append(row)
        summary = folder / "wandb-summary.json"
        if summary.is_file():
            self.summary.update(flatten(json.loads(summary.read_text(encoding="utf-8"))))
        config = folder / "config.yaml"
        if config.is_file():
            from ruamel.yaml import YAML

            loaded = YAML(typ="safe").load(config.read_text(encoding="utf-8")) or {}
            for key, value in loaded.items():
                # config.yaml keeps each entry as {"value": ..., "desc": ...}
                self.config[key] = value.get("value") if isinstance(value, dict) else value

    def class_labels(self, kind: str, key: str, name: str) -> dict[int, str]:
        """Class labels W&B keeps in the config (``_wandb``) for a mask or box group."""
        table = self.config.get("_wandb", {}).get(f"{kind}/class_labels", {})
        entry = table.get(f"{key}{DELIMITER}{name}", {})
        value = entry.get("value", {}) if isinstance(entry, dict) else {}
        return {int(k): str(v) for k, v in value.items()}


# -- media -------------------------------------------------------------------------------------


def _classes(files: RunFiles, value: dict[str, Any]) -> dict[int, str]:
    """The class labels of a table cell: its ``classes`` file (``{"class_set": [...]}``)."""
    ref = value.get("classes")
    if not isinstance(ref, dict) or "path" not in ref:
        return {}
    document = json.loads(files.path(ref["path"]).read_text(encoding="utf-8"))
    return {int(c["id"]): str(c["name"]) for c in document.get("class_set", [])}


def _boxes(
    run: WandbRun, files: RunFiles, key: str, groups: dict[str, Any], cell_labels: dict[int, str]
) -> dict[str, Any]:
    """Box groups: a file reference per group (logged images) or the box list (table cells)."""
    boxes = {}
    for group, ref in groups.items():
        if isinstance(ref, list):
            data: dict[str, Any] = {"box_data": ref, "class_labels": cell_labels}
        else:
            data = json.loads(files.path(ref["path"]).read_text(encoding="utf-8"))
        labels = data.get("class_labels") or run.class_labels("bounding_box", key, group)
        boxes[group] = {
            "box_data": data.get("box_data", []),
            "class_labels": {int(k): str(v) for k, v in labels.items()},
        }
    return boxes


def _masks(
    run: WandbRun, files: RunFiles, key: str, groups: dict[str, Any], cell_labels: dict[int, str]
) -> dict[str, Any]:
    masks = {}
    for name, ref in groups.items():
        mask: dict[str, Any] = {"path": str(files.path(ref["path"]))}
        labels = run.class_labels("mask", key, name) or cell_labels
        if labels:
            mask["class_labels"] = labels
        masks[name] = mask
    return masks


def _image(run: WandbRun, files: RunFiles, key: str, value: dict[str, Any]) -> Any:
    from ..media.image import Image

    labels = _classes(files, value)
    return Image(
        str(files.path(value["path"])),
        caption=value.get("caption"),
        boxes=_boxes(run, files, key, value.get("boxes", {}), labels) or None,
        masks=_masks(run, files, key, value.get("masks", {}), labels) or None,
    )


def _images(run: WandbRun, key: str, value: dict[str, Any]) -> list[Any]:
    from ..media.image import Image

    names = value.get("filenames", [])
    captions = value.get("captions") or [None] * len(names)
    all_boxes = value.get("all_boxes") or [{}] * len(names)
    all_masks = value.get("all_masks") or [{}] * len(names)
    images = []
    for name, caption, boxes, masks in zip(names, captions, all_boxes, all_masks, strict=False):
        images.append(
            Image(
                str(run.files.path(name)),
                caption=caption if isinstance(caption, str) else None,
                boxes=_boxes(run, run.files, key, boxes or {}, {}) or None,
                masks=_masks(run, run.files, key, masks or {}, {}) or None,
            )
        )
    return images


def _table(run: WandbRun, key: str, value: dict[str, Any]) -> Any:
    from ..media.table import Table

    files = run.files
    document: dict[str, Any] | None = None
    reference = value.get("artifact_path", "")
    if reference.startswith("wandb-client-artifact://"):
        client, _, name = reference[len("wandb-client-artifact://") :].partition("/")
        staged = run.artifacts.get(client, {})
        if name in staged and Path(staged[name]).is_file():
            files = RunFiles(run.files.root, staged)
            document = json.loads(Path(staged[name]).read_text(encoding="utf-8"))
    if document is None:
        document = json.loads(run.files.path(value["path"]).read_text(encoding="utf-8"))
    rows = [[_cell(run, files, key, cell) for cell in row] for row in document.get("data", [])]
    return Table(columns=[str(c) for c in document.get("columns", [])], data=rows)


def _cell(run: WandbRun, files: RunFiles, key: str, cell: Any) -> Any:
    if not isinstance(cell, dict) or "_type" not in cell:
        return cell
    kind = cell["_type"]
    if kind == "image-file":
        return _image(run, files, key, cell)
    if kind in MEDIA_KINDS and kind not in ("images/separated", "table-file"):
        return _media(run, files, key, cell)
    return json.dumps(cell, sort_keys=True)


def _media(run: WandbRun, files: RunFiles, key: str, value: dict[str, Any]) -> Any:
    """A dvcstage media object for one W&B media value (not a table, not an image list)."""
    from ..media.audio import Audio
    from ..media.histogram import Histogram
    from ..media.html import Html
    from ..media.molecule import Molecule
    from ..media.object3d import Object3D
    from ..media.video import Video

    kind = value["_type"]
    if kind == "image-file":
        return _image(run, files, key, value)
    if kind == "histogram":
        return Histogram(np_histogram=(value["values"], value["bins"]))
    path = files.path(value["path"])
    caption = value.get("caption")
    if kind == "audio-file":
        return Audio(path, caption=caption)
    if kind == "video-file":
        return Video(path, caption=caption)
    if kind == "html-file":
        return Html(path, inject=False)
    if kind == "object3D-file":
        return Object3D(path, caption=caption)
    if kind == "molecule-file":
        return Molecule(path, caption=caption)
    raise ImportSourceError(
        "media", kind, "is not a W&B media type dvcstage reads", str(MEDIA_KINDS)
    )


def _loader(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: function(*args)


def _item(run: WandbRun, step: int, key: str, value: dict[str, Any]) -> SourceItem | None:
    kind = value.get("_type")
    if kind == "images/separated":
        count = int(value.get("count", len(value.get("filenames", []))))
        return SourceItem(step, safe_key(key), "image", _loader(_images, run, key, value), count)
    if kind == "table-file":
        return SourceItem(step, safe_key(key), "table", _loader(_table, run, key, value))
    if kind in MEDIA_KINDS:
        return SourceItem(
            step, safe_key(key), MEDIA_KINDS[kind], _loader(_media, run, run.files, key, value)
        )
    return None


def _is_metric(value: Any) -> bool:
    return isinstance(value, (int, float, str))  # bool is an int: W&B logs them as 0/1


def _source_files(folder: Path) -> list[Path]:
    log = _log_of(folder)
    if log is None:
        return all_files([folder])
    return [log, *all_files([folder / "files"])] if (folder / "files").is_dir() else [log]


def origin_of(path: Path) -> SourceOrigin:
    """The files of every run at ``path`` (nothing read yet)."""
    return SourceOrigin("wandb", path, [f for run in find_runs(path) for f in _source_files(run)])


def read_run(folder: Path) -> SourceRun:
    """Read one W&B run folder into a :class:`SourceRun`."""
    run = WandbRun(folder)
    log = _log_of(folder)
    if log is not None:
        run.read_log(log)
    else:
        run.read_export(folder)
    source = SourceRun(name=run.run_id, source="wandb", path=folder, files=_source_files(folder))
    source.params = {k: v for k, v in run.config.items() if not k.startswith("_")}
    skipped: dict[str, str] = {}
    for row in run.rows:
        step = int(row.get("_step", 0))
        values, media = split_row(row)
        for key, value in values.items():
            if key.startswith(INTERNAL) or value is None:
                continue
            if _is_metric(value):
                source.items.append(
                    SourceItem(step, safe_key(key), METRIC, _loader(lambda v: v, value))
                )
            else:
                skipped.setdefault(key, f"{key!r}: a {type(value).__name__} value, not a metric")
        for key, fields in media.items():
            item = _item(run, step, key, fields)
            if item is None:
                skipped.setdefault(key, f"{key!r}: W&B type {fields.get('_type')!r}")
            else:
                source.items.append(item)
    history_keys = {item.key for item in source.items}
    values, media = split_row(run.summary)
    for key, value in values.items():
        if key.startswith(INTERNAL) or not _is_metric(value):
            continue
        source.summary[safe_key(key)] = value
    for key, fields in media.items():
        if fields.get("_type") == "histogram" and safe_key(key) not in history_keys:
            source.summary[safe_key(key)] = _media(run, run.files, key, fields)
    source.notes.extend(skipped.values())
    return source


def read_wandb(path: Path) -> list[SourceRun]:
    """Every run ``path`` is or holds."""
    return [read_run(folder) for folder in find_runs(path)]
