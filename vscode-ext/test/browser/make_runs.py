"""Writes the workspace tests' workspace: four runs of one "training" with different params,
and a fifth whose files are broken, all logged by dvcstage.Live.

    python make_runs.py OUT_DIR [--steps N]

Each run logs ``train/loss``, ``val/loss`` and ``val/acc`` metrics, ``val/pred`` images (a
flat colour per run and step, overlapping ground-truth and prediction boxes, two masks over
one region), ``val/sparse`` images at even steps only in the first run, a ``train/grads``
histogram whose range differs per run, a ``val/examples`` table, a ``val/voice`` clip and an
HTML ``report`` of a known height that also tries to post to the panel. ``runs/zz-broken``
has a missing image, an undecodable one, a corrupt sidecar and a missing molecule file.
The facts the tests check are printed as JSON on stdout.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

from dvcstage import Html, Image, Live, Table

W, H = 64, 48
LRS = [0.01, 0.05, 0.1, 0.2]
REPORT_HEIGHT = 420


def colour(run: int, step: int) -> list[int]:
    return [(30 * step + 60 * run) % 256, (90 + 40 * run) % 256, (200 - 20 * step) % 256]


PRETTY = "--pretty" in sys.argv


def flat(rgb: list[int], w: int = W, h: int = H) -> np.ndarray:
    """A flat colour (what the tests read back), or with --pretty (screenshots) a small street:
    sky and road in the run's shades, a car and a person where the boxes are."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :] = rgb
    if not PRETTY:
        return img
    y = np.linspace(0, 1, h)[:, None, None]
    base = np.array(rgb, float)[None, None, :]
    sky = base * (0.55 + 0.45 * (1 - y)) + np.array([40, 60, 90]) * (1 - y)
    img = np.clip(sky, 0, 255).astype(np.uint8).repeat(w, axis=1)
    sy, sx = h / H, w / W
    img[int(30 * sy) :, :] = (np.array([70, 72, 78]) * 0.8 + base[0, 0] * 0.2).astype(np.uint8)
    img[int(36 * sy) : int(37 * sy) + 1, :: max(1, int(6 * sx))] = 230
    img[int(8 * sy) : int(26 * sy), int(9 * sx) : int(40 * sx)] = [200, 40, 40]
    img[int(18 * sy) : int(26 * sy), int(12 * sx) : int(37 * sx)] = [150, 25, 25]
    img[int(10 * sy) : int(16 * sy), int(14 * sx) : int(35 * sx)] = [160, 210, 240]
    yy, xx = np.mgrid[0:h, 0:w]
    person = ((xx - 45 * sx) / (6 * sx)) ** 2 + ((yy - 27 * sy) / (12 * sy)) ** 2 <= 1
    img[person] = [250, 210, 120]
    rng = np.random.default_rng(int(sum(rgb)))
    noise = rng.integers(-8, 9, img.shape)
    return np.clip(img.astype(int) + noise, 0, 255).astype(np.uint8)


# Two masks over one region (rows 30..43, columns 4..19): "seg" class 1, "inst" class 2.
MASK_A = np.zeros((H, W), np.uint8)
MASK_A[30:44, 4:20] = 1
MASK_B = np.zeros((H, W), np.uint8)
MASK_B[30:44, 4:20] = 2

BOXES = {
    "ground_truth": {
        "box_data": [
            {
                "position": {"minX": 8, "maxX": 40, "minY": 6, "maxY": 26},
                "domain": "pixel",
                "class_id": 3,
            }
        ],
        "class_labels": {3: "car"},
    },
    "predictions": {
        "box_data": [
            {
                "position": {"minX": 10, "maxX": 42, "minY": 8, "maxY": 28},
                "domain": "pixel",
                "class_id": 3,
                "box_caption": "car 0.87",
                "scores": {"score": 0.87},
            },
            {
                "position": {"minX": 30, "maxX": 60, "minY": 14, "maxY": 40},
                "domain": "pixel",
                "class_id": 0,
                "box_caption": "person",
                "scores": {"score": 0.55},
            },
        ],
        "class_labels": {0: "person", 3: "car"},
    },
}

PROBE = """<!doctype html><html><head><style>
body {{ margin: 0 }} #tall {{ height: {h}px; background: #cde }}
</style></head><body><div id="tall">report</div><script>
// Logged HTML that tries to act as the panel's host: a fake command, a fake answer and a fake
// notification, posted to the panel's window. None may have an effect.
parent.postMessage({{kind: "command", command: "openMedia", args: {{key: "train/grads"}}}}, "*");
parent.postMessage({{kind: "command", command: "showRuns",
  args: {{runs: ["workspace:runs/zz-broken"]}}}}, "*");
for (let id = 1; id < 60; id++)
  parent.postMessage({{kind: "response", id, result: {{runs: []}}}}, "*");
parent.postMessage({{kind: "notification", method: "dvcstage/changed",
  params: {{run: "workspace:evil", lastStep: 0, items: [], new: true}}}}, "*");
parent.postMessage({{dvcstageHtmlHeight: {h}}}, "*");
</script></body></html>"""


def log_run(out: Path, index: int, lr: float, steps: int) -> dict[str, object]:
    rng = np.random.default_rng(index)
    with Live(str(out / "runs" / f"lr-{lr}"), save_dvc_exp=False) as live:
        live.log_params({"train": {"lr": lr, "batch": 16 if index % 2 else 32}, "model": "unet"})
        for step in range(steps):
            live.log_image(
                f"val/pred/{step}.png",
                flat(colour(index, step)),
                boxes=BOXES,
                masks={
                    "seg": {"mask_data": MASK_A, "class_labels": {1: "road"}},
                    "inst": {"mask_data": MASK_B, "class_labels": {2: "lane"}},
                },
                caption=f"prediction at step {step}",
            )
            if index > 0 or step % 2 == 0:
                live.log_image(f"val/sparse/{step}.png", flat(colour(index, step)))
            spread = 0.5 + index
            grads = rng.laplace(size=2000) * spread * (1 + step / steps)
            live.log_histogram("train/grads", grads, num_bins=32)
            loss = 2.0 / (1 + lr * 10 * (step + 1)) + 0.02 * index
            live.log_metric("train/loss", loss)
            live.log_metric("val/loss", loss * 1.1)
            live.log_metric("val/acc", 1 - loss / 3)
            live.next_step()
        table = Table(columns=["id", "image", "label", "score"])
        for r in range(40):
            boxes = {
                "predictions": {
                    "box_data": [
                        {
                            "position": {"minX": 0.2, "maxX": 0.8, "minY": 0.2, "maxY": 0.8},
                            "class_id": r % 3,
                            "scores": {"score": 0.5},
                        }
                    ],
                    "class_labels": {0: "person", 1: "bike", 2: "car"},
                }
            }
            image = Image(flat(colour(index, r % steps), 32, 24), boxes=boxes)
            table.add_data(r, image, ["cat", "dog"][r % 2], round(float(rng.uniform()), 3))
        live.log_table("val/examples", table)
        t = np.linspace(0, 0.5, 4000)
        live.log_audio(
            "val/voice", np.sin(2 * np.pi * 220 * t) * np.linspace(0, 1, t.size), sample_rate=8000
        )
        live.log({"report": Html(PROBE.format(h=REPORT_HEIGHT), inject=False)})
    return {"lr": lr, "colours": [colour(index, s) for s in range(steps)]}


def log_broken(out: Path) -> dict[str, str]:
    run = out / "runs" / "zz-broken"
    with Live(str(run), save_dvc_exp=False) as live:
        for step in range(3):
            live.log_image(f"val/pred/{step}.png", flat([50, 50, 50]), boxes=BOXES)
            live.next_step()
        pdb = out / "water.pdb"
        pdb.write_text(
            "HETATM    1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\nEND\n"
        )
        live.log_molecule("val/water", str(pdb))
    # Where the files are, from the index (the layout of folders is the writer's business).
    files: dict[tuple[str, int, str], str] = {}
    for line in (run / "media.jsonl").read_text().splitlines():
        entry = json.loads(line)
        for f in entry["files"]:
            files[(entry["key"], entry["step"], f["role"])] = f["path"]
    missing = files[("val/pred", 0, "image")]
    undecodable = files[("val/pred", 1, "image")]
    sidecar = files[("val/pred", 2, "sidecar")]
    molecule = next(
        p for (k, _, role), p in files.items() if k == "val/water" and role == "molecule"
    )
    (run / missing).unlink()
    (run / undecodable).write_bytes(b"this is not a png")
    (run / sidecar).write_text('{"boxes": {"predictions": ')  # torn
    (run / molecule).unlink()
    return {
        "missing": missing,
        "undecodable": undecodable,
        "sidecar": sidecar,
        "molecule": molecule,
    }


def main(out: Path, steps: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    # Live writes its dvc.yaml in the working folder when that is inside a repository: keep
    # it with the runs, never in the checkout this script is called from.
    os.chdir(out)
    runs = {f"workspace:runs/lr-{lr}": log_run(out, i, lr, steps) for i, lr in enumerate(LRS)}
    broken = log_broken(out)
    print(
        json.dumps({"runs": runs, "steps": steps, "broken": broken, "reportHeight": REPORT_HEIGHT})
    )


if __name__ == "__main__":
    steps = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 10
    main(Path(sys.argv[1]), steps)
