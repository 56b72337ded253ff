"""Names that could collide or not travel, and an index that survives hostile lines.

Each name check refuses at the call, before anything is written; each index case is a
reported problem, never a crash, and the run stays usable (resume, validate, rebuild).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

import dvcstage
from dvcstage import InvalidMediaNameError, InvalidMediaValueError, Live
from dvcstage.cli import main as cli_main
from dvcstage.index import read_index, rebuild_index
from dvcstage.validate import validate_tree

PIXELS = np.zeros((8, 8, 3), np.uint8)


@pytest.fixture
def live(plain_dir: Path) -> Live:
    return Live(dir="run", save_dvc_exp=False)


def _files(run: Path) -> set[str]:
    return {p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file()}


# -- names ------------------------------------------------------------------------------------


def test_list_items_and_keys_never_share_a_file(live: Live, plain_dir: Path) -> None:
    first, second, third = (dvcstage.Image(np.full((8, 8), v, np.uint8)) for v in (1, 2, 3))
    live.log({"k": [first, second]})
    live.log({"k/0": third})  # a key that looks like the list's first item
    live.end()
    images = plain_dir / "run/plots/images"
    assert np.asarray(PILImage.open(images / "k.items/0/0.png")).max() == 1
    assert np.asarray(PILImage.open(images / "k.items/1/0.png")).max() == 2
    assert np.asarray(PILImage.open(images / "k/0/0.png")).max() == 3
    written = {(line["key"], line.get("item")) for line in read_index(live.index_file).lines}
    assert written == {("k", 0), ("k", 1), ("k/0", None)}
    assert rebuild_index(live.dir).skipped == []
    rebuilt = {(line["key"], line.get("item")) for line in read_index(live.index_file).lines}
    assert rebuilt == written


@pytest.mark.parametrize(
    "name",
    ["a/3.masks/truth.png", "t.cells/r0c0.png", "k.items/0/1.png"],
)
def test_names_inside_an_items_own_folders_are_refused(live: Live, name: str) -> None:
    before = _files(Path(live.dir))
    with pytest.raises(InvalidMediaNameError, match=r"\.masks, \.cells, \.items"):
        live.log_image(name, PIXELS)
    with pytest.raises(InvalidMediaNameError, match="data key"):
        live.log({name.removesuffix(".png"): dvcstage.Html("<p>x</p>")})
    live.flush()
    assert _files(Path(live.dir)) == before


def test_a_file_used_as_a_folder_is_refused_at_the_call(live: Live) -> None:
    live.log_image("f.png", PIXELS)
    with pytest.raises(InvalidMediaNameError, match=r"'f\.png' is \(a file used as a folder"):
        live.log_image("f.png/1.png", PIXELS)
    live.log_image("d.png/1.png", PIXELS)
    with pytest.raises(InvalidMediaNameError, match="a folder used as a file"):
        live.log_image("d.png", PIXELS)
    live.log_image("d/1.png", PIXELS)
    live.log_image("d.png.png", PIXELS)  # beside folders d and d.png: no clash
    live.end()  # nothing failed in the writer
    assert validate_tree(live.dir) == []


def test_a_resumed_run_checks_names_against_the_folder(plain_dir: Path) -> None:
    with Live(dir="run", save_dvc_exp=False) as live:
        live.log_image("f.png", PIXELS)
        live.next_step()
    resumed = Live(dir="run", resume=True, save_dvc_exp=False)
    with pytest.raises(InvalidMediaNameError, match="a file used as a folder"):
        resumed.log_image("f.png/1.png", PIXELS)
    resumed.end()


@pytest.mark.parametrize(
    ("call", "bad"),
    [
        (lambda live: live.log_metric("../escape", 1.0), "../escape"),
        (lambda live: live.log_metric("/abs/loss", 1.0), "/abs/loss"),
        (lambda live: live.log_plot("../p", [{"x": 1, "y": 2}], x="x", y="y"), "../p"),
        (lambda live: live.log_sklearn_plot("roc", [0, 1], [0.1, 0.9], name="/r"), "/r"),
        (lambda live: live.log_metric("CON", 1.0), "CON"),
        (lambda live: live.log_metric("a\tb", 1.0), "a\tb"),
        (lambda live: live.log_metric("ok/aux.tsv", 1.0), "ok/aux.tsv"),
        (lambda live: live.log_metric("trailing.", 1.0), "trailing."),
        (lambda live: live.log_param("bad\nparam", 1), "bad\nparam"),
    ],
)
def test_dvclives_own_names_are_checked_like_media_names(
    live: Live, plain_dir: Path, call: object, bad: str
) -> None:
    with pytest.raises(InvalidMediaNameError) as caught:
        call(live)  # type: ignore[operator]
    assert repr(bad) in str(caught.value) and "accepted:" in str(caught.value)
    assert not (plain_dir / "escape.tsv").exists() and not (plain_dir / "p.json").exists()
    assert not list(plain_dir.rglob("*escape*")) and not list(plain_dir.rglob("*CON*"))


@pytest.mark.parametrize(
    ("name", "shape"),
    [("wide.jpg", (2, 70_000)), ("tall.gif", (70_000, 2)), ("tall.jpeg", (65_536, 1))],
)
def test_images_too_large_for_their_format_are_refused_at_the_call(
    live: Live, name: str, shape: tuple[int, int]
) -> None:
    with pytest.raises(InvalidMediaValueError, match=r"at most 65,535 pixels per side"):
        live.log_image(name, np.zeros(shape, np.uint8))
    live.flush()
    assert not Path(live.images_dir).exists()


def test_dvclive_wording_starts_the_messages(live: Live) -> None:
    with pytest.raises(InvalidMediaNameError, match=r"^Cannot log image with name 'image\.foo'"):
        live.log_image("image.foo", PIXELS)
    with pytest.raises(InvalidMediaNameError, match=r"^Cannot log metric with name '\.\./x'"):
        live.log_metric("../x", 1.0)


# -- the index ---------------------------------------------------------------------------------


def _two_steps(plain_dir: Path) -> Path:
    with Live(dir="run", save_dvc_exp=False) as live:
        for _ in range(2):
            live.log_image(f"pred/{live.step}.png", np.full((40, 40, 3), live.step, np.uint8))
            live.log_metric("loss", 1.0)
            live.next_step()
    return plain_dir / "run"


def test_a_torn_tail_longer_than_a_mebibyte_is_cut_alone(plain_dir: Path) -> None:
    run = _two_steps(plain_dir)
    index = run / "media.jsonl"
    whole = index.read_bytes()
    with open(index, "ab") as handle:  # a 3 MiB table line cut short by a kill
        handle.write(b'{"v":1,"step":2,"key":"table","kind":"table","files":[' + b"x" * 3_000_000)
    resumed = Live(dir="run", resume=True, save_dvc_exp=False)
    assert index.read_bytes() == whole  # the tail is gone, the lines before it are kept
    resumed.log_image(f"pred/{resumed.step}.png", np.zeros((40, 40, 3), np.uint8))
    resumed.end()
    assert [line["step"] for line in read_index(index).lines] == [0, 1, 2]


HOSTILE = [
    b"[" * 200_000 + b"]" * 200_000,  # deep nesting: RecursionError in json
    b'{"v":1,"step":' + b"9" * 5_000 + b',"key":"k","kind":"image","files":[]}',  # huge int
    b'{"v":1,"step":1,"key":"\xff\xfe","kind":"image"}',  # not UTF-8
    b'{"v":1,"step":-1,"key":"k","kind":"image","files":[{"path":"../x","role":"image"}]}',
    b"NaN",
    b'"just a string"',
]


def test_hostile_lines_are_problems_not_crashes(plain_dir: Path) -> None:
    run = _two_steps(plain_dir)
    index = run / "media.jsonl"
    with open(index, "ab") as handle:
        for line in HOSTILE:
            handle.write(line + b"\n")
    contents = read_index(index)
    assert len(contents.lines) == 2
    assert sorted({number for number, _ in contents.problems}) == list(range(3, 3 + len(HOSTILE)))
    problems = [str(p) for p in validate_tree(run)]
    assert len({p.split(":")[1] for p in problems}) == len(HOSTILE), problems
    resumed = Live(dir="run", resume=True, save_dvc_exp=False)  # resume is not disturbed
    assert resumed.step == 2
    resumed.end()


def test_rebuild_skips_and_reports_bad_files_and_writes_a_valid_index(
    plain_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _two_steps(plain_dir)
    with Live(dir="run", resume=True, save_dvc_exp=False) as live:
        live.log({"page": dvcstage.Html("<p>x</p>"), "h": dvcstage.Histogram([1, 2, 3])})
        live.log_image("boxed.png", PIXELS, caption="c")
    images = run / "plots/images"
    (images / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")  # not an image
    (images / "boxed.json").write_text("{not json")  # a broken sidecar
    (run / "media/html/page/2.json").write_text('{"kind": "html", "key": ')  # a cut sidecar
    (run / "media/html/bad/0.json").parent.mkdir(parents=True)
    (run / "media/html/bad/0.json").write_text('{"kind": "html", "key": "bad", "step": -5}')
    with open(run / "plots/histograms/h.tsv", "a") as series:
        series.write("999999999999999999999999\t0\t1\t2\t3\n")  # a step no index can hold
    capsys.readouterr()
    assert cli_main(["index", "--rebuild", str(run)]) == 1
    err = capsys.readouterr().err
    for name in ("broken.png", "boxed.png", "page/2.json", "bad/0.json"):
        assert f"{name}: skipped: " in err, err
    contents = read_index(run / "media.jsonl")
    assert contents.problems == [] and not contents.torn_tail
    keys = {(line["key"], line["step"]) for line in contents.lines}
    assert {("pred", 0), ("pred", 1), ("h", 2)} <= keys
    assert not any(key in ("broken.png", "boxed.png", "page", "bad") for key, _ in keys)


def test_validate_reads_a_writer_line_without_the_schema_validator(
    plain_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines the writer wrote pass the quick exact check; the validator is for the rest."""
    run = _two_steps(plain_dir)
    calls: list[object] = []
    real = dvcstage.schemas.schema_errors

    def counting(name: str, document: object) -> list[str]:
        if name == "media-index-line":
            calls.append(document)
        return real(name, document)

    monkeypatch.setattr(dvcstage.schemas, "schema_errors", counting)
    assert validate_tree(run) == []
    assert calls == []
    with open(run / "media.jsonl", "a") as handle:
        handle.write(json.dumps({"v": 1, "step": 1, "key": "k", "kind": "image"}) + "\n")
    assert [p.message for p in validate_tree(run)] == ["(root): 'files' is a required property"]
    assert len(calls) == 1
