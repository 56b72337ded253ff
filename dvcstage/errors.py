"""Every exception dvcstage raises.

Each message names the argument, the bad value and what would have been accepted. All of them
derive from :class:`dvclive.error.DvcLiveError`, so code that already catches DVCLive's errors
keeps working; type errors about a logged value also derive from
:class:`dvclive.error.InvalidDataTypeError`, as DVCLive's documentation promises.
"""

from __future__ import annotations

from typing import Any

from dvclive.error import DvcLiveError, InvalidDataTypeError, InvalidImageNameError

__all__ = [
    "DvcStageError",
    "ImportSourceError",
    "InvalidAnnotationError",
    "InvalidMediaNameError",
    "InvalidMediaTypeError",
    "InvalidMediaValueError",
    "MediaWriteError",
    "MissingOptionalDependencyError",
    "SchemaValidationError",
]


def _short(value: Any, limit: int = 80) -> str:
    """A repr that never floods a message (arrays and long strings are cut)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class DvcStageError(DvcLiveError):
    """Base class of dvcstage's own errors."""


class InvalidMediaTypeError(InvalidDataTypeError, DvcStageError):
    """A value of a type that cannot be logged as the requested media."""

    def __init__(self, argument: str, value: Any, accepted: str) -> None:
        # Bypass InvalidDataTypeError's fixed message but keep its attributes.
        self.name = argument
        self.val = type(value)
        self.argument = argument
        self.accepted = accepted
        DvcLiveError.__init__(
            self,
            f"{argument}: unsupported type {type(value).__module__}.{type(value).__qualname__}"
            f" ({_short(value)}); accepted: {accepted}",
        )


class InvalidMediaValueError(DvcStageError, ValueError):
    """A value of an accepted type whose content cannot be logged (shape, range, ...)."""

    def __init__(self, argument: str, problem: str, accepted: str) -> None:
        self.argument = argument
        self.accepted = accepted
        super().__init__(f"{argument}: {problem}; accepted: {accepted}")


class InvalidMediaNameError(InvalidImageNameError, DvcStageError, ValueError):
    """A media name that is absolute, escapes its folder or has an unsupported suffix.

    The message starts as DVCLive's does: ``Cannot log image with name 'x.foo': ...``
    (``what`` is what was being logged: an image, a metric, a plot, data).
    """

    def __init__(
        self, argument: str, name: Any, problem: str, accepted: str, what: str | None = None
    ) -> None:
        self.name = name
        self.argument = argument
        self.accepted = accepted
        what = what or ("data" if argument == "data key" else "image")
        DvcLiveError.__init__(
            self,
            f"Cannot log {what} with {argument} {_short(name)}: {problem}; accepted: {accepted}",
        )


class InvalidAnnotationError(DvcStageError, ValueError):
    """Boxes, masks or annotations that do not follow their documented structure."""

    def __init__(self, argument: str, problem: str, accepted: str) -> None:
        self.argument = argument
        self.accepted = accepted
        super().__init__(f"{argument}: {problem}; accepted: {accepted}")


class SchemaValidationError(DvcStageError, ValueError):
    """A document that does not validate against its schema in ``schemas/``."""

    def __init__(self, schema: str, where: str, message: str) -> None:
        self.schema = schema
        self.where = where
        super().__init__(f"{where}: does not match schema {schema}: {message}")


class MissingOptionalDependencyError(DvcStageError, ImportError):
    """An optional dependency (an extra of dvcstage, e.g. ``dvcstage[video]``) is missing."""


class MediaWriteError(DvcStageError):
    """A background write failed; raised at the next call into :class:`dvcstage.Live`."""


# -- importers (dvcstage import tensorboard|wandb) ----------------------------------------------


class ImportSourceError(DvcStageError, ValueError):
    """A folder given to ``dvcstage import`` that holds no run of the expected layout."""

    def __init__(self, argument: str, value: Any, problem: str, accepted: str) -> None:
        self.argument = argument
        self.accepted = accepted
        super().__init__(f"{argument}: {_short(str(value), 200)} {problem}; accepted: {accepted}")
