"""Keras (TensorFlow CPU, a tiny model, 2 epochs): DVCStagePredictionCallback logs a fixed
validation batch's predictions with boxes and masks each epoch, on top of DVCLive's callback,
checked item by item against the model's own predictions at that epoch.

Runs in the framework venv (scripts/test-frameworks).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from import_support import metric_series

from dvcstage import read_image

pytestmark = pytest.mark.frameworks

SIDE = 16
CLASSES = {1: "red", 2: "green"}


def make_data(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 60, (count, SIDE, SIDE, 3)).astype(np.uint8)
    masks = np.zeros((count, SIDE, SIDE), np.int64)
    for i in range(count):
        class_id = int(rng.integers(1, 3))
        x, y = (int(v) for v in rng.integers(0, SIDE - 6, 2))
        images[i, y : y + 5, x : x + 5, class_id - 1] = 230
        masks[i, y : y + 5, x : x + 5] = class_id
    return images, masks


def test_predictions_of_a_validation_batch_each_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from dvcstage.keras import DVCStagePredictionCallback, SegmentationAdapter

    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    train_x, train_y = make_data(16, 0)
    val_x, val_y = make_data(8, 1)
    model = keras.Sequential(
        [
            keras.Input((SIDE, SIDE, 3)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(3, 1, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    seen: dict[int, np.ndarray] = {}

    class Recorder(keras.callbacks.Callback):  # type: ignore[misc]
        """The model's own predictions on the batch, read after the logging callback's."""

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            seen[epoch] = np.asarray(self.model.predict_on_batch(val_x[:4]))

    callback = DVCStagePredictionCallback(
        (val_x, val_y),
        SegmentationAdapter(channels_last=True, boxes_from_masks=True),
        num_samples=4,
        class_labels=CLASSES,
        dir="run",
        save_dvc_exp=False,
    )
    model.fit(
        train_x,
        train_y,
        epochs=2,
        batch_size=4,
        validation_data=(val_x, val_y),
        callbacks=[callback, Recorder()],
        verbose=0,
    )

    run = tmp_path / "run"
    # DVCLive's names: loss -> train/loss, val_loss -> eval/loss; images at the same steps
    for key in ("train/loss", "train/accuracy", "eval/loss", "eval/accuracy"):
        assert sorted(metric_series(run, key)) == [0, 1], key
    for epoch in (0, 1):
        predicted = seen[epoch].argmax(-1)
        for i in range(4):
            images = run / "plots" / "images" / "val" / "predictions.items"
            image = read_image(images / str(i) / f"{epoch}.png")
            assert np.array_equal(image.pixels, val_x[i])
            assert np.array_equal(image.masks["ground_truth"]["mask_data"], val_y[i])
            assert np.array_equal(image.masks["predictions"]["mask_data"], predicted[i])
            assert image.masks["ground_truth"]["class_labels"][0] == "background"
            assert image.boxes is not None
            (truth_box,) = image.boxes["ground_truth"]["box_data"]
            ys, xs = np.nonzero(val_y[i])
            position = truth_box["position"]
            assert [position[k] for k in ("minX", "minY", "maxX", "maxY")] == [
                xs.min(),
                ys.min(),
                xs.max() + 1,
                ys.max() + 1,
            ]
            assert truth_box["class_id"] == int(val_y[i].max())
            pred_ids = {b["class_id"] for b in image.boxes["predictions"]["box_data"]}
            assert pred_ids == set(np.unique(predicted[i])) - {0}


def test_keras_detection_adapter_reads_padded_box_dicts() -> None:
    from dvcstage.keras import KerasDetectionAdapter

    images = np.zeros((1, 20, 40, 3), np.uint8)
    truth = {
        "boxes": np.array([[[0.1, 0.2, 0.5, 0.6], [0, 0, 0, 0]]]),
        "classes": np.array([[2, -1]]),
    }
    outputs = {
        "boxes": np.array([[[0.1, 0.25, 0.5, 0.6], [0.5, 0.5, 0.9, 0.9], [0, 0, 0, 0]]]),
        "classes": np.array([[2, 1, -1]]),
        "confidence": np.array([[0.9, 0.2, -1.0]]),
    }
    (sample,) = KerasDetectionAdapter("rel_xyxy", score_threshold=0.5)(
        (images, truth), outputs, None
    )
    assert sample.truth_boxes.tolist() == [[4.0, 4.0, 20.0, 12.0]]
    assert sample.truth_labels.tolist() == [2]
    assert sample.pred_boxes.tolist() == [[4.0, 5.0, 20.0, 12.0]]
    assert sample.pred_scores.tolist() == [0.9]
