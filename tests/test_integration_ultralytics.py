"""Ultralytics YOLO: a tiny YOLO built from its model yaml (no weights downloaded) trains for
2 epochs on CPU on a synthetic dataset the test writes; dvcstage's callback logs validation
images with ground-truth and predicted boxes (and masks for segmentation) and per-class
metrics, checked item by item against the label files and against the validator's own
predictions, recorded by a spy on ``update_metrics``.

Training runs in a child process outside pytest (Ultralytics turns its integrations off under
pytest), so Ultralytics' own DVCLive callback is active there and must be switched off by ours.
Runs in the Ultralytics venv (scripts/test-frameworks --ultralytics).
"""

from __future__ import annotations

import csv
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from import_support import metric_series, sidecar
from PIL import Image as PILImage

from dvcstage import read_image

pytestmark = pytest.mark.frameworks

SIDE = 64
NAMES = {0: "red", 1: "green"}
EPOCHS = 2

TRAIN = textwrap.dedent(
    """
    import pickle, sys
    from pathlib import Path
    import numpy as np
    from ultralytics import YOLO
    from ultralytics.models.yolo.detect.val import DetectionValidator
    from dvcstage.ultralytics import add_dvcstage_callback

    model_yaml, data, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    recorded = []  # per validation run: the first batch's predictions, as the validator made them
    real_update = DetectionValidator.update_metrics

    def spy(self, preds, batch):
        if self.seen == 0:
            recorded[-1].append({
                "files": [Path(f).name for f in batch["im_file"]],
                "preds": [{k: v.cpu().numpy().copy() for k, v in p.items()} for p in preds],
            })
        return real_update(self, preds, batch)

    DetectionValidator.update_metrics = spy
    model = YOLO(model_yaml)
    add_dvcstage_callback(model, num_images=4, conf=0.001, max_det=20, dir="run",
                          save_dvc_exp=False)
    model.add_callback("on_val_start", lambda validator: recorded.append([]))
    model.train(data=data, epochs=EPOCHS, imgsz=64, batch=8, device="cpu", workers=0,
                plots=False, amp=False, project=str(out), name="train", exist_ok=True,
                verbose=False, seed=0, deterministic=True, mosaic=0.0)
    (out / "recorded.pkl").write_bytes(pickle.dumps(recorded))
    """
).replace("EPOCHS", str(EPOCHS))


def write_dataset(root: Path, segments: bool) -> dict[str, tuple[int, list[float]]]:
    """16 training and 8 validation images, one coloured rectangle each, with YOLO labels.

    Returns each validation file's class and its box in pixels (x1, y1, x2, y2).
    """
    from PIL import Image as PILImage

    rng = np.random.default_rng(0)
    truth: dict[str, tuple[int, list[float]]] = {}
    for split, count in (("train", 16), ("val", 8)):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for i in range(count):
            class_id = int(rng.integers(0, 2))
            w, h = (int(v) for v in rng.integers(16, 33, 2))
            x, y = int(rng.integers(0, SIDE - w)), int(rng.integers(0, SIDE - h))
            pixels = rng.integers(0, 50, (SIDE, SIDE, 3)).astype(np.uint8)
            pixels[y : y + h, x : x + w, class_id] = 220
            name = f"{split}{i}"
            PILImage.fromarray(pixels).save(root / "images" / split / f"{name}.png")
            if segments:
                corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
                coords = " ".join(f"{cx / SIDE:.6f} {cy / SIDE:.6f}" for cx, cy in corners)
                label = f"{class_id} {coords}\n"
            else:
                label = f"{class_id} {(x + w / 2) / SIDE:.6f} {(y + h / 2) / SIDE:.6f} "
                label += f"{w / SIDE:.6f} {h / SIDE:.6f}\n"
            (root / "labels" / split / f"{name}.txt").write_text(label)
            if split == "val":
                truth[f"{name}.png"] = (class_id, [x, y, x + w, y + h])
    (root / "data.yaml").write_text(
        f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n"
        + "".join(f"  {k}: {v}\n" for k, v in NAMES.items())
    )
    return truth


def train(tmp_path: Path, model_yaml: str, segments: bool) -> tuple[Path, Any, dict[str, Any]]:
    truth = write_dataset(tmp_path / "data", segments)
    env = dict(os.environ, YOLO_OFFLINE="1", YOLO_CONFIG_DIR=str(tmp_path / "yolo-config"))
    env.update(DVC_NO_ANALYTICS="1", GIT_CEILING_DIRECTORIES=str(tmp_path.parent))
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            TRAIN,
            model_yaml,
            str(tmp_path / "data" / "data.yaml"),
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert not (tmp_path / "dvclive").exists(), "Ultralytics' own DVCLive callback ran"
    assert "DVCLive is detected" not in done.stdout + done.stderr
    recorded = pickle.loads((tmp_path / "recorded.pkl").read_bytes())
    return tmp_path / "run", recorded, truth


def expected_predictions(pred: dict[str, np.ndarray]) -> list[tuple[list[float], int, float]]:
    order = np.argsort(-pred["conf"], kind="stable")
    keep = [i for i in order if pred["conf"][i] >= 0.001][:20]
    return [
        (pred["bboxes"][i].tolist(), int(pred["cls"][i]) + 1, float(pred["conf"][i])) for i in keep
    ]


def check_epochs(run: Path, recorded: Any, truth: dict[str, Any], tmp_path: Path) -> None:
    with open(tmp_path / "train" / "results.csv", newline="") as handle:
        results = list(csv.DictReader(handle))
    assert len(results) == EPOCHS
    for epoch in range(EPOCHS):
        row = {k.strip(): float(v) for k, v in results[epoch].items()}
        for name in ("metrics/mAP50(B)", "metrics/mAP50-95(B)", "val/box_loss", "train/box_loss"):
            assert float(metric_series(run, name)[epoch]) == pytest.approx(row[name], abs=1e-5)
        table = sidecar(run / "media" / "table" / "val" / "per_class" / f"{epoch}.json")
        assert table["columns"][0] == "Class"
        classes = [r[0] for r in table["data"]]
        assert set(classes) <= set(NAMES.values()) and classes
        per_class = [
            float(metric_series(run, f"val/per_class/{c}/mAP50-95")[epoch]) for c in classes
        ]
        overall = float(metric_series(run, "metrics/mAP50-95(B)")[epoch])
        assert np.mean(per_class) == pytest.approx(overall, abs=1e-4)

        (first_batch,) = recorded[epoch]
        for i in range(4):
            image = read_image(
                run / "plots" / "images" / "val" / "predictions.items" / str(i) / f"{epoch}.png"
            )
            name = first_batch["files"][i]
            assert image.caption == name
            # the image as the validator saw it: letterboxed (rect batches pad to the stride)
            height, width = image.pixels.shape[:2]
            pad_x, pad_y = (width - SIDE) // 2, (height - SIDE) // 2
            original = np.asarray(PILImage.open(tmp_path / "data" / "images" / "val" / name))
            inside = image.pixels[pad_y : pad_y + SIDE, pad_x : pad_x + SIDE, :3].astype(int)
            assert np.abs(inside - original).max() <= 1
            assert image.boxes is not None
            class_id, (x1, y1, x2, y2) = truth[name]
            box = [x1 + pad_x, y1 + pad_y, x2 + pad_x, y2 + pad_y]
            (gt,) = image.boxes["ground_truth"]["box_data"]
            position = gt["position"]
            assert [position[k] for k in ("minX", "minY", "maxX", "maxY")] == pytest.approx(
                box, abs=0.01
            )
            assert gt["class_id"] == class_id + 1 and gt["box_caption"] == NAMES[class_id]
            logged = image.boxes["predictions"]["box_data"]
            expected = expected_predictions(first_batch["preds"][i])
            assert expected, "the spy saw no prediction to compare with"
            assert len(logged) == len(expected)
            for box_entry, (xyxy, label, score) in zip(logged, expected, strict=True):
                position = box_entry["position"]
                assert [position[k] for k in ("minX", "minY", "maxX", "maxY")] == pytest.approx(
                    xyxy, abs=1e-4
                )
                assert box_entry["class_id"] == label
                assert box_entry["scores"]["score"] == pytest.approx(score, abs=1e-6)
            labels = image.boxes["predictions"]["class_labels"]
            assert labels[1] == "red" and labels[2] == "green"


def test_detection_predictions_and_per_class_metrics(tmp_path: Path) -> None:
    run, recorded, truth = train(tmp_path, "yolov8n.yaml", segments=False)
    check_epochs(run, recorded, truth, tmp_path)


def test_segmentation_masks_with_the_boxes(tmp_path: Path) -> None:
    run, recorded, truth = train(tmp_path, "yolov8n-seg.yaml", segments=True)
    check_epochs(run, recorded, truth, tmp_path)
    for epoch in range(EPOCHS):
        (first_batch,) = recorded[epoch]
        for i in range(4):
            image = read_image(
                run / "plots" / "images" / "val" / "predictions.items" / str(i) / f"{epoch}.png"
            )
            class_id, (x1, y1, x2, y2) = truth[first_batch["files"][i]]
            height, width = image.pixels.shape[:2]
            pad_x, pad_y = (width - SIDE) // 2, (height - SIDE) // 2
            rectangle = np.zeros((height, width), bool)
            rectangle[y1 + pad_y : y2 + pad_y, x1 + pad_x : x2 + pad_x] = True
            gt = image.masks["ground_truth"]["mask_data"]
            assert set(np.unique(gt)) <= {0, class_id + 1}
            overlap = (
                np.logical_and(gt > 0, rectangle).sum() / np.logical_or(gt > 0, rectangle).sum()
            )
            assert overlap > 0.7, overlap  # drawn at 1/4 resolution by Ultralytics
            pred = first_batch["preds"][i]
            order = [
                j for j in np.argsort(-pred["conf"], kind="stable") if pred["conf"][j] >= 0.001
            ][:20]
            expected = np.zeros(pred["masks"].shape[1:], np.int64)
            for j in reversed(order):
                expected[pred["masks"][j] > 0.5] = int(pred["cls"][j]) + 1
            factor = height // expected.shape[0]  # Ultralytics predicts masks at 1/4 size
            expected = expected.repeat(factor, axis=0).repeat(factor, axis=1)
            assert np.array_equal(image.masks["predictions"]["mask_data"], expected)
