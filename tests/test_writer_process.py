"""The writer process and the run's lifecycle: what a log call promises, whatever happens next.

Real processes throughout: children that log and are SIGKILLed, fork, chdir, exit without
``end()``; the writer process itself stopped (SIGSTOP) to play a stuck disk.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import dvcstage
from dvcstage import Live, MediaWriteError
from dvcstage.index import read_index
from dvcstage.journal import SESSIONS_FOLDER
from dvcstage.validate import validate_tree

ANNOTATIONS = {"boxes": [[1, 1, 30, 30]], "labels": ["a"], "scores": [0.5], "box_format": "tlbr"}


def _pixels(step: int, size: int = 96) -> np.ndarray:
    return np.random.default_rng(step).integers(0, 256, (size, size, 3), dtype=np.uint8)


def _child(code: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def _wait_for_writers(run: Path) -> None:
    """Wait until no writer works on ``run`` any more (a resumed run's first step)."""
    Live(dir=str(run), resume=True, save_dvc_exp=False).end()


# -- promise (a): a returned log call survives SIGKILL ------------------------------------------


def test_a_killed_training_process_loses_nothing_it_logged(plain_dir: Path) -> None:
    """The child logs 80 images (40 with a caption, 40 plain pixels), a histogram and a
    table, then SIGKILLs itself the moment the last call returns: its writer process,
    outliving it, writes every one."""
    done = _child(
        """
        import os, signal
        import numpy as np
        import dvcstage
        from dvcstage import Live

        live = Live(dir="run", save_dvc_exp=False)
        for step in range(40):
            pixels = np.random.default_rng(step).integers(0, 256, (96, 96, 3), dtype=np.uint8)
            live.log_image(f"pred/{step}.png", pixels, caption=f"step {step}")
            live.log_image(f"plain/{step}.png", pixels[::-1].copy())  # no overlays: FIELDS
            live.log({"h": dvcstage.Histogram(np.arange(step + 10))})
            live.next_step()
        table = dvcstage.Table(columns=["i", "img"])
        table.add_data(1, dvcstage.Image(np.zeros((40, 40, 3), np.uint8)))
        live.log({"table": table})
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        plain_dir,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    run = plain_dir / "run"
    _wait_for_writers(run)
    for step in range(40):
        record = dvcstage.read_image(run / "plots/images/pred" / f"{step}.png")
        assert np.array_equal(record.pixels, _pixels(step)), step
        assert record.caption == f"step {step}"
        with PILImage.open(run / "plots/images/plain" / f"{step}.png") as plain:
            assert np.array_equal(np.asarray(plain), _pixels(step)[::-1]), step
    series = (run / "plots/histograms/h.tsv").read_text().splitlines()[1:]
    assert sorted({int(row.split("\t")[0]) for row in series}) == list(range(40))
    assert (run / "media/table/table/40.json").is_file()
    assert validate_tree(run) == []
    assert not (run / SESSIONS_FOLDER).exists()


# -- promise (b): DVCLive's files are on disk when next_step returns ----------------------------


def test_next_step_leaves_dvclives_files_on_disk(repo: Path) -> None:
    live = Live(save_dvc_exp=False)
    for step in range(3):
        live.log_image(f"pred/{step}.png", _pixels(step), ANNOTATIONS)
        live.log_metric("loss", 1 / (step + 1))
        live.next_step()
        # no flush: what DVCLive would have written is there already
        assert json.loads(Path("dvclive/metrics.json").read_text())["step"] == step
        rows = Path("dvclive/plots/metrics/loss.tsv").read_text().splitlines()
        assert len(rows) == step + 2
        text = Path("dvc.yaml").read_text()
        assert "- dvclive/metrics.json" in text and "- dvclive/plots/previews" in text
        signal_file = repo / ".dvc/tmp/exps/run/DVCLIVE_STEP_COMPLETED"
        assert json.loads(signal_file.read_text())["step"] == step
    live.end()


def test_the_training_process_runs_no_writer_threads(plain_dir: Path) -> None:
    before = set(threading.enumerate())
    live = Live(save_dvc_exp=False)
    for step in range(5):
        live.log_image(f"pred/{step}.png", _pixels(step))
        live.log({"h": dvcstage.Histogram(np.arange(100))})
        live.next_step()
    assert set(threading.enumerate()) == before
    live.end()


# -- lifecycle --------------------------------------------------------------------------------

EXIT_WITHOUT_END = """
import sys
import numpy as np
from dvcstage import Live

how = sys.argv[1]
live = Live(dir="run", save_dvc_exp=False)
for step in range(30):
    pixels = np.random.default_rng(step).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    live.log_image(f"pred/{step}.png", pixels, caption="x" if step == 29 else None)
    live.log_metric("loss", step)
    live.next_step()
live.log_metric("final", 1.5)
if how == "end":
    live.end()
elif how == "exception":
    raise RuntimeError("training failed")
elif how == "exit":
    sys.exit(3)
"""


@pytest.mark.parametrize("how", ["return", "exception", "exit"])
def test_leaving_without_end_leaves_what_end_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    ended, left = tmp_path / "ended", tmp_path / "left"
    for folder, mode in ((ended, "end"), (left, how)):
        folder.mkdir()
        done = _child(EXIT_WITHOUT_END, folder, mode)
        assert (done.returncode == 0) == (mode in ("end", "return")), done.stderr
    for name in ("dvc.yaml", "run/metrics.json"):
        assert (left / name).read_text() == (ended / name).read_text(), name
    assert json.loads((left / "run/metrics.json").read_text())["final"] == 1.5

    def files(folder: Path) -> set[tuple[str, int]]:
        lines = read_index(folder / "run/media.jsonl").lines
        return {(f["path"], f["bytes"]) for line in lines for f in line["files"]}

    assert files(left) == files(ended) and len(read_index(left / "run/media.jsonl").lines) == 30
    assert validate_tree(left / "run") == []
    assert not (left / "run" / SESSIONS_FOLDER).exists()


def test_chdir_while_writes_are_pending_changes_nothing(plain_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    live = Live(dir="run", save_dvc_exp=False)
    live.log_image("pred/0.png", _pixels(0))
    os.chdir(elsewhere)
    live.log_image("pred/1.png", _pixels(1))
    live.log({"h": dvcstage.Histogram([1, 2, 3])})
    live.flush()
    os.chdir(plain_dir)
    live.end()
    assert not (elsewhere / "run").exists()
    assert sorted(p.name for p in (plain_dir / "run/plots/images/pred").iterdir()) == [
        "0.png",
        "1.png",
    ]
    assert len(read_index(plain_dir / "run/media.jsonl").lines) == 3


def test_two_lives_in_one_process_keep_their_own_files(plain_dir: Path) -> None:
    first = Live(dir="a", save_dvc_exp=False)
    first.log_image("pred/0.png", _pixels(0))
    scratch = plain_dir / f".dvc.yaml.{os.getpid()}-cafe.dvcstage-tmp"
    scratch.write_text("plots: []\n")  # the first run's merge in progress
    second = Live(dir="b", save_dvc_exp=False)  # a fresh run cleans up after dead ones only
    assert scratch.exists()
    second.log_image("pred/0.png", _pixels(1))
    first.end()
    second.end()
    scratch.unlink()
    for name, step in (("a", 0), ("b", 1)):
        pixels = np.asarray(PILImage.open(plain_dir / name / "plots/images/pred/0.png"))
        assert np.array_equal(pixels, _pixels(step))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_fork_gives_the_child_a_writer_of_its_own(plain_dir: Path) -> None:
    live = Live(dir="run", save_dvc_exp=False)
    live.log_image("parent/0.png", _pixels(0))
    pid = os.fork()
    if pid == 0:  # the child: logs, flushes and ends without touching the parent's writer
        code = 1
        try:
            live.log_image("child/0.png", _pixels(1))
            live.flush()
            live.end()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    live.log_image("parent/1.png", _pixels(2))
    live.end()
    images = plain_dir / "run/plots/images"
    for name, step in (("parent/0.png", 0), ("child/0.png", 1), ("parent/1.png", 2)):
        assert np.array_equal(np.asarray(PILImage.open(images / name)), _pixels(step)), name


def test_end_raises_the_held_write_error_before_a_later_failure(plain_dir: Path) -> None:
    live = Live(dir="run", save_dvc_exp=False)
    (Path(live.images_dir) / "taken.png").mkdir(parents=True)  # the write will fail
    live.log_image("taken.png", _pixels(0))
    live.log_metric("loss", 1.0)
    Path(live.metrics_file).unlink(missing_ok=True)
    Path(live.metrics_file).mkdir()  # and so will DVCLive's own ending (as on a full disk)
    with pytest.raises(MediaWriteError, match=r"taken\.png.*then ending the run failed"):
        live.end()


def test_a_stuck_writer_cannot_hang_the_end_forever(plain_dir: Path) -> None:
    live = Live(dir="run", save_dvc_exp=False)
    live.log_image("first.png", _pixels(0))
    live.flush()  # the writer process runs
    writer = live._writer
    assert writer is not None and writer._process is not None
    os.kill(writer._process.pid, signal.SIGSTOP)  # a disk that stopped answering
    try:
        live.log_image("pred/1.png", _pixels(1))
        writer.stall_seconds = 1.0
        with pytest.raises(
            MediaWriteError, match=r"no progress.*not written: image 'pred' at step"
        ):
            writer.flush()
    finally:
        os.kill(writer._process.pid, signal.SIGCONT)
    writer.stall_seconds = 120.0
    live.end()  # the writer goes on: nothing is lost
    assert (plain_dir / "run/plots/images/pred/1.png").is_file()


def test_logging_races_end_without_losing_a_returned_call(plain_dir: Path) -> None:
    live = Live(dir="run", save_dvc_exp=False)
    returned: list[int] = []
    refused: list[int] = []

    def log() -> None:
        for i in range(300):
            try:
                live.log_image(f"race/{i}.png", _pixels(i, 32))
            except MediaWriteError:
                refused.append(i)
            else:
                returned.append(i)

    thread = threading.Thread(target=log)
    thread.start()
    while len(returned) < 20:
        thread.join(0.01)
    live.end()
    thread.join()
    images = plain_dir / "run/plots/images/race"
    assert all((images / f"{i}.png").is_file() for i in returned)
    assert set(returned) | set(refused) == set(range(300))


def test_a_broken_user_dvcyaml_is_warned_about_not_fatal(
    plain_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Path("dvc.yaml").write_text("stages: [\n  unclosed\n")
    with caplog.at_level(logging.WARNING, logger="dvcstage"), Live(save_dvc_exp=False) as live:
        live.log_image("a.png", _pixels(0))
        live.log_metric("loss", 1.0)
        live.next_step()
    assert "dvc.yaml is not valid YAML" in caplog.text
    assert Path("dvc.yaml").read_text() == "stages: [\n  unclosed\n"
    assert (plain_dir / "dvclive/plots/images/a.png").is_file()


# -- resume from the truth --------------------------------------------------------------------

RESUMABLE = """
import os, signal, sys
import numpy as np
import dvcstage
from dvcstage import Live

live = Live(dir="run", resume=True, save_dvc_exp=False)
print("START", live.step, flush=True)
stop = int(sys.argv[1])
while live.step < 12:
    step = live.step
    pixels = np.random.default_rng(step).integers(0, 256, (96, 96, 3), dtype=np.uint8)
    live.log_image(f"pred/{step}.png", pixels)
    live.log_metric("loss", step)
    live.log({"h": dvcstage.Histogram(np.arange(step + 5))})
    if step == stop:
        os.kill(os.getpid(), signal.SIGKILL)  # in the middle of the step
    live.next_step()
live.end()
"""


def test_resume_after_a_step_cut_short_leaves_no_duplicate_row(plain_dir: Path) -> None:
    killed = _child(RESUMABLE, plain_dir, "7")
    assert killed.returncode == -signal.SIGKILL
    finished = _child(RESUMABLE, plain_dir, "-1")
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split()[:2] == ["START", "7"]
    run = plain_dir / "run"
    loss = [row.split("\t")[0] for row in (run / "plots/metrics/loss.tsv").read_text().splitlines()]
    assert loss == ["step", *map(str, range(12))]
    series = (run / "plots/histograms/h.tsv").read_text().splitlines()[1:]
    blocks = [int(row.split("\t")[0]) for row in series]
    assert sorted(set(blocks)) == list(range(12))
    assert all(blocks.count(s) == len(np.histogram(np.arange(s + 5), 64)[0]) for s in range(12))
    assert validate_tree(run) == []


def test_resume_does_not_read_the_whole_index(
    plain_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = Live(dir="run", save_dvc_exp=False)
    for step in range(3):
        live.log_image(f"pred/{step}.png", _pixels(step))
        live.next_step()
    live.end()

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("resume read the whole index")

    monkeypatch.setattr("dvcstage.index.read_index", refuse)
    monkeypatch.setattr("dvcstage.index.parse_line", refuse)
    resumed = Live(dir="run", resume=True, save_dvc_exp=False)
    assert resumed.step == 3
    resumed.end()


def test_validate_reports_what_a_journal_still_promises(plain_dir: Path) -> None:
    """A run killed together with its writer: validate says what is not written yet, and
    the next resumed run writes it."""
    done = _child(
        """
        import os, signal
        import numpy as np
        from dvcstage import Live

        live = Live(dir="run", save_dvc_exp=False)
        live.log_image("kept.png", np.zeros((80, 80, 3), np.uint8))
        live.flush()
        os.kill(live._writer._process.pid, signal.SIGSTOP)  # the writer stops...
        live.log_image("pending.png", np.ones((80, 80, 3), np.uint8))
        os.kill(live._writer._process.pid, signal.SIGKILL)  # ...and dies with its trainer
        os.kill(os.getpid(), signal.SIGKILL)
        """,
        plain_dir,
    )
    assert done.returncode == -signal.SIGKILL
    problems = [str(p) for p in validate_tree(plain_dir / "run")]
    assert any("1 item(s) logged but not written yet" in p for p in problems), problems
    _wait_for_writers(plain_dir / "run")
    assert (plain_dir / "run/plots/images/pending.png").is_file()
    assert validate_tree(plain_dir / "run") == []
