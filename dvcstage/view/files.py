"""Which files the browser may read, and under which URL (docs/panel-host.md, "File URIs").

The language server names files by ``file://`` URIs. The view serves a file only when it lies
inside one of its *roots* (the workspace folder ``w0`` and the server's cache folder ``cache``),
under ``/files/<root>/<path>``. :func:`FileRoots.resolve` is the only way from a request path
to a file on disk, and it refuses anything that could leave its root: ``.`` and ``..``
segments, empty segments, absolute paths, backslashes, NUL bytes, encoded slashes, and
symbolic links that resolve outside the root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

FILES_PREFIX = "/files/"


class FileRefusedError(Exception):
    """A request path that does not name a servable file.

    ``status`` is the HTTP status to answer with: 403 for a path that tries to leave its root
    (or is malformed), 404 for a well-formed path with nothing behind it.
    """

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _segments(raw: str) -> list[str]:
    """The decoded segments of a raw (still percent-encoded) request path below a root."""
    if not raw:
        raise FileRefusedError(404, "no file named")
    segments: list[str] = []
    for part in raw.split("/"):
        # Decoded exactly once: "%2f" inside a segment stays a refused "/", "%252e" stays "%2e".
        try:
            segment = unquote(part, errors="strict")
        except UnicodeDecodeError as exc:
            raise FileRefusedError(403, "path is not UTF-8") from exc
        if segment in ("", ".", ".."):
            raise FileRefusedError(403, f"path segment {segment!r} is not allowed")
        if "/" in segment or "\\" in segment or "\0" in segment:
            raise FileRefusedError(403, "encoded slash, backslash or NUL in path")
        if segment.startswith("~") and not segments:
            raise FileRefusedError(403, "home-relative path")
        segments.append(segment)
    return segments


class FileRoots:
    """Named folders files may be served from: ``{"w0": workspace, "cache": cache dir}``."""

    def __init__(self, roots: Mapping[str, Path]) -> None:
        # Resolved once: the containment checks compare resolved paths.
        self.roots = {name: Path(path).resolve() for name, path in roots.items()}
        self._urls: dict[str, str | None] = {}

    def resolve(self, root: str, raw_path: str) -> Path:
        """The file ``/files/<root>/<raw_path>`` names (``raw_path`` still percent-encoded).

        Raises :class:`FileRefusedError` (403 or 404) unless it is a regular file inside the root
        after following every symbolic link.
        """
        base = self.roots.get(root)
        if base is None:
            raise FileRefusedError(404, f"unknown root {root!r}")
        real = _inside(str(base), _segments(raw_path))
        if real is None:
            raise FileRefusedError(403, "path leads outside its root")
        return Path(real)

    def url_for(self, file_uri: str) -> str | None:
        """``/files/<root>/<path>`` for a ``file://`` URI inside a root, else None.

        The path is made absolute and normalised lexically (symbolic links are checked when
        the file is requested, by :meth:`resolve`).
        """
        if file_uri in self._urls:
            return self._urls[file_uri]
        if len(self._urls) > 100_000:
            self._urls.clear()
        url = self._url_for(file_uri)
        self._urls[file_uri] = url
        return url

    def _url_for(self, file_uri: str) -> str | None:
        parts = urlsplit(file_uri)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(os.path.normpath(url2pathname(parts.path)))
        if not path.is_absolute():
            return None
        for name, base in self.roots.items():
            if path.is_relative_to(base) and path != base:
                relative = path.relative_to(base).as_posix()
                return f"{FILES_PREFIX}{name}/{quote(relative, safe='/')}"
        return None


def _inside(base: str, segments: list[str]) -> str | None:
    """The real path of ``base/segments...`` if it is a regular file inside ``base`` (which is
    resolved), None if it leads outside; raises :class:`FileRefusedError` 404 when missing.

    One ``lstat`` per segment below the root; only when a segment is a symbolic link is the
    whole path resolved and checked again (the common case costs no ``realpath``).
    """
    path, mode = base, 0
    for segment in segments:
        path = f"{path}{os.sep}{segment}"  # plain strings: this runs for every file served
        try:
            mode = os.lstat(path).st_mode
        except OSError as exc:
            raise FileRefusedError(404, "no such file") from exc
        if stat.S_ISLNK(mode):
            return _inside_resolved(base, Path(base).joinpath(*segments))
    if not stat.S_ISREG(mode):
        raise FileRefusedError(404, "not a file")
    return path


def _inside_resolved(base: str, path: Path) -> str | None:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # missing, or a symlink loop
        raise FileRefusedError(404, "no such file") from exc
    if not real.is_relative_to(base):
        return None
    if not real.is_file():
        raise FileRefusedError(404, "not a file")
    return str(real)


def _containers(value: object) -> bool:
    return isinstance(value, (dict, list))


def rewrite_file_uris(value: object, convert: FileRoots, depth: int = 0) -> object:
    """A copy of ``value`` in which every ``"uri"`` key holding a ``file://`` URI inside a
    root is replaced by its ``/files/...`` URL (others are kept as they are)."""
    if depth > 64:
        return value
    if isinstance(value, list):
        return [rewrite_file_uris(v, convert, depth + 1) if _containers(v) else v for v in value]
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, v in value.items():
            if key == "uri" and isinstance(v, str) and v.startswith("file://"):
                out[key] = convert.url_for(v) or v
            elif _containers(v):
                out[key] = rewrite_file_uris(v, convert, depth + 1)
            else:
                out[key] = v
        return out
    return value
