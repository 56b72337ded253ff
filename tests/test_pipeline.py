"""The demo pipeline end to end, with real git, real ``dvc`` and the real training script.

In a temporary repository made of the project's pipeline files (``dvc.yaml``,
``params.yaml``, ``pipeline/``, ``.dvc/``, ``.dvcignore``): ``dvc exp run`` twice with
different parameters, ``dvc exp show``, ``dvc plots diff`` between the two experiments
(HTML and ``--json``, each template checked against the rows it was filled with), ``dvc
push`` to a local and an S3 remote, a second clone with ``dvc pull``, and three queued
experiments run with ``dvc queue start -j 2``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import test_remotes
from conftest import BIN, copy_committed, run
from test_remotes import add_remotes, check_pull, digests, push_everywhere

from dvcstage import plot_templates
from dvcstage.validate import validate_tree

PIPELINE_FILES = [
    "dvc.yaml",
    "params.yaml",
    ".dvcignore",
    ".dvc/config",
    ".dvc/.gitignore",
    ".dvc/plots",
    "pipeline",
]
SMALL = ("-S", "train.train_images=48", "-S", "train.val_images=8", "-S", "train.log_images=3")
# DVC checks out the stage's outs before the first run, when no dvc.lock knows them yet.
FIRST_RUN_NOTE = "No file hash info found for"
moto_s3 = test_remotes.moto_s3


@pytest.fixture(autouse=True)
def _venv_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stage's ``python`` is this environment's, as after ``source .venv/bin/activate``."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def make_pipeline_repo(path: Path) -> Path:
    """A git repository holding the project's pipeline files, committed (as a fresh clone)."""
    path.mkdir(parents=True)
    copy_committed(PIPELINE_FILES, path)  # not the working tree: the demo changes it
    run("git", "init", "-q", "-b", "main", cwd=path)
    run("git", "config", "user.email", "test@example.com", cwd=path)
    run("git", "config", "user.name", "test", cwd=path)
    run("git", "add", "-A", cwd=path)
    run("git", "commit", "-q", "-m", "pipeline", cwd=path)
    return path


def warnings_in(stderr: str, first_run: bool) -> list[str]:
    """Warning and error lines of a dvc command (DVC's first-run checkout note allowed)."""
    return [
        line
        for line in stderr.splitlines()
        if ("WARNING" in line or "ERROR" in line) and not (first_run and FIRST_RUN_NOTE in line)
    ]


def exp_run(repo: Path, name: str, *params: str, first: bool = False) -> None:
    """``dvc exp run -n name`` with ``params``; it must succeed without warnings."""
    started = time.perf_counter()
    done = run("dvc", "exp", "run", "-n", name, *SMALL, *params, cwd=repo, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert warnings_in(done.stderr, first) == [], done.stderr
    print(f"dvc exp run {name}: {time.perf_counter() - started:.1f} s")


def commit_of(repo: Path, exp: str) -> str:
    """The commit of experiment ``exp`` (``dvc exp list`` prints ``<sha> [<name>]``)."""
    for line in run("dvc", "exp", "list", "-A", cwd=repo).stdout.splitlines():
        match = re.fullmatch(r"\s*([0-9a-f]{7,40}) \[(.+)\]\s*", line)
        if match and match.group(2) == exp:
            return match.group(1)
    raise AssertionError(f"no experiment {exp!r}")


def git_show(repo: Path, exp: str, path: str) -> str:
    """A file of experiment ``exp``'s commit."""
    return run("git", "show", f"{commit_of(repo, exp)}:{path}", cwd=repo).stdout


def tsv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(text.splitlines(), delimiter="\t"))


def without_data(content: dict[str, Any]) -> dict[str, Any]:
    """A filled template with its data and title put back as DVC's anchors."""
    content = json.loads(json.dumps(content))
    content["data"]["values"] = "<DVC_METRIC_DATA>"
    content["title"]["text"] = "<DVC_METRIC_TITLE>"
    return content


def sidecar_rows(repo: Path, rev: str) -> Counter[tuple[int, int, str, float]]:
    """(step, item, label, score) of every predicted box in the sidecars of ``rev``."""
    run("dvc", "exp", "apply", rev, cwd=repo)
    rows: Counter[tuple[int, int, str, float]] = Counter()
    for sidecar in (repo / "dvclive/plots/images/predictions").glob("*/*.json"):
        document = json.loads(sidecar.read_text())
        item, step = int(sidecar.parent.name), int(sidecar.stem)
        assert document["step"] == step
        for label, boxes in document.get("annotations", {}).items():
            for box in boxes:
                rows[(step, item, label, box["score"])] += 1
    return rows


def check_plots_json(repo: Path, out: Path, exps: dict[str, int]) -> None:
    """``dvc plots diff --json``: every plot expected, none stray, templates rightly filled."""
    done = run("dvc", "plots", "diff", *exps, "--json", "-o", str(out), cwd=repo, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    result = json.loads(done.stdout)
    assert not result.get("errors"), result["errors"]
    plots: dict[str, list[dict[str, Any]]] = result["data"]
    layers = ("conv1", "conv2", "conv3", "head")
    series = [f"dvclive/plots/histograms/{kind}/{layer}.tsv" for kind in ("weights", "gradients")
              for layer in layers]  # fmt: skip
    metrics = [f"dvclive/plots/metrics/{m}.tsv" for m in
               ("train/loss", "val/loss", "val/miou", "val/box_f1")]  # fmt: skip
    images = {  # the annotated previews: DVC never draws the raw images, sidecars or masks
        f"dvclive/plots/previews/predictions/{item}/{step}.jpg"
        for epochs in exps.values()
        for step in range(epochs)
        for item in range(3)
    }
    expected = {
        *metrics,
        "dvclive/plots/custom/detections.json",
        *(f"{s}#heatmap" for s in series),
        *(f"{s}#last" for s in series),
        *images,
    }
    assert set(plots) == expected  # no sidecar, mask or table plot: nothing stray
    for image in images:
        revisions = [r for entry in plots[image] for r in entry["revisions"]]
        assert all(entry["type"] == "image" for entry in plots[image])
        step = int(Path(image).stem)
        assert sorted(revisions) == sorted(e for e, n in exps.items() if step < n)
    templates = {
        name: json.loads(plot_templates.template_text(name))
        for name in plot_templates.list_templates()
    }
    for path in series:
        for suffix, template in (("#heatmap", "dvcstage-histogram-heatmap"),
                                 ("#last", "dvcstage-histogram-overlay")):  # fmt: skip
            (entry,) = plots[path + suffix]
            assert entry["type"] == "vega" and sorted(entry["revisions"]) == sorted(exps)
            assert without_data(entry["content"]) == templates[template]
            rows = entry["content"]["data"]["values"]
            for exp, epochs in exps.items():
                mine = [
                    {k: r[k] for k in ("step", "bin", "low", "high", "count")}
                    for r in rows
                    if r["rev"] == exp
                ]
                logged = tsv_rows(git_show(repo, exp, path))
                if suffix == "#heatmap":  # every step (fewer than 500), each spanning one step
                    assert mine == logged
                    assert {int(r["step"]) for r in mine} == set(range(epochs))
                    assert all(int(r["from"]) == int(r["step"]) - 1 for r in rows)
                else:  # the last step only
                    assert mine == [r for r in logged if int(r["step"]) == epochs - 1]
    (entry,) = plots["dvclive/plots/custom/detections.json"]
    assert without_data(entry["content"]) == templates["dvcstage-detections"]
    rows = entry["content"]["data"]["values"]
    assert rows, "no detections at all"  # a weak early model may find nothing: not every rev
    for exp in exps:
        logged = Counter(
            (r["step"], r["item"], r["label"], r["score"]) for r in rows if r["rev"] == exp
        )
        assert logged == sidecar_rows(repo, exp)


def check_plots_html(repo: Path, out: Path, exps: dict[str, int]) -> None:
    """``dvc plots diff`` to HTML: no errors; every template's spec and image is there."""
    done = run("dvc", "plots", "diff", *exps, "-o", str(out), cwd=repo, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    html = (out / "index.html").read_text()
    for name in plot_templates.list_templates():
        description = json.loads(plot_templates.template_text(name))["description"]
        assert json.dumps(description)[1:-1] in html, name
    drawn = list((out / "static").glob("*.jpg"))  # the annotated previews
    assert len(drawn) == sum(3 * epochs for epochs in exps.values())
    assert not list((out / "static").glob("*.png")), "a raw image or mask was drawn"


def check_experiment_files(repo: Path, exp: str, epochs: int) -> None:
    """The stage's outs own the media: no ``.dvc`` files, both folders in ``dvc.lock``."""
    commit = commit_of(repo, exp)
    files = run("git", "ls-tree", "-r", "--name-only", commit, cwd=repo).stdout.split()
    assert not [f for f in files if f.endswith(".dvc")]
    assert "dvclive/media.jsonl" in files
    media = ("dvclive/plots/images/", "dvclive/plots/previews/", "dvclive/media/")
    assert not [f for f in files if f.startswith(media)]
    lock = git_show(repo, exp, "dvc.lock")
    for folder in ("dvclive/plots/images", "dvclive/plots/previews", "dvclive/media"):
        assert f"path: {folder}\n" in lock
    metrics = json.loads(git_show(repo, exp, "dvclive/metrics.json"))
    assert metrics["step"] == epochs - 1
    assert 0 <= metrics["val"]["miou"] <= 1


def run_queue(repo: Path) -> dict[str, str]:
    """Three queued experiments, run two at a time; returns name -> lr."""
    queued = {"q-seed1": "0.01", "q-seed2": "0.02", "q-seed3": "0.03"}
    for index, (name, lr) in enumerate(queued.items(), start=1):
        run("dvc", "exp", "run", "--queue", "-n", name, *SMALL, "-S", "train.epochs=2",
            "-S", f"train.seed={index}", "-S", f"train.lr={lr}", cwd=repo)  # fmt: skip
    started = time.perf_counter()
    run("dvc", "queue", "start", "-j", "2", cwd=repo)
    deadline = time.monotonic() + 240
    while True:
        status = run("dvc", "queue", "status", cwd=repo).stdout
        if not any(word in status for word in ("Queued", "Running")):
            break
        assert time.monotonic() < deadline, status
        time.sleep(2)
    print(f"queue of 3 (-j 2): {time.perf_counter() - started:.1f} s")
    for name in queued:
        assert any(name in line and "Success" in line for line in status.splitlines()), status
    run("dvc", "queue", "stop", "--kill", cwd=repo, check=False)
    return queued


def check_queue_results(repo: Path, queued: dict[str, str]) -> None:
    """Each queued experiment: its params, valid media, and media unlike the others'."""
    seen: dict[str, dict[str, str]] = {}
    for index, (name, lr) in enumerate(queued.items(), start=1):
        params = git_show(repo, name, "params.yaml")
        assert f"seed: {index}\n" in params and f"lr: {lr}\n" in params
        check_experiment_files(repo, name, 2)
        done = run("dvc", "exp", "apply", name, cwd=repo, check=False)
        assert done.returncode == 0 and "WARNING" not in done.stderr, done.stderr
        assert "up to date" in run("dvc", "status", cwd=repo).stdout
        assert validate_tree(repo / "dvclive") == []
        index_lines = (repo / "dvclive/media.jsonl").read_text().splitlines()
        assert index_lines and all(json.loads(line) for line in index_lines)
        seen[name] = digests(repo)
        assert len(seen[name]) > 20
    names = list(seen)
    for a, b in ((0, 1), (0, 2), (1, 2)):
        first, second = seen[names[a]], seen[names[b]]
        assert set(first) == set(second)
        different = [p for p in first if p.endswith(".png") and first[p] != second[p]]
        assert len(different) > len(first) // 4, (names[a], names[b])


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a hang guard: beside the CPU hogs it takes 10+ minutes
def test_pipeline_end_to_end(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    repo = make_pipeline_repo(tmp_path / "repo")
    exps = {"exp-a": 2, "exp-b": 3}
    exp_run(repo, "exp-a", "-S", "train.epochs=2", first=True)
    exp_run(repo, "exp-b", "-S", "train.epochs=3", "-S", "train.lr=0.05")
    for exp, epochs in exps.items():
        check_experiment_files(repo, exp, epochs)
        # the pipeline's dvc.yaml, plot entries included, is the same in every experiment
        assert git_show(repo, exp, "dvc.yaml") == (repo / "dvc.yaml").read_text()
    assert run("git", "diff", "--stat", "HEAD", "--", "dvc.yaml", cwd=repo).stdout == ""
    shown = json.loads(run("dvc", "exp", "show", "--json", cwd=repo).stdout)
    found = {
        exp["name"]: exp["data"]["params"]["params.yaml"]["data"]["train"]
        for baseline in shown
        for run_ in baseline.get("experiments") or []
        for exp in run_["revs"]
    }
    assert found["exp-a"]["epochs"] == 2 and found["exp-a"]["lr"] == 0.01
    assert found["exp-b"]["epochs"] == 3 and found["exp-b"]["lr"] == 0.05
    table = run("dvc", "exp", "show", "--no-pager", "--md", cwd=repo).stdout
    assert "exp-a" in table and "exp-b" in table

    check_plots_html(repo, tmp_path / "html", exps)
    check_plots_json(repo, tmp_path / "json-images", exps)

    # Remotes: exp-b committed on a branch, pushed to both remotes, pulled into clones.
    endpoint: str = request.getfixturevalue("moto_s3")
    run("dvc", "exp", "apply", "exp-b", cwd=repo)
    origin = tmp_path / "origin.git"
    run("git", "init", "-q", "--bare", "-b", "main", str(origin))
    add_remotes(repo, tmp_path / "remote", endpoint, "pipeline")
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "-m", "exp-b", cwd=repo)
    run("git", "push", "-q", str(origin), "main", cwd=repo)
    push_everywhere(repo)
    check_pull(repo, origin, tmp_path / "clone-local", "local")
    check_pull(repo, origin, tmp_path / "clone-s3", "s3")

    check_queue_results(repo, run_queue(repo))


def test_repository_ships_the_templates(tmp_path: Path) -> None:
    """``.dvc/plots`` holds every shipped template, unchanged (`dvcstage templates install`)."""
    copy_committed([".dvc/plots"], tmp_path)
    assert plot_templates.stale_templates(tmp_path / ".dvc") == []


def test_template_install(tmp_path: Path) -> None:
    dvc_dir = tmp_path / ".dvc"
    dvc_dir.mkdir()
    assert len(plot_templates.install_templates(dvc_dir)) == 3
    assert plot_templates.install_templates(dvc_dir) == []
    edited = dvc_dir / "plots" / "dvcstage-detections.json"
    edited.write_text("{}")
    assert plot_templates.install_templates(dvc_dir) == []
    assert plot_templates.stale_templates(dvc_dir) == ["dvcstage-detections"]
    assert plot_templates.install_templates(dvc_dir, overwrite=True) == [edited]
    shipped = plot_templates.template_path("dvcstage-detections").read_bytes()
    assert hashlib.sha256(edited.read_bytes()).digest() == hashlib.sha256(shipped).digest()
    cli = run("dvcstage", "templates", "list")
    assert [line.split("\t")[0] for line in cli.stdout.splitlines()] == [
        "dvcstage-detections",
        "dvcstage-histogram-heatmap",
        "dvcstage-histogram-overlay",
    ]
