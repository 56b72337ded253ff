"""What dvcstage relies on inside DVCLive that DVCLive does not promise to keep.

``dvcstage.Live`` subclasses ``dvclive.Live``: it overrides private hooks, reads private
attributes and imports private helpers. pyproject.toml bounds dvclive at the newest version
tested; before raising that bound, this file says loudly what a newer DVCLive dropped or
stopped calling — a renamed hook would otherwise be skipped in silence.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path
from typing import Any

import pytest
from dvclive import Live as DvcLive

VERSION = importlib.metadata.version("dvclive")
# Instance attributes dvcstage reads or sets (dvcstage/live.py, dvcyaml.py, empty_repo.py).
ATTRIBUTES = [
    "_artifacts",
    "_baseline_rev",
    "_cache_images",
    "_dvc_file",
    "_dvc_repo",
    "_exp_name",
    "_include_untracked",
    "_inside_dvc_pipeline",
    "_inside_with",
    "_metrics",
    "_params",
    "_plots",
    "_report_mode",
    "_save_dvc_exp",
    "_step",
    "_studio_events_to_skip",
]
# Hooks dvcstage overrides, and that DVCLive must still call.
HOOKS = ["_init_dvc", "_init_cleanup", "_init_resume", "_dump_params"]
# Methods dvcstage calls.
METHODS = ["_init_dvc_file"]
# Module-level names dvcstage imports from DVCLive (private ones and public ones alike).
IMPORTS = {
    "dvclive.dvc": ["_find_dvc_root", "find_overlapping_stage", "get_exp_name", "update_dvcyaml"],
    "dvclive.env": ["DVCLIVE_LOGLEVEL"],
    "dvclive.serialize": ["dump_yaml", "get_yaml"],
    "dvclive.utils": ["rel_path"],
    "dvclive.plots.metric": ["Metric"],
    "dvclive.plots.utils": ["NumpyEncoder"],
    "dvclive.error": ["DvcLiveError", "InvalidDataTypeError", "InvalidImageNameError"],
}


def _missing(kind: str, names: list[str], where: str) -> str:
    return (
        f"DVCLive {VERSION} has no {kind} {', '.join(names)} ({where}); "
        "dvcstage relies on it: adapt dvcstage/live.py before allowing this version"
    )


def test_private_attributes_are_still_there(plain_dir: Path) -> None:
    live = DvcLive(save_dvc_exp=False)
    try:
        gone = [name for name in ATTRIBUTES if not hasattr(live, name)]
        assert not gone, _missing("attribute", gone, "on a Live instance")
        gone = [name for name in METHODS if not callable(getattr(live, name, None))]
        assert not gone, _missing("method", gone, "on Live")
    finally:
        live.end()


def test_overridden_hooks_are_still_called(plain_dir: Path) -> None:
    called: list[str] = []

    def recorder(name: str) -> Any:
        original = getattr(DvcLive, name)

        def hook(self: DvcLive, *args: Any, **kwargs: Any) -> Any:
            called.append(name)
            return original(self, *args, **kwargs)

        return hook

    gone = [name for name in HOOKS if not callable(getattr(DvcLive, name, None))]
    assert not gone, _missing("hook", gone, "on Live")
    recording = type("Recording", (DvcLive,), {name: recorder(name) for name in HOOKS})
    with recording(save_dvc_exp=False) as live:
        live.log_param("lr", 0.1)  # -> _dump_params
    with recording(save_dvc_exp=False, resume=True):
        pass
    never = [name for name in HOOKS if name not in called]
    assert not never, (
        f"DVCLive {VERSION} no longer calls {', '.join(never)}: dvcstage's "
        "overrides of them would be skipped"
    )


@pytest.mark.parametrize("module", sorted(IMPORTS))
def test_imported_names_are_still_there(module: str) -> None:
    loaded = importlib.import_module(module)
    gone = [name for name in IMPORTS[module] if not hasattr(loaded, name)]
    assert not gone, _missing("name", gone, f"in {module}")


def test_the_installed_dvclive_is_within_the_tested_bound() -> None:
    """The bound in pyproject.toml is the version these tests ran against."""
    from importlib.metadata import requires

    requirement = next(r for r in requires("dvcstage") or [] if r.startswith("dvclive"))
    upper = requirement.split("<=")[1].split(",")[0].strip()
    from importlib.metadata import version

    installed = version("dvclive")
    assert tuple(map(int, installed.split(".")[:3])) <= tuple(map(int, upper.split("."))), (
        f"dvclive {installed} is above the tested bound {upper}"
    )
