"""``dvcstage import wandb``: offline runs written by the real ``wandb`` package are imported
and checked item by item against what was logged: metrics at their steps, config, summary,
images with boxes and masks, image lists, a table with image cells, histograms, audio, HTML.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import make_repo, run
from import_support import (
    dvcstage_import,
    histogram_series,
    metric_series,
    panel_view,
    sidecar,
    tree_state,
)

from dvcstage import read_image

STEPS = [0, 2, 4, 6]  # W&B steps with gaps: they are kept as they are
CONFIG = {"lr": 0.01, "model": {"depth": 3, "act": "relu"}, "layers": [8, 16]}
BOX_LABELS = {1: "cat", 2: "dog"}
MASK_LABELS = {0: "background", 1: "cat", 2: "dog"}
H, W = 24, 32
PDB = (
    "ATOM      1  N   ALA A   1      11.104   6.134  -6.504  1.00  0.00           N\n"
    "ATOM      2  CA  ALA A   1      11.639   6.071  -5.147  1.00  0.00           C\n"
    "END\n"
)

LOG_RUN = """
import sys
import numpy as np
import wandb
sys.path.insert(0, sys.argv[1])
from test_import_wandb import CONFIG, PDB, STEPS, logged

from PIL import Image
open("mol.pdb", "w").write(PDB)
frames = [Image.new("RGB", (8, 8), (60 * i, 0, 0)) for i in range(3)]
frames[0].save("clip.gif", save_all=True, append_images=frames[1:], duration=250)
run = wandb.init(mode="offline", project="doors", config=CONFIG)
for step in STEPS:
    v = logged(step)
    table = wandb.Table(columns=["id", "image", "label"])
    for i, (img, boxes) in enumerate(v["table"]):
        table.add_data(i, wandb.Image(img, boxes=boxes), f"row {i}")
    run.log(
        {
            "loss": v["loss"],
            "val/acc": v["acc"],
            "pred": wandb.Image(v["image"], caption=v["caption"], boxes=v["boxes"],
                                masks=v["masks"]),
            "gallery": [wandb.Image(img, caption=f"g{i}") for i, img in enumerate(v["gallery"])],
            "examples": table,
            "weights": wandb.Histogram(v["weights"]),
            "grads": wandb.Histogram(np_histogram=v["grads"]),
            "voice": wandb.Audio(v["voice"], sample_rate=8000, caption=f"voice {step}"),
            "page": wandb.Html(f"<p>page {step}</p>"),
            "cloud": wandb.Object3D(v["cloud"]),
            "protein": wandb.Molecule("mol.pdb", caption=f"mol {step}"),
            "clip": wandb.Video("clip.gif", caption=f"clip {step}"),
        },
        step=step,
    )
run.summary["best_acc"] = 0.875
run.finish()
print(run.dir)
"""


def _boxes(step: int, shift: float) -> dict[str, Any]:
    return {
        "predictions": {
            "box_data": [
                {
                    "position": {"minX": 0.1 + shift, "maxX": 0.5, "minY": 0.2, "maxY": 0.7},
                    "class_id": 1,
                    "box_caption": f"cat {step}",
                    "scores": {"score": 0.5 + shift},
                },
                {
                    "position": {"middle": [16, 12], "width": 8, "height": 6},
                    "domain": "pixel",
                    "class_id": 2,
                    "scores": {"score": 0.25},
                },
            ],
            "class_labels": BOX_LABELS,
        },
        "ground_truth": {
            "box_data": [
                {
                    "position": {"minX": 0.1, "maxX": 0.45, "minY": 0.25, "maxY": 0.7},
                    "class_id": 1,
                }
            ],
            "class_labels": BOX_LABELS,
        },
    }


def logged(step: int) -> dict[str, Any]:
    """What the run logs at ``step`` (deterministic: the check recomputes it)."""
    rng = np.random.default_rng(step)
    truth = np.zeros((H, W), np.uint8)
    truth[4:12, 3:15] = 1
    truth[14:20, 18:30] = 2
    predicted = np.roll(truth, step // 2, axis=1)
    counts = rng.integers(0, 50, 10)
    return {
        "loss": 1 / (step + 1),
        "acc": step / 10,
        "image": rng.integers(0, 256, (H, W, 3), dtype=np.uint8),
        "caption": f"step {step}",
        "boxes": _boxes(step, step / 100),
        "masks": {
            "predictions": {"mask_data": predicted, "class_labels": MASK_LABELS},
            "ground_truth": {"mask_data": truth, "class_labels": MASK_LABELS},
        },
        "gallery": [rng.integers(0, 256, (8, 8, 3), dtype=np.uint8) for _ in range(2)],
        "table": [
            (rng.integers(0, 256, (H, W, 3), dtype=np.uint8), _boxes(step, i / 10))
            for i in range(2)
        ],
        "weights": rng.normal(size=300),
        "grads": (counts, np.linspace(-1, 1, 11)),
        "voice": np.sin(np.arange(800) * (step + 1) / 30) * 0.5,
        "cloud": rng.random((40, 3)),
    }


def wandb_env(home: Path) -> dict[str, str]:
    """W&B offline, with its folders (artifact staging included) inside the test's folder."""
    env = dict(os.environ)
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        WANDB_DIR=str(home),
        WANDB_DATA_DIR=str(home / "data"),
        WANDB_CACHE_DIR=str(home / "cache"),
        WANDB_CONFIG_DIR=str(home / "config"),
    )
    return env


@pytest.fixture(scope="module")
def wandb_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished offline run written by wandb: its folder (``wandb/offline-run-*``)."""
    home = tmp_path_factory.mktemp("wandb-home")
    done = subprocess.run(
        [sys.executable, "-c", LOG_RUN, str(Path(__file__).parent)],
        cwd=home,
        env=wandb_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (folder,) = (home / "wandb").glob("offline-run-*")
    return folder


def check_run(run_dir: Path, source_dir: Path, *, table_cells: bool = True) -> None:
    """Every item of the imported run equals what was logged at its step."""
    loss = metric_series(run_dir, "loss")
    accuracy = metric_series(run_dir, "val/acc")
    assert {s: float(v) for s, v in loss.items()} == {s: logged(s)["loss"] for s in STEPS}
    assert {s: float(v) for s, v in accuracy.items()} == {s: logged(s)["acc"] for s in STEPS}
    assert yaml.safe_load((run_dir / "params.yaml").read_text()) == CONFIG
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["best_acc"] == 0.875 and metrics["loss"] == 1 / 7
    assert metrics["step"] == STEPS[-1]

    weights = histogram_series(run_dir, "weights")
    grads = histogram_series(run_dir, "grads")
    assert sorted(weights) == sorted(grads) == STEPS
    for step in STEPS:
        values = logged(step)
        image = read_image(run_dir / "plots" / "images" / "pred" / f"{step}.png")
        assert np.array_equal(image.pixels, values["image"])
        assert image.caption == values["caption"]
        assert image.boxes is not None
        assert set(image.boxes) == {"predictions", "ground_truth"}
        for group, logged_group in values["boxes"].items():
            assert image.boxes[group]["class_labels"] == logged_group["class_labels"]
            assert image.boxes[group]["box_data"] == logged_group["box_data"]
        for name, mask in values["masks"].items():
            assert np.array_equal(image.masks[name]["mask_data"], mask["mask_data"])
            assert image.masks[name]["class_labels"] == MASK_LABELS

        for i, pixels in enumerate(values["gallery"]):
            item = read_image(run_dir / "plots/images/gallery.items" / str(i) / f"{step}.png")
            assert np.array_equal(item.pixels, pixels)

        table = sidecar(run_dir / "media" / "table" / "examples" / f"{step}.json")
        assert table["columns"] == ["id", "image", "label"]
        assert [[row[0], row[2]] for row in table["data"]] == [[0, "row 0"], [1, "row 1"]]
        if table_cells:
            for row, (pixels, boxes) in zip(table["data"], values["table"], strict=True):
                cell_path = run_dir / "media" / "table" / "examples" / row[1]["path"]
                cell = read_image(cell_path)
                assert np.array_equal(cell.pixels, pixels)
                assert cell.boxes is not None
                assert cell.boxes["predictions"]["box_data"] == boxes["predictions"]["box_data"]

        edges, counts = weights[step]
        expected_counts, expected_edges = np.histogram(values["weights"], bins=64)
        assert counts == expected_counts.tolist()
        assert np.allclose(edges, expected_edges, rtol=0, atol=1e-12)
        edges, counts = grads[step]
        assert counts == values["grads"][0].tolist()
        assert np.allclose(edges, values["grads"][1], rtol=0, atol=1e-12)

        audio = run_dir / "media" / "audio" / "voice" / f"{step}.wav"
        with wave.open(io.BytesIO(audio.read_bytes())) as clip:
            assert clip.getframerate() == 8000
            samples = np.frombuffer(clip.readframes(clip.getnframes()), "<i2")
        assert np.abs(samples / 32767 - values["voice"]).max() < 1e-4
        assert sidecar(audio.with_suffix(".json"))["caption"] == f"voice {step}"

        page = (run_dir / "media" / "html" / "page" / f"{step}.html").read_text()
        assert f"<p>page {step}</p>" in page

        cloud = json.loads(
            (run_dir / "media" / "object3d" / "cloud" / f"{step}.pts.json").read_text()
        )
        assert np.allclose(cloud["points"], values["cloud"], rtol=0, atol=1e-12)
        molecule = run_dir / "media" / "molecule" / "protein" / f"{step}.pdb"
        assert molecule.read_text() == PDB
        assert sidecar(molecule.with_suffix(".json"))["caption"] == f"mol {step}"
        clip = run_dir / "media" / "video" / "clip" / f"{step}.gif"
        assert clip.read_bytes() == (source_dir / "clip.gif").read_bytes()
        assert sidecar(clip.with_suffix(".json"))["caption"] == f"clip {step}"


def test_offline_run_imported_item_by_item(wandb_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    done = dvcstage_import("wandb", str(wandb_run), "--to", str(out), cwd=tmp_path)
    assert "imported 1 run(s)" in done.stderr
    check_run(out, wandb_run.parents[1])
    assert run("dvcstage", "validate", str(out)).returncode == 0


def test_a_wandb_folder_and_a_project_folder_are_read_too(wandb_run: Path, tmp_path: Path) -> None:
    for source in (wandb_run.parent, wandb_run.parent.parent):
        out = tmp_path / f"from-{source.name}"
        dvcstage_import("wandb", str(source), "--to", str(out), cwd=tmp_path)
        assert sorted(metric_series(out, "loss")) == STEPS


def test_second_import_writes_nothing_and_dry_run_writes_nothing(
    wandb_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "imported"
    dry = dvcstage_import("wandb", str(wandb_run), "--to", str(out), "--dry-run", cwd=tmp_path)
    assert not out.exists()
    for kind, key in (
        ("metric", "loss"),
        ("image", "pred"),
        ("image", "gallery"),
        ("table", "examples"),
        ("histogram", "weights"),
        ("audio", "voice"),
        ("html", "page"),
        ("object3d", "cloud"),
        ("molecule", "protein"),
        ("video", "clip"),
    ):
        assert f"{kind:<9} {key}  (4 steps, steps 0..6)" in dry.stdout
    assert "params.yaml: 3 parameter(s): layers, lr, model" in dry.stdout

    dvcstage_import("wandb", str(wandb_run), "--to", str(out), cwd=tmp_path)
    before = tree_state(out)
    again = dvcstage_import("wandb", str(wandb_run), "--to", str(out), cwd=tmp_path)
    assert "up to date" in again.stdout
    assert tree_state(out) == before


def test_downloaded_run_files_are_read(wandb_run: Path, tmp_path: Path) -> None:
    """The layout of run files downloaded from W&B: ``wandb-history.jsonl`` (history rows with
    nested media values), ``config.yaml`` (``{key: {value: ...}}``), ``wandb-summary.json``
    and ``media/``. No download can be made here, so the folder is laid out from the offline
    run's own files and rows (read with W&B's reader)."""
    from dvcstage.importers.wandb import WandbRun, _log_of

    source = WandbRun(wandb_run)
    log = _log_of(wandb_run)
    assert log is not None
    source.read_log(log)
    export = tmp_path / "export"
    shutil.copytree(wandb_run / "files" / "media", export / "media")
    with open(export / "wandb-history.jsonl", "w") as history:
        for row in source.rows:
            nested: dict[str, Any] = {}
            for key, value in row.items():  # W&B's download nests what its log flattens
                head, _, rest = key.partition(".")
                if rest and not key.startswith(("val/", "_")):
                    node = nested.setdefault(head, {})
                    *parents, leaf = rest.split(".")
                    for part in parents:
                        node = node.setdefault(part, {})
                    node[leaf] = value
                else:
                    nested[key] = value
            history.write(json.dumps(nested) + "\n")
    config = {**CONFIG, "_wandb": source.config["_wandb"]}  # W&B keeps class labels there
    (export / "config.yaml").write_text(
        yaml.safe_dump({k: {"desc": None, "value": v} for k, v in config.items()})
    )
    (export / "wandb-summary.json").write_text(json.dumps({"best_acc": 0.875, "loss": 1 / 7}))
    out = tmp_path / "imported"
    dvcstage_import("wandb", str(export), "--to", str(out), cwd=tmp_path)
    # Downloaded files hold the tables' previews only (their cells are in W&B's artifacts).
    check_run(out, wandb_run.parents[1], table_cells=False)


@pytest.mark.parametrize("make", ["missing", "empty", "not a log"])
def test_unknown_layout_is_a_clear_error(tmp_path: Path, make: str) -> None:
    source = tmp_path / "source"
    if make != "missing":
        source.mkdir()
    if make == "not a log":
        (source / "run-abc.wandb").write_bytes(b"not a W&B log")
    done = dvcstage_import(
        "wandb", str(source), "--to", str(tmp_path / "out"), cwd=tmp_path, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "RUN_DIR: " in done.stderr and "accepted:" in done.stderr
    assert not (tmp_path / "out").exists()


def test_exp_saves_a_dvc_experiment_that_the_panel_shows(wandb_run: Path, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    dvcstage_import("wandb", str(wandb_run), "--to", "wb", "--exp", "from-wandb", cwd=repo)
    exps = json.loads(run("dvc", "exp", "show", "--json", cwd=repo).stdout)
    (experiment,) = [
        exp
        for entry in exps
        for exp in entry.get("experiments") or []
        if exp["name"] == "from-wandb"
    ]
    data = experiment["revs"][0]["data"]
    assert data["metrics"]["wb/metrics.json"]["data"]["best_acc"] == 0.875
    assert data["params"]["wb/params.yaml"]["data"] == CONFIG
    again = dvcstage_import("wandb", str(wandb_run), "--to", "wb", "--exp", "from-wandb", cwd=repo)
    assert "up to date" in again.stdout

    runs, media = panel_view(repo)
    (panel_run,) = [r for r in runs if r["dir"] == "wb"]
    keys = {k["key"]: (k["kind"], k["steps"]) for k in media[panel_run["id"]]["keys"]}
    assert keys == {
        "pred": ("image", STEPS),
        "gallery": ("image", STEPS),
        "examples": ("table", STEPS),
        "weights": ("histogram", STEPS),
        "grads": ("histogram", STEPS),
        "voice": ("audio", STEPS),
        "page": ("html", STEPS),
        "cloud": ("object3d", STEPS),
        "protein": ("molecule", STEPS),
        "clip": ("video", STEPS),
    }


def test_a_repository_without_commits_is_a_clear_error(wandb_run: Path, tmp_path: Path) -> None:
    """In a repository without commits the run is imported (as Live logs there, with a
    warning), but an experiment cannot be saved: --exp says so before writing anything."""
    workspace = tmp_path / "fresh"
    workspace.mkdir()
    run("git", "init", "-q", cwd=workspace)
    done = dvcstage_import(
        "wandb", str(wandb_run), "--to", "wb", "--exp", "x", cwd=workspace, check=False
    )
    assert done.returncode == 2
    assert "--exp: 'x' needs a commit to save the experiment on" in done.stderr
    assert "Traceback" not in done.stderr and not (workspace / "wb").exists()
    done = dvcstage_import("wandb", str(wandb_run), "--to", "wb", cwd=workspace, check=False)
    assert done.returncode == 0, done.stderr
    assert (workspace / "wb" / "metrics.json").is_file()


def test_an_unreadable_item_is_said_and_the_rest_imported(wandb_run: Path, tmp_path: Path) -> None:
    source = tmp_path / "source" / wandb_run.name
    shutil.copytree(wandb_run, source)
    # W&B numbers media files by log call: the third call was at step 4
    (gone,) = (source / "files" / "media" / "images").glob("pred_2_*.png")
    gone.unlink()
    out = tmp_path / "imported"
    done = dvcstage_import("wandb", str(source), "--to", str(out), cwd=tmp_path)
    assert "skipped: 'pred' at step 4: " in done.stderr and gone.name in done.stderr
    images = sorted(int(p.stem) for p in (out / "plots" / "images" / "pred").glob("*.png"))
    assert images == [0, 2, 6]
    assert sorted(metric_series(out, "loss")) == STEPS
    manifest = json.loads((out / "imported-from.json").read_text())
    assert len(manifest["skipped"]) == 1 and "'pred' at step 4" in manifest["skipped"][0]
