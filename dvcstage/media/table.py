"""Tables (W&B's ``Table``): rows of numbers, strings and media cells.

A logged table is one JSON document, ``media/table/<key>/<step>.json``, that holds the
columns and rows; media cells (images with their overlays, audio, video, HTML, 3D objects,
molecules) are written beside it in ``<step>.cells/`` and referenced from their cell.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any, ClassVar

from ..errors import InvalidMediaTypeError, InvalidMediaValueError
from .base import EncodedFile, EncodedItem, Media, MediaSlot
from .image import Image

CELL_HELP = (
    "None, bool, int, float, str, a NumPy scalar, or a media object (dvcstage.Image, Audio, "
    "Video, Html, Object3D, Molecule)"
)


def _relative(path: PurePosixPath, folder: PurePosixPath) -> str:
    return str(path.relative_to(folder))


class Table(Media):
    """A table of values and media, as ``wandb.Table``.

    >>> import dvcstage
    >>> table = dvcstage.Table(columns=["Text", "Predicted", "True"])
    >>> table.add_data("I love my phone", "1", "1")
    >>> len(table.data)
    1

    ``columns`` default to ``["Input", "Output", "Expected"]``. A row with the wrong number
    of cells is an error; so is going beyond ``Table.MAX_ROWS`` rows (10,000 unless raised:
    ``dvcstage.Table.MAX_ROWS = 50_000``) — nothing is dropped silently. A table is copied
    when it is logged, so adding rows afterwards does not change what was logged.
    """

    kind: ClassVar[str] = "table"
    MAX_ROWS: ClassVar[int] = 10_000

    def __init__(
        self,
        columns: Sequence[str] | None = None,
        data: Iterable[Sequence[Any]] | None = None,
        rows: Iterable[Sequence[Any]] | None = None,
        dataframe: Any = None,
    ) -> None:
        sources = [
            name
            for name, v in (("data", data), ("rows", rows), ("dataframe", dataframe))
            if v is not None
        ]
        if len(sources) > 1:
            raise InvalidMediaValueError(
                sources[1], f"given together with {sources[0]}", "one of data, rows, dataframe"
            )
        if dataframe is not None:
            columns, data = self._from_dataframe(dataframe, columns)
        self.columns: list[str] = self._check_columns(
            ["Input", "Output", "Expected"] if columns is None else columns
        )
        self.data: list[list[Any]] = []
        for row in data if data is not None else rows if rows is not None else ():
            self.add_data(*row)

    @staticmethod
    def _from_dataframe(frame: Any, columns: Sequence[str] | None) -> tuple[list[str], list[Any]]:
        if not (hasattr(frame, "columns") and hasattr(frame, "itertuples")):
            raise InvalidMediaTypeError("dataframe", frame, "a pandas.DataFrame")
        names = [str(c) for c in frame.columns] if columns is None else list(columns)
        return names, [list(row) for row in frame.itertuples(index=False, name=None)]

    @staticmethod
    def _check_columns(columns: Any) -> list[str]:
        accepted = "a list of distinct, non-empty str column names"
        if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
            raise InvalidMediaValueError("columns", f"{columns!r} is not a list of names", accepted)
        names = list(columns)
        if not all(isinstance(c, str) and c for c in names):
            raise InvalidMediaValueError(
                "columns", f"{names!r} has a non-str or empty name", accepted
            )
        if len(set(names)) != len(names):
            raise InvalidMediaValueError("columns", f"{names!r} repeats a name", accepted)
        return names

    @staticmethod
    def _check_cell(value: Any, where: str) -> Any:
        if value is None or isinstance(value, (bool, str, Image, Media)):
            if isinstance(value, Media) and value.kind in ("table", "histogram"):
                raise InvalidMediaTypeError(where, value, CELL_HELP + " (not a Table or Histogram)")
            return value
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            number = float(value)
            if not math.isfinite(number):
                return str(number)  # JSON has no NaN or infinity; DVCLive writes them as text
            return number
        item = getattr(value, "item", None)  # NumPy scalars (np.bool_, np.str_, ...)
        if callable(item) and type(value).__module__ == "numpy":
            return Table._check_cell(item(), where)
        raise InvalidMediaTypeError(where, value, CELL_HELP)

    def add_data(self, *data: Any) -> None:
        """Append one row: one value per column."""
        if len(data) != len(self.columns):
            raise InvalidMediaValueError(
                "data",
                f"row {len(self.data)} has {len(data)} cells",
                f"{len(self.columns)} cells, one per column {self.columns}",
            )
        if len(self.data) >= type(self).MAX_ROWS:
            raise InvalidMediaValueError(
                "data",
                f"row {len(self.data)} would exceed Table.MAX_ROWS = {type(self).MAX_ROWS}",
                "at most Table.MAX_ROWS rows; raise it with dvcstage.Table.MAX_ROWS = N",
            )
        row = len(self.data)
        self.data.append(
            [
                self._check_cell(v, f"data[{row}][{c!r}]")
                for c, v in zip(self.columns, data, strict=True)
            ]
        )

    def add_column(self, name: str, data: Sequence[Any]) -> None:
        """Add a column with one value per existing row."""
        self._check_columns([*self.columns, name])
        if len(data) != len(self.data):
            raise InvalidMediaValueError(
                "data", f"{len(data)} values for {len(self.data)} rows", "one value per row"
            )
        checked = [self._check_cell(v, f"data[{i}][{name!r}]") for i, v in enumerate(data)]
        self.columns.append(name)
        for row, value in zip(self.data, checked, strict=True):
            row.append(value)

    def get_column(self, name: str) -> list[Any]:
        """The values of column ``name``."""
        if name not in self.columns:
            raise InvalidMediaValueError("name", f"{name!r} is not a column", str(self.columns))
        index = self.columns.index(name)
        return [row[index] for row in self.data]

    def snapshot(self) -> Table:
        """A copy whose rows no longer change when this table does (taken when logged)."""
        copy = Table.__new__(Table)
        copy.columns = list(self.columns)
        copy.data = [list(row) for row in self.data]
        return copy

    @property
    def held_bytes(self) -> int:
        held = 64 * len(self.data) * len(self.columns)
        for row in self.data:
            held += sum(cell.held_bytes for cell in row if isinstance(cell, (Image, Media)))
        return held

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """The table document and every media cell's files (pure)."""
        folder = slot.file(".json").parent
        cells_dir = slot.stem.with_name(f"{slot.stem.name}.cells")
        files: list[EncodedFile] = []
        rows: list[list[Any]] = []
        for r, row in enumerate(self.data):
            out: list[Any] = []
            for c, cell in enumerate(row):
                if isinstance(cell, (Image, Media)):
                    cell_files, reference = self._encode_cell(cell, cells_dir / f"r{r}c{c}", slot)
                    files.extend(cell_files)
                    out.append(
                        {
                            "_type": reference["_type"],
                            "path": _relative(reference["path"], folder),
                            "files": [_relative(f.path, folder) for f in cell_files],
                        }
                    )
                else:
                    out.append(cell)
            rows.append(out)
        return self.item_with_sidecar(
            slot,
            files,
            {"columns": self.columns, "data": rows},
            facts={"rows": len(self.data), "columns": len(self.columns)},
            owned=(cells_dir,),
            compact=True,
        )

    @staticmethod
    def _encode_cell(
        cell: Image | Media, stem: PurePosixPath, slot: MediaSlot
    ) -> tuple[list[EncodedFile], dict[str, Any]]:
        item = cell.encode(MediaSlot(stem, slot.key, slot.step))
        main = next((f for f in item.files if f.role == cell.kind), item.files[0])
        return list(item.files), {"_type": cell.kind, "path": main.path}
