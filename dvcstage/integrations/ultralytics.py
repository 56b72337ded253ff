"""Ultralytics YOLO: validation images with ground-truth and predicted boxes (and masks) each
epoch, as data, plus metrics and per-class metrics::

    from ultralytics import YOLO
    from dvcstage.ultralytics import add_dvcstage_callback

    model = YOLO("yolov8n.yaml")
    add_dvcstage_callback(model, num_images=8)
    model.train(data="data.yaml", epochs=10)

Each epoch logs, at the step of the epoch:

- ``val/predictions.items/<i>/<epoch>.png``: the first ``num_images`` validation images as the
  validator saw them, each with two W&B-style box groups, ``ground_truth`` and
  ``predictions`` (class names, scores; predictions at or above ``conf``), and for
  segmentation models two masks of the same names;
- the metrics Ultralytics' own DVCLive callback logs (losses, precision, recall, mAP, learning
  rates), and per class: a table ``val/per_class`` (Ultralytics' per-class summary) and a
  series ``val/per_class/<class>/mAP50-95`` for each class.

Ultralytics' DVCLive callback (which logs pre-drawn plot images into the same folder) is
switched off for a model that uses this one. Class ids in the boxes and masks are Ultralytics'
class index + 1, so that mask value 0 stays the background.

Needs Ultralytics (``pip install 'dvcstage[ultralytics]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from ..live import Live
from ..media.table import Table
from .predictions import PredictionSample, as_numpy, sample_image

__all__ = ["DVCStageYOLOCallback", "add_dvcstage_callback"]

logger = logging.getLogger("dvcstage")

ULTRALYTICS_DVC_MODULE = "ultralytics.utils.callbacks.dvc"


def _resize_nearest(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """A class-id mask resized to the image's size, nearest neighbour (no blended ids)."""
    if mask.shape == (height, width):
        return mask
    rows = (np.arange(height) * mask.shape[0] / height).astype(int)
    cols = (np.arange(width) * mask.shape[1] / width).astype(int)
    resized: np.ndarray = mask[rows][:, cols]
    return resized


def _param(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


class DVCStageYOLOCallback:
    """The callbacks :func:`add_dvcstage_callback` registers (one object per model).

    Args:
        num_images: validation images logged per epoch.
        conf: the lowest score of a predicted box that is logged.
        max_det: at most this many predicted boxes per image (the most confident).
        key: where the images go.
        live: a :class:`dvcstage.Live` to log with; by default one is made when training
            starts, from ``live_kwargs``.
    """

    def __init__(
        self,
        num_images: int = 8,
        conf: float = 0.25,
        max_det: int = 100,
        key: str = "val/predictions",
        live: Live | None = None,
        **live_kwargs: Any,
    ) -> None:
        if not isinstance(num_images, int) or num_images < 0:
            raise ValueError(f"num_images: {num_images!r}; accepted: an int >= 0")
        self.num_images = num_images
        self.conf = conf
        self.max_det = max_det
        self.key = key
        self.live = live
        self.live_kwargs = live_kwargs
        self._samples: list[PredictionSample] = []
        self._names: dict[int, str] = {}
        self._training_epoch = False

    @property
    def callbacks(self) -> dict[str, Callable[[Any], None]]:
        """Event name -> function, for ``model.add_callback``."""
        return {
            "on_pretrain_routine_start": self.on_pretrain_routine_start,
            "on_train_start": self.on_train_start,
            "on_train_epoch_start": self.on_train_epoch_start,
            "on_val_start": self.on_val_start,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_train_end": self.on_train_end,
        }

    # -- trainer events ------------------------------------------------------------------

    def on_pretrain_routine_start(self, trainer: Any) -> None:
        removed = 0
        for callbacks in trainer.callbacks.values():
            for callback in list(callbacks):
                if getattr(callback, "__module__", "") == ULTRALYTICS_DVC_MODULE:
                    callbacks.remove(callback)
                    removed += 1
        if removed:
            logger.info("dvcstage: Ultralytics' own DVCLive callback is off for this model")
        if self.live is None:
            self.live = Live(**self.live_kwargs)

    def on_train_start(self, trainer: Any) -> None:
        assert self.live is not None
        self.live.log_params({k: _param(v) for k, v in vars(trainer.args).items()})

    def on_train_epoch_start(self, trainer: Any) -> None:
        self._training_epoch = True

    def on_val_start(self, validator: Any) -> None:
        self._samples = []
        if getattr(validator, "_dvcstage_wrapped", False):
            return
        original = validator.update_metrics

        def update_metrics(preds: Any, batch: Any) -> Any:
            if len(self._samples) < self.num_images:
                self._collect(validator, preds, batch)
            return original(preds, batch)

        validator.update_metrics = update_metrics
        validator._dvcstage_wrapped = True

    def on_fit_epoch_end(self, trainer: Any) -> None:
        if not self._training_epoch or self.live is None:
            return  # the final validation of the best weights: see on_train_end
        self._training_epoch = False
        live = self.live
        live.step = int(trainer.epoch)
        metrics = {
            **trainer.label_loss_items(trainer.tloss, prefix="train"),
            **trainer.metrics,
            **trainer.lr,
        }
        for name, value in metrics.items():
            live.log_metric(name, float(value))
        self._log_per_class(trainer)
        if self._samples:
            names = {i + 1: str(n) for i, n in self._names.items()}
            live.log({self.key: [sample_image(s, names) for s in self._samples]})
            self._samples = []
        live.next_step()

    def on_train_end(self, trainer: Any) -> None:
        if self.live is None:
            return
        for name, value in {**trainer.metrics}.items():  # of the best weights
            self.live.log_metric(name, float(value), plot=False)
        self.live.end()

    # -- what is logged --------------------------------------------------------------------

    def _log_per_class(self, trainer: Any) -> None:
        validator = getattr(trainer, "validator", None)
        metrics = getattr(validator, "metrics", None)
        if metrics is None or not hasattr(metrics, "summary"):
            return
        rows = metrics.summary()
        if not rows:
            return
        assert self.live is not None
        columns = list(rows[0])
        data = [
            [_param(row[c].item() if hasattr(row[c], "item") else row[c]) for c in columns]
            for row in rows
        ]
        self.live.log({"val/per_class": Table(columns=columns, data=data)})
        for row in rows:
            for column, value in row.items():
                if "mAP50-95" in column:
                    self.live.log_metric(f"val/per_class/{row['Class']}/{column}", float(value))

    def _collect(self, validator: Any, preds: list[dict[str, Any]], batch: dict[str, Any]) -> None:
        """Take samples from one validation batch: image, ground truth, prediction."""
        self._names = dict(validator.names)
        images = batch["img"]
        height, width = (int(s) for s in images.shape[2:])
        batch_idx = as_numpy(batch["batch_idx"]).reshape(-1)
        classes = as_numpy(batch["cls"]).reshape(-1).astype(np.int64)
        boxes = as_numpy(batch["bboxes"]).reshape(-1, 4).astype(np.float64)
        has_masks = "masks" in batch
        for si, pred in enumerate(preds):
            if len(self._samples) >= self.num_images:
                return
            mine = batch_idx == si
            truth_xywh = boxes[mine] * [width, height, width, height]
            truth_xyxy = np.concatenate(
                [
                    truth_xywh[:, :2] - truth_xywh[:, 2:] / 2,
                    truth_xywh[:, :2] + truth_xywh[:, 2:] / 2,
                ],
                axis=1,
            )
            conf = as_numpy(pred["conf"]).reshape(-1)
            order = np.argsort(-conf, kind="stable")
            keep = order[conf[order] >= self.conf][: self.max_det]
            pred_cls = as_numpy(pred["cls"]).reshape(-1).astype(np.int64)
            sample = PredictionSample(
                image=as_numpy(images[si]),
                truth_boxes=truth_xyxy,
                truth_labels=classes[mine] + 1,
                pred_boxes=as_numpy(pred["bboxes"]).reshape(-1, 4)[keep],
                pred_labels=pred_cls[keep] + 1,
                pred_scores=conf[keep],
                caption=str(batch["im_file"][si]).rsplit("/", 1)[-1]
                if "im_file" in batch
                else None,
            )
            if has_masks:
                sample.truth_mask = self._truth_mask(
                    validator, batch, si, classes[mine], height, width
                )
            if "masks" in pred:
                instance = as_numpy(pred["masks"])[keep]
                mask = np.zeros(instance.shape[1:] if len(instance) else (height, width), np.int64)
                for i in range(len(keep) - 1, -1, -1):
                    mask[instance[i] > 0.5] = pred_cls[keep][i] + 1  # most confident drawn last
                sample.pred_mask = _resize_nearest(mask, height, width)
            self._samples.append(sample)

    @staticmethod
    def _truth_mask(
        validator: Any, batch: dict[str, Any], si: int, classes: np.ndarray, height: int, width: int
    ) -> np.ndarray:
        masks = as_numpy(batch["masks"])
        if getattr(validator.args, "overlap_mask", True):
            # one mask per image; value k is the image's k-th instance (1-based)
            instances = masks[si]
            out = np.zeros(instances.shape, np.int64)
            for k, class_id in enumerate(classes, start=1):
                out[instances == k] = class_id + 1
        else:
            mine = as_numpy(batch["batch_idx"]).reshape(-1) == si
            stack = masks[mine]
            out = np.zeros(stack.shape[1:], np.int64)
            for instance, class_id in zip(stack, classes, strict=False):
                out[instance > 0.5] = class_id + 1
        return _resize_nearest(out, height, width)


def add_dvcstage_callback(
    model: Any,
    num_images: int = 8,
    conf: float = 0.25,
    max_det: int = 100,
    live: Live | None = None,
    **live_kwargs: Any,
) -> DVCStageYOLOCallback:
    """Register dvcstage's callbacks on an Ultralytics ``YOLO`` model; returns them.

    ``live_kwargs`` go to :class:`dvcstage.Live` (``dir``, ``save_dvc_exp``, ...).
    """
    callback = DVCStageYOLOCallback(num_images, conf, max_det, live=live, **live_kwargs)
    for event, function in callback.callbacks.items():
        model.add_callback(event, function)
    return callback
