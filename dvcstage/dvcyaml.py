"""The ``dvc.yaml`` entries :class:`dvcstage.Live` keeps: DVCLive's, plus histogram series.

The entries are per folder or per series, never per image, so ``dvc.yaml`` does not change
as steps go by: images are DVCLive's folder entry (``plots/images``). A file whose entries
are already right is not rewritten at all (a pipeline's ``dvc.yaml`` stays byte-identical
across runs). Older dvcstage versions listed every image; those entries are dropped when the
file is next written.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import io
import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dvclive.plots.metric import Metric
from dvclive.utils import rel_path

from .atomic import write_text_atomic
from .histogram_views import heatmap_path, last_path
from .plot_templates import histogram_plot_entries

if TYPE_CHECKING:
    from .live import Live

# One image entry as older versions wrote it: recognised and dropped before a merge (a YAML
# round trip over thousands of them takes seconds).
_OLD_IMAGE_ENTRY = re.compile(
    r'^[ \t]*- "(?:[^"\\]|\\.)*": \{y: \{"(?:[^"\\]|\\.)*": image\}\}[ \t]*\n', re.MULTILINE
)
# A top-level "plots:" whose next line is neither a list item nor indented: an empty list.
_EMPTY_PLOTS = re.compile(r"^plots:[ \t]*(?:\n|\Z)(?![ \t]*-|[ \t]+\S)", re.MULTILINE)
_SECTIONS = ("params", "metrics", "plots", "artifacts")


def desired_dvcyaml(live: Live) -> dict[str, Any]:
    """What DVCLive would write, plus two entries per histogram series
    (``plots/histograms/<key>.tsv``): a heatmap over steps and the last step overlaid across
    revisions, drawn by dvcstage's templates."""
    dvcyaml_dir = Path(live.dvc_file).parent.absolute().as_posix()
    content: dict[str, Any] = {}
    if live._params:
        content["params"] = [rel_path(live.params_file, dvcyaml_dir)]
    if live._metrics or live.summary:
        content["metrics"] = [rel_path(live.metrics_file, dvcyaml_dir)]
    plots: list[Any] = []
    metrics_path = Path(live.plots_dir) / Metric.subfolder
    if metrics_path.exists():
        plots.append({rel_path(metrics_path, dvcyaml_dir): {"x": "step"}})
    if live._has_images:  # a folder of images only (sidecars and masks stay beside them)
        folder = live.previews_dir if live._previews else live.images_dir
        plots.append(rel_path(folder, dvcyaml_dir))
    for plot in live._plots.values():
        plots.append({rel_path(plot.output_path, dvcyaml_dir): plot.plot_config})
    if live._histogram_series:
        prefix = rel_path(live.dir, dvcyaml_dir)
        for key, series in sorted(live._histogram_series.items()):
            plots.extend(
                histogram_plot_entries(
                    f"{prefix}/{series}",
                    key,
                    heatmap=f"{prefix}/{heatmap_path(series)}",
                    last=f"{prefix}/{last_path(series)}",
                )
            )
    if plots:
        content["plots"] = plots
    if live._artifacts:
        content["artifacts"] = copy.deepcopy(live._artifacts)
        for artifact in content["artifacts"].values():
            artifact["path"] = rel_path(artifact["path"], dvcyaml_dir)
    return content


def _owned(entry: Any, live_prefix: str) -> bool:
    """Whether a dvc.yaml entry is the run's (DVCLive's rule: it names the run's folder)."""
    if isinstance(entry, str):
        return live_prefix in entry
    if isinstance(entry, dict) and len(entry) == 1:
        return live_prefix in str(next(iter(entry)))
    return False


def _current_entries(text: str, live_prefix: str) -> dict[str, Any] | None:
    """The run's entries in ``text`` as plain data, ``None`` if the file cannot be read."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        loaded = YAML(typ="safe", pure=True).load(text)
    except YAMLError:
        return None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        return None
    found: dict[str, Any] = {}
    for section in _SECTIONS:
        value = loaded.get(section)
        if section == "artifacts":
            if isinstance(value, dict):
                found[section] = value
        elif isinstance(value, list):
            owned = [entry for entry in value if _owned(entry, live_prefix)]
            if owned:
                found[section] = owned
    return found


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


_SEQUENCE_ITEM = re.compile(r"^(?P<key>[ ]*)[^ #\n-][^\n]*:[ ]*\n(?P<dash>[ ]*)- ", re.MULTILINE)
_NESTED_KEY = re.compile(
    r"^(?P<outer>[ ]*)[^ #\n-][^\n]*:[ ]*\n(?P<inner>[ ]+)[^ #\n-]", re.MULTILINE
)


def _yaml_like(text: str) -> Any:
    """A round-trip YAML that writes in the style of ``text``: its indentation of mappings
    and of lists (``outs:\n  - x`` or ``outs:\n- x``), its quotes, its comments."""
    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.preserve_quotes = True
    yaml.width = 4096  # never wrap a long entry
    nested = _NESTED_KEY.search(text)
    mapping = len(nested["inner"]) - len(nested["outer"]) if nested else 2
    item = _SEQUENCE_ITEM.search(text)
    offset = max(0, len(item["dash"]) - len(item["key"])) if item else 0
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _merged(text: str, live_prefix: str, content: dict[str, Any]) -> str:
    """``text`` with the run's entries replaced by ``content``'s: DVCLive's merge
    (``dvclive.dvc.update_dvcyaml``: entries naming the run's folder are the run's, the rest
    are kept in place), written in the file's own style."""
    from ruamel.yaml.comments import CommentedMap

    yaml = _yaml_like(text)
    document = yaml.load(text) if text.strip() else None
    if document is None:
        document = CommentedMap()
    for section in ("params", "metrics", "plots"):
        kept = [e for e in document.get(section) or [] if not _owned(e, live_prefix)]
        entries = kept + list(content.get(section, []))
        if entries:
            document[section] = (
                entries if section not in document else _update(document[section], entries)
            )
        elif section in document:
            del document[section]
    artifacts = {
        name: meta
        for name, meta in (document.get("artifacts") or {}).items()
        if live_prefix not in str(meta.get("path", live_prefix))
    }
    artifacts.update(content.get("artifacts", {}))
    if artifacts:
        document["artifacts"] = artifacts
    elif "artifacts" in document:
        del document["artifacts"]
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return buffer.getvalue()


def _update(old: Any, entries: list[Any]) -> Any:
    """``old`` (a YAML list, with its comments) holding ``entries``."""
    old[:] = entries
    return old


def write_dvcyaml(
    dvc_file: str,
    live_dir: str,
    content: dict[str, Any],
    warn: Callable[..., None] | None = None,
) -> bool:
    """Make ``dvc_file`` hold ``content`` as the run's entries; returns whether it wrote.

    Entries the user wrote (stages, other plots) are kept. A file that already holds exactly
    these entries is left untouched. A ``dvc.yaml`` that cannot be parsed is left as it is,
    with a warning (DVCLive's behaviour): logging goes on.
    """
    path = Path(dvc_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _folder_lock(path.parent):
        return _write_locked(path, live_dir, content, warn)


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Serialise read-merge-write of one ``dvc.yaml`` between processes (runs sharing it):
    a lock on its folder, which the atomic rename of the file does not replace."""
    fd = os.open(folder, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write_locked(
    path: Path, live_dir: str, content: dict[str, Any], warn: Callable[..., None] | None
) -> bool:
    dvc_file = str(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    dvcyaml_dir = path.parent.absolute()
    live_prefix = os.path.relpath(Path(live_dir).absolute(), dvcyaml_dir) + "/"
    current = _current_entries(text, live_prefix)
    if current is None:
        if warn is not None:
            warn("dvcstage: %s is not valid YAML; its entries were not updated", dvc_file)
        return False
    wanted = {k: v for k, v in content.items() if v}
    unchanged = _canonical(current) == _canonical(wanted) and not _OLD_IMAGE_ENTRY.search(text)
    if path.exists() and unchanged:  # DVCLive writes even an empty file: so do we
        return False
    text = _EMPTY_PLOTS.sub("", _OLD_IMAGE_ENTRY.sub("", text))
    try:
        merged = _merged(text, live_prefix, content)
    except Exception as exc:  # DVCLive warns about a dvc.yaml it cannot merge
        if warn is None:
            raise
        warn("dvcstage: could not update %s: %s", dvc_file, exc)
        return False
    write_text_atomic(path, merged)
    return True


def render_image_entry(path: str, indent: str = "") -> str:
    """One image entry as older versions wrote it (for tools reading such files)."""
    quoted = json.dumps(path, ensure_ascii=False)
    return f"{indent}- {quoted}: {{y: {{{quoted}: image}}}}\n"
