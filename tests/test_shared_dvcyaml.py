"""Runs that share one dvc.yaml: two processes at once, and scratch copies of merges."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import dvcstage

LOGGER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import dvcstage

    live = dvcstage.Live(sys.argv[1], save_dvc_exp=False)
    for step in range(40):
        live.log_image(f"pred/{step}.png", np.full((8, 8, 3), step, np.uint8))
        live.log_metric("loss", 1 / (step + 1))
        live.next_step()
    live.end()
    """
)


def test_two_runs_at_once_beside_one_dvc_yaml(plain_dir: Path) -> None:
    children = [
        subprocess.Popen([sys.executable, "-c", LOGGER, name], stderr=subprocess.PIPE, text=True)
        for name in ("run-a", "run-b")
    ]
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
    for name in ("run-a", "run-b"):
        assert len(list((plain_dir / name / "plots/images/pred").glob("*.png"))) == 40
    assert not list(plain_dir.glob(".dvc.yaml.*")), "a scratch copy was left behind"
    text = (plain_dir / "dvc.yaml").read_text()
    for name in ("run-a", "run-b"):  # neither merge lost the other's entries
        assert f"- {name}/metrics.json" in text and f"- {name}/plots/images\n" in text


def test_scratch_copies_of_live_processes_are_kept(plain_dir: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)  # fmt: skip
        alive = plain_dir / f".dvc.yaml.{sleeper.pid}-1.dvcstage-tmp"
        stale = plain_dir / f".dvc.yaml.{dead.stdout.strip()}-1.dvcstage-tmp"
        alive.write_text("plots: []\n")
        stale.write_text("plots: []\n")
        live = dvcstage.Live(save_dvc_exp=False)
        live.end()
        assert alive.exists(), "the merge of a running process was removed"
        assert not stale.exists(), "the merge of a dead process was kept"
    finally:
        sleeper.kill()
        sleeper.wait()
