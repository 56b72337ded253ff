"""Short name for :mod:`dvcstage.integrations.ultralytics`."""

from .integrations.ultralytics import *  # noqa: F403
from .integrations.ultralytics import __all__ as __all__
