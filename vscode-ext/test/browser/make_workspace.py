"""Writes the browser tests' workspace: one run with every media kind, logged by dvcstage.Live.

    python make_workspace.py OUT_DIR

Images are flat colours per step (so a test sees the step change) with boxes and a mask at
known pixels; "crowd" holds 200 boxes for the redraw measurement. The facts the tests check
are printed as JSON on stdout.
"""

import json
import sys
from pathlib import Path

import numpy as np

from dvcstage import Html, Image, Live, Table, box3d

W, H = 64, 48
STEPS = 6


def step_colour(step: int) -> list[int]:
    return [(40 * step) % 256, 100, (200 - 30 * step) % 256]


def flat(step: int, w: int = W, h: int = H) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :] = step_colour(step)
    return img


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    mask = np.zeros((H, W), np.uint8)
    mask[30:44, 4:20] = 1  # "cat" in the mask: rows 30..43, columns 4..19
    pdb = out / "water.pdb"
    pdb.write_text(
        "HETATM    1  O   HOH A   1       0.000   0.000   0.000  1.00  0.00           O\n"
        "HETATM    2  H1  HOH A   1       0.957   0.000   0.000  1.00  0.00           H\n"
        "HETATM    3  H2  HOH A   1      -0.240   0.927   0.000  1.00  0.00           H\n"
        "CONECT    1    2    3\nEND\n"
    )
    with Live(str(out / "dvclive"), save_dvc_exp=False) as live:
        for step in range(STEPS):
            live.log_image(
                f"pred/{step}.png",
                flat(step),
                annotations={
                    "boxes": [[8, 10, 30, 40], [20, 30, 40, 60]],
                    "labels": ["cat", "dog"],
                    "scores": [0.9, 0.3],
                    "box_format": "tlbr",
                },
                boxes={
                    "predictions": {
                        "box_data": [
                            {
                                "position": {"minX": 0.5, "maxX": 0.75, "minY": 0.25, "maxY": 0.5},
                                "class_id": 1,
                                "box_caption": "cat",
                                "scores": {"score": 0.8},
                            }
                        ],
                        "class_labels": {1: "cat"},
                    },
                    "ground_truth": {
                        "box_data": [
                            {
                                "position": {"middle": [16, 12], "width": 20, "height": 10},
                                "domain": "pixel",
                                "class_id": 2,
                            }
                        ],
                        "class_labels": {2: "bird"},
                    },
                },
                masks={"truth": {"mask_data": mask, "class_labels": {1: "cat"}}},
                caption=f"step {step}",
            )
            live.log(
                {
                    "samples": [
                        Image(flat(step + i, 32, 32), caption=f"sample {i}") for i in range(3)
                    ]
                }
            )
            live.log_histogram("weights", rng.normal(loc=step * 0.3, size=500), num_bins=24)
            live.log_metric("loss", 1 / (step + 1))
            live.next_step()

        crowd = rng.uniform(0, 1, (200, 4))
        box_data = []
        for i, (x, y, w, h) in enumerate(crowd):
            x0, y0 = float(x) * 0.9, float(y) * 0.9
            box_data.append(
                {
                    "position": {
                        "minX": x0,
                        "maxX": min(1.0, x0 + 0.02 + float(w) * 0.1),
                        "minY": y0,
                        "maxY": min(1.0, y0 + 0.02 + float(h) * 0.1),
                    },
                    "class_id": i % 7,
                    "box_caption": f"obj{i}",
                    "scores": {"score": round(float(i) / 200, 3)},
                }
            )
        live.log_image(
            "crowd.png",
            flat(2, 320, 240),
            boxes={
                "predictions": {
                    "box_data": box_data,
                    "class_labels": {i: f"class{i}" for i in range(7)},
                }
            },
        )

        table = Table(columns=["id", "image", "label", "score"])
        for r in range(400):
            image = None
            if r < 12:
                image = Image(
                    flat(r % STEPS, 32, 24),
                    boxes={
                        "predictions": {
                            "box_data": [
                                {
                                    "position": {
                                        "minX": 0.25,
                                        "maxX": 0.75,
                                        "minY": 0.25,
                                        "maxY": 0.75,
                                    },
                                    "class_id": 1,
                                    "scores": {"score": 0.7},
                                }
                            ],
                            "class_labels": {1: "cat"},
                        }
                    },
                )
            table.add_data(r, image, ["cat", "dog", "bird"][r % 3], round(float(rng.uniform()), 4))
        live.log_table("preds", table)
        t = np.linspace(0, 0.5, 4000)
        live.log_audio("voice", np.sin(2 * np.pi * 440 * t) * 0.3, sample_rate=8000)
        frames = np.zeros((6, 3, 24, 32), np.uint8)
        for i in range(6):
            frames[i, 0, :, i * 5 : (i * 5) + 5] = 255
        live.log_video("clip", frames, fps=4, format="gif")
        live.log({"report": Html(HTML_PROBE)})
        live.log_object3d("cloud", rng.normal(size=(2000, 3)))
        live.log_object3d("dense", rng.normal(size=(310_000, 3)).astype(np.float32))
        live.log_object3d(
            "scene",
            {
                "type": "lidar/beta",
                "points": rng.uniform(-5, 5, (3000, 3)),
                "boxes": [
                    box3d(
                        center=[0, 0, 0],
                        size=[2, 2, 2],
                        orientation=[1, 0, 0, 0],
                        color=[255, 0, 0],
                        label="car",
                        score=0.9,
                    )
                ],
                "vectors": [{"start": [0, 0, 0], "end": [3, 0, 0]}],
            },
        )
        live.log_molecule("water", str(pdb))
    facts = {
        "width": W,
        "height": H,
        "steps": STEPS,
        "colours": [step_colour(s) for s in range(STEPS)],
    }
    print(json.dumps(facts))


# A page that tries to reach the panel from inside the sandbox and reports what it could do.
HTML_PROBE = """<!doctype html><html><body><h1 id="probe">probe</h1><script>
const report = {ran: true};
try { report.parentTitle = String(parent.document.title); report.parentDom = "read"; }
catch (e) { report.parentDom = "blocked"; }
try { parent.document.body.setAttribute("data-pwned", "1"); report.parentWrite = "wrote"; }
catch (e) { report.parentWrite = "blocked"; }
try { report.cookie = document.cookie; report.cookieRead = "read"; }
catch (e) { report.cookieRead = "blocked"; }
try { localStorage.setItem("x", "1"); report.storage = "used"; }
catch (e) { report.storage = "blocked"; }
report.origin = String(self.origin);
// Even with the panel's nonce, a script from a URL must not load (it would report itself).
const loader = document.createElement("script");
loader.nonce = document.currentScript.nonce;
loader.src = "data:text/javascript,parent.postMessage({dvcstageLoaded:1},'*')";
document.head.appendChild(loader);
parent.postMessage({dvcstageProbe: report}, "*");
</script></body></html>"""


def bench(out: Path, steps: int = 30) -> None:
    """A second run, "bench": 512x384 noise photos with 20 boxes and a mask per step."""
    rng = np.random.default_rng(1)
    with Live(str(out / "bench"), save_dvc_exp=False) as live:
        for step in range(steps):
            img = rng.integers(0, 255, (384, 512, 3), np.uint8)
            mask = np.zeros((384, 512), np.uint8)
            mask[100:200, 50:250] = 1 + step % 3
            box_data = [
                {
                    "position": {
                        "minX": i / 25,
                        "maxX": i / 25 + 0.1,
                        "minY": 0.1,
                        "maxY": 0.3 + i / 50,
                    },
                    "class_id": i % 3,
                    "scores": {"score": i / 20},
                }
                for i in range(20)
            ]
            live.log_image(
                f"photo/{step}.png",
                img,
                boxes={
                    "predictions": {"box_data": box_data, "class_labels": {0: "a", 1: "b", 2: "c"}}
                },
                masks={"seg": {"mask_data": mask, "class_labels": {1: "a", 2: "b", 3: "c"}}},
            )
            live.next_step()


def more(out: Path, count: int) -> None:
    """Resumes the run and logs `count` more steps of "pred" (follow-live)."""
    steps = []
    with Live(str(out / "dvclive"), resume=True, save_dvc_exp=False) as live:
        for _ in range(count):
            live.next_step()
            live.log_image(
                f"pred/{live.step}.png", flat(live.step % 6), caption=f"late {live.step}"
            )
            steps.append(live.step)
    print(json.dumps({"steps": steps}))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2] == "--bench":
        main(Path(sys.argv[1]))
        bench(Path(sys.argv[1]))
    elif len(sys.argv) > 3 and sys.argv[2] == "--more":
        more(Path(sys.argv[1]), int(sys.argv[3]))
    else:
        main(Path(sys.argv[1]))
