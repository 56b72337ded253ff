"""Problems in a ``dvc.yaml``'s top-level ``plots``, with the exact span of each.

The document is composed with ruamel.yaml (a dependency of DVC), whose nodes carry the
character offsets of every key and value, so each problem points at the offending text. The
one-line image entries dvcstage writes (``- "p.png": {y: {"p.png": image}}``, one per logged
image: 100,000 in a long run) are recognised by a regular expression and blanked before the
YAML parse, which would take seconds over them:

- YAML that does not parse (``code: "yaml"``, at the parser's mark);
- ``plots`` that is not a list, an entry that is neither a path nor a one-key mapping, an
  entry option that DVC does not know (``template``, ``x``, ``y``, ``x_label``, ``y_label``,
  ``title``) or of the wrong type (``code: "schema"``);
- data sources that do not exist: the keys of ``y`` (``{file: field}``), or the entry's id
  when it has no such mapping (``code: "missing-file"``, a warning: DVC-tracked files may
  just not be pulled);
- a ``dvcstage-*`` template that is not installed in ``.dvc/plots`` (``code:
  "missing-template"``, fixed by ``dvcstage templates install``).

Stages and the rest of the file are DVC's business and are not checked here.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .diagnostics import MAX_PROBLEMS, Problem, Severity
from .paths import is_inside

DVC_YAML = "dvc.yaml"
PLOT_OPTIONS = {
    "template": "a template name or path",
    "x": "a field name, or {file: field}",
    "y": "a field name, a list of them, or {file: field or [fields]}",
    "x_label": "a string",
    "y_label": "a string",
    "title": "a string",
}
OUR_TEMPLATES = "dvcstage-"
_STRING = r'"(?:[^"\\\n]|\\.)*"'
# dvcstage.dvcyaml.render_image_entry's line (keep in step with it).
_IMAGE_ENTRY = re.compile(
    rf"^[ \t]*- ({_STRING}): \{{y: \{{({_STRING}): image\}}\}}[ \t]*\r?$", re.MULTILINE
)
_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"


def _tag(node: Node) -> str:
    return str(node.tag)


def _span(node: Node) -> tuple[int, int]:
    return node.start_mark.index, max(node.end_mark.index, node.start_mark.index + 1)


def _is_str(node: Node) -> bool:
    return isinstance(node, ScalarNode) and _tag(node) == _STR


def _is_str_list(node: Node) -> bool:
    return isinstance(node, SequenceNode) and all(_is_str(x) for x in node.value)


def _problem(node: Node, message: str) -> Problem:
    return Problem(*_span(node), message, Severity.ERROR, "schema")


def _dvc_root(folder: Path, roots: Sequence[Path]) -> Path | None:
    """The nearest folder holding ``.dvc/``, from ``folder`` up to its workspace root."""
    for candidate in (folder, *folder.parents):
        if (candidate / ".dvc").is_dir():
            return candidate
        if any(candidate == root for root in roots):
            return None
    return None


def _check_option(name: str, value: Node) -> bool:
    if name == "x":
        return _is_str(value) or (
            isinstance(value, MappingNode)
            and all(_is_str(k) and _is_str(v) for k, v in value.value)
        )
    if name == "y":
        return (
            _is_str(value)
            or _is_str_list(value)
            or (
                isinstance(value, MappingNode)
                and all(_is_str(k) and (_is_str(v) or _is_str_list(v)) for k, v in value.value)
            )
        )
    return _is_str(value)


def _entries(plots: Node, problems: list[Problem]) -> Iterator[tuple[Node, Any]]:
    """(id node, options mapping node or None) of each well-formed plot entry."""
    for entry in plots.value:
        if _is_str(entry):
            yield entry, None
        elif isinstance(entry, MappingNode) and len(entry.value) == 1:
            key, options = entry.value[0]
            if not _is_str(key):
                problems.append(_problem(key, "plots: a plot id must be a string"))
            elif isinstance(options, MappingNode):
                yield key, options
            elif isinstance(options, ScalarNode) and _tag(options) == _NULL:
                yield key, None
            else:
                problems.append(
                    _problem(options, f"plots/{key.value}: the options must be a mapping")
                )
        else:
            problems.append(
                _problem(entry, "plots: each entry must be a path or a mapping with one plot id")
            )


class _Cuts:
    """Maps offsets in a text with lines cut out back to the original text."""

    def __init__(self) -> None:
        self.at: list[int] = []  # offsets in the cut text where lines were removed
        self.removed: list[int] = []  # characters removed up to and including each cut

    def add(self, at: int, length: int) -> None:
        self.at.append(at)
        self.removed.append((self.removed[-1] if self.removed else 0) + length)

    def original(self, offset: int) -> int:
        """Where ``offset`` of the cut text lies in the original text."""
        i = bisect.bisect_right(self.at, offset)
        return offset + (self.removed[i - 1] if i else 0)

    def map(self, problem: Problem) -> Problem:
        """``problem`` (spanning the cut text) spanning the original text."""
        start, end = self.original(problem.start), self.original(problem.end)
        return Problem(start, end, problem.message, problem.severity, problem.code)


def _image_entries(text: str) -> tuple[str, _Cuts, list[tuple[int, int, str]]]:
    """``text`` without dvcstage's image entry lines, the cuts made, and (start, end, path)
    of each entry's quoted path in ``text``."""
    found: list[tuple[int, int, str]] = []
    pieces: list[str] = []
    cuts = _Cuts()
    kept = last = 0
    for match in _IMAGE_ENTRY.finditer(text):
        try:
            path, source = json.loads(match.group(1)), json.loads(match.group(2))
        except ValueError:
            continue
        if path != source or not isinstance(path, str):
            continue
        found.append((match.start(1), match.end(1), path))
        end = match.end() + 1 if text.startswith("\n", match.end()) else match.end()
        pieces.append(text[last : match.start()])
        kept += match.start() - last
        cuts.add(kept, end - match.start())
        last = end
    if not found:
        return text, cuts, found
    pieces.append(text[last:])
    return "".join(pieces), cuts, found


def dvcyaml_problems(text: str, path: Path, roots: Sequence[Path] = ()) -> list[Problem]:
    """Problems of the top-level ``plots`` of the ``dvc.yaml`` at ``path`` holding ``text``."""
    rest, cuts, images = _image_entries(text)
    try:
        root = YAML(typ="safe", pure=True).compose(rest)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = cuts.original(mark.index) if mark is not None else 0
        message = f"not YAML: {exc.problem or exc.context}"
        return [Problem(at, at + 1, message, Severity.ERROR, "yaml")]
    except (YAMLError, RecursionError) as exc:
        return [Problem(0, 1, f"not YAML: {exc}", Severity.ERROR, "yaml")]
    problems: list[Problem] = []
    folder = path.parent
    for start, end, relative in images:
        if len(problems) >= MAX_PROBLEMS:
            break
        found = _missing(relative, (start, end), folder, roots)
        if found is not None:
            problems.append(found)
    if root is None:
        return problems
    if not isinstance(root, MappingNode):
        return [cuts.map(_problem(root, "dvc.yaml must be a mapping"))]
    plots = next((v for k, v in root.value if _is_str(k) and k.value == "plots"), None)
    if plots is None or (isinstance(plots, ScalarNode) and _tag(plots) == _NULL):
        return problems
    if not isinstance(plots, SequenceNode):
        return [cuts.map(_problem(plots, "plots: must be a list of plot entries")), *problems]
    problems += _plots_problems(plots, folder, roots, cuts)
    return sorted(problems, key=lambda x: x.start)[:MAX_PROBLEMS]


def _plots_problems(
    plots: SequenceNode, folder: Path, roots: Sequence[Path], cuts: _Cuts
) -> list[Problem]:
    problems: list[Problem] = []
    dvc_root = _dvc_root(folder, roots)
    for key, options in _entries(plots, problems):
        if len(problems) >= MAX_PROBLEMS:
            break
        sources: list[Node] = []
        for name_node, value in options.value if options is not None else ():
            name = name_node.value if _is_str(name_node) else None
            if name not in PLOT_OPTIONS:
                problems.append(
                    _problem(
                        name_node,
                        f"plots/{key.value}: unknown option {name_node.value!r} "
                        f"(known: {', '.join(PLOT_OPTIONS)})",
                    )
                )
            elif not _check_option(name, value):
                problems.append(
                    _problem(value, f"plots/{key.value}/{name}: must be {PLOT_OPTIONS[name]}")
                )
            elif name == "y" and isinstance(value, MappingNode):
                sources.extend(k for k, _ in value.value)
            elif name == "template":
                found = _template_problem(value, dvc_root)
                if found is not None:
                    problems.append(found)
        for source in sources or [key]:
            found = _missing(str(source.value), _span(source), folder, roots)
            if found is not None:
                problems.append(found)
    return [cuts.map(x) for x in problems]


def _missing(
    relative: str, span: tuple[int, int], folder: Path, roots: Sequence[Path]
) -> Problem | None:
    """A warning if ``folder / relative`` does not exist (only paths inside ``roots``)."""
    if not relative or "\x00" in relative:
        return None
    try:
        if (folder / relative).exists():  # one stat (no resolve): 100,000s of entries
            return None
    except (OSError, ValueError):
        pass
    if roots and not is_inside(folder / relative, roots):
        return None  # not ours to report on
    return Problem(
        *span,
        f"{relative} does not exist (not yet written, or not pulled: dvc pull)",
        Severity.WARNING,
        "missing-file",
    )


def _template_problem(node: Node, dvc_root: Path | None) -> Problem | None:
    name = str(node.value)
    if not name.startswith(OUR_TEMPLATES) or "/" in name or dvc_root is None:
        return None
    stem = name.removesuffix(".json")
    if (dvc_root / ".dvc" / "plots" / f"{stem}.json").is_file():
        return None
    return Problem(
        *_span(node),
        f"template {name} is not installed in .dvc/plots: run `dvcstage templates install`",
        Severity.WARNING,
        "missing-template",
    )
