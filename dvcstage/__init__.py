"""dvcstage: rich, schema-validated media logging for DVC.

>>> from dvcstage import Live, Image   # Live is a drop-in dvclive.Live
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import (
        DvcStageError,
        InvalidAnnotationError,
        InvalidMediaNameError,
        InvalidMediaTypeError,
        InvalidMediaValueError,
        MediaWriteError,
        MissingOptionalDependencyError,
        SchemaValidationError,
    )
    from .live import Live
    from .media.audio import Audio
    from .media.histogram import Histogram
    from .media.html import Html
    from .media.image import Image
    from .media.molecule import Molecule
    from .media.object3d import Object3D, box3d
    from .media.table import Table
    from .media.video import MissingVideoExtraError, Video
    from .sidecar import ImageRecord, read_image

__version__ = "0.1.0"

# Public names and the modules they live in. They are imported on first use (PEP 562), so that
# ``import dvcstage.schemas`` (the language server, ``dvcstage validate``) does not pay for
# dvclive, pandas and numpy.
_EXPORTS = {
    "Audio": ".media.audio",
    "DvcStageError": ".errors",
    "Histogram": ".media.histogram",
    "Html": ".media.html",
    "Image": ".media.image",
    "ImageRecord": ".sidecar",
    "InvalidAnnotationError": ".errors",
    "InvalidMediaNameError": ".errors",
    "InvalidMediaTypeError": ".errors",
    "InvalidMediaValueError": ".errors",
    "Live": ".live",
    "MediaWriteError": ".errors",
    "MissingOptionalDependencyError": ".errors",
    "MissingVideoExtraError": ".media.video",
    "Molecule": ".media.molecule",
    "Object3D": ".media.object3d",
    "SchemaValidationError": ".errors",
    "Table": ".media.table",
    "Video": ".media.video",
    "box3d": ".media.object3d",
    "read_image": ".sidecar",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'dvcstage' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Audio",
    "DvcStageError",
    "Histogram",
    "Html",
    "Image",
    "ImageRecord",
    "InvalidAnnotationError",
    "InvalidMediaNameError",
    "InvalidMediaTypeError",
    "InvalidMediaValueError",
    "Live",
    "MediaWriteError",
    "MissingOptionalDependencyError",
    "MissingVideoExtraError",
    "Molecule",
    "Object3D",
    "SchemaValidationError",
    "Table",
    "Video",
    "__version__",
    "box3d",
    "read_image",
]
