"""From per-pixel class probabilities to boxes, and how good they are.

A detection is a 4-connected component of pixels predicted as foreground: its box is the
component's extent, its label the majority of its pixels' classes, its score their mean
probability of that class. Components smaller than ``min_pixels`` are dropped as noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shapes import CLASSES, Box


def components(foreground: np.ndarray) -> tuple[np.ndarray, int]:
    """4-connected components of a boolean image: a label image (0 = none) and a count.

    Union-find over the pixel grid, vectorised per row pair: small images only (this is
    what the demo needs, not a general-purpose labeller).
    """
    height, width = foreground.shape
    parent = np.arange(height * width)

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = int(parent[root])
        while parent[i] != root:
            parent[i], i = root, int(parent[i])
        return root

    ids = np.arange(height * width).reshape(height, width)
    right = foreground[:, :-1] & foreground[:, 1:]
    down = foreground[:-1, :] & foreground[1:, :]
    pairs = np.concatenate(
        [
            np.stack([ids[:, :-1][right], ids[:, 1:][right]], axis=1),
            np.stack([ids[:-1, :][down], ids[1:, :][down]], axis=1),
        ]
    )
    for a, b in pairs.tolist():
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    roots = np.array([find(i) for i in ids[foreground].tolist()], dtype=np.intp)
    labels = np.zeros((height, width), np.int32)
    unique = np.unique(roots)
    labels[foreground] = np.searchsorted(unique, roots) + 1
    return labels, len(unique)


def detect(probs: np.ndarray, min_pixels: int = 6) -> tuple[np.ndarray, list[Box]]:
    """The predicted class-id mask (H, W) and the detections of one image."""
    classes = probs.argmax(axis=-1).astype(np.uint8)
    labels, count = components(classes > 0)
    boxes = []
    for component in range(1, count + 1):
        rows, cols = np.nonzero(labels == component)
        if len(rows) < min_pixels:
            continue
        votes = np.bincount(classes[rows, cols], minlength=len(CLASSES) + 1)
        cls = int(votes[1:].argmax()) + 1
        score = float(probs[rows, cols, cls].mean())
        boxes.append(
            Box(cls, int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max()), score)
        )
    boxes.sort(key=lambda box: -box.score)
    return classes, boxes


@dataclass
class Counts:
    """True positives, false positives and false negatives of box matching."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, predicted: list[Box], truth: list[Box], threshold: float = 0.5) -> None:
        """Greedy matching by score: same class and IoU >= ``threshold``."""
        unmatched = list(truth)
        for box in predicted:
            best = max(
                (t for t in unmatched if t.cls == box.cls),
                key=box.iou,
                default=None,
            )
            if best is not None and box.iou(best) >= threshold:
                unmatched.remove(best)
                self.tp += 1
            else:
                self.fp += 1
        self.fn += len(unmatched)

    @property
    def f1(self) -> float:
        """Box F1 score (0 when there is nothing at all)."""
        denominator = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denominator if denominator else 0.0


def mean_iou(predicted: np.ndarray, truth: np.ndarray, classes: int) -> float:
    """Mean intersection over union of the foreground classes present in either mask."""
    scores = []
    for cls in range(1, classes):
        union = np.logical_or(predicted == cls, truth == cls).sum()
        if union:
            scores.append(np.logical_and(predicted == cls, truth == cls).sum() / union)
    return float(np.mean(scores)) if scores else 1.0
