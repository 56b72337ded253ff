"""``dvcstage import tensorboard``: logs written by tensorboardX (and torch.utils.tensorboard in
the framework venv) are imported and checked item by item against what was logged.

Real writers, TensorBoard's own reader, real git and dvc for ``--exp``, and the language
server for what the panel lists.
"""

from __future__ import annotations

import io
import json
import os
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

STEPS = 12  # more than TensorBoard's default reservoir of 10 per tag: nothing may be sampled
HPARAMS = {"lr": 0.1, "optimizer": "adam", "batch": 32}


def logged_values(step: int) -> dict[str, Any]:
    """What the writer logs at ``step`` (deterministic, so the check can recompute it)."""
    rng = np.random.default_rng(step)
    return {
        "loss": 1 / (step + 1),
        "lr": 0.1 * 0.9**step,
        "image": rng.integers(0, 256, (12, 20, 3), dtype=np.uint8),
        "weights": rng.normal(size=500) * (step + 1),
        "voice": np.sin(np.arange(400) * (step + 1) / 20) * 0.5,
        "notes": f"**step** {step} <script>alert(1)</script>",
    }


def write_logs(logdir: Path, writer_class: Any) -> None:
    """A run with every kind the importer reads, then ``add_hparams`` (a subfolder run)."""
    writer = writer_class(str(logdir))
    for step in range(STEPS):
        values = logged_values(step)
        writer.add_scalar("train/loss", values["loss"], step)
        writer.add_scalar("lr", values["lr"], step)
        writer.add_image("samples", values["image"], step, dataformats="HWC")
        writer.add_histogram("weights", values["weights"], step)
        writer.add_audio("voice", values["voice"], step, sample_rate=8000)
        writer.add_text("notes", values["notes"], step)
    writer.add_hparams(HPARAMS, {"hparam/accuracy": 0.75})
    writer.close()


def check_run(run_dir: Path) -> None:
    """Every item of the imported run equals what was logged at its step."""
    loss = metric_series(run_dir, "train/loss")
    lr = metric_series(run_dir, "lr")
    assert sorted(loss) == sorted(lr) == list(range(STEPS))
    for step in range(STEPS):
        values = logged_values(step)
        # TensorBoard keeps scalars as float32; the TSV holds that float32's shortest decimal
        assert np.float32(loss[step]) == np.float32(values["loss"])
        assert np.float32(lr[step]) == np.float32(values["lr"])
        assert len(lr[step]) <= 11  # "0.09" not "0.09000000357627869"

        image = read_image(run_dir / "plots" / "images" / "samples" / f"{step}.png")
        assert np.array_equal(image.pixels, values["image"])

        audio = run_dir / "media" / "audio" / "voice" / f"{step}.wav"
        with wave.open(io.BytesIO(audio.read_bytes())) as clip:
            assert clip.getframerate() == 8000 and clip.getnchannels() == 1
            samples = np.frombuffer(clip.readframes(clip.getnframes()), "<i2")
        assert np.abs(samples / 32767 - values["voice"]).max() < 1e-4
        audio_side = sidecar(audio.with_suffix(".json"))
        assert audio_side["step"] == step and audio_side["sample_rate"] == 8000

        html = (run_dir / "media" / "html" / "notes" / "text_summary" / f"{step}.html").read_text()
        assert f"<strong>step</strong> {step}" in html
        assert "<script>" not in html and "&lt;script&gt;" in html

    series = histogram_series(run_dir, "weights")
    assert sorted(series) == list(range(STEPS))
    for step, (edges, counts) in series.items():
        values = logged_values(step)["weights"]
        assert sum(counts) == len(values)
        # Each bin holds the logged values between its edges. TensorBoard keeps edges as
        # float32, so a value within float32 rounding of an edge may sit on either side.
        for edge, below in zip(edges[1:], np.cumsum(counts), strict=True):
            tolerance = 1e-6 * max(1.0, abs(edge))
            surely_below = int(np.sum(values < edge - tolerance))
            maybe_below = int(np.sum(values <= edge + tolerance))
            assert surely_below <= below <= maybe_below, f"step {step}: edge {edge}"

    params = yaml.safe_load((run_dir / "params.yaml").read_text())
    assert params == HPARAMS
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["hparam"]["accuracy"] == 0.75
    assert np.float32(metrics["train"]["loss"]) == np.float32(1 / STEPS)
    assert metrics["step"] == STEPS - 1
    assert not (run_dir / "plots" / "metrics" / "hparam").exists()  # a final value, not a series


@pytest.fixture
def tbx_logs(tmp_path: Path) -> Path:
    import tensorboardX

    logdir = tmp_path / "logs"
    write_logs(logdir / "baseline", tensorboardX.SummaryWriter)
    return logdir


def test_tensorboardx_run_imported_item_by_item(tbx_logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    done = dvcstage_import("tensorboard", str(tbx_logs), "--to", str(out), cwd=tmp_path)
    assert "imported 1 run(s)" in done.stderr
    check_run(out)
    assert run("dvcstage", "validate", str(out)).returncode == 0
    manifest = json.loads((out / "imported-from.json").read_text())
    assert manifest["source"] == "tensorboard" and manifest["run"] == "baseline"


def test_second_import_writes_nothing_and_a_changed_source_is_imported_anew(
    tbx_logs: Path, tmp_path: Path
) -> None:
    import tensorboardX

    out = tmp_path / "imported"
    dvcstage_import("tensorboard", str(tbx_logs), "--to", str(out), cwd=tmp_path)
    before = tree_state(out)
    again = dvcstage_import("tensorboard", str(tbx_logs), "--to", str(out), cwd=tmp_path)
    assert "is up to date" in again.stdout and "0 run(s), 1 up to date" in again.stderr
    assert tree_state(out) == before

    writer = tensorboardX.SummaryWriter(str(tbx_logs / "baseline"))
    writer.add_scalar("lr", 0.001, STEPS)  # the run went on
    writer.close()
    dvcstage_import("tensorboard", str(tbx_logs), "--to", str(out), cwd=tmp_path)
    lr = metric_series(out, "lr")
    assert sorted(lr) == list(range(STEPS + 1)) and lr[STEPS] == "0.001"
    images = sorted((out / "plots" / "images" / "samples").glob("*.png"))
    assert len(images) == STEPS  # rewritten, not doubled


def test_dry_run_says_what_and_writes_nothing(tbx_logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    done = dvcstage_import(
        "tensorboard", str(tbx_logs), "--to", str(out), "--dry-run", cwd=tmp_path
    )
    assert not out.exists()
    report = done.stdout
    assert f"-> {out}" in report
    for kind, key in (
        ("metric", "train/loss"),
        ("metric", "lr"),
        ("image", "samples"),
        ("histogram", "weights"),
        ("audio", "voice"),
        ("html", "notes/text_summary"),
    ):
        assert f"{kind:<9} {key}  ({STEPS} steps, steps 0..{STEPS - 1})" in report
    assert "params.yaml: 3 parameter(s): batch, lr, optimizer" in report
    assert "would import 1 run(s)" in done.stderr


def test_every_run_under_logdir_is_one_run(tmp_path: Path) -> None:
    import tensorboardX

    logdir = tmp_path / "logs"
    for name, value in (("a", 1.0), ("b/deeper", 2.0)):
        writer = tensorboardX.SummaryWriter(str(logdir / name))
        writer.add_scalar("x", value, 3)
        writer.close()
    out = tmp_path / "imported"
    dvcstage_import("tensorboard", str(logdir), "--to", str(out), cwd=tmp_path)
    assert metric_series(out / "a", "x") == {3: "1.0"}
    assert metric_series(out / "b-deeper", "x") == {3: "2.0"}


@pytest.mark.parametrize("make", ["missing", "empty", "other files"])
def test_unknown_layout_is_a_clear_error(tmp_path: Path, make: str) -> None:
    source = tmp_path / "source"
    if make != "missing":
        source.mkdir()
    if make == "other files":
        (source / "notes.txt").write_text("not an event file")
    done = dvcstage_import(
        "tensorboard", str(source), "--to", str(tmp_path / "out"), cwd=tmp_path, check=False
    )
    assert done.returncode == 2
    assert f"LOGDIR: {source!r}"[:-1] in done.stderr or f"LOGDIR: '{source}'" in done.stderr
    assert "accepted:" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_users_own_run_is_not_replaced(tbx_logs: Path, tmp_path: Path, plain_dir: Path) -> None:
    from dvcstage import Live

    out = tmp_path / "mine"
    with Live(str(out), save_dvc_exp=False) as live:
        live.log_metric("mine", 1)
    done = dvcstage_import(
        "tensorboard", str(tbx_logs), "--to", str(out), cwd=tmp_path, check=False
    )
    assert done.returncode == 2 and "--overwrite" in done.stderr
    assert metric_series(out, "mine") == {0: "1"}


def test_exp_saves_a_dvc_experiment_that_plots_and_the_panel_show(
    tbx_logs: Path, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo")
    dvcstage_import("tensorboard", str(tbx_logs), "--to", "tb", "--exp", "from-tb", cwd=repo)
    exps = json.loads(run("dvc", "exp", "show", "--json", cwd=repo).stdout)
    names = [exp.get("name") for entry in exps for exp in entry.get("experiments") or []]
    assert "from-tb" in names
    # The experiment holds the imported run: its metrics, as `dvc exp show` reads them.
    (experiment,) = [
        exp for entry in exps for exp in entry.get("experiments") or [] if exp["name"] == "from-tb"
    ]
    revision = experiment["revs"][0]["data"]
    metrics = revision["metrics"]["tb/metrics.json"]["data"]
    assert metrics["hparam"]["accuracy"] == 0.75
    assert revision["params"]["tb/params.yaml"]["data"] == HPARAMS

    plots = json.loads(run("dvc", "plots", "show", "--json", cwd=repo).stdout)["data"]
    assert any(key.endswith("tb/plots/metrics/train/loss.tsv") for key in plots)
    for step in range(STEPS):
        assert f"tb/plots/images/samples/{step}.png" in plots

    runs, media = panel_view(repo)
    (panel_run,) = [r for r in runs if r["dir"] == "tb"]
    assert panel_run["lastStep"] == STEPS - 1
    keys = {k["key"]: (k["kind"], k["steps"]) for k in media[panel_run["id"]]["keys"]}
    assert keys == {
        "samples": ("image", list(range(STEPS))),
        "weights": ("histogram", list(range(STEPS))),
        "voice": ("audio", list(range(STEPS))),
        "notes/text_summary": ("html", list(range(STEPS))),
    }
    assert {m["name"] for m in media[panel_run["id"]]["metrics"]} == {"train/loss", "lr"}


@pytest.mark.frameworks
def test_torch_utils_tensorboard_run_imported_item_by_item(tmp_path: Path) -> None:
    from torch.utils.tensorboard import SummaryWriter

    logdir = tmp_path / "logs"
    write_logs(logdir / "torch-run", SummaryWriter)
    out = tmp_path / "imported"
    dvcstage_import("tensorboard", str(logdir), "--to", str(out), cwd=tmp_path)
    check_run(out)
    assert run("dvcstage", "validate", str(out)).returncode == 0


def test_progress_bar_counts_every_item(
    tbx_logs: Path, tmp_path: Path, plain_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    import io as text_io

    from dvcstage.importers import ImportOptions, import_tensorboard

    out = tmp_path / "imported"
    report = text_io.StringIO()
    (outcome,) = import_tensorboard(tbx_logs, ImportOptions(to=out, progress=True), report)
    total = 6 * STEPS  # two scalars, an image, a histogram, audio and text per step
    assert outcome.written == total and outcome.status == "imported"
    bar = capfd.readouterr().err
    assert "tensorboard:baseline" in bar and f"{total}/{total}" in bar and "100%" in bar
    assert f"{total} item(s) -> {out}" in report.getvalue()


def test_an_unchanged_source_is_not_even_read_again(
    tbx_logs: Path, tmp_path: Path, plain_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io as text_io

    from dvcstage.importers import ImportOptions, import_tensorboard, tensorboard

    options = ImportOptions(to=tmp_path / "imported", progress=False)
    import_tensorboard(tbx_logs, options, text_io.StringIO())

    def no_reading(logdir: Path) -> None:
        raise AssertionError(f"{logdir} was read again")

    monkeypatch.setattr(tensorboard, "read_tensorboard", no_reading)
    report = text_io.StringIO()
    (outcome,) = import_tensorboard(tbx_logs, options, report)
    assert outcome.status == "up to date" and "is up to date" in report.getvalue()


def test_checksums_in_c_equal_tensorboards_own() -> None:
    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow

    from dvcstage.importers.tensorboard import _fast_checksums

    data = np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes()
    slow = pywrap_tensorflow.crc_finalize(pywrap_tensorflow.crc_update(0, data))
    _fast_checksums()
    assert getattr(pywrap_tensorflow.crc32c, "dvcstage_fast", False)
    assert pywrap_tensorflow.crc32c(data) == slow


def test_overwrite_imports_an_unchanged_source_again(tbx_logs: Path, tmp_path: Path) -> None:
    out = tmp_path / "imported"
    dvcstage_import("tensorboard", str(tbx_logs), "--to", str(out), cwd=tmp_path)
    (out / "plots" / "images" / "samples" / "0.png").unlink()
    again = dvcstage_import(
        "tensorboard", str(tbx_logs), "--to", str(out), "--overwrite", cwd=tmp_path
    )
    assert "imported 1 run(s)" in again.stderr
    check_run(out)


def test_the_import_of_another_run_is_not_replaced(tbx_logs: Path, tmp_path: Path) -> None:
    import tensorboardX

    out = tmp_path / "imported"
    dvcstage_import("tensorboard", str(tbx_logs), "--to", str(out), cwd=tmp_path)
    other = tmp_path / "other-logs"
    writer = tensorboardX.SummaryWriter(str(other / "b"))
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    done = dvcstage_import("tensorboard", str(other), "--to", str(out), cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert "already holds the import of another run (tensorboard " in done.stderr
    check_run(out)  # untouched


@pytest.mark.frameworks
def test_tf_summary_run_imported_item_by_item(tmp_path: Path) -> None:
    """TensorFlow 2's tensor summaries: several images per step, histograms, text."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    logdir = tmp_path / "logs" / "tf-run"
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        for step in range(STEPS):
            values = logged_values(step)
            batch = np.stack([values["image"], 255 - values["image"]])
            tf.summary.scalar("train/loss", values["loss"], step=step)
            tf.summary.image("samples", batch, step=step, max_outputs=2)
            tf.summary.histogram("weights", values["weights"], step=step, buckets=20)
            tf.summary.text("notes", values["notes"], step=step)
    writer.close()
    out = tmp_path / "imported"
    dvcstage_import("tensorboard", str(logdir.parent), "--to", str(out), cwd=tmp_path)
    loss = metric_series(out, "train/loss")
    assert {s: np.float32(v) for s, v in loss.items()} == {
        s: np.float32(logged_values(s)["loss"]) for s in range(STEPS)
    }
    series = histogram_series(out, "weights")
    for step in range(STEPS):
        values = logged_values(step)
        for i, pixels in enumerate((values["image"], 255 - values["image"])):
            image = read_image(out / "plots" / "images" / "samples.items" / str(i) / f"{step}.png")
            assert np.array_equal(image.pixels, pixels)
        edges, counts = series[step]
        assert len(counts) == 20 and sum(counts) == len(values["weights"])
        assert edges[0] == pytest.approx(values["weights"].min())
        assert edges[-1] == pytest.approx(values["weights"].max())
        html = (out / "media" / "html" / "notes" / f"{step}.html").read_text()
        assert f"<strong>step</strong> {step}" in html and "<script>" not in html
    assert run("dvcstage", "validate", str(out)).returncode == 0
