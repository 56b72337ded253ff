"""Small views of a histogram series for ``dvc plots``: a thinned heatmap and the last step.

A series (``plots/histograms/<key>.tsv``) keeps every step's bins. ``dvc plots`` inlines the
whole data file of an entry into its JSON and HTML, so a heatmap drawn from the series itself
grows without bound: 10,000 steps x 32 bins made a 126 MB page. The plot entries read two
derived files instead, rewritten on the series' writer thread as steps are logged:

* ``plots/histogram-views/heatmap/<series>``: at most ``max_steps`` steps of the series
  (every step until then; then every 2nd, every 4th, ... — like TensorBoard, which keeps a
  bounded sample of histograms). Each row adds ``from``: the previous kept step, so a heatmap
  cell spans the steps it stands for (``from`` < step ≤ ``step``).
* ``plots/histogram-views/last/<series>``: the rows of the series' last step.

Both are derived data: rewritten atomically, rebuilt from the series when a resumed run
appends to it again. ``<series>`` is the series path below ``plots/histograms``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .atomic import append_bytes, write_bytes_atomic
from .media.histogram import HISTOGRAMS_FOLDER, TSV_HEADER

VIEWS_FOLDER = PurePosixPath("plots/histogram-views")
HEATMAP_HEADER = b"step\tbin\tlow\thigh\tcount\tfrom\n"
DEFAULT_MAX_STEPS = 500


def heatmap_path(series: PurePosixPath | str) -> PurePosixPath:
    """The heatmap view of ``series`` (run-relative ``plots/histograms/...``)."""
    return VIEWS_FOLDER / "heatmap" / PurePosixPath(series).relative_to(HISTOGRAMS_FOLDER)


def last_path(series: PurePosixPath | str) -> PurePosixPath:
    """The last-step view of ``series`` (run-relative ``plots/histograms/...``)."""
    return VIEWS_FOLDER / "last" / PurePosixPath(series).relative_to(HISTOGRAMS_FOLDER)


def _steps_of(text: bytes) -> list[tuple[int, bytes]]:
    """``(step, rows)`` blocks of a series file, in order; a repeated step keeps its last block."""
    blocks: dict[int, list[bytes]] = {}
    order: list[int] = []
    previous: int | None = None
    for row in text.splitlines(keepends=True)[1:]:
        if not row.endswith(b"\n"):
            break  # a torn tail
        field = row.split(b"\t", 1)[0]
        if not field.isdigit():
            continue
        step = int(field)
        if step != previous:
            if step in blocks:  # logged again at this step: the new block replaces the old
                order.remove(step)
            blocks[step] = []
            order.append(step)
            previous = step
        blocks[step].append(row)
    return [(step, b"".join(blocks[step])) for step in order]


def last_series_block(path: Path, chunk: int = 1 << 16) -> tuple[int, bytes] | None:
    """``(step, rows)`` of the last step in a series file, reading only its end.

    ``None`` when the file is missing or holds no complete row.
    """
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return None
    with handle:
        size = handle.seek(0, 2)
        start = size
        while True:
            start = max(0, start - chunk)
            handle.seek(start)
            tail = handle.read(size - start)
            rows = tail.splitlines(keepends=True)
            if start > 0:
                rows = rows[1:]  # the first row may be cut
            complete = [row for row in rows if row.endswith(b"\n")]
            block: list[bytes] = []
            step: int | None = None
            for row in reversed(complete):
                field = row.split(b"\t", 1)[0]
                if not field.isdigit():
                    if start == 0:
                        break  # the header
                    continue
                if step is None:
                    step = int(field)
                elif int(field) != step:
                    return step, b"".join(reversed(block))
                block.append(row)
            else:
                if start > 0:
                    chunk *= 2
                    continue
            if step is None:
                return None
            return step, b"".join(reversed(block))


class HistogramViews:
    """The two views of one series. Not thread-safe: every call comes from the series' writer
    thread (a series is always written by the same thread, see :meth:`Histogram.shard`)."""

    def __init__(self, run_dir: str | Path, series: str, max_steps: int = DEFAULT_MAX_STEPS):
        if max_steps < 2:
            raise ValueError(f"max_steps: {max_steps!r} is too small; accepted: an int >= 2")
        self.run_dir = Path(run_dir)
        self.series = PurePosixPath(series)
        self.max_steps = max_steps
        self.stride = 1
        self.count = 0  # steps of the series seen so far
        self.kept: list[tuple[int, int, bytes]] = []  # (position, step, rows)
        self.last_step: int | None = None
        self.loaded = False

    def add(self, step: int, rows: bytes) -> None:
        """Take the rows the series just got for ``step`` and update both views."""
        if not self.loaded:
            self._load()
        write_bytes_atomic(self.run_dir / last_path(self.series), TSV_HEADER + rows)
        if step == self.last_step:  # the same step again: its new rows replace the old
            if self.kept and self.kept[-1][1] == step:
                self.kept[-1] = (self.kept[-1][0], step, rows)
                self._rewrite()
            return
        self.last_step = step
        position = self.count
        self.count += 1
        if position % self.stride:
            return
        self.kept.append((position, step, rows))
        if len(self.kept) > self.max_steps:
            self.stride *= 2
            self.kept = [k for k in self.kept if k[0] % self.stride == 0]
            self._rewrite()
        elif len(self.kept) == 1:
            self._rewrite()
        else:
            previous = self.kept[-2][1]
            append_bytes(
                self.run_dir / heatmap_path(self.series),
                _with_from(rows, previous),
                HEATMAP_HEADER,
            )

    def _load(self) -> None:
        """Rebuild from the series file (a resumed run): the steps already in it."""
        self.loaded = True
        path = self.run_dir / self.series
        if not path.is_file():
            return
        for step, rows in _steps_of(path.read_bytes()):
            self.last_step = step
            position = self.count
            self.count += 1
            if position % self.stride == 0:
                self.kept.append((position, step, rows))
                if len(self.kept) > self.max_steps:
                    self.stride *= 2
                    self.kept = [k for k in self.kept if k[0] % self.stride == 0]
        if self.kept:
            self._rewrite()

    def _rewrite(self) -> None:
        write_bytes_atomic(
            self.run_dir / heatmap_path(self.series),
            HEATMAP_HEADER + b"".join(_heatmap_rows(self.kept)),
        )


def _heatmap_rows(kept: Iterable[tuple[int, int, bytes]]) -> Iterable[bytes]:
    previous: int | None = None
    for _, step, rows in kept:
        yield _with_from(rows, step - 1 if previous is None else previous)
        previous = step


def _with_from(rows: bytes, start: int) -> bytes:
    """``rows`` (TSV lines) with a ``from`` column appended."""
    suffix = b"\t%d\n" % start
    return b"".join(row[:-1] + suffix for row in rows.splitlines(keepends=True))


def rebuild_views(run_dir: str | Path, series: PurePosixPath) -> None:
    """Rewrite both views of ``series`` from the series file (after it was cut)."""
    root = Path(run_dir)
    for view in (heatmap_path(series), last_path(series)):
        (root / view).unlink(missing_ok=True)
    views = HistogramViews(root, str(series))
    views._load()
    last = last_series_block(root / series)
    if last is not None:
        write_bytes_atomic(root / last_path(series), TSV_HEADER + last[1])
