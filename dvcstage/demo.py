"""``dvcstage demo``: log annotated, masked images of synthetic shapes for a few steps.

The demo makes its own git + DVC workspace (default ``./demo-workspace``), "detects" circles
and squares drawn on noise, and logs each step's prediction with DVCLive-style
``annotations``, W&B-style ``boxes`` (predictions and ground truth) and a segmentation mask.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from .live import Live
from .media.image import Image

CLASSES = {1: "circle", 2: "square"}
SIZE = 128


def _shapes(
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int, int, int]]]:
    """A noisy RGB image, its class-id mask and its boxes (class, top, left, bottom, right)."""
    image = rng.normal(0.45, 0.08, (SIZE, SIZE, 3)).clip(0, 1)
    mask = np.zeros((SIZE, SIZE), np.uint8)
    boxes = []
    yy, xx = np.mgrid[:SIZE, :SIZE]
    for _ in range(rng.integers(2, 5)):
        cls = int(rng.integers(1, 3))
        half = int(rng.integers(8, 20))
        cy, cx = (int(v) for v in rng.integers(half, SIZE - half, 2))
        if cls == 1:
            inside = (yy - cy) ** 2 + (xx - cx) ** 2 <= half**2
        else:
            inside = (abs(yy - cy) <= half) & (abs(xx - cx) <= half)
        image[inside] = rng.uniform(0.2, 1.0, 3)
        mask[inside] = cls
        boxes.append((cls, cy - half, cx - half, cy + half, cx + half))
    return image, mask, boxes


def _predict(
    truth: list[tuple[int, int, int, int, int]], skill: float, rng: np.random.Generator
) -> list[tuple[int, int, int, int, int, float]]:
    """Boxes a model of the given skill (0..1) might predict: jittered, with scores."""
    out = []
    for cls, top, left, bottom, right in truth:
        jitter = (1.0 - skill) * 10
        t, lft, b, r = (v + rng.normal(0, jitter) for v in (top, left, bottom, right))
        top_, bottom_ = sorted((max(0.0, t), min(SIZE - 1.0, b)))
        left_, right_ = sorted((max(0.0, lft), min(SIZE - 1.0, r)))
        score = float(np.clip(skill + rng.normal(0, 0.1), 0.05, 0.99))
        out.append((cls, round(top_), round(left_), round(bottom_), round(right_), round(score, 3)))
    return out


def _prepare_workspace(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if not (path / ".git").exists():
        subprocess.run(["git", "init", "-q"], cwd=path, check=True)
        subprocess.run(["git", "config", "user.email", "demo@dvcstage.local"], cwd=path, check=True)
        subprocess.run(["git", "config", "user.name", "dvcstage demo"], cwd=path, check=True)
    if not (path / ".dvc").exists():
        dvc = Path(sys.executable).with_name("dvc")
        subprocess.run([str(dvc), "init", "-q"], cwd=path, check=True)
        subprocess.run(["git", "add", "-A"], cwd=path, check=True)
        subprocess.run(["git", "commit", "-q", "-m", "dvc init"], cwd=path, check=True)


def run_demo(workspace: Path, steps: int = 10, seed: int = 0) -> Path:
    """Log ``steps`` steps into ``workspace/dvclive``; returns the run folder."""
    _prepare_workspace(workspace)
    rng = np.random.default_rng(seed)
    previous = Path.cwd()
    os.chdir(workspace)
    try:
        with Live(save_dvc_exp=False, cache_images=True) as live:
            live.log_params({"steps": steps, "seed": seed})
            for step in range(steps):
                skill = 0.3 + 0.7 * step / max(1, steps - 1)
                image, mask, truth = _shapes(rng)
                predicted = _predict(truth, skill, rng)
                live.log_image(
                    f"pred/{live.step}.png",
                    image,
                    annotations={
                        "boxes": [p[1:5] for p in predicted],
                        "labels": [CLASSES[p[0]] for p in predicted],
                        "scores": [p[5] for p in predicted],
                        "box_format": "tlbr",
                    },
                    boxes={
                        "predictions": {
                            "box_data": [
                                {
                                    "position": {
                                        "minX": p[2],
                                        "maxX": p[4],
                                        "minY": p[1],
                                        "maxY": p[3],
                                    },
                                    "domain": "pixel",
                                    "class_id": p[0],
                                    "box_caption": f"{CLASSES[p[0]]} {p[5]:.2f}",
                                    "scores": {"confidence": p[5]},
                                }
                                for p in predicted
                            ],
                            "class_labels": CLASSES,
                        },
                        "ground_truth": {
                            "box_data": [
                                {
                                    "position": {
                                        "minX": t[2] / SIZE,
                                        "maxX": t[4] / SIZE,
                                        "minY": t[1] / SIZE,
                                        "maxY": t[3] / SIZE,
                                    },
                                    "class_id": t[0],
                                }
                                for t in truth
                            ],
                            "class_labels": CLASSES,
                        },
                    },
                    masks={"ground_truth": {"mask_data": mask, "class_labels": CLASSES}},
                    caption=f"step {step}: {len(predicted)} shapes",
                )
                live.log({"inputs": Image(image, caption="input"), "skill": skill})
                live.log_metric("loss", round(1.0 - skill + float(rng.normal(0, 0.02)), 4))
                live.next_step()
        return workspace / "dvclive"
    finally:
        os.chdir(previous)


def main(workspace: str = "demo-workspace", steps: int = 10) -> int:
    """Run the demo and print where everything went."""
    root = Path(workspace).resolve()
    run = run_demo(root, steps)
    images = run / "plots" / "images"
    print(f"dvcstage demo: logged {steps} steps into {run}")
    print(f"  images, sidecars, masks: {images}  (e.g. pred/0.png, pred/0.json, pred/0.masks/)")
    print(f"  media index:             {run / 'media.jsonl'}")
    print(f"  dvc.yaml:                {root / 'dvc.yaml'}")
    print("next:")
    print(f"  cd {root} && dvc plots show      # every image once, no stray sidecar plots")
    print(f"  dvcstage validate {run}          # every sidecar and index line against schemas/")
    return 0
