"""The custom protocol: method names, error codes and typed params and results.

Each TypedDict mirrors a schema in ``schemas/protocol-*.schema.json``; ``docs/protocol.md``
explains them with examples. The server checks incoming params against the params schemas.
"""

from __future__ import annotations

from typing import Literal, TypedDict

RUNS = "dvcstage/runs"
MEDIA = "dvcstage/media"
ITEM = "dvcstage/item"
ITEMS = "dvcstage/items"
SERIES = "dvcstage/series"
CHANGED = "dvcstage/changed"

# JSON-RPC error codes (the server-error range -32099..-32000 is the implementation's).
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
UNKNOWN_RUN = -32001
UNKNOWN_KEY = -32002
UNKNOWN_STEP = -32003
FILE_REFUSED = -32004
REMOTE_FAILED = -32005  # a remote-only experiment could not be fetched

SCHEMAS = {
    RUNS: ("protocol-runs-params", "protocol-runs-result"),
    MEDIA: ("protocol-media-params", "protocol-media-result"),
    ITEM: ("protocol-item-params", "protocol-item-result"),
    ITEMS: ("protocol-items-params", "protocol-items-result"),
    SERIES: ("protocol-series-params", "protocol-series-result"),
    CHANGED: ("protocol-changed", ""),
}


MAX_ERROR_MESSAGE = 2000
MAX_ITEMS = 256  # items one dvcstage/items request may ask for (its params schema's maxItems)


class QueryError(Exception):
    """A request that cannot be answered: sent back as a JSON-RPC error.

    The message is cut to ``MAX_ERROR_MESSAGE`` characters: it may quote what the client sent
    (an unknown run id of any length), and it is logged as well as sent.
    """

    def __init__(self, code: int, message: str) -> None:
        if len(message) > MAX_ERROR_MESSAGE:
            message = f"{message[: MAX_ERROR_MESSAGE - 30]}… ({len(message):,} characters)"
        super().__init__(message)
        self.code = code
        self.message = message


class _RunInfo(TypedDict):
    id: str
    label: str
    revision: str
    kind: Literal["workspace", "commit", "experiment"]
    lastStep: int | None
    dir: str
    folder: str
    items: int


class RunInfo(_RunInfo, total=False):
    """One run (``dvcstage/runs``); revisions and experiments add ``refs``, ``time`` and
    (experiments) ``baseline``; experiments only on a git remote ``remote``."""

    refs: list[str]
    time: int
    baseline: str
    remote: str


class RunsResult(TypedDict):
    """Result of ``dvcstage/runs``."""

    runs: list[RunInfo]


class MediaParams(TypedDict):
    """Params of ``dvcstage/media``."""

    run: str


class _KeyEntry(TypedDict):
    key: str
    kind: str
    steps: list[int]


class KeyEntry(_KeyEntry, total=False):
    """One key of a run (``dvcstage/media``); ``items`` for lists logged under one key."""

    items: list[int]


class MetricEntry(TypedDict):
    """One metric series of a run (``dvcstage/media``)."""

    name: str
    uri: str


class MediaResult(TypedDict):
    """Result of ``dvcstage/media``."""

    run: str
    keys: list[KeyEntry]
    metrics: list[MetricEntry]


class _ItemParams(TypedDict):
    run: str
    key: str
    step: int


class ItemParams(_ItemParams, total=False):
    """Params of ``dvcstage/item``."""

    item: int


class _FileEntry(TypedDict):
    role: str
    path: str
    uri: str
    bytes: int
    exists: bool


class FileEntry(_FileEntry, total=False):
    """One file of an item."""

    name: str
    schema: str


class Link(TypedDict):
    """A path inside the sidecar, resolved: ``pointer`` is its JSON pointer."""

    pointer: str
    uri: str
    exists: bool


class _ItemResult(TypedDict):
    run: str
    key: str
    step: int
    kind: str
    files: list[FileEntry]
    sidecar: dict[str, object] | None
    links: list[Link]
    problems: list[str]


class ItemResult(_ItemResult, total=False):
    """Result of ``dvcstage/item``."""

    item: int
    width: int
    height: int
    facts: dict[str, object]
    time: float


class ItemsParams(TypedDict):
    """Params of ``dvcstage/items``: the params of several ``dvcstage/item`` requests."""

    items: list[ItemParams]


class ItemError(TypedDict):
    """The JSON-RPC error one item of ``dvcstage/items`` got."""

    code: int
    message: str


class ItemAnswer(TypedDict, total=False):
    """One answer of ``dvcstage/items``: ``result`` or ``error``, never both."""

    result: ItemResult
    error: ItemError


class ItemsResult(TypedDict):
    """Result of ``dvcstage/items``: one answer per item asked, in the same order."""

    items: list[ItemAnswer]


class _SeriesParams(TypedDict):
    run: str
    key: str
    kind: Literal["histogram", "metric"]


class SeriesParams(_SeriesParams, total=False):
    """Params of ``dvcstage/series``."""

    item: int


class HistogramBin(TypedDict):
    """One bin of a histogram step."""

    low: float
    high: float
    count: float


class HistogramStep(TypedDict):
    """The bins of one step."""

    step: int
    bins: list[HistogramBin]


class MetricPoint(TypedDict):
    """One metric value (``None`` when not finite)."""

    step: int
    value: float | None


class _SeriesResult(TypedDict):
    run: str
    key: str
    kind: Literal["histogram", "metric"]
    uri: str


class SeriesResult(_SeriesResult, total=False):
    """Result of ``dvcstage/series``: ``steps`` for a histogram, ``points`` for a metric."""

    steps: list[HistogramStep]
    points: list[MetricPoint]


class _ChangedItem(TypedDict):
    key: str
    step: int
    kind: str


class ChangedItem(_ChangedItem, total=False):
    """One new item in ``dvcstage/changed``."""

    item: int


class _ChangedParams(TypedDict):
    run: str
    lastStep: int | None
    items: list[ChangedItem]


class ChangedParams(_ChangedParams, total=False):
    """Params of ``dvcstage/changed``.

    ``reset``: the index was replaced (re-query the run); ``new``: a run appeared;
    ``truncated``: only the last items are listed; ``removed``: a revision's run is gone
    (its ref was deleted); ``kind``: the run's kind (sent for revisions and experiments).
    """

    reset: bool
    new: bool
    truncated: bool
    removed: bool
    kind: Literal["workspace", "commit", "experiment"]
