"""Which files the browser may read, and under which URL (docs/panel-host.md, "File URIs").

The language server names files by ``file://`` URIs. The view serves a file only when it lies
inside one of its *roots* (the workspace folder ``w0`` and the server's cache folder ``cache``),
under ``/files/<root>/<path>``. :func:`FileRoots.resolve` is the only way from a request path
to a file on disk, and it refuses anything that could leave its root: ``.`` and ``..``
segments, empty segments, absolute paths, backslashes, NUL bytes, encoded slashes, and
symbolic links that resolve outside the root.

Inside a root, files matching the *deny list* are never served, however they are named (a
symbolic link to one is refused too): git's and DVC's own folders (``.git/`` holds the
remote's URL and maybe its credentials, ``.dvc/config.local`` a remote's secrets,
``.dvc/tmp/`` DVC's state) and the usual secret files. The user adds patterns with
``dvcstage view --deny PATTERN`` (gitignore syntax, relative to the workspace).

A file with more than one hard link is refused: its other names may lie anywhere on the
same file system, so being named inside the workspace says nothing about whose file it is.
The one exception is DVC's ``hardlink`` cache type: a workspace file that is the very file
DVC's cache holds for its content (same inode) is served.
"""

from __future__ import annotations

import configparser
import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit
from urllib.request import url2pathname

import pathspec

FILES_PREFIX = "/files/"

# gitignore syntax, relative to each root.
DEFAULT_DENY = (
    ".git/",
    ".git",
    ".dvc/",
    ".git-credentials",
    ".gitconfig",
    ".netrc",
    ".ssh/",
    ".aws/",
    ".gnupg/",
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_ecdsa*",
    "id_ed25519*",
)
MAX_HASHED_LINK_BYTES = 256 * 1024 * 1024


class DenyList:
    """Paths never served: :data:`DEFAULT_DENY` plus the user's patterns (gitignore syntax)."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.patterns = [*DEFAULT_DENY, *(p for p in extra if p.strip())]
        self._spec = pathspec.GitIgnoreSpec.from_lines(self.patterns)

    def denies(self, relative: str) -> bool:
        """Whether the root-relative POSIX path ``relative`` (or a folder above it) is denied."""
        return self._spec.match_file(relative)


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

    def __init__(self, roots: Mapping[str, Path], deny: DenyList | None = None) -> None:
        # Resolved once: the containment checks compare resolved paths.
        self.roots = {name: Path(path).resolve() for name, path in roots.items()}
        self.deny = deny or DenyList()
        self._urls: dict[str, str | None] = {}

    def resolve(self, root: str, raw_path: str) -> Path:
        """The file ``/files/<root>/<raw_path>`` names (``raw_path`` still percent-encoded).

        Raises :class:`FileRefusedError` (403 or 404) unless it is a regular file inside the root
        after following every symbolic link.
        """
        base = self.roots.get(root)
        if base is None:
            raise FileRefusedError(404, f"unknown root {root!r}")
        segments = _segments(raw_path)
        if self.deny.denies("/".join(segments)):
            raise FileRefusedError(403, "path is on the deny list")
        real = _inside(str(base), segments)
        if real is None:
            raise FileRefusedError(403, "path leads outside its root")
        if real.relative != segments and self.deny.denies("/".join(real.relative)):
            raise FileRefusedError(403, "path leads to a file on the deny list")
        if real.links > 1 and not _dvc_cache_link(str(base), real):
            raise FileRefusedError(403, "file has other hard links (they may lie anywhere)")
        return Path(real.path)

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


class _Found:
    """A regular file inside a root: its real path, its segments below the root, its links."""

    __slots__ = ("info", "links", "path", "relative")

    def __init__(self, path: str, relative: list[str], info: os.stat_result) -> None:
        self.path = path
        self.relative = relative
        self.info = info
        self.links = info.st_nlink


def _inside(base: str, segments: list[str]) -> _Found | None:
    """The real path of ``base/segments...`` if it is a regular file inside ``base`` (which is
    resolved), None if it leads outside; raises :class:`FileRefusedError` 404 when missing.

    One ``lstat`` per segment below the root; only when a segment is a symbolic link is the
    whole path resolved and checked again (the common case costs no ``realpath``).
    """
    path = base
    info: os.stat_result | None = None
    for segment in segments:
        path = f"{path}{os.sep}{segment}"  # plain strings: this runs for every file served
        try:
            info = os.lstat(path)
        except OSError as exc:
            raise FileRefusedError(404, "no such file") from exc
        if stat.S_ISLNK(info.st_mode):
            return _inside_resolved(base, Path(base).joinpath(*segments))
    if info is None or not stat.S_ISREG(info.st_mode):
        raise FileRefusedError(404, "not a file")
    return _Found(path, segments, info)


def _inside_resolved(base: str, path: Path) -> _Found | None:
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # missing, or a symlink loop
        raise FileRefusedError(404, "no such file") from exc
    if not real.is_relative_to(base):
        return None
    try:
        info = real.stat()
    except OSError as exc:
        raise FileRefusedError(404, "no such file") from exc
    if not stat.S_ISREG(info.st_mode):
        raise FileRefusedError(404, "not a file")
    return _Found(str(real), list(real.relative_to(base).parts), info)


@lru_cache(maxsize=16)
def _dvc_cache_dir(workspace: Path) -> Path:
    """The DVC cache of the repository at ``workspace`` (``cache.dir`` of its config)."""
    found = workspace / ".dvc" / "cache"
    for name in ("config", "config.local"):  # the local config wins
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(workspace / ".dvc" / name, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_option("cache", "dir"):
            value = Path(parser.get("cache", "dir").strip().strip("'\""))
            found = value if value.is_absolute() else (workspace / ".dvc" / value)
    return found.resolve()


def _dvc_cache_link(base: str, found: _Found) -> bool:
    """Whether ``found`` is linked only with DVC's cache (the ``hardlink`` cache type): the
    cache object for its content (DVC 3: ``files/md5/<2>/<30>``) is this very inode."""
    if found.links != 2 or found.info.st_size > MAX_HASHED_LINK_BYTES:
        return False
    digest = hashlib.md5(usedforsecurity=False)
    try:
        with open(found.path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        md5 = digest.hexdigest()
        cached = (_dvc_cache_dir(Path(base)) / "files" / "md5" / md5[:2] / md5[2:]).stat()
    except OSError:
        return False
    return (cached.st_dev, cached.st_ino) == (found.info.st_dev, found.info.st_ino)


def _containers(value: object) -> bool:
    return isinstance(value, (dict, list))


# Values passed on as they are: an item's ``sidecar`` is the logged JSON document (the files it
# names come resolved in the item's ``links``), walked for nothing at every answer otherwise.
OPAQUE_KEYS = frozenset({"sidecar"})


def rewrite_file_uris(value: object, convert: FileRoots, depth: int = 0) -> object:
    """A copy of ``value`` in which every ``"uri"`` key holding a ``file://`` URI inside a
    root is replaced by its ``/files/...`` URL (others are kept as they are); the values of
    :data:`OPAQUE_KEYS` are kept, not walked (nor copied)."""
    if depth > 64:
        return value
    if isinstance(value, list):
        return [rewrite_file_uris(v, convert, depth + 1) if _containers(v) else v for v in value]
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, v in value.items():
            if key == "uri" and isinstance(v, str) and v.startswith("file://"):
                out[key] = convert.url_for(v) or v
            elif _containers(v) and key not in OPAQUE_KEYS:
                out[key] = rewrite_file_uris(v, convert, depth + 1)
            else:
                out[key] = v
        return out
    return value
