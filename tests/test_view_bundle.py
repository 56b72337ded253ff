"""The panel bundle that ships in the wheel (``dvcstage/view/static/``) is the one a fresh
build of ``vscode-ext`` produces: run ``scripts/build-panel`` and commit after changing the
panel. Skipped when ``vscode-ext/node_modules`` or npm is missing (no build possible)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "dvcstage" / "view" / "static"


def test_the_bundle_is_committed() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "dvcstage/view/static"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    if not listed:
        pytest.skip("not a git checkout")
    assert {"dvcstage/view/static/panel.js", "dvcstage/view/static/panel.css"} <= set(listed)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_committed_bundle_equals_a_fresh_build() -> None:
    if not (ROOT / "vscode-ext" / "node_modules").is_dir() or shutil.which("npm") is None:
        pytest.skip("vscode-ext/node_modules or npm missing: cannot build the panel")
    check = subprocess.run(
        [str(ROOT / "scripts" / "build-panel"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert (STATIC / "panel.js").stat().st_size > 0
