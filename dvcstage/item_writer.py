"""Writes encoded items into a run folder: files atomically, then one index line each.

Used by the writer process for every journaled item and by the training process for the
few items it writes itself (tiny images, see :mod:`dvcstage.live`). Safe to share between
threads as long as two writes of one target never run at once (the writer gives each target
one thread).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .atomic import append_bytes, link_atomic, write_bytes_atomic
from .histogram_views import HistogramViews, last_series_block
from .index import MediaIndex, index_line
from .media.base import EncodedFile, EncodedItem


class ItemWriter:
    """Writes :class:`EncodedItem` s under ``root`` and appends their lines to ``index``."""

    def __init__(self, root: Path, index: MediaIndex | None) -> None:
        self.root = root
        self.index = index
        self._views: dict[PurePosixPath, HistogramViews] = {}
        self._views_lock = threading.Lock()
        #: While replaying a journal another writer may have applied in part, appends that
        #: are already in their file are skipped (appends are the only writes not idempotent).
        self.replaying = False

    def write(self, item: EncodedItem) -> None:
        """Write every file of ``item`` (appends appended), remove what an earlier write of
        the same item left, then append its index line."""
        sizes = self.write_item_files(item)
        if self.index is not None:
            self.index.append(index_line(item, sizes))

    def write_item_files(self, item: EncodedItem) -> dict[PurePosixPath, int]:
        """The files of :meth:`write`, without the index line; returns their sizes."""
        sizes = self.write_files(item.files, item.step)
        self._remove_stale(item)
        return sizes

    def write_files(self, files: Iterable[EncodedFile], step: int = 0) -> dict[PurePosixPath, int]:
        """Write ``files`` (each atomically, appended or linked); returns their sizes."""
        sizes: dict[PurePosixPath, int] = {}
        for file in files:
            if file.link_of is not None:
                sizes[file.path] = link_atomic(self.root / file.link_of, self.root / file.path)
                continue
            if file.append:
                self._append(file, step)
            else:
                write_bytes_atomic(self.root / file.path, file.data)
            sizes[file.path] = len(file.data)
        return sizes

    def _append(self, file: EncodedFile, step: int) -> None:
        target = self.root / file.path
        if self.replaying and _already_appended(target, step, file.data):
            return
        append_bytes(target, file.data, file.header)
        if file.role == "series":  # a histogram series: keep its dvc plots views current
            self._series_views(file.path).add(step, file.data)

    def _series_views(self, series: PurePosixPath) -> HistogramViews:
        with self._views_lock:
            views = self._views.get(series)
            if views is None:
                views = self._views[series] = HistogramViews(self.root, str(series))
            return views

    def _remove_stale(self, item: EncodedItem) -> None:
        """Delete what an earlier write of the same item left and this one did not write."""
        written = {self.root / f.path for f in item.files}
        for owned in item.owned:
            path = self.root / owned
            if path.is_dir():
                for child in sorted(path.rglob("*"), reverse=True):  # children before parents
                    if child.is_dir():
                        with contextlib.suppress(OSError):
                            child.rmdir()  # only if empty
                    elif child not in written:
                        child.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.rmdir()
            elif path not in written:
                path.unlink(missing_ok=True)


def _already_appended(target: Path, step: int, data: bytes) -> bool:
    """Whether a series already ends with (or is past) this step's block."""
    last = last_series_block(target)
    if last is None:
        return False
    last_step, block = last
    return last_step > step or (last_step == step and block == data)
