"""dvcstage-lsp: a language server that knows every dvcstage run in the workspace.

It answers custom requests (``dvcstage/runs``, ``dvcstage/media``, ``dvcstage/item``,
``dvcstage/items``, ``dvcstage/series``), notifies ``dvcstage/changed`` when new items land in a
run's media index, and publishes diagnostics for open or saved sidecars, index files and
``dvc.yaml`` files. Runs of git revisions and DVC experiments are listed in the background; their
files are copied into the server's cache folder on demand. The protocol is described in
``docs/protocol.md`` and by the ``schemas/protocol-*.schema.json`` schemas.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
