"""How long ``dvcstage import`` takes for a TensorBoard log and a W&B offline run.

Both sources hold the same workload: ``--steps`` steps of two scalars, one 128x128 RGB image
(with a box group and a mask in W&B) and one histogram of 10,000 values. The benchmark times,
in subprocesses: writing the source with its own tool, reading it with the tool's own reader
alone (TensorBoard's ``EventAccumulator.Reload``, ``wandb leet inspect --json``), and the whole
``dvcstage import`` (read + write + ``end()``), then a second import of the unchanged source.
A benchmark, not a test: it prints a Markdown table and asserts nothing.

    .venv/bin/python bench/bench_import.py --steps 500
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

WRITE_TB = textwrap.dedent(
    """
    import sys, numpy as np, tensorboardX
    steps = int(sys.argv[1]); rng = np.random.default_rng(0)
    w = tensorboardX.SummaryWriter("tb/run")
    for s in range(steps):
        w.add_scalar("loss", 1 / (s + 1), s); w.add_scalar("acc", s / steps, s)
        img = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
        w.add_image("pred", img, s, dataformats="HWC")
        w.add_histogram("weights", rng.normal(size=10_000), s)
    w.close()
    """
)
WRITE_WANDB = textwrap.dedent(
    """
    import sys, numpy as np, wandb
    steps = int(sys.argv[1]); rng = np.random.default_rng(0)
    run = wandb.init(mode="offline", project="bench")
    mask = np.zeros((128, 128), np.uint8); mask[20:60, 30:90] = 1
    boxes = {"pred": {"box_data": [{"position": {"minX": 0.1, "maxX": 0.5, "minY": 0.2,
             "maxY": 0.6}, "class_id": 1, "scores": {"score": 0.9}}], "class_labels": {1: "a"}}}
    for s in range(steps):
        run.log({"loss": 1 / (s + 1), "acc": s / steps,
                 "pred": wandb.Image(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8),
                                     boxes=boxes, masks={"m": {"mask_data": mask}}),
                 "weights": wandb.Histogram(rng.normal(size=10_000))}, step=s)
    run.finish()
    """
)
READ_TB = textwrap.dedent(
    """
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    acc = pea.EventAccumulator("tb/run", size_guidance={pea.TENSORS: 0}); acc.Reload()
    """
)


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=500)
    steps = parser.parse_args().steps
    python = sys.executable
    dvcstage = str(Path(python).parent / "dvcstage")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        env = dict(
            os.environ,
            WANDB_SILENT="true",
            WANDB_MODE="offline",
            DVC_NO_ANALYTICS="1",
            WANDB_DIR=str(root),
            WANDB_DATA_DIR=str(root / "wandb-data"),
            GIT_CEILING_DIRECTORIES=str(root.parent),
        )
        write_tb = timed([python, "-c", WRITE_TB, str(steps)], root, env)
        read_tb = timed([python, "-c", READ_TB], root, env)
        write_wb = timed([python, "-c", WRITE_WANDB, str(steps)], root, env)
        (run,) = (root / "wandb").glob("offline-run-*")
        read_wb = timed([python, "-m", "wandb", "leet", "inspect", "--json", str(run)], root, env)
        for name, source, write, read in (
            ("TensorBoard (tensorboardX)", "tb", write_tb, read_tb),
            ("W&B offline (boxes + mask)", str(run), write_wb, read_wb),
        ):
            kind = "tensorboard" if source == "tb" else "wandb"
            command = [dvcstage, "import", kind, source, "--to", f"out-{kind}", "--no-progress"]
            first = timed(command, root, env)
            again = timed(command, root, env)
            rows.append((name, write, read, first, again))
    items = steps * 4
    print(f"{steps} steps, {items} items (2 scalars, 1 image, 1 histogram per step)\n")
    print(
        "| source | written by its tool s | read by its reader s | dvcstage import s "
        "| items/s | second import s |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, write, read, first, again in rows:
        print(
            f"| {name} | {write:.1f} | {read:.1f} | {first:.1f} | {items / first:.0f} "
            f"| {again:.1f} |"
        )


if __name__ == "__main__":
    main()
