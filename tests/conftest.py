"""Shared fixtures: a real git + DVC repository in a temporary folder."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
# scripts/test sets this: there, everything a test needs has been installed, so a skip
# (no Chromium, no node_modules, ...) means a broken setup and fails the run.
NO_SKIPS = os.environ.get("DVCSTAGE_NO_SKIPS") == "1"
#: Debian's Chromium, driven by playwright-core from vscode-ext/node_modules (never downloaded).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def browser_missing() -> str | None:
    """Why the Chromium tests cannot run here, or None when node, Chromium and playwright-core
    are all in place."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    if not (ROOT / "vscode-ext" / "node_modules" / "playwright-core").is_dir():
        return "vscode-ext/node_modules/playwright-core is missing (npm ci in vscode-ext)"
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but DVCSTAGE_NO_SKIPS=1: {report.longrepr}"


# Tests marked ``frameworks`` need Lightning, Keras, torch or Ultralytics, which live in venvs
# of their own (scripts/test-frameworks builds them and sets DVCSTAGE_FRAMEWORKS=1): elsewhere
# they are deselected, not skipped.
RUN_FRAMEWORK_TESTS = os.environ.get("DVCSTAGE_FRAMEWORKS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if RUN_FRAMEWORK_TESTS:
        return
    deselected = [item for item in items if item.get_closest_marker("frameworks")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("frameworks")]


def run(
    *args: str, cwd: Path | None = None, check: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command (``dvc`` and ``dvcstage`` from this interpreter's environment)."""
    command = list(args)
    if command[0] in ("dvc", "dvcstage"):
        command[0] = str(BIN / command[0])
    return subprocess.run(command, cwd=cwd, check=check, capture_output=True, text=True, env=env)


def exp_run(repo: Path, name: str, *params: str, env: Mapping[str, str] | None = None) -> None:
    """``dvc exp run -n NAME PARAMS`` in ``repo``; fails with DVC's output."""
    done = run("dvc", "exp", "run", "-n", name, *params, cwd=repo, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr


def copy_committed(paths: list[str], dest: Path, root: Path = ROOT) -> None:
    """Copy ``paths`` (files or folders) as committed at ``root``'s HEAD into ``dest``.

    Tests never read the repository's working tree for files its commands change: the demo
    and the README's examples (``dvc exp run -S train.lr=0.05``, ``dvcstage templates
    install``) rewrite ``params.yaml``, ``dvc.yaml`` and ``.dvc/``. Outside a git checkout (an
    unpacked sdist) the files are copied as they are.
    """
    inside = subprocess.run(
        ["git", "rev-parse", "--is-inside-work-tree"], cwd=root, capture_output=True, text=True
    )
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        for name in paths:
            source, target = root / name, dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target, ignore=shutil.ignore_patterns("__py*"))
            else:
                shutil.copy2(source, target)
        return
    archive = subprocess.run(
        ["git", "archive", "--format=tar", "HEAD", "--", *paths],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


@contextlib.contextmanager
def repo_environment(base: Path) -> Iterator[None]:
    """The venv's commands first on ``PATH`` and git kept below ``base``, for module-scoped
    fixtures (which cannot take ``monkeypatch``); both restored on leaving."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
        patch.setenv("GIT_CEILING_DIRECTORIES", str(base))
        yield


def make_repo(path: Path) -> Path:
    """A git repository with DVC initialised and one commit."""
    path.mkdir(parents=True, exist_ok=True)
    run("git", "init", "-q", "-b", "main", cwd=path)
    run("git", "config", "user.email", "test@example.com", cwd=path)
    run("git", "config", "user.name", "test", cwd=path)
    run("dvc", "init", "-q", cwd=path)
    run("git", "commit", "-q", "-m", "init", cwd=path)
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh git + DVC repository as the working directory."""
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    yield root


@pytest.fixture
def plain_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A working directory outside any git or DVC repository (no experiment saving)."""
    root = tmp_path / "plain"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    yield root


@pytest.fixture(autouse=True)
def _quiet_dvc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    monkeypatch.setenv("DVCLIVE_LOGLEVEL", "WARNING")
    for name in ("DVC_ROOT", "DVC_EXP_BASELINE_REV", "DVC_EXP_NAME", "DVC_STUDIO_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("GIT_AUTHOR_NAME", "test")
