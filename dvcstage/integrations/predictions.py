"""Predictions as annotated images: what every framework logger of dvcstage shares.

A framework callback asks an *adapter* for :class:`PredictionSample` objects (one image with
its ground truth and its prediction) and logs each as a :class:`dvcstage.Image` with two
W&B-style box groups, ``ground_truth`` and ``predictions`` (class names, scores), and two
masks of the same names. Adapters for common batch formats live here too:

- :class:`DetectionAdapter`: images and torchvision-style targets and outputs (``boxes`` in
  pixels as x1, y1, x2, y2; ``labels``; ``scores``; optional ``masks``);
- :class:`SegmentationAdapter`: images and class-id masks, model outputs as class scores
  (``B x K x H x W``, or ``B x H x W x K`` with ``channels_last=True``).

Anything else: write a function ``(batch, outputs, model) -> list[PredictionSample]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidMediaValueError

GROUND_TRUTH = "ground_truth"
PREDICTIONS = "predictions"


def as_numpy(value: Any) -> np.ndarray:
    """A copy, as a NumPy array, of a NumPy array, a torch tensor (detached, on the CPU), a
    TensorFlow or JAX array, or a nested sequence (frameworks reuse their buffers)."""
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu()
        if str(getattr(value, "dtype", "")) in ("torch.bfloat16", "torch.float16"):
            value = value.float()
        value = value.numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # TensorFlow
        value = value.numpy()
    return np.array(value)


@dataclass
class PredictionSample:
    """One validation image with its ground truth and the model's prediction.

    Boxes are ``N x 4`` pixel coordinates ``x1, y1, x2, y2`` (top-left, bottom-right) with
    ``N`` class ids; masks are ``H x W`` class ids (0 is background), the image's size.
    Every field but ``image`` is optional; arrays may be tensors.
    """

    image: Any
    truth_boxes: Any = None
    truth_labels: Any = None
    pred_boxes: Any = None
    pred_labels: Any = None
    pred_scores: Any = None
    truth_mask: Any = None
    pred_mask: Any = None
    caption: str | None = None


def _labels_for(ids: Sequence[int], class_labels: Mapping[int, str]) -> dict[int, str]:
    labels = {int(k): str(v) for k, v in class_labels.items()}
    for class_id in ids:
        labels.setdefault(int(class_id), f"class_{int(class_id)}")
    return labels


def box_group(
    boxes: Any,
    labels: Any,
    scores: Any = None,
    class_labels: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """A W&B box group (pixel domain) from ``N x 4`` x1, y1, x2, y2 boxes and class ids."""
    xyxy = as_numpy(boxes).reshape(-1, 4).astype(np.float64)
    ids = as_numpy(labels).reshape(-1).astype(np.int64) if labels is not None else None
    if ids is None or len(ids) != len(xyxy):
        raise InvalidMediaValueError(
            "labels",
            f"{0 if ids is None else len(ids)} class ids for {len(xyxy)} boxes",
            "one class id per box",
        )
    confidences = None if scores is None else as_numpy(scores).reshape(-1).astype(np.float64)
    names = _labels_for(ids.tolist(), class_labels or {})
    box_data = []
    for i, (x1, y1, x2, y2) in enumerate(xyxy.tolist()):
        entry: dict[str, Any] = {
            "position": {
                "minX": min(x1, x2),
                "maxX": max(x1, x2),
                "minY": min(y1, y2),
                "maxY": max(y1, y2),
            },
            "domain": "pixel",
            "class_id": int(ids[i]),
            "box_caption": names[int(ids[i])],
        }
        if confidences is not None:
            score = float(confidences[i])
            entry["scores"] = {"score": score}
            entry["box_caption"] = f"{names[int(ids[i])]} {score:.2f}"
        box_data.append(entry)
    return {"box_data": box_data, "class_labels": names}


def mask_layer(mask: Any, class_labels: Mapping[int, str] | None = None) -> dict[str, Any]:
    """A W&B mask (``mask_data`` and ``class_labels``) from ``H x W`` class ids."""
    data = as_numpy(mask)
    if data.ndim == 3 and 1 in (data.shape[0], data.shape[-1]):
        data = data.reshape(data.shape[1:] if data.shape[0] == 1 else data.shape[:-1])
    if data.ndim != 2:
        raise InvalidMediaValueError(
            "mask", f"has shape {data.shape}", "H x W class ids (0 is background)"
        )
    data = data.astype(np.int64)
    labels = _labels_for(np.unique(data).tolist(), {0: "background", **(class_labels or {})})
    return {"mask_data": data, "class_labels": labels}


def sample_image(sample: PredictionSample, class_labels: Mapping[int, str] | None = None) -> Any:
    """The :class:`dvcstage.Image` of a sample: its pixels, both box groups and both masks."""
    from ..media.image import Image

    boxes: dict[str, Any] = {}
    if sample.truth_boxes is not None:
        boxes[GROUND_TRUTH] = box_group(sample.truth_boxes, sample.truth_labels, None, class_labels)
    if sample.pred_boxes is not None:
        boxes[PREDICTIONS] = box_group(
            sample.pred_boxes, sample.pred_labels, sample.pred_scores, class_labels
        )
    masks: dict[str, Any] = {}
    if sample.truth_mask is not None:
        masks[GROUND_TRUTH] = mask_layer(sample.truth_mask, class_labels)
    if sample.pred_mask is not None:
        masks[PREDICTIONS] = mask_layer(sample.pred_mask, class_labels)
    return Image(
        as_numpy(sample.image),
        caption=sample.caption,
        boxes=boxes or None,
        masks=masks or None,
    )


def instance_masks_to_class_mask(
    masks: Any, labels: Any, scores: Any = None, threshold: float = 0.5
) -> np.ndarray:
    """One ``H x W`` class-id mask from ``N x H x W`` instance masks (probabilities or 0/1).

    Each instance's pixels get its class id (0 is background, as in torchvision, whose class
    ids start at 1; pass ``labels + 1`` for ids that start at 0); a more confident instance is
    drawn over a less confident one.
    """
    stack = as_numpy(masks)
    if stack.ndim == 4:  # N x 1 x H x W (torchvision)
        stack = stack[:, 0]
    ids = as_numpy(labels).reshape(-1).astype(np.int64)
    order = np.arange(len(ids))
    if scores is not None:
        order = np.argsort(as_numpy(scores).reshape(-1), kind="stable")
    out = np.zeros(stack.shape[1:], dtype=np.int64)
    for i in order:
        out[stack[i] > threshold] = ids[i]
    return out


def _images_of(batch: Any) -> Any:
    if isinstance(batch, Mapping):
        for key in ("image", "images", "img", "pixel_values", "x"):
            if key in batch:
                return batch[key]
        raise InvalidMediaValueError(
            "batch", f"has keys {sorted(batch)}", "a dict with 'image' or 'images' (or a tuple)"
        )
    return batch[0]


def _predict(model: Any, images: Any) -> Any:
    """Run ``model`` on ``images`` in eval mode without gradients, restoring its mode."""
    import torch

    was_training = bool(getattr(model, "training", False))
    model.eval()
    try:
        with torch.no_grad():
            return model(images)
    finally:
        if was_training:
            model.train()


class DetectionAdapter:
    """Samples from a detection batch in torchvision's format.

    The batch is ``(images, targets)`` (or a dict with ``images`` and ``targets``): images
    ``B x C x H x W`` (or a list of ``C x H x W``), targets a list of dicts with ``boxes``
    (x1, y1, x2, y2 pixels), ``labels`` and optionally ``masks`` (``N x H x W``). Outputs are
    what ``validation_step`` returned: a list of dicts with ``boxes``, ``labels``, ``scores``
    (and ``masks``), or a dict holding it under ``predictions``; when ``validation_step``
    returns nothing the model is run on the images.

    Args:
        score_threshold: predictions below this score are left out.
        denormalize: turns a model-input image back into displayable pixels.
        label_offset: added to class ids before names are looked up (torchvision keeps 0 for
            background: pass ``class_labels`` with the ids the model uses and leave it 0).
    """

    def __init__(
        self,
        score_threshold: float = 0.0,
        denormalize: Callable[[Any], Any] | None = None,
        label_offset: int = 0,
    ) -> None:
        self.score_threshold = score_threshold
        self.denormalize = denormalize
        self.label_offset = label_offset

    def __call__(self, batch: Any, outputs: Any, model: Any) -> list[PredictionSample]:
        images = _images_of(batch)
        targets = batch["targets"] if isinstance(batch, Mapping) else batch[1]
        if isinstance(outputs, Mapping) and "predictions" in outputs:
            outputs = outputs["predictions"]
        if outputs is None or (isinstance(outputs, Mapping) and "boxes" not in outputs):
            outputs = _predict(model, images)
        samples = []
        for image, target, output in zip(images, targets, outputs, strict=False):
            scores = as_numpy(output.get("scores", np.ones(len(output["boxes"]))))
            keep = scores >= self.score_threshold
            pixels = self.denormalize(image) if self.denormalize else image
            pred_labels = as_numpy(output["labels"])[keep] + self.label_offset
            sample = PredictionSample(
                image=pixels,
                truth_boxes=target["boxes"],
                truth_labels=as_numpy(target["labels"]) + self.label_offset,
                pred_boxes=as_numpy(output["boxes"])[keep],
                pred_labels=pred_labels,
                pred_scores=scores[keep],
            )
            if "masks" in target:
                sample.truth_mask = instance_masks_to_class_mask(
                    target["masks"], as_numpy(target["labels"]) + self.label_offset
                )
            if "masks" in output:
                sample.pred_mask = instance_masks_to_class_mask(
                    as_numpy(output["masks"])[keep], pred_labels, scores[keep]
                )
            samples.append(sample)
        return samples


class SegmentationAdapter:
    """Samples from a semantic segmentation batch: ``(images, masks)`` (or a dict with
    ``image``/``images`` and ``mask``/``masks``), masks ``B x H x W`` class ids. Outputs are
    class scores ``B x K x H x W`` from ``validation_step`` (or a dict with ``logits``/``preds``);
    without them the model is run. Boxes around each predicted and true class region are
    added with ``boxes_from_masks=True``.
    """

    def __init__(
        self,
        denormalize: Callable[[Any], Any] | None = None,
        boxes_from_masks: bool = False,
        channels_last: bool = False,
    ) -> None:
        self.denormalize = denormalize
        self.boxes_from_masks = boxes_from_masks
        self.channels_last = channels_last

    def __call__(self, batch: Any, outputs: Any, model: Any) -> list[PredictionSample]:
        images = _images_of(batch)
        truths = batch.get("mask", batch.get("masks")) if isinstance(batch, Mapping) else batch[1]
        if isinstance(outputs, Mapping):
            outputs = outputs.get("logits", outputs.get("preds"))
        if outputs is None:
            outputs = _predict(model, images)
        scores = as_numpy(outputs)
        predicted = scores.argmax(axis=-1 if self.channels_last else 1)
        samples = []
        for i, image in enumerate(images):
            truth = as_numpy(truths[i])
            if truth.ndim == 3:  # one-hot (channels last: H x W x K) or H x W x 1
                one_hot = truth.shape[-1] > 1 if self.channels_last else truth.shape[0] > 1
                truth = (
                    truth.argmax(-1 if self.channels_last else 0) if one_hot else truth.squeeze()
                )
            sample = PredictionSample(
                image=self.denormalize(image) if self.denormalize else image,
                truth_mask=truth,
                pred_mask=predicted[i],
            )
            if self.boxes_from_masks:
                sample.truth_boxes, sample.truth_labels = boxes_of_mask(truth)
                sample.pred_boxes, sample.pred_labels = boxes_of_mask(predicted[i])
            samples.append(sample)
        return samples


def boxes_of_mask(mask: Any) -> tuple[np.ndarray, np.ndarray]:
    """The bounding box (x1, y1, x2, y2, pixel edges) of each non-zero class in a mask."""
    data = as_numpy(mask)
    boxes, labels = [], []
    for class_id in np.unique(data):
        if class_id == 0:
            continue
        ys, xs = np.nonzero(data == class_id)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        labels.append(int(class_id))
    return np.array(boxes, dtype=np.float64).reshape(-1, 4), np.array(labels, dtype=np.int64)
