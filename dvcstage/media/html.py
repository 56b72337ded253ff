"""HTML: ``dvcstage.Html`` (W&B's signature), from a string, an .html file or a file object.

The page is stored as ``media/html/<key>/<step>.html`` beside a ``<step>.json`` sidecar.
Nothing here sanitises the HTML: it is the user's own page, and the viewers (the VS Code
panel, ``dvcstage view``) show it in a sandboxed frame.
"""

from __future__ import annotations

import os
import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import InvalidMediaTypeError, InvalidMediaValueError
from .base import EncodedFile, EncodedItem, Media, MediaSlot

HTML_SUFFIXES = (".html", ".htm")
DATA_HELP = (
    "a str of HTML, a path (str or pathlib.Path) to an existing .html or .htm file, or a "
    "file object opened for reading (text or binary)"
)
STYLE_MARK = "html-default"

_HEAD_TAG = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<html(?:\s[^>]*)?>", re.IGNORECASE)
_DOCTYPE = re.compile(r"\A\s*<!doctype[^>]*>", re.IGNORECASE)
_BOM = "\ufeff"


@cache
def default_stylesheet() -> str:
    """The CSS ``inject=True`` inlines, shipped as ``dvcstage/static/html-default.css``."""
    return (resources.files("dvcstage") / "static" / "html-default.css").read_text("utf-8")


def inject_default_styles(html: str, css: str) -> str:
    """``html`` with ``<base target="_blank">`` and ``css`` as a ``<style>`` in its head.

    As W&B does, links open outside the panel; unlike W&B, the styles are inlined rather
    than linked from a server. The block goes right after ``<head>``, so the page's own
    styles still win; a page without a head gets one (after ``<html>`` or the doctype, else
    at the start).

    >>> inject_default_styles("<p>hi</p>", "p{}")
    '<head><base target="_blank"><style data-dvcstage="html-default">p{}</style></head><p>hi</p>'
    """
    block = f'<base target="_blank"><style data-dvcstage="{STYLE_MARK}">{css}</style>'
    head = _HEAD_TAG.search(html)
    if head is not None:
        return html[: head.end()] + block + html[head.end() :]
    anchor = _HTML_TAG.search(html) or _DOCTYPE.search(html)
    at = anchor.end() if anchor is not None else len(_BOM) if html.startswith(_BOM) else 0
    return html[:at] + f"<head>{block}</head>" + html[at:]


def _is_html_suffix(name: str) -> bool:
    return name.lower().endswith(HTML_SUFFIXES)


def _read_path(path: Path) -> bytes:
    if not _is_html_suffix(path.name):
        raise InvalidMediaValueError(
            "data", f"{str(path)!r} is not an .html or .htm file", DATA_HELP
        )
    if not path.is_file():
        raise InvalidMediaValueError("data", f"{str(path)!r} is not a file", DATA_HELP)
    return path.read_bytes()  # now: the caller may overwrite the file right after logging


def _read_file_object(handle: Any) -> bytes:
    try:
        if getattr(handle, "seekable", None) is not None and handle.seekable():
            handle.seek(0)  # as W&B does: the whole file, wherever its position was
        content = handle.read()
    except (OSError, ValueError) as exc:  # closed, write-only, undecodable text
        raise InvalidMediaValueError(
            "data", f"file object {handle!r} could not be read ({exc})", DATA_HELP
        ) from exc
    if isinstance(content, str):
        return content.encode("utf-8")
    if isinstance(content, (bytes, bytearray)):
        return bytes(content)
    raise InvalidMediaTypeError("data", handle, DATA_HELP + " (its read() returned no str/bytes)")


def _is_file(text: str) -> bool:
    try:
        return Path(text).is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte: not a path
        return False


def _looks_like_path(text: str) -> bool:
    """An .html/.htm name without markup: almost surely a path, not a page."""
    return _is_html_suffix(text.strip()) and "<" not in text and "\n" not in text


class Html(Media):
    """An HTML page, W&B's ``wandb.Html(data, inject=True)``.

    ``data`` is a str of HTML, a path to an .html/.htm file or a file object (text or
    binary, read from its start here). A str is a path when it ends in .html or .htm and
    names an existing file, as in W&B; such a str naming no file raises (W&B would log the
    name as the page). ``inject=True`` adds dvcstage's default styles
    (``dvcstage/static/html-default.css``) inline in the page's head, plus W&B's
    ``<base target="_blank">``; the input must then be UTF-8. ``inject=False`` stores the
    bytes exactly as given.

    The HTML is not sanitised: scripts and all are kept. Viewers show it in a sandboxed
    frame; do not open logged pages from untrusted runs outside one.

    >>> import dvcstage
    >>> page = dvcstage.Html('<a href="https://mysite">Link</a>')
    >>> page.html.startswith("<head><base")
    True
    >>> dvcstage.Html("<p>as is</p>", inject=False).html
    '<p>as is</p>'

    Log it with ``live.log({"custom_string": page})`` (``media/html/custom_string/<step>.html``).
    """

    kind = "html"

    def __init__(self, data: Any, inject: bool = True) -> None:
        if not isinstance(inject, bool):
            raise InvalidMediaTypeError("inject", inject, "True or False")
        if isinstance(data, str):
            if _is_html_suffix(data) and _is_file(data):
                content = _read_path(Path(data))
            elif _looks_like_path(data):
                raise InvalidMediaValueError(
                    "data",
                    f"{data!r} looks like a path to an HTML file but no such file exists",
                    DATA_HELP,
                )
            else:
                content = data.encode("utf-8")
        elif isinstance(data, os.PathLike):
            content = _read_path(Path(data))
        elif callable(getattr(data, "read", None)) and not isinstance(data, Html):
            content = _read_file_object(data)
        else:
            raise InvalidMediaTypeError("data", data, DATA_HELP)
        if inject:
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InvalidMediaValueError(
                    "data",
                    f"is not UTF-8 ({exc.reason} at byte {exc.start}), so styles cannot be "
                    "injected",
                    "UTF-8 HTML, or inject=False to store the bytes as they are",
                ) from exc
            content = inject_default_styles(text, default_stylesheet()).encode("utf-8")
        self.inject = inject
        #: The page as it will be written.
        self.data: bytes = content

    @property
    def html(self) -> str:
        """The page as text (undecodable bytes of an ``inject=False`` page are replaced)."""
        return self.data.decode("utf-8", errors="replace")

    @property
    def held_bytes(self) -> int:
        """Memory held until written: the page's bytes."""
        return len(self.data)

    def __repr__(self) -> str:
        return f"<dvcstage.Html {len(self.data)} bytes inject={self.inject}>"

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """The page and its sidecar for ``slot`` (pure: no I/O)."""
        page = slot.file(".html")
        facts = {"inject": self.inject, "bytes": len(self.data)}
        return self.item_with_sidecar(slot, [EncodedFile(page, self.data, self.kind)], facts)
