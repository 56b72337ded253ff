"""Lightning (CPU torch, a tiny model, 2 epochs): DVCStageLogger logs predictions with boxes
and masks through DVCStagePredictionLogger, checked item by item against what the model
returned; and a WandbLogger script runs with only its import changed.

Runs in the framework venv (scripts/test-frameworks).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from import_support import metric_series, sidecar

from dvcstage import read_image

pytestmark = pytest.mark.frameworks

SIDE = 16
CLASSES = {1: "red", 2: "green"}


def make_data(count: int, seed: int) -> list[dict[str, Any]]:
    """Images with one coloured square each: its class mask and box (torchvision's format)."""
    import torch

    rng = np.random.default_rng(seed)
    samples = []
    for _ in range(count):
        class_id = int(rng.integers(1, 3))
        x, y = (int(v) for v in rng.integers(0, SIDE - 6, 2))
        size = int(rng.integers(4, 7))
        pixels = rng.integers(0, 60, (SIDE, SIDE, 3)).astype(np.uint8)
        pixels[y : y + size, x : x + size, class_id - 1] = 230
        mask = np.zeros((SIDE, SIDE), np.int64)
        mask[y : y + size, x : x + size] = class_id
        samples.append(
            {
                "image": torch.tensor(pixels.transpose(2, 0, 1) / 255, dtype=torch.float32),
                "mask": torch.tensor(mask),
                "target": {
                    "boxes": torch.tensor([[x, y, x + size, y + size]], dtype=torch.float32),
                    "labels": torch.tensor([class_id]),
                    "masks": torch.tensor(mask == class_id)[None].to(torch.uint8),
                },
                "pixels": pixels,
            }
        )
    return samples


def collate(samples: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    return {
        "image": torch.stack([s["image"] for s in samples]),
        "mask": torch.stack([s["mask"] for s in samples]),
        "targets": [s["target"] for s in samples],
    }


def build_module() -> Any:
    import lightning
    import torch
    from torch import nn

    from dvcstage.integrations.predictions import boxes_of_mask

    class TinySegmenter(lightning.LightningModule):
        """Per-pixel classes; boxes and instance masks derived from them (a 'detector')."""

        def __init__(self, lr: float = 0.05) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 3, 1))
            self.recorded: dict[int, list[dict[str, Any]]] = {}

        def forward(self, images: Any) -> Any:
            return self.net(images)

        def training_step(self, batch: dict[str, Any], _: int) -> Any:
            loss = nn.functional.cross_entropy(self(batch["image"]), batch["mask"])
            self.log("train/loss", loss)
            return loss

        def validation_step(self, batch: dict[str, Any], batch_idx: int) -> Any:
            logits = self(batch["image"])
            self.log("val/loss", nn.functional.cross_entropy(logits, batch["mask"]))
            probabilities = logits.softmax(1)
            predictions = []
            for i, classes in enumerate(logits.argmax(1)):
                boxes, labels = boxes_of_mask(classes.numpy())
                scores = [float(probabilities[i, c][classes == c].mean()) for c in labels]
                masks = np.stack([classes.numpy() == c for c in labels]) if len(labels) else None
                predictions.append(
                    {
                        "boxes": torch.tensor(boxes),
                        "labels": torch.tensor(labels),
                        "scores": torch.tensor(scores, dtype=torch.float32),
                        "masks": torch.tensor(
                            masks if masks is not None else np.zeros((0, SIDE, SIDE), bool)
                        ),
                    }
                )
            if not self.trainer.sanity_checking and batch_idx == 0:
                self.recorded[self.current_epoch] = [
                    {"logits": logits[i].numpy().copy(), "prediction": predictions[i]}
                    for i in range(len(predictions))
                ]
            return {"logits": logits, "predictions": predictions}

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    return TinySegmenter()


def test_predictions_with_boxes_and_masks_logged_through_the_logger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lightning
    from torch.utils.data import DataLoader

    from dvcstage.integrations.predictions import DetectionAdapter, SegmentationAdapter
    from dvcstage.lightning import DVCStageLogger, DVCStagePredictionLogger

    monkeypatch.chdir(tmp_path)
    train, val = make_data(16, 0), make_data(8, 1)
    model = build_module()
    logger = DVCStageLogger(dir="run", save_dvc_exp=False)
    segmentation = DVCStagePredictionLogger(
        SegmentationAdapter(boxes_from_masks=True),
        num_samples=4,
        class_labels=CLASSES,
        key="val/segmentation",
    )
    detection = DVCStagePredictionLogger(
        DetectionAdapter(), num_samples=4, class_labels=CLASSES, key="val/detection"
    )
    trainer = lightning.Trainer(
        max_epochs=2,
        accelerator="cpu",
        logger=logger,
        callbacks=[segmentation, detection],
        log_every_n_steps=1,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(
        model,
        DataLoader(train, batch_size=4, collate_fn=collate),
        DataLoader(val, batch_size=4, collate_fn=collate),
    )

    run = tmp_path / "run"
    # Each epoch's images are logged at the step of its validation metrics.
    steps = sorted(metric_series(run, "val/loss"))
    assert len(steps) == 2 and sorted(model.recorded) == [0, 1]
    for epoch, step in enumerate(steps):
        for i, (sample, seen) in enumerate(zip(val[:4], model.recorded[epoch], strict=True)):
            truth_box = sample["target"]["boxes"][0].tolist()
            class_id = int(sample["target"]["labels"][0])
            predicted = seen["logits"].argmax(0)

            seg = read_image(
                run / "plots" / "images" / "val" / "segmentation.items" / str(i) / f"{step}.png"
            )
            assert np.abs(seg.pixels.astype(int) - sample["pixels"]).max() <= 1
            assert np.array_equal(seg.masks["ground_truth"]["mask_data"], sample["mask"].numpy())
            assert np.array_equal(seg.masks["predictions"]["mask_data"], predicted)
            assert seg.masks["ground_truth"]["class_labels"][class_id] == CLASSES[class_id]
            assert seg.boxes is not None
            (gt_box,) = seg.boxes["ground_truth"]["box_data"]
            position = gt_box["position"]
            assert [position[k] for k in ("minX", "minY", "maxX", "maxY")] == truth_box
            assert gt_box["class_id"] == class_id and gt_box["domain"] == "pixel"
            assert len(seg.boxes["predictions"]["box_data"]) == len(set(np.unique(predicted)) - {0})

            det = read_image(
                run / "plots" / "images" / "val" / "detection.items" / str(i) / f"{step}.png"
            )
            assert det.boxes is not None
            prediction = seen["prediction"]
            logged = det.boxes["predictions"]["box_data"]
            assert len(logged) == len(prediction["labels"])
            for box, xyxy, label, score in zip(
                logged,
                prediction["boxes"].tolist(),
                prediction["labels"].tolist(),
                prediction["scores"].tolist(),
                strict=True,
            ):
                position = box["position"]
                assert [position[k] for k in ("minX", "minY", "maxX", "maxY")] == xyxy
                assert box["class_id"] == label
                assert box["scores"]["score"] == pytest.approx(score)
                assert box["box_caption"] == f"{CLASSES.get(label, f'class_{label}')} {score:.2f}"
            instance_mask = det.masks["ground_truth"]["mask_data"]
            assert np.array_equal(instance_mask, sample["mask"].numpy())
            assert det.boxes["ground_truth"]["class_labels"][1] == "red"

    for key in ("train/loss", "val/loss"):
        assert metric_series(run, key), key
    assert yaml.safe_load((run / "params.yaml").read_text()) == {"lr": 0.05}
    index = [json.loads(line) for line in (run / "media.jsonl").read_text().splitlines()]
    assert {line["key"] for line in index} == {"val/segmentation", "val/detection"}


WANDB_STYLE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import lightning
    import torch
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset
    from PIL import Image
    IMPORT_LINE

    CLIP = "clip.gif"
    frames = [Image.new("RGB", (8, 8), (60 * i, 0, 0)) for i in range(3)]
    frames[0].save(CLIP, save_all=True, append_images=frames[1:], duration=250)

    class Model(lightning.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(4, 1)

        def training_step(self, batch, _):
            x, y = batch
            loss = nn.functional.mse_loss(self.layer(x), y)
            self.log("train_loss", loss)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            self.log("val_loss", nn.functional.mse_loss(self.layer(x), y))

        def on_validation_epoch_end(self):
            if self.trainer.sanity_checking:
                return
            epoch = self.current_epoch
            image = np.full((8, 12, 3), 40 * epoch, np.uint8)
            mask = np.zeros((8, 12), np.uint8)
            mask[2:5, 3:9] = 1
            boxes = {"predictions": {"box_data": [{"position": {"minX": 0.1, "maxX": 0.6,
                     "minY": 0.2, "maxY": 0.9}, "class_id": 1, "scores": {"acc": 0.5}}],
                     "class_labels": {1: "thing"}}}
            masks = {"truth": {"mask_data": mask, "class_labels": {1: "thing"}}}
            self.logger.log_image(key="samples", images=[image, torch.zeros(3, 8, 12)],
                                  caption=[f"epoch {epoch}", "zeros"], boxes=[boxes, None],
                                  masks=[masks, None])
            self.logger.log_table(key="table", columns=["epoch", "note"],
                                  data=[[epoch, "ok"], [epoch, "fine"]])
            self.logger.log_text(key="text", columns=["line"], data=[[f"epoch {epoch}"]])
            self.logger.log_audio(key="audio", audios=[np.sin(np.arange(800) / 9)],
                                  sample_rate=[8000], caption=[f"tone {epoch}"])
            self.logger.log_video(key="video", videos=[CLIP], caption=[f"clip {epoch}"])

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.1)

    x = torch.randn(16, 4)
    data = DataLoader(TensorDataset(x, x.sum(1, keepdim=True)), batch_size=4)
    logger = WandbLogger(project="doors", log_model=False, config={"batch_size": 4})
    model = Model()
    logger.watch(model, log="all", log_freq=2)
    logger.log_hyperparams({"lr": 0.1})
    trainer = lightning.Trainer(max_epochs=2, logger=logger, accelerator="cpu", log_every_n_steps=1,
                        enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(model, data, data)
    """
)


@pytest.mark.parametrize(
    "import_line",
    [
        "from lightning.pytorch.loggers import WandbLogger",
        "from dvcstage.lightning import DVCStageLogger as WandbLogger",
    ],
    ids=["wandb", "dvcstage"],
)
def test_a_wandb_logger_script_runs_with_only_the_import_changed(
    tmp_path: Path, import_line: str
) -> None:
    script = tmp_path / "train.py"
    script.write_text(WANDB_STYLE.replace("IMPORT_LINE", import_line))
    env = dict(os.environ, WANDB_MODE="offline", WANDB_SILENT="true", WANDB_DIR=str(tmp_path))
    env.update(WANDB_DATA_DIR=str(tmp_path / "wandb-data"), DVC_NO_ANALYTICS="1")
    env["GIT_CEILING_DIRECTORIES"] = str(tmp_path.parent)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    if "dvcstage" not in import_line:
        assert list((tmp_path / "wandb").glob("offline-run-*"))  # the same script, for W&B
        return

    run = tmp_path / "dvclive"
    steps = sorted(
        int(p.stem) for p in (run / "plots" / "images" / "samples.items" / "0").glob("*.png")
    )
    assert len(steps) == 2  # step=None: at the step of the metrics logged last, as W&B does
    for epoch, step in enumerate(steps):
        first = read_image(run / "plots" / "images" / "samples.items" / "0" / f"{step}.png")
        assert (first.pixels == 40 * epoch).all() and first.caption == f"epoch {epoch}"
        assert first.boxes is not None
        assert first.boxes["predictions"]["box_data"][0]["scores"] == {"acc": 0.5}
        assert first.masks["truth"]["mask_data"][2:5, 3:9].all()
        second = read_image(run / "plots" / "images" / "samples.items" / "1" / f"{step}.png")
        assert second.pixels.shape[:2] == (8, 12) and second.caption == "zeros"
        table = sidecar(run / "media" / "table" / "table" / f"{step}.json")
        assert table["columns"] == ["epoch", "note"]
        assert table["data"] == [[epoch, "ok"], [epoch, "fine"]]
        assert sidecar(run / "media" / "table" / "text" / f"{step}.json")["data"] == [
            [f"epoch {epoch}"]
        ]
        audio = sidecar(run / "media" / "audio" / "audio.items" / "0" / f"{step}.json")
        assert audio["caption"] == f"tone {epoch}" and audio["sample_rate"] == 8000
        video = sidecar(run / "media" / "video" / "video.items" / "0" / f"{step}.json")
        assert video["caption"] == f"clip {epoch}"
        gif = run / "media" / "video" / "video.items" / "0" / f"{step}.gif"
        assert gif.read_bytes() == (tmp_path / "clip.gif").read_bytes()
    params = yaml.safe_load((run / "params.yaml").read_text())
    assert params == {"batch_size": 4, "lr": 0.1}
    histograms = {
        p.relative_to(run / "plots" / "histograms").as_posix()
        for p in (run / "plots" / "histograms").rglob("*.tsv")
    }
    assert histograms == {
        "parameters/layer.weight.tsv",
        "parameters/layer.bias.tsv",
        "gradients/layer.weight.tsv",
        "gradients/layer.bias.tsv",
    }
    assert sorted(metric_series(run, "val/loss")) == steps  # DVCLive: val_loss -> val/loss
