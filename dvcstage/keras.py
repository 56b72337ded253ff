"""Short name for :mod:`dvcstage.integrations.keras`."""

from .integrations.keras import *  # noqa: F403
from .integrations.keras import __all__ as __all__
