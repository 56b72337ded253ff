"""Synthetic data: circles and squares on noise, with class-id masks and boxes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLASSES: dict[int, str] = {1: "circle", 2: "square"}
NUM_CLASSES = 1 + len(CLASSES)  # 0 is the background


@dataclass(frozen=True)
class Box:
    """A box in pixels, bottom and right inclusive, with its class id (and a score)."""

    cls: int
    top: int
    left: int
    bottom: int
    right: int
    score: float = 1.0

    @property
    def label(self) -> str:
        """The class name."""
        return CLASSES[self.cls]

    def iou(self, other: Box) -> float:
        """Intersection over union of two boxes."""
        height = min(self.bottom, other.bottom) - max(self.top, other.top) + 1
        width = min(self.right, other.right) - max(self.left, other.left) + 1
        if height <= 0 or width <= 0:
            return 0.0
        inter = height * width
        return inter / (self.area + other.area - inter)

    @property
    def area(self) -> int:
        """Pixels covered."""
        return (self.bottom - self.top + 1) * (self.right - self.left + 1)


@dataclass(frozen=True)
class Dataset:
    """Images (N x H x W x 3, float32 in [0, 1]), masks (N x H x W, class ids) and boxes."""

    images: np.ndarray
    masks: np.ndarray
    boxes: list[list[Box]]

    def __len__(self) -> int:
        return len(self.images)


def draw_sample(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray, list[Box]]:
    """One noisy image with one to three shapes, its mask and its boxes."""
    image = rng.normal(0.45, 0.08, (size, size, 3)).clip(0, 1)
    mask = np.zeros((size, size), np.uint8)
    boxes = []
    yy, xx = np.mgrid[:size, :size]
    for _ in range(int(rng.integers(1, 4))):
        cls = int(rng.integers(1, NUM_CLASSES))
        half = int(rng.integers(max(3, size // 12), max(4, size // 6) + 1))
        cy, cx = (int(v) for v in rng.integers(half, size - half, 2))
        if cls == 1:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= half**2
        else:
            inside = (abs(yy - cy) <= half) & (abs(xx - cx) <= half)
        image[inside] = rng.uniform(0.0, 1.0, 3)
        mask[inside] = cls
        boxes.append(Box(cls, cy - half, cx - half, cy + half, cx + half))
    return image.astype(np.float32), mask, boxes


def make_dataset(count: int, size: int, seed: int) -> Dataset:
    """``count`` samples drawn from a generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    samples = [draw_sample(rng, size) for _ in range(count)]
    return Dataset(
        images=np.stack([s[0] for s in samples]),
        masks=np.stack([s[1] for s in samples]),
        boxes=[s[2] for s in samples],
    )
