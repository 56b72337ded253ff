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
    SchemaValidationError,
)
from .live import Live
from .media.image import Image
from .media.table import Table
from .sidecar import ImageRecord, read_image

__version__ = "0.1.0"

__all__ = [
    "DvcStageError",
    "Image",
    "ImageRecord",
    "InvalidAnnotationError",
    "InvalidMediaNameError",
    "InvalidMediaTypeError",
    "InvalidMediaValueError",
    "Live",
    "MediaWriteError",
    "SchemaValidationError",
    "Table",
    "__version__",
    "read_image",
]
