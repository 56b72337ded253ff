"""``python -m dvcstage_lsp``: the same as the ``dvcstage-lsp`` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
