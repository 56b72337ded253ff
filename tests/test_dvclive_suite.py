"""``scripts/dvclive-suite``: the swap check, the stock/swapped comparison and the venv plan.

The plugin is run for real (a pytest subprocess of this virtualenv, on a small test file), so
the check that the swap took is shown to fail when DVCLive's own ``Live`` is created. The
comparison is tested on made-up run results. The full suite, against DVCLive's sdist, is the
script's own step in ``scripts/test``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dvclive_suite import environment
from dvclive_suite.__main__ import check_run
from dvclive_suite.results import (
    STOCK,
    SWAPPED,
    Allowed,
    AllowListError,
    Run,
    compare,
    read_allow_list,
)

ROOT = Path(__file__).resolve().parents[1]

SWAPPED_TEST = """
import os

import dvclive.live
from dvclive import Live


def test_creates_live(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    live = Live(save_dvc_exp=False)
    live.log_metric("loss", 1.0)
    live.next_step()
    live.end()
    import dvcstage
    swapped = os.environ["DVCLIVE_SUITE_MODE"] == "dvcstage"
    assert isinstance(live, dvcstage.Live) == swapped
    assert dvclive.live.Live is Live


def test_signature_is_dvclive_s():  # what jsonargparse (LightningCLI) reads; no Live created
    import inspect

    assert list(inspect.signature(Live).parameters)[:3] == ["dir", "resume", "report"]
"""

FOREIGN_TEST = """
import dvcstage


def test_creates_dvclive_own_live(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dvclive_own_live = dvcstage.Live.__mro__[1]  # DVCLive's class, out of any swap's reach
    dvclive_own_live(save_dvc_exp=False).end()
"""


def run_plugin(tmp_path: Path, mode: str, source: str) -> tuple[int, dict[str, Any], str]:
    """Run pytest with the plugin on one test file; its exit code, result and output."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_sample.py").write_text(source, encoding="utf-8")
    result_file = tmp_path / "result.json"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "scripts"),
        "DVCLIVE_SUITE_MODE": mode,
        "DVCLIVE_SUITE_RESULT": str(result_file),
        "DVC_NO_ANALYTICS": "1",
    }
    env.pop("PYTEST_ADDOPTS", None)
    process = subprocess.run(
        [
            sys.executable, "-m", "pytest", "tests", "-p", "dvclive_suite.pytest_plugin",
            "-p", "no:cacheprovider", f"--basetemp={tmp_path / 'base'}", "-q",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    result = json.loads(result_file.read_text(encoding="utf-8"))
    return process.returncode, result, process.stdout + process.stderr


def as_run(mode: str, exitcode: int, result: dict[str, Any]) -> Run:
    return Run(mode, 1, 0.0, exitcode, "log", result)


def test_swap_reaches_every_binding_and_counts_instances(tmp_path: Path) -> None:
    exitcode, result, output = run_plugin(tmp_path, SWAPPED, SWAPPED_TEST)
    assert exitcode == 0, output
    assert result["instances"] == {"dvcstage.live.Live": 1}
    assert result["instances_by_test"] == {
        "tests/test_sample.py::test_creates_live": {"dvcstage.live.Live": 1}
    }
    # The package namespace, the defining module, and a framework module of DVCLive's that
    # imports here (lightgbm is a dev dependency of dvcstage).
    assert {"dvclive.Live", "dvclive.live.Live", "dvclive.lgbm.Live"} <= set(result["swapped"])
    assert result["foreign_instances"] == []
    assert result["still_bound_to_dvclive_live"] == []
    assert {name: entry["outcome"] for name, entry in result["tests"].items()} == {
        "tests/test_sample.py::test_creates_live": "passed",
        "tests/test_sample.py::test_signature_is_dvclive_s": "passed",
    }
    assert check_run(as_run(SWAPPED, exitcode, result)) == []


def test_stock_mode_leaves_dvclive_alone(tmp_path: Path) -> None:
    exitcode, result, output = run_plugin(tmp_path, STOCK, SWAPPED_TEST)
    assert exitcode == 0, output
    assert result["instances"] == {"dvclive.live.Live": 1}
    assert result["swapped"] == []
    assert check_run(as_run(STOCK, exitcode, result)) == []


def test_a_dvclive_live_created_in_swapped_mode_fails_the_run(tmp_path: Path) -> None:
    exitcode, result, output = run_plugin(tmp_path, SWAPPED, FOREIGN_TEST)
    assert exitcode == pytest.ExitCode.INTERNAL_ERROR, output
    assert "THE SWAP DID NOT TAKE" in output
    assert result["foreign_instances"] == [
        {
            "test": "tests/test_sample.py::test_creates_dvclive_own_live",
            "class": "dvclive.live.Live",
        }
    ]
    problems = check_run(as_run(SWAPPED, exitcode, result))
    assert any("THE SWAP DID NOT TAKE" in problem for problem in problems)
    assert any("no dvcstage.Live was created" in problem for problem in problems)


def test_failures_are_reported_in_one_line_with_the_test_line(tmp_path: Path) -> None:
    source = "def test_fails():\n    value = {'a': 1}\n    assert value['a'] == 2\n"
    exitcode, result, _ = run_plugin(tmp_path, STOCK, source)
    assert exitcode == 1
    entry = result["tests"]["tests/test_sample.py::test_fails"]
    assert entry["outcome"] == "failed"
    assert entry["reason"].startswith("assert 1 == 2")
    assert entry["test_line"] == "tests/test_sample.py:3"


def fake_run(mode: str, index: int, outcomes: dict[str, str]) -> Run:
    tests = {
        nodeid: {"outcome": outcome, **({} if outcome == "passed" else {"reason": "boom"})}
        for nodeid, outcome in outcomes.items()
    }
    result = {"tests": tests, "collection_errors": {}, "instances_by_test": {}, "instances": {}}
    return Run(mode, index, 1.0, 0, "log", result)


def test_compare_finds_regressions_flakes_and_applies_the_allow_list(tmp_path: Path) -> None:
    a, b, c, d, e = (f"tests/test_x.py::test_{name}" for name in "abcde")
    runs = [
        fake_run(STOCK, 1, {a: "passed", b: "passed", c: "passed", d: "failed", e: "passed"}),
        fake_run(SWAPPED, 1, {a: "passed", b: "failed", c: "passed", d: "failed"}),
        fake_run(STOCK, 2, {a: "passed", b: "passed", c: "passed", d: "failed", e: "failed"}),
        fake_run(SWAPPED, 2, {a: "passed", b: "failed", c: "failed", d: "passed"}),
    ]
    comparison = compare(runs, [])
    assert comparison.baseline == [a, b, c]  # e is flaky stock, d fails stock
    assert [entry["test"] for entry in comparison.regressions] == [b, c]
    assert comparison.regressions[0]["every_run"] is True
    assert comparison.regressions[1]["every_run"] is False  # c: flaky with dvcstage
    assert comparison.regressions[1]["outcomes"] == "passed 1/2, failed 1/2"
    assert [entry["test"] for entry in comparison.flaky[SWAPPED]] == [c, d]
    assert [entry["test"] for entry in comparison.flaky[STOCK]] == [e]
    assert comparison.failed

    allow_list = read_allow_list_text(tmp_path, f"{b}  # asserts the folder entry\n{c}  # x\n")
    allowed = compare(runs, allow_list)
    assert allowed.regressions == []
    assert [entry["why"] for entry in allowed.allowed] == ["asserts the folder entry", "x"]
    assert not allowed.failed


def test_missing_tests_in_swapped_runs_are_regressions() -> None:
    test = "tests/test_x.py::test_a[1]"
    runs = [fake_run(STOCK, 1, {test: "passed"}), fake_run(SWAPPED, 1, {})]
    runs[1].result["collection_errors"] = {"tests/test_x.py": "ImportError: nope"}
    comparison = compare(runs, [])
    assert comparison.regressions[0]["reason"] == "collection error: ImportError: nope"


def read_allow_list_text(tmp_path: Path, text: str) -> list[Allowed]:
    path = tmp_path / "allowed.txt"
    path.write_text(text, encoding="utf-8")
    return read_allow_list(path)


def test_allow_list_entries_need_a_reason_and_match_parametrizations(tmp_path: Path) -> None:
    (entry,) = read_allow_list_text(tmp_path, "# header\n\ntests/test_x.py::test_a  # why\n")
    assert entry.matches("tests/test_x.py::test_a[True]")
    assert not entry.matches("tests/test_x.py::test_ab")
    with pytest.raises(AllowListError, match="needs a reason"):
        read_allow_list_text(tmp_path, "tests/test_x.py::test_a\n")
    with pytest.raises(AllowListError, match="is not a test id"):
        read_allow_list_text(tmp_path, "test_a  # why\n")


def test_the_allow_list_in_the_repository_is_well_formed() -> None:
    for entry in read_allow_list(ROOT / "scripts" / "dvclive-suite-allowed.txt"):
        assert entry.why


PKG_INFO = """Metadata-Version: 2.4
Name: dvclive
Version: 9.9.9
Requires-Dist: dvc>=3
Provides-Extra: image
Requires-Dist: numpy; extra == "image"
Provides-Extra: tests
Requires-Dist: pytest<9.0,>=7.2.0; extra == "tests"
Requires-Dist: pytest-sugar; extra == "tests"
Requires-Dist: pytest-mock; extra == "tests"
Requires-Dist: dvclive[image]; extra == "tests"
Requires-Dist: transformers[torch]; extra == "tests"
Requires-Dist: tf-keras; extra == "tests"
Provides-Extra: mmcv
Requires-Dist: mmcv; extra == "mmcv"
Provides-Extra: tf
Requires-Dist: tensorflow; extra == "tf"
Provides-Extra: fastai
Requires-Dist: fastai; extra == "fastai"
Provides-Extra: all
Requires-Dist: dvclive[fastai,image,mmcv,tf]; extra == "all"
"""


@pytest.fixture
def fake_sdist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DVCLIVE_SUITE_CACHE", str(tmp_path))
    (tmp_path / "sdist").mkdir()
    (tmp_path / "sdist" / "dvclive-9.9.9.tar.gz").write_bytes(b"")
    source = tmp_path / "src" / "dvclive-9.9.9"
    (source / "tests" / "frameworks").mkdir(parents=True)
    (source / "PKG-INFO").write_text(PKG_INFO, encoding="utf-8")
    (source / "tests" / "frameworks" / "test_keras.py").write_text(
        "import tensorflow\n", encoding="utf-8"
    )
    (source / "tests" / "frameworks" / "test_fastai.py").write_text(
        "from fastai.tabular.all import *\n", encoding="utf-8"
    )
    return source


def test_core_plan_takes_the_tests_extra_without_framework_or_display_packages(
    fake_sdist: Path,
) -> None:
    plan = environment.plan(fake_sdist, frameworks=False)
    assert plan.requirements[0].startswith("dvclive[image] @ file://")
    assert plan.requirements[1:] == ["pytest<9.0,>=7.2.0", "pytest-mock", "pytest-timeout>=2.3"]
    assert plan.constraints == []
    assert plan.without == {}


def test_framework_plan_adds_used_extras_with_cpu_builds(fake_sdist: Path) -> None:
    plan = environment.plan(fake_sdist, frameworks=True)
    assert "transformers[torch]" in plan.requirements
    assert "tensorflow-cpu" in plan.requirements  # the [tf] extra, CPU build
    assert not any(r.startswith(("tensorflow ", "mmcv", "tf-keras")) for r in plan.requirements)
    assert "tensorflow" not in plan.requirements
    assert plan.without == {"fastai": {"torchvision": environment.WITHOUT["fastai"]["torchvision"]}}
    assert plan.constraints == [environment.TORCH]
    assert any("[mmcv]" in note for note in plan.notes)
