"""Histograms (W&B's ``Histogram``): one append-only TSV series per key.

``live.log({"gradients": dvcstage.Histogram(grads)})`` at steps 0, 1, 2, ... appends the
bins of each step to ``plots/histograms/gradients.tsv`` (``gradients/<item>.tsv`` for the
items of a list)::

    step	bin	low	high	count
    0	0	-2.91	-2.82	1
    0	1	-2.82	-2.73	0
    ...

One row per bin: the step, the bin's position, its edges and its count (an int, or a float
for a density given through ``np_histogram``). Floats are written with Python's shortest
round-trip ``repr``, so a reader gets back exactly what ``np.histogram`` returned. The header
line is written only when the file is new (:attr:`EncodedFile.header`), so a resumed run
keeps appending to the same series. If one key is logged twice at one step, the file holds
both blocks; readers take the last block of each step (as the index does).

The constructor validates and copies; binning (``np.histogram``) runs in :meth:`encode`, on a
writer thread. A histogram in ``live.summary`` is stored in W&B's summary form
``{"_type": "histogram", "values": [...], "bins": [...]}`` (:meth:`Histogram.to_summary`).
"""

from __future__ import annotations

import math
from pathlib import PurePosixPath
from typing import Any, ClassVar

import numpy as np

from .. import schemas
from ..errors import InvalidMediaTypeError, InvalidMediaValueError
from .base import ITEMS_SUFFIX, EncodedFile, EncodedItem, Media, MediaSlot
from .pixels import array_from_arraylike

HISTOGRAMS_FOLDER = PurePosixPath("plots/histograms")
TSV_HEADER = b"step\tbin\tlow\thigh\tcount\n"
MAX_BINS = 512
SCHEMA = "histogram"

SEQUENCE_HELP = (
    "a non-empty sequence of finite numbers: a list, tuple, NumPy array or array-like "
    "(e.g. a torch tensor; flattened), of bool, integer or float dtype"
)
NP_HISTOGRAM_HELP = (
    "a (counts, bin_edges) pair as np.histogram returns it: 1-D, len(bin_edges) == "
    f"len(counts) + 1, 1 to {MAX_BINS} bins, finite strictly increasing edges, finite counts >= 0"
)
NUM_BINS_HELP = f"an int from 1 to {MAX_BINS}"


def series_path(key: str, item: int | None = None) -> PurePosixPath:
    """The TSV series of ``key`` (``plots/histograms/<key>.tsv``; a list's items
    ``<key>.items/<item>.tsv``, a folder no key can name)."""
    if item is None:
        return HISTOGRAMS_FOLDER / f"{key}.tsv"
    return HISTOGRAMS_FOLDER / f"{key}{ITEMS_SUFFIX}" / f"{item}.tsv"


def _number(value: Any) -> int | float:
    """A NumPy scalar as a plain Python int or float (JSON- and TSV-friendly)."""
    plain = value.item() if isinstance(value, np.generic) else value
    return int(plain) if isinstance(plain, (bool, int)) else float(plain)


def _format(value: int | float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def _numeric_array(value: Any, argument: str, accepted: str) -> np.ndarray:
    """``value`` as a NumPy array of a bool, integer or float dtype (not yet copied)."""
    if isinstance(value, (str, bytes, bytearray, dict, set, frozenset)) or value is None:
        raise InvalidMediaTypeError(argument, value, accepted)
    array = array_from_arraylike(value)
    if array is None:
        if not isinstance(value, (list, tuple, range)):
            raise InvalidMediaTypeError(argument, value, accepted)
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:  # ragged nesting
            raise InvalidMediaValueError(
                argument, f"is not a regular array of numbers ({exc})", accepted
            ) from None
    kind = array.dtype.kind
    if kind not in "biuf":
        raise InvalidMediaValueError(argument, f"has dtype {array.dtype}", accepted)
    return array


def _is_np_histogram_pair(value: Any) -> bool:
    """Whether a positional ``sequence`` is really ``np.histogram``'s ``(counts, edges)``.

    W&B's documentation passes ``np.histogram(...)``'s result positionally. Such a pair is
    ragged (``n`` counts, ``n + 1`` edges), so it cannot be meant as a sequence of numbers.
    """
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    counts, edges = (array_from_arraylike(part) for part in value)
    return (
        counts is not None
        and edges is not None
        and counts.ndim == 1
        and edges.ndim == 1
        and len(edges) == len(counts) + 1
    )


def _check_num_bins(num_bins: Any) -> int:
    if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)):
        raise InvalidMediaTypeError("num_bins", num_bins, NUM_BINS_HELP)
    if not 1 <= int(num_bins) <= MAX_BINS:
        raise InvalidMediaValueError("num_bins", f"{int(num_bins)} is out of range", NUM_BINS_HELP)
    return int(num_bins)


class Histogram(Media):
    """A histogram of a sequence of numbers, or a precomputed ``np.histogram`` (W&B's signature).

    >>> import numpy as np, dvcstage
    >>> hist = dvcstage.Histogram(np.random.default_rng(0).normal(size=1000), num_bins=32)
    >>> hist.num_bins
    32
    >>> summary = dvcstage.Histogram(np_histogram=np.histogram([1, 2, 2, 3], bins=3))
    >>> summary.to_summary()["values"]
    [1, 2, 1]

    Log it with ``live.log({"gradients": hist})`` (appended to the series
    ``plots/histograms/gradients.tsv``) or put it in ``live.summary``.

    Args:
        sequence: numbers to bin with ``np.histogram`` (lists, arrays, tensors; flattened).
            Copied now, binned on a writer thread. A ``(counts, bin_edges)`` pair passed
            here (as W&B's documentation does) is taken as ``np_histogram``.
        np_histogram: ``(counts, bin_edges)`` as ``np.histogram`` returns them, taken as given
            (densities allowed).
        num_bins: bins for ``sequence``, 1 to 512 (default 64).

    Raises:
        InvalidMediaTypeError, InvalidMediaValueError: a bad argument (named in the message).
    """

    kind: ClassVar[str] = "histogram"

    def __init__(self, sequence: Any = None, np_histogram: Any = None, num_bins: int = 64) -> None:
        self.num_bins: int = _check_num_bins(num_bins)
        if np_histogram is None and _is_np_histogram_pair(sequence):
            sequence, np_histogram = None, sequence
        if sequence is None and np_histogram is None:
            raise InvalidMediaValueError(
                "sequence", "neither sequence nor np_histogram was given", "exactly one of them"
            )
        if sequence is not None and np_histogram is not None:
            raise InvalidMediaValueError(
                "np_histogram", "was given together with sequence", "exactly one of them"
            )
        self._values: np.ndarray | None = None
        self._counts: np.ndarray | None = None
        self._edges: np.ndarray
        if sequence is not None:
            self._edges = self._take_sequence(sequence)
        else:
            self._counts, self._edges = self._take_np_histogram(np_histogram)

    def _take_sequence(self, sequence: Any) -> np.ndarray:
        """Copy and check the values; returns the outer edges (cheap: min and max only)."""
        array = _numeric_array(sequence, "sequence", SEQUENCE_HELP)
        if array.size == 0:
            raise InvalidMediaValueError("sequence", "is empty", SEQUENCE_HELP)
        values = np.array(array, copy=True, order="C").reshape(-1)
        if values.dtype == np.bool_:
            values = values.astype(np.uint8)  # np.histogram cannot subtract booleans
        low, high = values.min(), values.max()  # NaN propagates; infinity is an extreme
        if not (np.isfinite(low) and np.isfinite(high)):
            raise InvalidMediaValueError("sequence", "contains NaN or infinity", SEQUENCE_HELP)
        with np.errstate(over="ignore"):
            width = np.float64(high) - np.float64(low)
        if not np.isfinite(width):
            raise InvalidMediaValueError(
                "sequence", f"range [{low}, {high}] is wider than a float holds", SEQUENCE_HELP
            )
        try:  # the edges depend on min and max only: np.histogram's own check, at no cost
            edges = np.histogram_bin_edges(
                np.array([low, high], dtype=values.dtype), bins=self.num_bins
            )
        except ValueError as exc:  # "Too many bins for data range"
            raise InvalidMediaValueError(
                "num_bins",
                f"{self.num_bins} bins cannot split [{low}, {high}] ({exc})",
                "fewer bins for a range this narrow",
            ) from None
        self._values = values
        outer: np.ndarray = edges[[0, -1]]
        return outer

    @staticmethod
    def _take_np_histogram(np_histogram: Any) -> tuple[np.ndarray, np.ndarray]:
        if isinstance(np_histogram, (str, bytes)) or not isinstance(np_histogram, (tuple, list)):
            raise InvalidMediaTypeError("np_histogram", np_histogram, NP_HISTOGRAM_HELP)
        if len(np_histogram) != 2:
            raise InvalidMediaValueError(
                "np_histogram", f"has {len(np_histogram)} parts", NP_HISTOGRAM_HELP
            )
        counts = _numeric_array(np_histogram[0], "np_histogram", NP_HISTOGRAM_HELP)
        edges = _numeric_array(np_histogram[1], "np_histogram", NP_HISTOGRAM_HELP)
        if counts.ndim != 1 or edges.ndim != 1:
            raise InvalidMediaValueError(
                "np_histogram",
                f"counts of shape {counts.shape} and edges of shape {edges.shape} are not 1-D",
                NP_HISTOGRAM_HELP,
            )
        if not 1 <= len(counts) <= MAX_BINS:
            raise InvalidMediaValueError(
                "np_histogram", f"has {len(counts)} bins", NP_HISTOGRAM_HELP
            )
        if len(edges) != len(counts) + 1:
            raise InvalidMediaValueError(
                "np_histogram",
                f"has {len(counts)} counts but {len(edges)} bin edges",
                NP_HISTOGRAM_HELP,
            )
        if counts.dtype == np.bool_:
            counts = counts.astype(np.int64)
        if edges.dtype == np.bool_:
            edges = edges.astype(np.int64)
        if not np.isfinite(counts).all() or (counts < 0).any():
            raise InvalidMediaValueError(
                "np_histogram", "has a negative, NaN or infinite count", NP_HISTOGRAM_HELP
            )
        with np.errstate(over="ignore", invalid="ignore"):
            increasing = bool(np.isfinite(edges).all() and (np.diff(edges) > 0).all())
        if not increasing:
            raise InvalidMediaValueError(
                "np_histogram",
                "has bin edges that are not finite and strictly increasing",
                NP_HISTOGRAM_HELP,
            )
        return np.array(counts, copy=True), np.array(edges, copy=True)

    @property
    def held_bytes(self) -> int:
        """Memory held until written: the copied values (or counts and edges)."""
        held = self._edges.nbytes
        if self._values is not None:
            held += self._values.nbytes
        if self._counts is not None:
            held += self._counts.nbytes
        return held

    @property
    def low(self) -> float:
        """The first bin's lower edge."""
        return float(self._edges[0])

    @property
    def high(self) -> float:
        """The last bin's upper edge."""
        return float(self._edges[-1])

    def bins(self) -> tuple[np.ndarray, np.ndarray]:
        """``(counts, bin_edges)``: ``np.histogram(sequence, bins=num_bins)`` or as given.

        This bins the values (costly for large sequences); :meth:`encode` calls it on a
        writer thread.
        """
        if self._counts is not None:
            return self._counts, self._edges
        assert self._values is not None
        counts, edges = np.histogram(self._values, bins=self.num_bins)
        return counts, edges

    def to_summary(self) -> dict[str, Any]:
        """W&B's summary form, for ``live.summary``: ``{"_type", "values", "bins"}``.

        >>> import dvcstage
        >>> dvcstage.Histogram([0, 1, 1], num_bins=2).to_summary()
        {'_type': 'histogram', 'values': [1, 2], 'bins': [0.0, 0.5, 1.0]}
        """
        counts, edges = self.bins()
        document = {
            "_type": "histogram",
            "values": [_number(c) for c in counts],
            "bins": [_number(e) for e in edges],
        }
        schemas.check_document(SCHEMA, document, "Histogram.to_summary()")
        return document

    def shard(self, slot: MediaSlot) -> str:
        """The series file: every append to one series goes through one writer thread."""
        return str(series_path(slot.key, slot.item))

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """Bin the values and render this step's TSV rows (pure: no I/O)."""
        counts, edges = self.bins()
        rows = []
        for position, count in enumerate(counts):
            low, high = _number(edges[position]), _number(edges[position + 1])
            rows.append(
                f"{slot.step}\t{position}\t{_format(float(low))}\t{_format(float(high))}"
                f"\t{_format(_number(count))}\n"
            )
        total = _number(counts.sum())
        path = series_path(slot.key, slot.item)
        series = EncodedFile(
            path,
            "".join(rows).encode("utf-8"),
            "series",
            append=True,
            header=TSV_HEADER,
        )
        return EncodedItem(
            kind=self.kind,
            key=slot.key,
            step=slot.step,
            files=(series,),
            facts={
                **slot.facts(),
                "bins": len(counts),
                "low": float(edges[0]),
                "high": float(edges[-1]),
                "total": total if math.isfinite(total) else None,
            },
        )

    def __repr__(self) -> str:
        source = "np_histogram" if self._counts is not None else f"{self._values_size} values"
        return f"<dvcstage.Histogram {source} bins={self._bin_count} [{self.low}, {self.high}]>"

    @property
    def _values_size(self) -> int:
        return 0 if self._values is None else int(self._values.size)

    @property
    def _bin_count(self) -> int:
        return self.num_bins if self._counts is None else len(self._counts)
