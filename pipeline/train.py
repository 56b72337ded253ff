"""The ``train`` stage: fit the NumPy segmenter and log every epoch with ``dvcstage.Live``.

Each epoch logs, into ``dvclive/``:

- metrics ``train/loss``, ``val/loss``, ``val/miou`` (mask IoU) and ``val/box_f1``;
- ``predictions/<i>/<epoch>.png``: validation images with predicted and true boxes (W&B box
  groups and DVCLive ``annotations``), predicted and true masks;
- histograms of each layer's weights and gradients (``plots/histograms/{weights,gradients}``);
- ``hard_examples``: a table of the validation images with the highest loss, image cells
  with their masks and boxes;
- ``plots/custom/detections.json``: one row per predicted box of the logged images (step,
  label, score: what their sidecars hold), drawn by the ``dvcstage-detections`` template.

Run it with ``dvc exp run`` (parameters from ``params.yaml``, ``-S train.lr=0.05`` to change
one) or directly with ``python -m pipeline.train``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from ruamel.yaml import YAML

from dvcstage import Histogram, Image, Live, Table
from dvcstage.plot_templates import DETECTIONS

from .detect import Counts, detect, mean_iou
from .model import Adam, Segmenter
from .shapes import CLASSES, NUM_CLASSES, Box, Dataset, make_dataset


@dataclass(frozen=True)
class Params:
    """The ``train`` section of ``params.yaml``."""

    epochs: int = 12
    lr: float = 0.01
    batch_size: int = 16
    train_images: int = 192
    val_images: int = 32
    image_size: int = 40
    width: int = 8
    seed: int = 0
    log_images: int = 6
    hard_examples: int = 4
    hist_bins: int = 32
    foreground_weight: float = 3.0

    @classmethod
    def load(cls, path: str | Path = "params.yaml") -> Params:
        """Read the ``train`` section; unknown keys are an error, missing ones defaults."""
        with open(path, encoding="utf-8") as handle:
            section: dict[str, Any] = (YAML(typ="safe").load(handle) or {}).get("train", {})
        known = {f.name for f in fields(cls)}
        unknown = set(section) - known
        if unknown:
            raise SystemExit(f"params.yaml: unknown train parameter(s): {sorted(unknown)}")
        return cls(**section)


def annotations_of(boxes: list[Box]) -> dict[str, Any]:
    """DVCLive's ``annotations`` argument for predicted boxes."""
    return {
        "boxes": [[b.top, b.left, b.bottom, b.right] for b in boxes],
        "labels": [b.label for b in boxes],
        "scores": [round(b.score, 4) for b in boxes],
        "box_format": "tlbr",
    }


def box_groups(predicted: list[Box], truth: list[Box]) -> dict[str, Any]:
    """W&B box groups: predictions (with scores) and ground truth, in pixels."""

    def group(boxes: list[Box], scored: bool) -> dict[str, Any]:
        data = []
        for b in boxes:
            entry: dict[str, Any] = {
                "position": {"minX": b.left, "maxX": b.right, "minY": b.top, "maxY": b.bottom},
                "domain": "pixel",
                "class_id": b.cls,
            }
            if scored:
                entry["scores"] = {"confidence": round(b.score, 4)}
                entry["box_caption"] = f"{b.label} {b.score:.2f}"
            data.append(entry)
        return {"box_data": data, "class_labels": CLASSES}

    return {"predictions": group(predicted, True), "ground_truth": group(truth, False)}


def mask_groups(predicted: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """W&B masks: the predicted and the true class ids."""
    return {
        "prediction": {"mask_data": predicted, "class_labels": CLASSES},
        "ground_truth": {"mask_data": truth, "class_labels": CLASSES},
    }


@dataclass
class Evaluation:
    """One pass over the validation set."""

    loss: float
    miou: float
    box_f1: float
    losses: np.ndarray  # per image
    masks: list[np.ndarray]
    boxes: list[list[Box]]


def evaluate(model: Segmenter, val: Dataset, class_weights: np.ndarray) -> Evaluation:
    """Loss, mask IoU and box F1 on ``val``, with every image's prediction."""
    probs = model.predict(val.images)
    picked = np.take_along_axis(probs, val.masks[..., None].astype(np.intp), axis=-1)[..., 0]
    weights = class_weights[val.masks]
    losses = -(weights * np.log(picked + 1e-9)).sum(axis=(1, 2)) / weights.sum(axis=(1, 2))
    counts = Counts()
    masks, boxes, ious = [], [], []
    for index in range(len(val)):
        mask, found = detect(probs[index])
        counts.add(found, val.boxes[index])
        ious.append(mean_iou(mask, val.masks[index], NUM_CLASSES))
        masks.append(mask)
        boxes.append(found)
    return Evaluation(float(losses.mean()), float(np.mean(ious)), counts.f1, losses, masks, boxes)


def log_epoch(
    live: Live,
    params: Params,
    model: Segmenter,
    grads: dict[str, np.ndarray],
    val: Dataset,
    result: Evaluation,
    detections: list[dict[str, Any]],
) -> None:
    """Everything one epoch logs (see the module docstring)."""
    step = live.step
    for index in range(min(params.log_images, len(val))):
        found = result.boxes[index]
        live.log_image(
            f"predictions/{index}/{step}.png",
            val.images[index],
            annotations=annotations_of(found),
            boxes=box_groups(found, val.boxes[index]),
            masks=mask_groups(result.masks[index], val.masks[index]),
            caption=f"epoch {step}: {len(found)} found, {len(val.boxes[index])} true",
        )
        detections.extend(
            {"step": step, "item": index, "label": b.label, "score": round(b.score, 4)}
            for b in found
        )
    live.log_plot(
        "detections",
        detections,
        x="step",
        y="score",
        template=DETECTIONS,
        title="predicted boxes per label",
    )
    histograms: dict[str, Any] = {}
    for name, layer in model.layers.items():
        histograms[f"weights/{name}"] = Histogram(layer.weight, num_bins=params.hist_bins)
        histograms[f"gradients/{name}"] = Histogram(
            grads[f"{name}.weight"], num_bins=params.hist_bins
        )
    live.log(histograms)
    hard = Table(columns=["image", "prediction", "loss", "mask_iou", "truth", "found"])
    for index in np.argsort(-result.losses)[: params.hard_examples].tolist():
        found = result.boxes[index]
        hard.add_data(
            Image(val.images[index], caption=f"val {index}"),
            Image(
                val.images[index],
                boxes=box_groups(found, val.boxes[index]),
                masks=mask_groups(result.masks[index], val.masks[index]),
            ),
            round(float(result.losses[index]), 4),
            round(mean_iou(result.masks[index], val.masks[index], NUM_CLASSES), 4),
            ", ".join(b.label for b in val.boxes[index]),
            ", ".join(f"{b.label} {b.score:.2f}" for b in found),
        )
    live.log_table("hard_examples", hard)


def train(params: Params, run_dir: str = "dvclive") -> dict[str, float]:
    """Train and log; returns the last epoch's metrics."""
    train_set = make_dataset(params.train_images, params.image_size, params.seed)
    val = make_dataset(params.val_images, params.image_size, params.seed + 10_000)
    rng = np.random.default_rng(params.seed)
    model = Segmenter(rng, NUM_CLASSES, params.width)
    optimizer = Adam(params.lr)
    class_weights = np.array([1.0] + [params.foreground_weight] * len(CLASSES), np.float32)
    detections: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    with Live(run_dir, cache_images=True) as live:
        for epoch in range(params.epochs):
            started = time.perf_counter()
            order = rng.permutation(len(train_set))
            losses = []
            grads: dict[str, np.ndarray] = {}
            for start in range(0, len(order), params.batch_size):
                batch = order[start : start + params.batch_size]
                loss, grads = model.loss_and_grads(
                    train_set.images[batch], train_set.masks[batch], class_weights
                )
                optimizer.update(model.parameters(), grads)
                losses.append(loss)
            result = evaluate(model, val, class_weights)
            metrics = {
                "train/loss": float(np.mean(losses)),
                "val/loss": result.loss,
                "val/miou": result.miou,
                "val/box_f1": result.box_f1,
            }
            for name, value in metrics.items():
                live.log_metric(name, round(value, 5))
            log_epoch(live, params, model, grads, val, result, detections)
            print(
                f"epoch {epoch}: "
                + " ".join(f"{k}={v:.4f}" for k, v in metrics.items())
                + f" ({time.perf_counter() - started:.2f} s)",
                flush=True,
            )
            live.next_step()
    return metrics


def main() -> int:
    """Entry point: ``python -m pipeline.train``."""
    train(Params.load())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
