"""Small images sent inside the answer that names them, not fetched one by one.

A slider move shows a step of every image cell on screen; each image fetched on its own costs
Chromium's network stack and this server an HTTP request (a few ms of CPU each, more than
decoding the picture). So the images of a ``dvcstage/items`` answer that are small enough get
their bytes attached, base64, as ``data`` beside their ``uri`` (``files[].data`` in
``schemas/protocol-item-result.schema.json``), read through the same checks as
``/files/...`` (:meth:`FileRoots.resolve`: inside a root, not on the deny list, no foreign hard
links). A file refused or unreadable is left as it is: the panel fetches it and shows why.
"""

from __future__ import annotations

import base64
from typing import Any

from .files import FILES_PREFIX, FileRefusedError, FileRoots

ITEMS = "dvcstage/items"
INLINE_MAX_BYTES = 64 * 1024  # one image at most (larger ones are fetched)
INLINE_TOTAL_BYTES = 4 * 1024 * 1024  # one answer at most


def inline_images(method: str, result: Any, roots: FileRoots) -> None:
    """Attach ``data`` to the small existing images of a ``dvcstage/items`` ``result`` whose
    URIs are already ``/files/...`` URLs (in place: ``result`` is the copy made for one panel)."""
    if method != ITEMS or not isinstance(result, dict) or not isinstance(result.get("items"), list):
        return
    budget = INLINE_TOTAL_BYTES
    for answer in result["items"]:
        item = answer.get("result") if isinstance(answer, dict) else None
        files = item.get("files") if isinstance(item, dict) else None
        for entry in files if isinstance(files, list) else []:
            if not isinstance(entry, dict) or entry.get("role") != "image":
                continue
            uri, size = entry.get("uri"), entry.get("bytes")
            if entry.get("exists") is not True:
                continue
            if not isinstance(uri, str) or not uri.startswith(FILES_PREFIX):
                continue
            if not isinstance(size, int) or size > min(INLINE_MAX_BYTES, budget):
                continue
            data = _read(roots, uri, min(INLINE_MAX_BYTES, budget))
            if data is not None:
                budget -= len(data)
                entry["data"] = base64.b64encode(data).decode("ascii")


def _read(roots: FileRoots, url: str, limit: int) -> bytes | None:
    """The bytes of the file ``url`` names if it may be served and holds at most ``limit``."""
    root, _, rest = url[len(FILES_PREFIX) :].partition("/")
    try:
        path = roots.resolve(root, rest.split("?", 1)[0])
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except (FileRefusedError, OSError):
        return None
    return data if len(data) <= limit else None
