"""Resolving run-relative paths to files, refusing anything outside the allowed roots.

The server reads and returns only files inside the workspace folders or its own cache. A
path from an index line or a sidecar is untrusted: ``..`` parts, absolute paths, backslashes,
NUL bytes and symbolic links that lead outside are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath


class PathRefusedError(ValueError):
    """A path that would lead outside the workspace (or is not a plain relative path)."""


def check_relative(relative: str) -> PurePosixPath:
    """``relative`` as a POSIX path, or :class:`PathRefusedError` if it is not a plain one."""
    if not isinstance(relative, str) or not relative:
        raise PathRefusedError("empty path")
    if "\x00" in relative or "\\" in relative:
        raise PathRefusedError(f"{relative!r}: backslashes and NUL bytes are not allowed")
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise PathRefusedError(f"{relative!r}: not valid Unicode") from exc
    pure = PurePosixPath(relative)
    if pure.is_absolute() or PureWindowsPath(relative).drive:
        raise PathRefusedError(f"{relative!r}: absolute paths are not allowed")
    if any(part in ("..", ".") for part in relative.split("/")):
        raise PathRefusedError(f"{relative!r}: '.' and '..' parts are not allowed")
    return pure


def is_inside(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path`` (resolved, following symbolic links) lies inside one of ``roots``."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a path too long
        return False
    return any(real == root or real.is_relative_to(root) for root in roots)


def resolve_inside(base: Path, relative: str, roots: Iterable[Path]) -> Path:
    """``base / relative`` resolved, if it stays inside ``roots``; else :class:`PathRefusedError`.

    ``roots`` must be resolved paths (the workspace folders, the server's cache).
    """
    pure = check_relative(relative)
    candidate = base.joinpath(*pure.parts)
    try:
        real = candidate.resolve()
    except (OSError, RuntimeError, ValueError) as exc:
        raise PathRefusedError(f"{relative!r}: cannot be resolved ({exc})") from exc
    if not any(real == root or real.is_relative_to(root) for root in roots):
        raise PathRefusedError(f"{relative!r}: leads outside the workspace")
    return real


def file_uri(path: Path) -> str:
    """The ``file://`` URI of an absolute path."""
    return path.as_uri()
