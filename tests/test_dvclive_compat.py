"""``dvcstage.Live`` is a drop-in ``dvclive.Live``: everything DVCLive does keeps working.

All tests use a real git + DVC repository; plain ``dvclive.Live`` runs the same calls as a
reference where the outputs are compared.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dvclive
import lightgbm as lgb
import numpy as np
import pytest
from conftest import run
from dvclive.lgbm import DVCLiveCallback
from PIL import Image as PILImage
from ruamel.yaml import YAML

import dvcstage
from dvcstage import Live
from dvcstage.media.palette import class_rgb

IMAGES = Path("dvclive/plots/images")


def load_yaml(text: str) -> Any:
    """Parse YAML with ruamel.yaml (a direct dependency of DVC and DVCLive)."""
    return YAML(typ="safe", pure=True).load(text)


@contextmanager
def chdir(path: Path) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    before = Path.cwd()
    os.chdir(path)
    try:
        yield path
    finally:
        os.chdir(before)


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a metrics history file, without DVCLive's wall-clock ``timestamp`` column."""
    header, *rows = path.read_text(encoding="utf-8").splitlines()
    names = header.split("\t")
    table = [dict(zip(names, row.split("\t"), strict=True)) for row in rows]
    for row in table:
        if "timestamp" in row:
            assert row.pop("timestamp").isdigit()
    return table


def snapshot(root: Path) -> dict[str, Any]:
    """Everything DVCLive writes for metrics, params, plots and dvc.yaml, comparable."""
    files: dict[str, Any] = {}
    for path in sorted((root / "dvclive").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or rel == "dvclive/media.jsonl":
            continue
        if path.suffix == ".tsv":
            files[rel] = read_tsv(path)
        else:
            files[rel] = path.read_text(encoding="utf-8")
    files["dvc.yaml"] = (root / "dvc.yaml").read_text(encoding="utf-8")
    return files


def same_calls(live: dvclive.Live, artifact: Path) -> dict[str, Any]:
    """A typical DVCLive session (no media); returns what the API reports along the way."""
    seen: dict[str, Any] = {}
    live.log_param("lr", 0.01)
    live.log_params({"model": {"layers": 3, "act": "relu"}, "epochs": 3, "tags": ["a", "b"]})
    for epoch in range(3):
        live.log_metric("train/loss", 1.0 / (epoch + 1))
        live.log_metric("val/loss", 1.5 / (epoch + 1), timestamp=True)
        live.log_metric("acc", np.float32(0.5 + epoch / 10))
        live.log_metric("lr_now", 0.01 * 0.5**epoch, plot=False)
        live.log_metric("weird", float("nan") if epoch == 1 else epoch)
        live.log_metric("count", np.int64(epoch))
        live.next_step()
        seen[f"step_{epoch}"] = live.step
    live.summary["best/acc"] = 0.7
    live.log_plot(
        "calibration",
        [{"bin": i, "freq": i / 4} for i in range(4)],
        x="bin",
        y="freq",
        template="linear",
        title="Calibration",
        x_label="bin",
        y_label="frequency",
    )
    live.log_artifact(artifact, type="model", name="mymodel", desc="a model", labels=["x"])
    seen["summary"] = dict(live.summary)
    seen["params"] = json.loads(json.dumps(live._params))
    return seen


def test_is_a_dvclive_live(repo: Path) -> None:
    with Live(save_dvc_exp=False) as live:
        assert isinstance(live, dvclive.Live)
        assert type(live).__mro__[1] is dvclive.Live
        assert live.dir == "dvclive"
        assert Path(live.plots_dir) == Path("dvclive/plots")
        assert Path(live.metrics_file) == Path("dvclive/metrics.json")
        assert Path(live.params_file) == Path("dvclive/params.yaml")
        assert live.step == 0


def test_same_files_as_plain_dvclive(repo: Path) -> None:
    results = {}
    seen = {}
    for name, cls in (("plain", dvclive.Live), ("stage", Live)):
        with chdir(repo / name) as root:
            Path("model.pkl").write_text("weights v1\n")
            with cls(save_dvc_exp=False) as live:
                seen[name] = same_calls(live, Path("model.pkl"))
            results[name] = snapshot(root)
            assert Path("model.pkl.dvc").is_file()

    assert seen["stage"] == seen["plain"]
    assert sorted(results["stage"]) == sorted(results["plain"])
    for rel in results["plain"]:
        assert results["stage"][rel] == results["plain"][rel], rel

    stage = results["stage"]
    metrics = json.loads(stage["dvclive/metrics.json"])
    assert metrics["step"] == 2 and metrics["best/acc"] == 0.7
    assert math.isclose(metrics["train"]["loss"], 1 / 3)
    assert [row["weird"] for row in stage["dvclive/plots/metrics/weird.tsv"]] == ["0", "nan", "2"]
    assert "dvclive/plots/metrics/lr_now.tsv" not in stage
    assert load_yaml(stage["dvclive/params.yaml"])["model"] == {"layers": 3, "act": "relu"}
    dvcyaml = load_yaml(stage["dvc.yaml"])
    assert dvcyaml["params"] == ["dvclive/params.yaml"]
    assert dvcyaml["metrics"] == ["dvclive/metrics.json"]
    assert dvcyaml["plots"][0] == {"dvclive/plots/metrics": {"x": "step"}}
    assert "dvclive/plots/custom/calibration.json" in dvcyaml["plots"][1]
    assert dvcyaml["artifacts"]["mymodel"]["path"] == "model.pkl"


def test_same_files_without_dvcyaml_and_custom_paths(repo: Path) -> None:
    results = {}
    for name, cls in (("plain", dvclive.Live), ("stage", Live)):
        with chdir(repo / name) as root:
            with cls(dir="runs/one", dvcyaml="configs/dvc.yaml", save_dvc_exp=False) as live:
                live.log_param("p", 1)
                live.log_metric("m", 0.5)
                live.next_step()
                live.log_metric("m", 0.25)
            results[name] = {
                p.relative_to(root).as_posix(): p.read_text()
                for p in sorted(root.rglob("*"))
                if p.is_file() and p.name != "media.jsonl"
            }
            with cls(dir="nodvcyaml", dvcyaml=None, save_dvc_exp=False) as live:
                live.log_metric("m", 1)
            assert not Path("dvc.yaml").exists()
    assert results["stage"] == results["plain"]
    assert load_yaml(results["stage"]["configs/dvc.yaml"]) == {
        "params": ["../runs/one/params.yaml"],
        "metrics": ["../runs/one/metrics.json"],
        "plots": [{"../runs/one/plots/metrics": {"x": "step"}}],
    }


def test_resume_continues_the_step(repo: Path) -> None:
    steps = {}
    for name, cls in (("plain", dvclive.Live), ("stage", Live)):
        with chdir(repo / name):
            with cls(save_dvc_exp=False) as live:
                for _ in range(3):
                    live.log_metric("loss", 1.0)
                    if cls is Live:
                        live.log_image(f"pred/{live.step}.png", np.zeros((4, 4), np.uint8))
                    live.next_step()
            with cls(save_dvc_exp=False, resume=True) as live:
                steps[name] = live.step
                live.log_metric("loss", 0.5)
                if cls is Live:
                    live.log_image(f"pred/{live.step}.png", np.ones((4, 4), np.uint8))
                live.next_step()
            rows = read_tsv(Path("dvclive/plots/metrics/loss.tsv"))
            assert [r["step"] for r in rows] == ["0", "1", "2", "3"], name
            assert json.loads(Path("dvclive/metrics.json").read_text())["step"] == 3
    assert steps == {"plain": 3, "stage": 3}
    with chdir(repo / "stage"):
        # the images of the first session are still plotted after the resumed one
        dvcyaml = load_yaml(Path("dvc.yaml").read_text())
        assert dvcyaml["plots"] == [
            {"dvclive/plots/metrics": {"x": "step"}},
            "dvclive/plots/images",
        ]
        assert sorted(p.name for p in Path("dvclive/plots/images/pred").iterdir()) == [
            f"{s}.png" for s in range(4)
        ]
        assert run("dvcstage", "validate", ".").returncode == 0


def log_media(live: Live) -> None:
    rng = np.random.default_rng(0)
    for _ in range(2):
        live.log_image(
            f"pred/{live.step}.png",
            rng.integers(0, 256, size=(16, 24, 3), dtype=np.uint8),
            annotations={
                "boxes": [[1, 2, 10, 20]],
                "labels": ["cat"],
                "scores": [0.5],
                "box_format": "tlbr",
            },
            masks={"seg": {"mask_data": rng.integers(0, 3, size=(16, 24))}},
        )
        live.log({"loss": 1.0 / (live.step + 1)})
        live.next_step()


def exp_show(repo: Path) -> list[dict[str, Any]]:
    """The experiments under the baseline commit, from ``dvc exp show --json``."""
    rows = json.loads(run("dvc", "exp", "show", "--json").stdout)
    (baseline,) = [r for r in rows if r["rev"] != "workspace"]
    experiments = baseline["experiments"] or []
    return [e["revs"][0] for e in experiments]


def test_experiment_saved_with_images_in_git(repo: Path) -> None:
    with Live(exp_name="with-images", exp_message="dvcstage run") as live:
        log_media(live)

    (exp,) = exp_show(repo)
    assert exp["name"] == "with-images"
    assert exp["data"]["metrics"]["dvclive/metrics.json"]["data"]["loss"] == 0.5
    listed = run("dvc", "exp", "list", "--name-only").stdout.split()
    assert listed == ["with-images"]
    tree = run("git", "ls-tree", "-r", "--name-only", exp["rev"]).stdout.split()
    for step in range(2):
        assert f"dvclive/plots/images/pred/{step}.png" in tree
        assert f"dvclive/plots/images/pred/{step}.json" in tree
        assert f"dvclive/plots/images/pred/{step}.masks/seg.png" in tree
    assert {"dvc.yaml", "dvclive/metrics.json", "dvclive/plots/metrics/loss.tsv"} <= set(tree)
    message = run("git", "log", "-1", "--format=%B", exp["rev"]).stdout
    assert "dvcstage run" in message
    # the committed image is the one on disk
    committed = run("git", "show", f"{exp['rev']}:dvclive/plots/images/pred/1.json").stdout
    assert committed == (IMAGES / "pred/1.json").read_text()


def test_experiment_saved_with_cached_images(repo: Path) -> None:
    with Live(cache_images=True, exp_name="cached") as live:
        log_media(live)

    (exp,) = exp_show(repo)
    assert exp["name"] == "cached"
    out = exp["data"]["outs"]["dvclive/plots/images"]
    assert out["use_cache"] is True
    assert out["nfiles"] == 6  # 2 images, 2 sidecars, 2 masks
    tree = run("git", "ls-tree", "-r", "--name-only", exp["rev"]).stdout.split()
    assert "dvclive/plots/images.dvc" in tree
    assert "dvclive/plots/.gitignore" in tree
    # (DVCLive also force-adds its whole folder, images included, to the experiment commit:
    # plain dvclive.Live does the same, so that is not checked here.)
    # every file of the images folder is in the DVC cache
    dvc_file = load_yaml(Path("dvclive/plots/images.dvc").read_text())
    md5 = dvc_file["outs"][0]["md5"]
    assert md5 == out["hash"]
    cache = repo / ".dvc/cache/files/md5"
    listing = json.loads((cache / md5[:2] / md5[2:]).read_text())
    assert sorted(e["relpath"] for e in listing) == sorted(
        p.relative_to(IMAGES).as_posix() for p in IMAGES.rglob("*") if p.is_file()
    )
    for entry in listing:
        assert (cache / entry["md5"][:2] / entry["md5"][2:]).is_file(), entry


def test_dvcyaml_keeps_user_entries(repo: Path) -> None:
    user = {
        "stages": {"train": {"cmd": "python train.py", "deps": ["train.py"]}},
        "params": ["params.yaml"],
        "metrics": ["eval/metrics.json"],
        "plots": [
            "eval/roc.json",
            {"eval/confusion.csv": {"x": "actual", "y": "predicted", "template": "confusion"}},
        ],
        "artifacts": {"user-model": {"path": "models/user.pkl", "type": "model"}},
    }
    dumper = YAML(typ="safe", pure=True)
    dumper.default_flow_style = False
    with open("dvc.yaml", "w", encoding="utf-8") as handle:
        dumper.dump(user, handle)
    Path("train.py").write_text("print('train')\n")
    for resume in (False, True):
        with Live(save_dvc_exp=False, resume=resume) as live:
            live.log_param("lr", 0.1)
            for _ in range(2):
                live.log_metric("loss", 0.5)
                live.log_image(f"pred/{live.step}.png", np.zeros((4, 4), np.uint8))
                live.next_step()
        dvcyaml = load_yaml(Path("dvc.yaml").read_text())
        assert dvcyaml["stages"] == user["stages"]
        assert dvcyaml["params"] == ["params.yaml", "dvclive/params.yaml"]
        assert dvcyaml["metrics"] == ["eval/metrics.json", "dvclive/metrics.json"]
        assert dvcyaml["plots"] == [
            *user["plots"],
            {"dvclive/plots/metrics": {"x": "step"}},
            "dvclive/plots/images",
        ]
        assert dvcyaml["artifacts"] == user["artifacts"]
    # DVC still reads it as a pipeline
    assert "train" in run("dvc", "stage", "list").stdout
    # a new run (resume=False) replaces this run's earlier entries, not the user's
    with Live(save_dvc_exp=False) as live:
        live.log_metric("loss", 0.1)
    dvcyaml = load_yaml(Path("dvc.yaml").read_text())
    assert dvcyaml["plots"] == [*user["plots"], {"dvclive/plots/metrics": {"x": "step"}}]
    assert dvcyaml["params"] == ["params.yaml"]
    assert dvcyaml["stages"] == user["stages"]


def test_second_run_rewrites_dvcyaml_holding_only_images(repo: Path) -> None:
    """A run that logs images but no metrics or params, run twice in the same repo (the
    second run merges into the first run's dvc.yaml, whose plots are all image entries).
    The first merge also migrates a dvc.yaml older versions wrote, one entry per image."""
    old = "plots:\n" + "".join(
        f'- "{p}": {{y: {{"{p}": image}}}}\n'
        for p in (f"dvclive/plots/images/old/{s}.png" for s in range(3))
    )
    Path("dvc.yaml").write_text(old)
    for version in range(2):
        with Live(save_dvc_exp=False) as live:
            for _ in range(2):
                live.log_image(f"v{version}/{live.step}.png", np.zeros((4, 4), np.uint8))
                live.next_step()
        dvcyaml = load_yaml(Path("dvc.yaml").read_text())
        assert dvcyaml["plots"] == ["dvclive/plots/images"]
        assert "old/" not in Path("dvc.yaml").read_text()


def lgbm_data() -> tuple[lgb.Dataset, lgb.Dataset]:
    rng = np.random.default_rng(0)
    x = rng.random((200, 4))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0.8).astype(int)
    train = lgb.Dataset(x[:150], y[:150])
    valid = lgb.Dataset(x[150:], y[150:], reference=train)
    return train, valid


def test_lightgbm_callback_accepts_dvcstage_live(repo: Path) -> None:
    train, valid = lgbm_data()
    params = {"objective": "binary", "metric": ["binary_logloss", "auc"], "verbose": -1}
    params |= {"num_leaves": 4, "min_data_in_leaf": 5, "num_threads": 1}
    live = Live(save_dvc_exp=False)
    callbacks: list[Callable[..., Any]] = [DVCLiveCallback(live=live)]
    assert callbacks[0].live is live  # type: ignore[attr-defined]
    booster = lgb.train(
        params,
        train,
        num_boost_round=3,
        valid_sets=[valid],
        valid_names=["valid"],
        callbacks=callbacks,
    )
    importance = booster.feature_importance().astype(float)
    live.log_image(
        "importance.png",
        dvcstage.Image(np.tile(importance / max(importance.max(), 1), (8, 1)), caption="gain"),
    )
    live.end()

    assert live.step == 2  # as DVCLive: end() goes back to the last logged step
    for metric in ("binary_logloss", "auc"):
        rows = read_tsv(Path(f"dvclive/plots/metrics/valid/{metric}.tsv"))
        assert [r["step"] for r in rows] == ["0", "1", "2"]
    summary = json.loads(Path("dvclive/metrics.json").read_text())
    assert summary["step"] == 2 and set(summary["valid"]) == {"binary_logloss", "auc"}
    assert dvcstage.read_image(IMAGES / "importance.png").caption == "gain"
    assert run("dvcstage", "validate", ".").returncode == 0


# -- DVC Studio's live updates ----------------------------------------------------------------


class _Response:
    status_code = 200
    content = b"{}"

    def json(self) -> dict[str, Any]:
        return {}


def test_studio_live_updates_carry_images_and_their_previews(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What DVCLive posts to DVC Studio on each step, with ``requests.post`` mocked (the one
    thing that cannot run here: Studio itself). Plain images go as DVC would draw them, and an
    annotated image as its preview, overlays drawn in: Studio draws what ``dvc.yaml`` lists."""
    import requests

    posts: list[dict[str, Any]] = []

    def post(url: str, json: dict[str, Any], **_: Any) -> _Response:
        posts.append(copy.deepcopy(json))
        return _Response()

    monkeypatch.setattr(requests, "post", post)
    monkeypatch.setenv("DVC_STUDIO_URL", "https://studio.example")
    monkeypatch.setenv("STUDIO_REPO_URL", "https://git.example/repo.git")
    monkeypatch.setenv("DVC_STUDIO_TOKEN", "token")
    box = {"boxes": [[10, 10, 40, 50]], "labels": ["cat"], "scores": [0.9], "box_format": "tlbr"}
    with Live(save_dvc_exp=False) as live:
        for step in range(3):
            live.log_image(f"plain/{step}.png", np.full((80, 80, 3), 40 * step, np.uint8))
            live.log_image(f"boxed/{step}.png", np.full((80, 80, 3), 90, np.uint8), box)
            live.log_metric("loss", 1 / (step + 1))
            live.next_step()
    data = [p for p in posts if p["type"] == "data"]
    assert sorted({p["step"] for p in data}) == [0, 1, 2]  # (DVCLive posts some twice)
    previews = Path("dvclive/plots/previews")
    sent: dict[str, bytes] = {}
    for post in data:
        for path, plot in post.get("plots", {}).items():
            if "image" in plot:
                sent[path] = base64.b64decode(plot["image"])
    assert set(sent) == {f"{previews}/{k}/{s}.{e}" for k, e in (("plain", "png"), ("boxed", "jpg"))
                         for s in range(3)}  # fmt: skip
    for step in range(3):
        plain = sent[f"{previews}/plain/{step}.png"]
        assert plain == (IMAGES / f"plain/{step}.png").read_bytes()  # the image itself
        boxed = sent[f"{previews}/boxed/{step}.jpg"]  # drawn: a JPEG
        assert boxed == (previews / f"boxed/{step}.jpg").read_bytes()
        drawn = np.asarray(PILImage.open(io.BytesIO(boxed)).convert("RGB")).astype(int)
        edge = drawn[drawn.shape[0] // 2, 3 * 10 + 1]  # the box's left edge
        assert (np.abs(edge - np.array(class_rgb("cat"))) <= 20).all(), edge  # a JPEG
    assert load_yaml(Path("dvc.yaml").read_text())["plots"][-1] == "dvclive/plots/previews"


def test_dvclives_make_dvcyaml_lists_the_images(repo: Path) -> None:
    """``dvclive.dvc.make_dvcyaml(live)``, which DVCLive's own code and tests call, sees the
    images logged through ``dvcstage.Live``."""
    from dvclive.dvc import make_dvcyaml

    live = Live(save_dvc_exp=False)
    live.log_image("img.png", np.zeros((100, 100, 3), np.uint8))
    make_dvcyaml(live)
    assert load_yaml(Path("dvc.yaml").read_text())["plots"] == ["dvclive/plots/images"]
    live.end()


def test_a_users_dvcyaml_keeps_its_style_and_is_not_rewritten(repo: Path) -> None:
    """The run's entries join a hand-written dvc.yaml in its own style (indented lists,
    comments, quotes kept); a second run with the same entries leaves it byte-identical."""
    user = (
        "# the project's pipeline\n"
        "stages:\n"
        "  train:\n"
        "    cmd: python train.py  # trains\n"
        "    deps:\n"
        "      - train.py\n"
        "    outs:\n"
        "      - 'models/model.pkl'\n"
    )
    Path("dvc.yaml").write_text(user)
    written: list[int] = []
    for _ in range(2):
        with Live(save_dvc_exp=False) as live:
            live.log_metric("loss", 0.5)
            live.log_image(f"pred/{live.step}.png", np.zeros((100, 100, 3), np.uint8))
            live.next_step()
        text = Path("dvc.yaml").read_text()
        assert text.startswith(user), text
        assert text[len(user) :] == (
            "metrics:\n"
            "  - dvclive/metrics.json\n"
            "plots:\n"
            "  - dvclive/plots/metrics:\n"
            "      x: step\n"
            "  - dvclive/plots/images\n"
        )
        written.append(Path("dvc.yaml").stat().st_ino)  # a rewrite is a new file (a rename)
    assert written[0] == written[1], "the second run rewrote an unchanged dvc.yaml"
