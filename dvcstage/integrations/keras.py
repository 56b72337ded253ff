"""Keras: DVCLive's Keras callback, plus predictions of a fixed validation batch each epoch.

:class:`DVCStagePredictionCallback` is ``dvclive.keras.DVCLiveCallback`` writing with
:class:`dvcstage.Live`: metrics each epoch as DVCLive logs them, and before them the first
``num_samples`` images of a validation batch with ground truth and predicted boxes and masks
(W&B-style ``ground_truth`` / ``predictions`` groups)::

    from dvcstage.keras import DVCStagePredictionCallback, KerasDetectionAdapter
    model.fit(x, y, validation_data=(vx, vy), callbacks=[
        DVCStagePredictionCallback((vx[:8], vy[:8]), SegmentationAdapter(channels_last=True))])

Needs TensorFlow (``pip install 'dvcstage[keras]'``), as DVCLive's callback does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np
from dvclive.keras import DVCLiveCallback

from ..live import Live
from .predictions import PredictionSample, SegmentationAdapter, as_numpy, sample_image

__all__ = [
    "DVCStagePredictionCallback",
    "KerasDetectionAdapter",
    "SegmentationAdapter",
]

BOX_FORMATS = ("xyxy", "rel_xyxy", "xywh", "rel_xywh", "center_xywh", "yxyx", "rel_yxyx")


def to_xyxy(boxes: Any, box_format: str, height: int, width: int) -> np.ndarray:
    """Boxes in a KerasCV/KerasHub ``bounding_box_format`` as x1, y1, x2, y2 pixels."""
    if box_format not in BOX_FORMATS:
        raise ValueError(f"bounding_box_format: {box_format!r}; accepted: {', '.join(BOX_FORMATS)}")
    b = as_numpy(boxes).astype(np.float64).reshape(-1, 4)
    if box_format.startswith("rel_"):
        box_format = box_format[4:]
        b = b * ([height, width] * 2 if box_format == "yxyx" else [width, height] * 2)
    if box_format == "xywh":
        return np.stack([b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]], axis=1)
    if box_format == "center_xywh":
        half_w, half_h = b[:, 2] / 2, b[:, 3] / 2
        return np.stack([b[:, 0] - half_w, b[:, 1] - half_h, b[:, 0] + half_w, b[:, 1] + half_h], 1)
    if box_format == "yxyx":
        return b[:, [1, 0, 3, 2]]
    return b


class KerasDetectionAdapter:
    """Samples from Keras detection data: ``y`` and ``y_pred`` dicts of padded arrays.

    Ground truth ``{"boxes": B x N x 4, "classes": B x N}`` and predictions
    ``{"boxes", "classes", "confidence"}`` (KerasHub's ``YOLOV8Detector`` and ``RetinaNet``
    decode to this), padded with class ``-1``; boxes in ``bounding_box_format``.
    """

    def __init__(self, bounding_box_format: str = "xyxy", score_threshold: float = 0.0) -> None:
        to_xyxy(np.zeros((0, 4)), bounding_box_format, 1, 1)  # checks the format now
        self.bounding_box_format = bounding_box_format
        self.score_threshold = score_threshold

    def __call__(self, batch: Any, outputs: Any, model: Any) -> list[PredictionSample]:
        images, truth = batch
        samples = []
        for i, image in enumerate(as_numpy(images)):
            height, width = image.shape[:2]
            classes = as_numpy(truth["classes"][i]).reshape(-1)
            real = classes >= 0
            predicted = as_numpy(outputs["classes"][i]).reshape(-1)
            confidence = as_numpy(outputs["confidence"][i]).reshape(-1)
            keep = (predicted >= 0) & (confidence >= self.score_threshold)
            samples.append(
                PredictionSample(
                    image=image,
                    truth_boxes=to_xyxy(truth["boxes"][i], self.bounding_box_format, height, width)[
                        real
                    ],
                    truth_labels=classes[real].astype(np.int64),
                    pred_boxes=to_xyxy(
                        outputs["boxes"][i], self.bounding_box_format, height, width
                    )[keep],
                    pred_labels=predicted[keep].astype(np.int64),
                    pred_scores=confidence[keep],
                )
            )
        return samples


SampleAdapter = Callable[[Any, Any, Any], list[PredictionSample]]


class DVCStagePredictionCallback(DVCLiveCallback):
    """DVCLive's Keras callback that also logs predictions of a fixed validation batch.

    Args:
        validation_batch: ``(x, y)``; its first ``num_samples`` samples are predicted and
            logged at the end of each epoch, at the step of that epoch's metrics.
        adapter: ``((x, y), y_pred, model) -> list[PredictionSample]``, e.g.
            ``SegmentationAdapter(channels_last=True)`` or :class:`KerasDetectionAdapter`.
        num_samples: how many samples of the batch.
        class_labels: class id -> name.
        key: where the images go (``<key>.items/<i>/<step>.png``).
        save_weights_only, live, **kwargs: as ``DVCLiveCallback``; ``kwargs`` go to
            :class:`dvcstage.Live` when ``live`` is not given.
    """

    def __init__(
        self,
        validation_batch: tuple[Any, Any],
        adapter: SampleAdapter,
        num_samples: int = 8,
        class_labels: Mapping[int, str] | None = None,
        key: str = "val/predictions",
        save_weights_only: bool = False,
        live: Live | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples: {num_samples!r}; accepted: an int >= 1")
        x, y = validation_batch
        self.validation_x = x[:num_samples]
        self.validation_y = (
            {k: v[:num_samples] for k, v in y.items()}
            if isinstance(y, Mapping)
            else y[:num_samples]
        )
        self.adapter = adapter
        self.class_labels = dict(class_labels or {})
        self.key = key
        super().__init__(
            save_weights_only=save_weights_only, live=live if live is not None else Live(**kwargs)
        )

    def predict(self) -> Any:
        """The model's output on the validation samples (inference mode)."""
        output = self.model(self.validation_x, training=False)
        if isinstance(output, Mapping):
            return {k: as_numpy(v) for k, v in output.items()}
        return as_numpy(output)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        samples = self.adapter((self.validation_x, self.validation_y), self.predict(), self.model)
        live = cast(Live, self.live)  # the dvcstage Live given to DVCLive's callback
        live.log({self.key: [sample_image(s, self.class_labels) for s in samples]})
        super().on_epoch_end(epoch, logs)
