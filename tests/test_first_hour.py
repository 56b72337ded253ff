"""What a new user meets first: the README's first example, the command line, the demo's
traces in git, and a checkout where the demo already ran.

Everything runs for real: ruff, git, ``dvc exp run`` on the demo pipeline, the ``dvcstage``
command in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, ROOT, copy_committed, run

from dvcstage.cli import build_parser

SMALL = ("-S", "train.train_images=48", "-S", "train.val_images=8", "-S", "train.log_images=2")


def readme_first_example() -> str:
    """The first Python block of the README, as a user copies it."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```python\n(.*?)```", text, re.DOTALL)
    assert match is not None
    return match.group(1)


# -- a checkout where the demo ran --------------------------------------------------------------


def test_ruff_takes_dvclive_for_third_party_beside_a_run_folder(tmp_path: Path) -> None:
    """The demo writes ``dvclive/`` at the root: ``import dvclive`` must still sort as
    third-party (ruff would otherwise take the folder for a first-party package)."""
    for name in ("pyproject.toml", "tests/test_dvclive_compat.py", "tests/conftest.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    # the package itself: ruff tells first-party modules by finding them
    shutil.copytree(
        ROOT / "dvcstage", tmp_path / "dvcstage", ignore=shutil.ignore_patterns("__py*")
    )
    (tmp_path / "dvclive" / "plots" / "metrics").mkdir(parents=True)
    (tmp_path / "dvclive" / "metrics.json").write_text("{}")
    done = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "--select", "I", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_tests_copy_pipeline_files_as_committed(tmp_path: Path) -> None:
    """``copy_committed`` takes HEAD's files, not what a README command changed since."""
    source = tmp_path / "checkout"
    source.mkdir()
    run("git", "init", "-q", "-b", "main", cwd=source)
    (source / "params.yaml").write_text("train:\n  lr: 0.01\n")
    (source / "pipeline").mkdir()
    (source / "pipeline" / "train.py").write_text("print('hi')\n")
    run("git", "add", "-A", cwd=source)
    run("git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x", cwd=source)
    (source / "params.yaml").write_text("train:\n  lr: 0.05\n")  # dvc exp run -S train.lr=0.05
    copy_committed(["params.yaml", "pipeline"], tmp_path / "copy", root=source)
    assert (tmp_path / "copy" / "params.yaml").read_text() == "train:\n  lr: 0.01\n"
    assert (tmp_path / "copy" / "pipeline" / "train.py").is_file()


def test_dvc_plots_output_is_ignored() -> None:
    """``dvc plots show`` / ``diff`` write ``dvc_plots/``: git and DVC both ignore it."""
    for ignore_file in (".gitignore", ".dvcignore"):
        patterns = (ROOT / ignore_file).read_text().splitlines()
        assert "dvc_plots/" in patterns, ignore_file
    done = run("git", "check-ignore", "--no-index", "dvc_plots/index.html", cwd=ROOT, check=False)
    assert done.stdout.strip() == "dvc_plots/index.html"


@pytest.fixture
def pipeline_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh clone's worth of the demo pipeline: its files as committed, one commit."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    repo = tmp_path / "repo"
    repo.mkdir()
    files = ["dvc.yaml", "params.yaml", ".dvcignore", ".gitignore", ".dvc/config"]
    copy_committed([*files, ".dvc/.gitignore", ".dvc/plots", "pipeline"], repo)
    run("git", "init", "-q", "-b", "main", cwd=repo)
    run("git", "config", "user.email", "test@example.com", cwd=repo)
    run("git", "config", "user.name", "test", cwd=repo)
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "-m", "pipeline", cwd=repo)
    return repo


def _status(repo: Path) -> list[str]:
    lines = run("git", "status", "--porcelain", "--untracked-files=normal", cwd=repo).stdout
    return sorted(line[3:] for line in lines.splitlines())


@pytest.mark.slow
def test_the_demo_leaves_only_what_dvc_writes(pipeline_repo: Path) -> None:
    """After ``dvc exp run`` and ``dvc plots show``, git sees the lock file, the run's folder
    (the experiment's outputs) and the parameters ``-S`` set, nothing else."""
    done = run("dvc", "exp", "run", *SMALL, "-S", "train.epochs=2", cwd=pipeline_repo, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    run("dvc", "plots", "show", cwd=pipeline_repo)
    assert (pipeline_repo / "dvc_plots" / "index.html").is_file()
    # dvc.yaml holds the entries Live writes already: untouched (see the next test)
    assert _status(pipeline_repo) == ["dvc.lock", "dvclive/", "params.yaml"]


@pytest.mark.slow
def test_the_demo_leaves_dvc_yaml_as_committed(pipeline_repo: Path) -> None:
    done = run("dvc", "exp", "run", *SMALL, "-S", "train.epochs=2", cwd=pipeline_repo, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dvc.yaml" not in _status(pipeline_repo)


def test_the_demo_explains_dvcs_first_run_warning() -> None:
    """DVC restores a stage's outputs before ``dvc exp run`` runs it; without a dvc.lock it
    warns "No file hash info found" for each. The demo says so before DVC does."""
    demo = subprocess.run(
        ["bash", "-c", 'source <(sed -n "/^first_run_note()/,/^}/p" scripts/demo); first_run_note'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "No file hash info found" in demo.stdout and "harmless" in demo.stdout


# -- the README's first example in a repository without commits ---------------------------------


def test_the_first_example_in_a_repository_without_commits(tmp_path: Path) -> None:
    """``git init && dvc init`` and nothing committed: the README's first example logs, with a
    warning that says why no experiment is saved (DVCLive raises ``SCMError``)."""
    repo = tmp_path / "fresh"
    repo.mkdir()
    run("git", "init", "-q", cwd=repo)
    run("dvc", "init", "-q", cwd=repo)
    (repo / "example.py").write_text(readme_first_example())
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path), "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=repo, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "no commit yet" in done.stderr and "git commit" in done.stderr
    assert (repo / "dvclive" / "plots" / "images" / "pred" / "9.png").is_file()
    assert json.loads((repo / "dvclive" / "metrics.json").read_text())["step"] == 9
    assert run("dvcstage", "validate", "dvclive", cwd=repo).returncode == 0


# -- the command line ---------------------------------------------------------------------------


def test_version() -> None:
    done = run("dvcstage", "--version")
    assert re.fullmatch(
        r"dvcstage \d+\.\d+\.\d+\S* \(dvclive \S+, DVC \S+, Python \d+\.\d+\.\d+\)\n", done.stdout
    ), done.stdout


def test_help_is_plain_text_with_a_help_for_every_argument() -> None:
    parser = build_parser()
    texts = [parser.format_help()]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, command in subparsers.choices.items():
        texts.append(command.format_help())
        for action in command._actions:
            assert action.help, f"dvcstage {name}: {action.dest} has no help"
        assert "exit status:" in texts[-1], name
    for text in texts:
        assert "``" not in text and ":func:" not in text, text
    assert "(default: demo-workspace)" in subparsers.choices["demo"].format_help()
    assert "(default: 10)" in subparsers.choices["demo"].format_help()


def test_validate_a_missing_path(tmp_path: Path) -> None:
    done = run("dvcstage", "validate", str(tmp_path / "nowhere"), check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"dvcstage validate: error: {tmp_path / 'nowhere'}: no such folder" in done.stderr
    (tmp_path / "file.json").write_text("{}")
    done = run("dvcstage", "validate", str(tmp_path / "file.json"), check=False)
    assert done.returncode == 2 and "not a folder" in done.stderr
    done = run("dvcstage", "validate", str(tmp_path), check=False)
    assert done.returncode == 0 and "no runs under" in done.stderr


def test_bad_arguments_exit_2() -> None:
    assert run("dvcstage", "demo", "--steps", "0", check=False).returncode == 2
    assert run("dvcstage", "index", "dvclive", check=False).returncode == 2
    assert run("dvcstage", "nope", check=False).returncode == 2


def test_validate_shows_problems_at_their_line_and_column(plain_dir: Path) -> None:
    import numpy as np

    from dvcstage import Live

    with Live(save_dvc_exp=False) as live:
        live.log_image(
            "pred.png",
            np.zeros((8, 8)),
            annotations={
                "boxes": [[0, 0, 4, 4]],
                "labels": ["cat"],
                "scores": [0.9],
                "box_format": "tlbr",
            },
            masks={"truth": {"mask_data": np.eye(8, dtype=int), "class_labels": {1: "cat"}}},
        )
    sidecar = plain_dir / "dvclive" / "plots" / "images" / "pred.json"
    document = json.loads(sidecar.read_text())
    document["annotations"]["cat"][0]["score"] = "high"
    document["masks"]["truth"]["path"] = "pred.masks/gone.png"
    text = json.dumps(document, indent=2)  # one value a line, as an editor shows it
    sidecar.write_text(text)
    done = run("dvcstage", "validate", "dvclive", check=False)
    assert done.returncode == 1

    def at(needle: str) -> str:
        offset = text.index(needle)
        line = text.count("\n", 0, offset) + 1
        return f"{line}:{offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"

    name = sidecar.relative_to(plain_dir)
    where = at('"high"')
    assert f"{name}:{where}: " in done.stdout, done.stdout
    assert "'high' is not of type 'number'" in done.stdout
    # once the schema is met, the missing mask is shown on its path
    document["annotations"]["cat"][0]["score"] = 0.9
    text = json.dumps(document, indent=2)
    sidecar.write_text(text)
    done = run("dvcstage", "validate", "dvclive", check=False)
    where = at('"pred.masks/gone.png"')
    expected = f"{name}:{where}: masks/truth"
    assert expected in done.stdout, done.stdout
