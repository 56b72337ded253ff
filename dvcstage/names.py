"""Media names: relative, inside their folder, with a suffix the media kind accepts."""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .errors import InvalidMediaNameError


def _refused(
    argument: str, value: object, problem: str, accepted: str, what: str | None = None
) -> InvalidMediaNameError:
    # Imported here: dvcstage.errors imports dvclive (~0.9 s), which the language server,
    # a user of this module, does not otherwise need.
    from .errors import InvalidMediaNameError

    return InvalidMediaNameError(argument, value, problem, accepted, what)


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")

MAX_SEGMENT_BYTES = 248
_SEGMENT = re.compile(r"^[^/\\\x00]+$")
#: Folder suffixes that hold an item's own files: masks, table cells, the items of a list.
RESERVED_SUFFIXES = (".masks", ".cells", ".items")
# Characters Windows refuses in file names, and control characters (runs move between
# machines, and a name is shown in terminals and editors).
_UNPORTABLE = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{name}{n}" for name in ("COM", "LPT") for n in "123456789¹²³"]
)
_NAME_HELP = (
    "a relative path such as 'pred/3.png': segments separated by '/', none empty, '.', '..', "
    "ending in '.' or ' ', or ending in .masks/.cells/.items; no '\\', control characters or "
    '<>:"|?*; no Windows device names (CON, NUL, COM1, ...)'
)


def check_relative_name(
    name: object, argument: str = "name", what: str | None = None
) -> PurePosixPath:
    """Return ``name`` as a relative POSIX path (see :func:`check_relative_text`)."""
    return PurePosixPath(check_relative_text(name, argument, what))


def check_relative_text(name: object, argument: str = "name", what: str | None = None) -> str:
    """Return ``name`` as a relative POSIX path string, refusing anything that could escape
    its folder or that another system could not store (``what``: what is logged, for the message).

    Refused: non-strings, empty names, absolute paths (POSIX or Windows), drive letters,
    backslashes, control characters and the other characters Windows refuses, ``.``/``..``
    or empty segments, segments ending in ``.`` or a space, Windows device names, and
    segments ending in ``.masks``, ``.cells`` or ``.items`` (folders of an item's own files).
    """

    def refuse(problem: str, accepted: str = _NAME_HELP) -> InvalidMediaNameError:
        return _refused(argument, name, problem, accepted, what)

    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise refuse("is not a string")
    if not name:
        raise refuse("is empty")
    if "\x00" in name:
        raise refuse("contains a NUL byte")
    if "\\" in name:
        raise refuse("contains a backslash")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):  # POSIX, or a drive (C:)
        raise refuse("is absolute")
    bad = _UNPORTABLE.search(name)
    if bad is not None:
        raise refuse(f"contains the character {bad.group()!r}")
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise refuse(f"has a {part or 'empty'!r} segment")
        size = len(part.encode("utf-8"))
        if size > MAX_SEGMENT_BYTES:
            raise refuse(
                f"has a segment of {size} bytes",
                f"segments of at most {MAX_SEGMENT_BYTES} bytes (file systems allow 255; "
                "an image's mask folder, '<stem>.masks', needs the rest)",
            )
        if part.endswith((".", " ")):
            raise refuse(f"has a segment ending in {part[-1]!r}")
        if part.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            raise refuse(f"has a Windows device name ({part!r})")
        if part.endswith(RESERVED_SUFFIXES):
            raise refuse(
                f"has a segment {part!r}: folders ending in "
                f"{', '.join(RESERVED_SUFFIXES)} hold an item's own files"
            )
    return name


def check_segment(segment: object, argument: str) -> str:
    """A single path segment (a mask or box-group name): no slashes, no dots-only names."""
    accepted = "a non-empty string without '/', '\\', NUL, and not '.' or '..'"
    if not isinstance(segment, str) or not _SEGMENT.match(segment) or segment in (".", ".."):
        raise _refused(argument, segment, "is not a valid name", accepted)
    if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
        raise _refused(
            argument, segment, "is too long", f"at most {MAX_SEGMENT_BYTES} bytes of UTF-8"
        )
    return segment


def check_image_name(name: object, source_suffix: str | None = None) -> PurePosixPath:
    """Validate an image name; a name without suffix inherits ``source_suffix`` (a path source)."""
    path = check_relative_name(name)
    suffix = path.suffix.lower()
    if not suffix and source_suffix and source_suffix.lower() in IMAGE_SUFFIXES:
        path = path.with_name(path.name + source_suffix.lower())
        suffix = source_suffix.lower()
    if path.suffix not in IMAGE_SUFFIXES:
        raise _refused(
            "name",
            str(path),
            "has no supported image suffix",
            ", ".join(IMAGE_SUFFIXES) + " (lower case)",
        )
    if path.stem in (".", ".."):  # 'b/..png' would be 'b.png', and '..png' outside its folder
        raise _refused(
            "name",
            str(path),
            f"has a file name that is only {path.stem!r} before its suffix",
            "a file name with a stem, such as 'pred/3.png'",
        )
    return path


#: Folders of names already checked (``pred`` of ``pred/3.png``): a name in one of them needs
#: only its last segment checked. Bounded; cleared when full.
_CHECKED_FOLDERS: set[str] = set()
_MAX_CHECKED_FOLDERS = 4096


def check_image_text(name: object) -> str:
    """:func:`check_image_name` for a name that must carry its own suffix, as a string (the
    logging call's fast path: no path objects).

    Every check of :func:`check_relative_text` is per character or per segment (the two about
    the start of a name fall in its first segment), so a name in a folder checked before is
    valid exactly when its last segment is.
    """
    if not isinstance(name, str):
        return str(check_image_name(name))  # raises
    folder, _, last = name.rpartition("/")
    if folder and folder in _CHECKED_FOLDERS:
        try:
            check_relative_text(last)
        except Exception:
            check_relative_text(name)  # raises, naming the whole name
            raise
        text = name
    else:
        text = check_relative_text(name)
        if folder:
            if len(_CHECKED_FOLDERS) >= _MAX_CHECKED_FOLDERS:
                _CHECKED_FOLDERS.clear()
            _CHECKED_FOLDERS.add(folder)
    cut = text.rfind(".")
    start = text.rfind("/") + 1
    if cut <= start or text[cut:] not in IMAGE_SUFFIXES or text[start:cut] in (".", ".."):
        return str(check_image_name(text))  # raises the same error as the general path
    return text


def sidecar_name(image_name: PurePosixPath) -> PurePosixPath:
    """The JSON sidecar beside an image: the suffix replaced (``numpy.png`` -> ``numpy.json``)."""
    return image_name.with_suffix(".json")


def masks_folder(image_name: PurePosixPath) -> PurePosixPath:
    """The folder holding an image's class-id mask PNGs (``pred/3.png`` -> ``pred/3.masks``)."""
    return image_name.with_suffix(".masks")


def key_and_step_of(image_name: PurePosixPath) -> tuple[str, int | None]:
    """The media key of an image name and the step it encodes, if any.

    ``pred/3.png`` (the slider pattern) is key ``pred`` at step 3; ``numpy.png`` is key
    ``numpy.png`` with no step of its own.
    """
    return key_and_step_of_text(str(image_name))


def key_and_step_of_text(image_name: str) -> tuple[str, int | None]:
    """:func:`key_and_step_of` for a checked name given as a string."""
    folder, _, last = image_name.rpartition("/")
    cut = last.rfind(".")
    stem = last[:cut] if cut > 0 else last
    if folder and stem.isdigit() and stem.isascii():
        return folder, int(stem)
    return image_name, None
