"""dvcstage: rich, schema-validated media logging for DVC.

>>> from dvcstage import Live, Image   # Live is a drop-in dvclive.Live
"""

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
