"""The media writer, the media index, its rebuild and ``dvcstage validate``."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from writer_jobs import WaitForFile

from dvcstage import Live, MediaWriteError
from dvcstage.cli import main as cli_main
from dvcstage.index import latest_items, read_index
from dvcstage.writer import MediaWriter

MASK = {"m": {"mask_data": np.eye(8, dtype=np.uint8), "class_labels": {1: "diag"}}}
ANNOTATIONS = {"boxes": [[1, 1, 4, 4]], "labels": ["a"], "scores": [0.5], "box_format": "tlbr"}


def _log_run(steps: int = 3, **kwargs: object) -> Live:
    live = Live(save_dvc_exp=False, **kwargs)  # type: ignore[arg-type]
    for _ in range(steps):
        live.log_image(
            f"pred/{live.step}.png",
            np.full((8, 8), live.step * 10, np.uint8),
            ANNOTATIONS,
            masks=MASK,
            caption="c",
        )
        live.log_image("last.png", np.full((8, 8, 3), live.step, np.uint8))
        live.log_metric("loss", 1.0 / (live.step + 1))
        live.next_step()
    return live


def test_worker_error_surfaces_at_flush_and_end(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    blocker = Path(live.images_dir) / "taken.png"
    blocker.mkdir(parents=True)  # a folder where the image should go: the write must fail
    live.log_image("taken.png", np.zeros((4, 4), np.uint8))  # returns: the write is queued
    with pytest.raises(MediaWriteError, match=r"taken\.png"):
        live.flush()
    live.log_image("fine.png", np.zeros((4, 4), np.uint8))
    live.log_image("taken.png", np.zeros((4, 4), np.uint8))
    with pytest.raises(MediaWriteError):
        live.end()
    assert (Path(live.images_dir) / "fine.png").is_file()
    assert json.loads(Path(live.metrics_file).read_text()) == {}


def test_worker_error_surfaces_at_next_log_call(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    (Path(live.images_dir) / "taken.png").mkdir(parents=True)
    live.log_image("taken.png", np.zeros((4, 4), np.uint8))
    assert live._writer is not None
    live._writer.wait()  # written (or failed): the error is now known, not yet raised
    with pytest.raises(MediaWriteError):
        live.log_image("other.png", np.zeros((4, 4), np.uint8))
    live.end()


def test_same_name_is_written_in_logging_order(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False, writer_threads=4)
    for value in range(60):
        live.log_image("same.png", np.full((16, 16), value, np.uint8))
    live.end()
    assert np.asarray(PILImage.open(Path(live.images_dir) / "same.png")).max() == 59


def test_pending_budget_makes_the_caller_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = str(Path(__file__).parent)  # the writer process imports writer_jobs from here
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")]))
    release = tmp_path / "release"
    writer = MediaWriter(tmp_path, workers=1, max_pending_bytes=30_000)
    job = WaitForFile(str(release), payload=b"x" * 10_000)
    writer.submit(job, "wait", job.describe())  # held by the writer until release exists
    writer.submit(job, "wait", job.describe())  # about 20,000 bytes of journal now pending
    third = threading.Thread(target=writer.submit, args=(job, "wait", job.describe(), 15_000))
    third.start()
    third.join(timeout=0.5)
    assert third.is_alive(), "a third job must wait while the budget is used up"
    assert writer.appended < 30_000  # ...and it is not in the journal yet
    release.touch()
    third.join()
    writer.close()
    assert not writer.session.exists()


def test_torn_last_line_is_ignored_then_cut(plain_dir: Path) -> None:
    live = _log_run()
    live.end()
    index = Path(live.index_file)
    whole = read_index(index)
    with open(index, "a", encoding="utf-8") as handle:
        handle.write('{"v":1,"step":9,"key":"pr')  # a write killed halfway
    torn = read_index(index)
    assert torn.torn_tail and torn.lines == whole.lines and not torn.problems
    resumed = Live(save_dvc_exp=False, resume=True)
    resumed.log_image("after.png", np.zeros((4, 4), np.uint8))
    resumed.end()
    after = read_index(index)
    assert not after.torn_tail and not after.problems
    assert after.lines[:-1] == whole.lines and after.lines[-1]["key"] == "after.png"


def test_index_describes_every_file(plain_dir: Path) -> None:
    live = _log_run()
    live.end()
    lines = read_index(live.index_file).lines
    assert len(lines) == 6
    pred = [line for line in lines if line["key"] == "pred"]
    assert [line["step"] for line in pred] == [0, 1, 2]
    roles = {f["role"] for f in pred[0]["files"]}
    assert roles == {"image", "sidecar", "mask", "preview"}
    current = {line["files"][-1]["path"]: line for line in lines}  # last.png is overwritten
    for line in current.values():
        for file in line["files"]:
            assert (Path(live.dir) / file["path"]).stat().st_size == file["bytes"]
    assert pred[0]["width"] == 8 and pred[0]["sidecar"] == "plots/images/pred/0.json"


def _facts(lines: list[dict[str, object]]) -> dict[object, object]:
    return {
        key: (
            line["kind"],
            sorted((f["path"], f["role"]) for f in line["files"]),  # type: ignore[attr-defined]
            line.get("width"),
            line.get("sidecar"),
        )
        for key, line in latest_items(lines).items()  # type: ignore[arg-type]
    }


def test_rebuild_recreates_the_index_from_the_files(plain_dir: Path) -> None:
    live = _log_run()
    live.log({"examples": [Image_(1), Image_(2)]})
    live.end()
    written = _facts(read_index(live.index_file).lines)
    Path(live.index_file).unlink()
    assert cli_main(["index", "--rebuild", live.dir]) == 0
    rebuilt = read_index(live.index_file)
    assert not rebuilt.problems
    # "last.png" has no step of its own: the rebuilt index places it at step 0.
    written = {k if k[0] != "last.png" else ("last.png", 0, 0): v for k, v in written.items()}
    assert _facts(rebuilt.lines) == written


def Image_(value: int) -> object:  # noqa: N802 - a tiny factory reads best next to its use
    from dvcstage import Image

    return Image(np.full((4, 4), value, np.uint8))


def test_validate_reports_file_and_line(
    plain_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    live = _log_run()
    live.end()
    assert cli_main(["validate", "."]) == 0
    sidecar = Path(live.dir) / "plots/images/pred/1.json"
    document = json.loads(sidecar.read_text())
    document["annotations"]["a"][0]["box"].pop("top")
    sidecar.write_text(json.dumps(document))
    (Path(live.images_dir) / "pred" / "2.masks" / "m.png").unlink()
    with open(live.index_file, "a", encoding="utf-8") as handle:
        handle.write('{"v": 1}\n')
    capsys.readouterr()
    assert cli_main(["validate", "."]) == 1
    out = capsys.readouterr().out
    column = sidecar.read_text().index('"box"') + 1  # at the member it is about
    assert f"{sidecar}:1:{column}: annotations/a/0/box: 'top' is a required property" in out
    assert "2.masks/m.png does not exist" in out
    assert f"{Path(live.dir) / 'media.jsonl'}:7: (root): 'step' is a required property" in out


def test_dvcyaml_does_not_change_as_steps_go_by(plain_dir: Path) -> None:
    live = Live(save_dvc_exp=False)
    texts = []
    for _ in range(4):
        live.log_image(f"pred/{live.step}.png", np.full((8, 8), 3, np.uint8), ANNOTATIONS)
        live.log_metric("loss", 0.5)
        live.next_step()  # dvc.yaml is current when next_step returns, no flush needed
        texts.append(Path("dvc.yaml").read_text())
    stat = Path("dvc.yaml").stat()
    live.end()
    assert texts == [texts[0]] * 4
    assert Path("dvc.yaml").read_text() == texts[0]
    assert Path("dvc.yaml").stat().st_mtime_ns == stat.st_mtime_ns, "rewritten unchanged"
    assert "- dvclive/plots/previews\n" in texts[0] and "pred/" not in texts[0]


def test_resume_keeps_earlier_images_in_dvcyaml(plain_dir: Path) -> None:
    _log_run(steps=2).end()
    resumed = Live(save_dvc_exp=False, resume=True)
    assert resumed.step == 2
    resumed.log_metric("loss", 0.1)
    resumed.end()  # no image in this session: the folder entry stays
    assert "- dvclive/plots/previews\n" in Path("dvc.yaml").read_text()
