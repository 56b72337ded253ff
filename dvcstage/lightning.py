"""Short name for :mod:`dvcstage.integrations.lightning`."""

from .integrations.lightning import *  # noqa: F403
from .integrations.lightning import __all__ as __all__
