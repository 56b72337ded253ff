"""Finding runs and keeping their media indexes in memory, tailing them as they grow.

A run is a folder holding a media index, ``media.jsonl`` (see ``dvcstage.index``). A
:class:`RunIndex` loads one index and then reads only what was appended since its byte
offset. A last line without its newline is a write in progress (or torn by a crash): it is
left for the next read. Bad lines become problems, never exceptions.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .fastline import Columns, split_lines, whole_block

INDEX_FILE = "media.jsonl"
SKIP_DIRS = frozenset(
    {".git", ".dvc", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache", ".tox"}
)
# A run's output folders, beside its media.jsonl: not searched for runs.
RUN_OUTPUT_DIRS = frozenset({"plots", "media"})
MAX_SCAN_DEPTH = 16
MAX_LINE_BYTES = 4 * 1024 * 1024
READ_CHUNK = 4 * 1024 * 1024
MAX_PROBLEMS = 1000

GC_PAUSE_BYTES = 1024 * 1024
ItemKey = tuple[str, int, int]


@contextlib.contextmanager
def _collector_paused(pause: bool) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large block is taken.

    Taking 100,000 lines makes some 300,000 small objects, none of them garbage; the
    collector would walk them over and over (about a third of the load time).
    """
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def find_index_files(folder: Path, max_depth: int = MAX_SCAN_DEPTH) -> list[Path]:
    """Every ``media.jsonl`` under ``folder``, skipping VCS, DVC and environment folders.

    Symbolic links to folders are not followed (they could lead outside the workspace or
    loop). A run's own output folders (``plots``, ``media`` beside its ``media.jsonl``) are
    not entered: they hold the run's items (10,000s of files and folders in a long run),
    never another run, and walking them would slow every rescan.
    """
    found: list[Path] = []
    base_depth = len(folder.parts)
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        is_run = INDEX_FILE in files
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS
            and not (is_run and d in RUN_OUTPUT_DIRS)
            and len(here.parts) - base_depth < max_depth
        )
        if is_run and not (here / INDEX_FILE).is_symlink():
            found.append(here / INDEX_FILE)
    return sorted(found)


class IndexLine(NamedTuple):
    """One valid-looking index line: its identity, kind and raw text.

    A named tuple rather than a dataclass: a run holds one per line (100,000 and more), and
    a tuple is quicker to make and smaller.
    """

    key: str
    step: int
    item: int
    has_item: bool
    kind: str
    number: int
    raw: bytes

    def parsed(self) -> dict[str, Any]:
        """The line as a dict (parsed again: lines are kept as bytes to save memory)."""
        value: dict[str, Any] = json.loads(self.raw)
        return value


@dataclass
class KeyInfo:
    """What one key holds: its kind, the steps and the list positions seen."""

    kind: str
    steps: set[int] = field(default_factory=set)
    items: set[int] = field(default_factory=set)
    _sorted: list[int] | None = None

    def add(self, step: int, item: int | None) -> None:
        """Record ``step`` (and a list position)."""
        if step not in self.steps:
            self.steps.add(step)
            self._sorted = None
        if item is not None:
            self.items.add(item)

    def sorted_steps(self) -> list[int]:
        """The steps in order (cached until a new step arrives)."""
        if self._sorted is None:
            self._sorted = sorted(self.steps)
        return self._sorted


def check_line(value: Any) -> str | None:
    """Why ``value`` cannot be used as an index line, or ``None`` if it can.

    A quick structural check (the full schema check belongs to the diagnostics).
    """
    if not isinstance(value, dict):
        return "not a JSON object"
    key, step, kind, files = (value.get(k) for k in ("key", "step", "kind", "files"))
    item = value.get("item", 0)
    if value.get("v") != 1:
        return "v: must be 1"
    if not isinstance(key, str) or not key:
        return "key: must be a non-empty string"
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        return "step: must be an integer >= 0"
    if isinstance(item, bool) or not isinstance(item, int) or item < 0:
        return "item: must be an integer >= 0"
    if not isinstance(kind, str) or not kind:
        return "kind: must be a non-empty string"
    if not isinstance(files, list) or not files:
        return "files: must be a non-empty array"
    for file in files:
        if not isinstance(file, dict) or not isinstance(file.get("path"), str):
            return "files: each must be an object with a string path"
        if not isinstance(file.get("role"), str):
            return "files: each must have a string role"
    return None


@dataclass
class Appended:
    """What one :meth:`RunIndex.refresh` found: new lines, or that the index was replaced.

    The lines are made when asked for (:attr:`lines`): a whole index loaded at start has no
    reader for them.
    """

    reset: bool = False
    count: int = 0
    _index: RunIndex | None = None
    _start: int = 0

    @property
    def lines(self) -> list[IndexLine]:
        """The valid lines read, in order."""
        if self._index is None or not self.count:
            return []
        return self._index.lines_at(range(self._start, self._start + self.count))


class LatestLines(Mapping[ItemKey, IndexLine]):
    """The latest line of each (key, step, item) of a :class:`RunIndex`, as a read-only mapping.

    Built when first looked into (``len`` of an index without list items needs no table):
    the first answers of a freshly started server do not pay for it.
    """

    def __init__(self, index: RunIndex) -> None:
        self._index = index

    def __getitem__(self, item: ItemKey) -> IndexLine:
        return self._index.line_at(self._index._table()[item])

    def __iter__(self) -> Iterator[ItemKey]:
        return iter(self._index._table())

    def __len__(self) -> int:
        return self._index._distinct_items()


class RunIndex:
    """A run's media index in memory: latest line per (key, step, item), steps per key.

    The valid lines are kept as columns (their raw bytes, key, step, list position, whether
    the line has an ``item``, kind and line number), not as one object per line: a run of
    100,000 items loads in one ``findall`` and a few list operations. :attr:`latest` gives
    :class:`IndexLine` objects on demand.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.line_count = 0
        self.keys: dict[str, KeyInfo] = {}
        self.last_step: int | None = None
        self.problems: list[tuple[int, str]] = []
        self.latest = LatestLines(self)
        self._identity: tuple[int, int] | None = None
        self._size_seen = -1
        self._skipping = False
        self._clear_columns()

    def _clear_columns(self) -> None:
        self._rows: list[bytes] = []
        self._keys: list[str] = []
        self._steps: list[int] = []
        self._positions: list[int] = []
        self._listed: list[bool] = []
        self._kinds: list[str] = []
        self._numbers: list[int] = []
        self._any_listed = False
        self._latest: dict[ItemKey, int] | None = {}  # None: not built since rows were taken

    def _clear(self) -> None:
        self.offset = 0
        self.line_count = 0
        self._clear_columns()
        self.keys.clear()
        self.last_step = None
        self.problems.clear()
        self._size_seen = -1
        self._skipping = False

    def line_at(self, row: int) -> IndexLine:
        """The valid line at ``row`` (0-based among the valid lines)."""
        return IndexLine(
            self._keys[row],
            self._steps[row],
            self._positions[row],
            self._listed[row],
            self._kinds[row],
            self._numbers[row],
            self._rows[row],
        )

    def lines_at(self, rows: range) -> list[IndexLine]:
        """The valid lines at ``rows``."""
        at = slice(rows.start, rows.stop)
        return list(
            map(
                IndexLine,
                self._keys[at],
                self._steps[at],
                self._positions[at],
                self._listed[at],
                self._kinds[at],
                self._numbers[at],
                self._rows[at],
            )
        )

    def _table(self) -> dict[ItemKey, int]:
        """(key, step, item) -> row of its latest line (built on first use, then kept)."""
        if self._latest is None:
            self._latest = dict(
                zip(
                    zip(self._keys, self._steps, self._positions, strict=True),
                    range(len(self._rows)),
                    strict=False,
                )
            )
        return self._latest

    def _distinct_items(self) -> int:
        if self._latest is None and not self._any_listed:
            # one item per (key, step): the steps seen per key say how many
            return sum(len(info.steps) for info in self.keys.values())
        return len(self._table())

    def _problem(self, number: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((number, message))

    def refresh(self) -> Appended:
        """Read what was appended since the last call; reload if the file was replaced."""
        result = Appended()
        try:
            stat = self.path.stat()
        except OSError:
            if self._identity is not None:
                self._identity = None
                self._clear()
                result.reset = True
            return result
        identity = (stat.st_dev, stat.st_ino)
        if self._identity is not None and (
            identity != self._identity or stat.st_size < self.offset
        ):
            self._clear()
            result.reset = True
        self._identity = identity
        if stat.st_size == self._size_seen:
            return result
        self._size_seen = stat.st_size
        first = len(self._rows)
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                self._read_from(handle)
        except OSError as exc:
            self._problem(self.line_count + 1, f"cannot read: {exc}")
        result.count = len(self._rows) - first
        result._index = self
        result._start = first
        return result

    def load_bytes(self, data: bytes) -> None:
        """Take a whole index held in memory (a revision's, read from git)."""
        self._clear()
        self._read_from(io.BytesIO(data))

    def _read_from(self, handle: Any) -> None:
        """Take the valid lines from the handle's position to the last complete line."""
        pending = b""
        while True:
            chunk: bytes = handle.read(READ_CHUNK)
            if not chunk:
                return  # what is left in pending is a torn (or growing) last line
            if self._skipping:  # inside an overlong line: drop it up to its newline
                end = chunk.find(b"\n")
                if end < 0:
                    self.offset += len(chunk)
                    continue
                self.offset += end + 1
                self.line_count += 1
                self._skipping = False
                chunk = chunk[end + 1 :]
            pending += chunk
            last = pending.rfind(b"\n")
            if last >= 0:
                with _collector_paused(last > GC_PAUSE_BYTES):
                    self._take_block(pending[: last + 1])
                self.offset += last + 1
                pending = pending[last + 1 :]
            if len(pending) > MAX_LINE_BYTES:
                # A hostile or broken line: skip it without holding it in memory.
                self._problem(self.line_count + 1, f"line longer than {MAX_LINE_BYTES} bytes")
                self._skipping = True
                self.offset += len(pending)
                pending = b""

    def _take_block(self, block: bytes, lines: list[IndexLine] | None = None) -> None:
        """Take every line of ``block`` (complete lines): the writer's layout through the
        quick pre-parse, anything else through ``json.loads``; the valid lines are added to
        ``lines`` if given.

        A block whose lines are all in the writer's layout (a whole index, usually) is taken
        column by column (:meth:`_take_columns`); any other line by line
        (:meth:`_take_lines`). Both leave the index in exactly the same state.
        """
        columns = whole_block(block)
        if columns is None:
            self._take_lines(block, lines)
        else:
            self._take_columns(columns, lines)

    def _append(
        self,
        rows: list[bytes],
        keys: list[str],
        steps: list[int],
        positions: list[int],
        listed: list[bool],
        kinds: list[str],
        numbers: Iterable[int],
    ) -> None:
        """Add valid lines to the columns (and to the latest-line table if it is built)."""
        first = len(self._rows)
        self._rows += rows
        self._keys += keys
        self._steps += steps
        self._positions += positions
        self._listed += listed
        self._kinds += kinds
        self._numbers += numbers
        self._any_listed = self._any_listed or any(listed)
        if self._latest is not None:
            if first == 0 and not self._latest:
                self._latest = None  # a first block: built when first needed
            else:
                self._latest.update(
                    zip(
                        zip(keys, steps, positions, strict=True),
                        range(first, len(self._rows)),
                        strict=False,
                    )
                )

    def _take_columns(self, columns: Columns, lines: list[IndexLine] | None = None) -> None:
        """Take lines all in the writer's layout, with as little Python work per line as can be."""
        rows, keys, steps, items, kinds = columns
        count = len(rows)
        if not count:
            return
        first_row = len(self._rows)
        first = self.line_count + 1
        has_item = list(map(bool, items))
        positions = list(map(int, items)) if all(has_item) else [int(x or 0) for x in items]
        self._append(rows, keys, steps, positions, has_item, kinds, range(first, first + count))
        if lines is not None:
            lines.extend(self.lines_at(range(first_row, first_row + count)))
        info_of = self.keys
        for key, kind in dict(zip(keys, kinds, strict=True)).items():  # the last kind of each key
            info = info_of.get(key)
            if info is None:
                info_of[key] = KeyInfo(kind=kind)
            else:
                info.kind = kind
        steps_of: dict[str, list[int]] = {key: [] for key in dict.fromkeys(keys)}
        for key, step in zip(keys, steps, strict=True):
            steps_of[key].append(step)
        for key, seen in steps_of.items():
            info = info_of[key]
            if not info.steps.issuperset(seen):
                info.steps.update(seen)
                info._sorted = None
        if any(has_item):
            for key, item, listed in zip(keys, positions, has_item, strict=True):
                if listed:
                    info_of[key].items.add(item)
        top = max(steps)
        if self.last_step is None or top > self.last_step:
            self.last_step = top
        self.line_count += count

    def _take_lines(self, block: bytes, lines: list[IndexLine] | None = None) -> None:
        """Take every line of ``block`` one by one (see :meth:`_take_block`)."""
        for row, fields in split_lines(block):
            self.line_count += 1
            if fields is None:
                self._take(row, self.line_count, lines)
                continue
            key, step, item, kind = fields
            self._record(key, step, item, kind, row, lines)

    def _record(
        self,
        key: str,
        step: int,
        item: int | None,
        kind: str,
        row: bytes,
        lines: list[IndexLine] | None,
    ) -> None:
        """Add one valid line (number ``line_count``)."""
        position = 0 if item is None else item
        listed = item is not None
        self._append([row], [key], [step], [position], [listed], [kind], [self.line_count])
        if lines is not None:
            lines.append(self.line_at(len(self._rows) - 1))
        info = self.keys.get(key)
        if info is None:
            info = self.keys[key] = KeyInfo(kind=kind)
        else:
            info.kind = kind
        info.add(step, item)
        if self.last_step is None or step > self.last_step:
            self.last_step = step

    def _take(self, row: bytes, number: int, lines: list[IndexLine] | None) -> None:
        """Parse one line in full (``json.loads`` and :func:`check_line`) and record it."""
        if not row.strip():
            return
        try:
            value = json.loads(row)
        except (ValueError, RecursionError) as exc:
            self._problem(number, f"not JSON: {exc}")
            return
        problem = check_line(value)
        if problem is not None:
            self._problem(number, problem)
            return
        item = value.get("item")
        self._record(value["key"], value["step"], item, value["kind"], bytes(row), lines)


@dataclass
class Run:
    """One run in a workspace folder."""

    id: str
    folder: Path
    dir: Path
    index: RunIndex

    @property
    def relative_dir(self) -> str:
        """The run's folder relative to its workspace folder (``.`` for the folder itself)."""
        return self.dir.relative_to(self.folder).as_posix()

    def metrics(self) -> list[str]:
        """The run's DVCLive metric series (``plots/metrics/**/*.tsv`` without the suffix)."""
        from .series import metric_names

        return metric_names(self.dir)

    def file_roots(self, folders: list[Path]) -> list[Path]:
        """Where the run's files may lie (the workspace ``folders`` for a workspace run)."""
        return folders


class RunRegistry:
    """Every run under the workspace folders, by id; runs of other revisions apart.

    ``runs`` holds the workspace's runs (watched, and searched by the editor features);
    ``revision_runs`` those of git revisions and DVC experiments, whose files lie in
    ``cache_dir`` once materialised.
    """

    def __init__(self, folders: Iterable[Path], cache_dir: Path | None = None) -> None:
        self.folders = [Path(f).resolve() for f in folders]
        self.runs: dict[str, Run] = {}
        self.revision_runs: dict[str, Run] = {}
        self.cache_dir = cache_dir.resolve() if cache_dir is not None else None

    def get(self, run_id: str) -> Run | None:
        """The run with this id, in the workspace or in a revision."""
        return self.runs.get(run_id) or self.revision_runs.get(run_id)

    def all_ids(self) -> list[str]:
        """Every known run id."""
        return [*self.runs, *self.revision_runs]

    def roots_for(self, run: Run) -> list[Path]:
        """Where ``run``'s files may lie: the workspace folders, or its revision's cache."""
        return run.file_roots(self.folders)

    def run_id(self, folder: Path, run_dir: Path) -> str:
        """``workspace:<dir>``; with several folders, ``<dir>`` starts with the folder name."""
        rel = run_dir.relative_to(folder).as_posix()
        if len(self.folders) > 1:
            rel = f"{folder.name}/{rel}" if rel != "." else folder.name
        return f"workspace:{rel}"

    def folder_of(self, path: Path) -> Path | None:
        """The workspace folder holding ``path``, if any."""
        for folder in self.folders:
            if path == folder or path.is_relative_to(folder):
                return folder
        return None

    def add(self, index_file: Path) -> Run | None:
        """Register the run whose index is ``index_file`` (loaded); ``None`` if known/outside."""
        run_dir = index_file.parent.resolve()
        folder = self.folder_of(run_dir)
        if folder is None:
            return None
        run_id = self.run_id(folder, run_dir)
        if run_id in self.runs:
            return None
        run = Run(id=run_id, folder=folder, dir=run_dir, index=RunIndex(run_dir / INDEX_FILE))
        run.index.refresh()
        self.runs[run_id] = run
        return run

    def remove(self, run_id: str) -> Run | None:
        """Forget the workspace run ``run_id`` (its index is gone); the run, if it was known."""
        return self.runs.pop(run_id, None)

    def find_index_files(self) -> list[Path]:
        """Every index file under the workspace folders (safe to call from another thread)."""
        return [path for folder in self.folders for path in find_index_files(folder)]

    def scan(self) -> list[Run]:
        """Look for runs not known yet; returns the new ones (loaded)."""
        new: list[Run] = []
        for index_file in self.find_index_files():
            run = self.add(index_file)
            if run is not None:
                new.append(run)
        return new

    def run_for_index(self, index_file: Path) -> Run | None:
        """The known run whose index is ``index_file``."""
        resolved = index_file.resolve()
        for run in self.runs.values():
            if run.index.path == resolved:
                return run
        return None
