"""The optional parts of dvcstage and how to install them, said where they are missing.

``pip install dvcstage`` (or ``pip install .`` in a checkout) installs what training needs:
``Live``, the media kinds, the writer and ``dvcstage validate``. The language server (what
the VS Code extension runs) is the ``lsp`` extra, ``dvcstage view`` the ``view`` extra; ``ui``
is both. dvcstage is installed from a checkout or from a wheel built by
``scripts/build-wheel``, so the hints name those.
"""

from __future__ import annotations

import importlib.util

from . import __version__  # the distribution's version

EXTRA_MODULES = {
    "lsp": ("pygls", "lsprotocol", "cattrs"),
    "view": ("pygls", "lsprotocol", "cattrs", "aiohttp", "pathspec"),
}


def wheel_name() -> str:
    """The file name of this version's wheel (what ``scripts/build-wheel`` writes)."""
    return f"dvcstage-{__version__}-py3-none-any.whl"


def install_hint(extra: str) -> str:
    """How to add ``extra`` to this environment: from a checkout, or from the wheel."""
    return (
        f"from a checkout of dvcstage: python -m pip install '.[{extra}]'; "
        f"from its wheel: python -m pip install '{wheel_name()}[{extra}]' "
        "(scripts/build-wheel writes it into dist/)"
    )


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that this environment cannot import."""
    return [name for name in EXTRA_MODULES[extra] if importlib.util.find_spec(name) is None]


def missing_extra_message(extra: str, what: str) -> str | None:
    """A message saying ``what`` needs the ``extra`` and how to install it; None if it is there."""
    missing = missing_modules(extra)
    if not missing:
        return None
    return (
        f"{what} needs the '{extra}' extra (missing: {', '.join(missing)}). "
        f"Install it {install_hint(extra)}"
    )
