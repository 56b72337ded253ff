"""Creates the end-to-end test's workspace: one dvcstage run whose image has a box that moves.

Usage: python e2e-workspace.py WORKSPACE_DIR   (the directory is created; it must not exist)

Four steps log ``pred/{step}.png``, a 64x48 image with a bright square and a box around it,
both 12 px further right at every step, so a slider that moves must change the image and its box.
"""

import sys
from pathlib import Path

import numpy as np

from dvcstage import Live

STEPS = 4
TRAIN = """\
import numpy as np
from dvcstage import Live

with Live("dvclive", save_dvc_exp=False) as live:
    for step in range(4):
        live.log_image(f"pred/{live.step}.png", np.zeros((48, 64, 3), np.uint8))
        live.next_step()
"""


def main() -> None:
    workspace = Path(sys.argv[1])
    workspace.mkdir(parents=True)
    (workspace / "train.py").write_text(TRAIN)
    with Live(str(workspace / "dvclive"), save_dvc_exp=False, dvcyaml=False) as live:
        for step in range(STEPS):
            left = 4 + 12 * step
            pixels = np.full((48, 64, 3), 40, np.uint8)
            pixels[16:32, left : left + 16] = (230, 200, 40)
            box = {"minX": left, "maxX": left + 16, "minY": 16, "maxY": 32}
            boxes = {
                "predictions": {
                    "box_data": [
                        {
                            "position": box,
                            "domain": "pixel",
                            "class_id": 1,
                            "box_caption": f"square {step}",
                        }
                    ],
                    "class_labels": {"1": "square"},
                }
            }
            live.log_image(f"pred/{live.step}.png", pixels, boxes=boxes, caption=f"step {step}")
            live.log_metric("loss", 1.0 / (step + 1))
            live.next_step()
    print(f"e2e workspace: {workspace} ({STEPS} steps under dvclive/)")


if __name__ == "__main__":
    main()
