"""Videos: the spec page's samples, GIF/MP4/WebM read back, files and bytes, bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av  # the "video" extra, part of the development dependencies
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

import dvcstage
from dvcstage import InvalidAnnotationError, InvalidMediaTypeError, InvalidMediaValueError, Live
from dvcstage.index import read_index, rebuild_index
from dvcstage.media.video import MissingVideoExtraError, Video, grid_shape
from dvcstage.validate import validate_tree

VIDEOS = Path("dvclive/media/video")


@pytest.fixture
def live(plain_dir: Path) -> Iterator[Live]:
    run = Live(save_dvc_exp=False)
    yield run
    run.end()


def frames(time: int = 6, channels: int = 3, height: int = 10, width: int = 14) -> np.ndarray:
    """Distinct frames (a GIF merges identical consecutive frames)."""
    ramp = np.arange(time, dtype=np.uint8)[:, None, None, None] * 40
    clip: np.ndarray = np.broadcast_to(ramp, (time, channels, height, width)).copy()
    return clip


def sidecar(key: str, step: int = 0) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((VIDEOS / key / f"{step}.json").read_text())
    return document


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def decode(path: Path) -> tuple[int, int, int, str]:
    """(frames, width, height, codec) of an MP4/WebM/Ogg file, decoded with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = list(container.decode(stream))
        return len(decoded), decoded[0].width, decoded[0].height, stream.codec_context.name


# -- the spec page's samples (wandb.X -> dvcstage.X, wandb.log -> live.log) ---------------


def test_spec_sample_array_and_path(live: Live) -> None:
    numpy_array_or_path_to_video: Any = frames()
    live.log({"video": dvcstage.Video(numpy_array_or_path_to_video, fps=4, format="gif")})
    live.flush()
    numpy_array_or_path_to_video = str(VIDEOS / "video" / "0.gif")
    live.log({"copy": dvcstage.Video(numpy_array_or_path_to_video, fps=4, format="gif")})
    live.flush()
    with PILImage.open(VIDEOS / "video/0.gif") as gif:
        assert (gif.n_frames, gif.size, gif.info["duration"]) == (6, (14, 10), 250)
        assert gif.info["loop"] == 0
    assert (VIDEOS / "copy/0.gif").read_bytes() == (VIDEOS / "video/0.gif").read_bytes()
    assert sidecar("copy")["source"] == "file"
    assert validate_tree(".") == []


def test_spec_sample_faq_mp4_file(live: Live) -> None:
    live.log({"made": Video(frames(), fps=4, format="mp4")})
    live.flush()
    Path("myvideo.mp4").write_bytes((VIDEOS / "made/0.mp4").read_bytes())
    live.log({"example": dvcstage.Video("myvideo.mp4")})
    live.flush()
    assert (VIDEOS / "example/0.mp4").read_bytes() == Path("myvideo.mp4").read_bytes()
    document = sidecar("example")
    assert document["format"] == "mp4"
    assert (document["frames"], document["width"], document["height"]) == (6, 14, 10)
    assert document["fps"] == 4
    assert validate_tree(".") == []


# -- arrays -------------------------------------------------------------------------------


def test_gif_sidecar_and_index(live: Live) -> None:
    live.log({"clip": Video(frames(5), caption="a ramp", fps=2.5)})
    live.flush()
    with PILImage.open(VIDEOS / "clip/0.gif") as gif:
        assert (gif.n_frames, gif.size, gif.info["duration"]) == (5, (14, 10), 400)
    assert sidecar("clip") == {
        "kind": "video",
        "key": "clip",
        "step": 0,
        "files": [{"path": "0.gif", "role": "video"}],
        "format": "gif",
        "source": "array",
        "fps": 2.5,
        "frames": 5,
        "width": 14,
        "height": 10,
        "caption": "a ramp",
    }
    (line,) = read_index(live.index_file).lines
    assert [f["path"] for f in line["files"]] == [
        "media/video/clip/0.gif",
        "media/video/clip/0.json",
    ]
    assert (line["width"], line["height"], line["sidecar"]) == (14, 10, "media/video/clip/0.json")
    facts = {"format": "gif", "source": "array", "fps": 2.5, "frames": 5, "caption": "a ramp"}
    assert line["facts"] == facts


def test_float_frames_scale_like_images(live: Live) -> None:
    # W&B casts floats with astype(uint8): 0.5 would become 0. Here 0.5 is mid-gray.
    clip = np.stack([np.full((1, 4, 4), v) for v in (0.0, 0.5, 1.0)])
    live.log({"gray": Video(clip)})
    live.flush()
    with PILImage.open(VIDEOS / "gray/0.gif") as gif:
        values = []
        for index in range(gif.n_frames):
            gif.seek(index)
            values.append(int(np.asarray(gif.convert("L"))[0, 0]))
    assert values == [0, 128, 255]


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_channels(live: Live, channels: int) -> None:
    live.log({"c": Video(frames(3, channels, 7, 9))})
    live.flush()
    with PILImage.open(VIDEOS / "c/0.gif") as gif:
        assert (gif.n_frames, gif.size) == (3, (9, 7))


@pytest.mark.parametrize(
    ("batch", "grid"), [(1, (1, 1)), (2, (1, 2)), (3, (1, 4)), (4, (2, 2)), (5, (2, 4))]
)
def test_batch_is_tiled_like_wandb(live: Live, batch: int, grid: tuple[int, int]) -> None:
    # Video b is filled with 50 * (b + 1): each cell of the grid shows which video it holds.
    videos = np.stack([np.full((2, 1, 3, 5), 50 * (b + 1), np.uint8) for b in range(batch)])
    live.log({"grid": Video(videos)})
    live.flush()
    rows, cols = grid
    with PILImage.open(VIDEOS / "grid/0.gif") as gif:
        assert gif.size == (cols * 5, rows * 3)
        pixels = np.asarray(gif.convert("L"))
    cells = [int(pixels[r * 3 + 1, c * 5 + 2]) for r in range(rows) for c in range(cols)]
    assert cells == [50 * (b + 1) for b in range(batch)] + [0] * (rows * cols - batch)
    document = sidecar("grid")
    if batch > 1:
        assert document["grid"] == {"rows": rows, "columns": cols, "videos": batch}
    else:
        assert "grid" not in document


def test_grid_shape_is_wandbs_formula() -> None:
    for batch in range(1, 70):
        padded = batch if batch & (batch - 1) == 0 else 2 ** batch.bit_length()
        rows = 2 ** ((batch.bit_length() - 1) // 2)
        assert grid_shape(batch) == (rows, padded // rows)


def test_torch_like_and_bool_frames(live: Live) -> None:
    class Tensor:  # the duck type array_from_arraylike accepts (torch's detach/cpu/numpy)
        def __init__(self, array: np.ndarray) -> None:
            self.array = array

        def detach(self) -> Tensor:
            return self

        def cpu(self) -> Tensor:
            return self

        def numpy(self) -> np.ndarray:
            return self.array

    live.log({"t": Video(Tensor(frames(2))), "b": Video(frames(2, 1) > 0)})
    live.flush()
    assert sidecar("t")["frames"] == sidecar("b")["frames"] == 2


def test_array_is_copied_when_constructed(live: Live) -> None:
    clip = frames(2)
    video = Video(clip)
    clip[:] = 255
    live.log({"v": video})
    live.flush()
    with PILImage.open(VIDEOS / "v/0.gif") as gif:
        assert int(np.asarray(gif.convert("L"))[0, 0]) == 0


def test_list_of_videos_and_relog_of_a_gif(live: Live) -> None:
    live.log({"many": [Video(frames(2)), Video(frames(3))]})
    live.flush()
    assert sidecar("many.items/1")["item"] == 1
    assert sidecar("many.items/1")["frames"] == 3
    gif = VIDEOS / "one/0.gif"
    live.log({"one": Video(frames(2))})
    live.flush()
    live.log({"one": Video(io.BytesIO(gif.read_bytes()), format="gif", caption="again")})
    live.flush()
    assert sidecar("one")["caption"] == "again"
    assert validate_tree(".") == []


def test_relog_in_another_format_removes_the_old_file(live: Live) -> None:
    gif = VIDEOS / "one/0.gif"
    live.log({"one": Video(frames(2))})
    live.flush()
    assert gif.is_file()
    live.log({"one": Video(frames(2), format="webm")})
    live.flush()
    assert not gif.exists()  # the same slot in another format: the old file is gone
    assert sorted(p.name for p in (VIDEOS / "one").iterdir()) == ["0.json", "0.webm"]


def test_relog_in_another_format_validates(live: Live) -> None:
    live.log({"one": Video(frames(2))})
    live.flush()
    live.log({"one": Video(frames(2), format="webm")})
    live.flush()
    assert validate_tree(".") == []


def test_table_cell(live: Live) -> None:
    live.log({"table": dvcstage.Table(columns=["clip"], data=[[Video(frames(2))]])})
    live.flush()
    assert validate_tree(".") == []


# -- MP4 / WebM through PyAV ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "size", "stored", "codec"),
    [
        ("mp4", (10, 14), (14, 10), "h264"),
        ("mp4", (9, 13), (14, 10), "h264"),  # H.264 4:2:0 needs even sides: padded
        ("webm", (9, 13), (13, 9), "vp9"),
    ],
)
def test_mp4_and_webm_decode_back(
    live: Live, fmt: str, size: tuple[int, int], stored: tuple[int, int], codec: str
) -> None:
    live.log({"v": Video(frames(7, 4, *size), fps=12, format=fmt, caption="x")})
    live.flush()
    assert decode(VIDEOS / f"v/0.{fmt}") == (7, *stored, codec)
    document = sidecar("v")
    assert (document["frames"], document["width"], document["height"]) == (7, *stored)
    assert (document["fps"], document["format"]) == (12, fmt)
    with av.open(str(VIDEOS / f"v/0.{fmt}")) as container:
        assert float(container.streams.video[0].average_rate) == pytest.approx(12)
    assert validate_tree(".") == []


def test_webm_bytes_and_probe(live: Live) -> None:
    live.log({"w": Video(frames(4, 1), fps=30, format="webm")})
    live.flush()
    data = (VIDEOS / "w/0.webm").read_bytes()
    buffer = io.BytesIO(data)
    buffer.seek(len(data))  # as after writing into it: the whole buffer is still taken
    video = Video(buffer, format="webm")
    assert (video.frames, video.width, video.height, video.file_fps) == (4, 14, 10, 30)
    live.log({"again": video})
    live.flush()
    assert (VIDEOS / "again/0.webm").read_bytes() == data


def test_ogg_from_array_needs_theora(live: Live) -> None:
    if "libtheora" in av.codecs_available:  # a PyAV built with Theora encodes it
        assert Video(frames(), format="ogg").kind == "video"
        return
    with pytest.raises(InvalidMediaValueError, match=r"^format: 'ogg' needs an FFmpeg encoder"):
        Video(frames(), format="ogg")


# -- files and bytes ------------------------------------------------------------------------


def _gif_bytes(time: int = 3) -> bytes:
    images = [PILImage.new("RGB", (8, 6), (40 * i, 0, 0)) for i in range(time)]
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=100)
    return buffer.getvalue()


def test_gif_file_is_stored_as_is_and_read_when_constructed(live: Live) -> None:
    path = Path("clip.GIF")
    path.write_bytes(_gif_bytes())
    video = Video(path, caption="from disk")
    original = path.read_bytes()
    path.write_bytes(b"overwritten")
    live.log({"f": video})
    live.flush()
    assert (VIDEOS / "f/0.gif").read_bytes() == original
    document = sidecar("f")
    assert (document["frames"], document["width"], document["height"]) == (3, 8, 6)
    assert (document["fps"], document["source"], document["caption"]) == (10, "file", "from disk")


@pytest.mark.parametrize(
    ("make", "argument", "message"),
    [
        (lambda: Video("missing.mp4"), "data_or_path", "'missing.mp4' is not a file"),
        (lambda: Video("clip.avi"), "data_or_path", "'clip.avi' has an unsupported suffix"),
        (lambda: Video("notes.gif"), "data_or_path", "not a readable GIF"),
        (lambda: Video("real.gif", format="mp4"), "format", "'mp4' differs from the file's"),
        (lambda: Video(io.BytesIO(b"GIF89a")), "format", "None is not allowed with an io.BytesIO"),
        (lambda: Video(io.BytesIO(), format="gif"), "data_or_path", r"is empty \(0 bytes\)"),
        (lambda: Video(io.BytesIO(b"\x89PNG\r\n\x1a\n"), format="gif"), "data_or_path", "GIF"),
    ],
)
def test_bad_files(live: Live, make: Any, argument: str, message: str) -> None:
    Path("notes.gif").write_text("not a gif")
    Path("real.gif").write_bytes(_gif_bytes())
    with pytest.raises(InvalidMediaValueError, match=rf"^{argument}: .*{message}"):
        make()


def test_unreadable_mp4_is_refused_when_pyav_can_tell(live: Live) -> None:
    Path("broken.mp4").write_bytes(b"\x00" * 64)
    with pytest.raises(InvalidMediaValueError, match=r"^data_or_path: not a readable mp4 video"):
        Video("broken.mp4")


# -- bad input: a typed error naming the argument, and nothing written ---------------------

BAD_INPUTS: list[tuple[Any, type[Exception], str]] = [
    (lambda: Video(frames(), fps=0), InvalidMediaValueError, "fps: 0 is out of range"),
    (lambda: Video(frames(), fps=-2), InvalidMediaValueError, "fps: -2 is out of range"),
    (lambda: Video(frames(), fps=241), InvalidMediaValueError, "fps: 241 is out of range"),
    (lambda: Video(frames(), fps=float("nan")), InvalidMediaValueError, "fps: nan"),
    (lambda: Video(frames(), fps="4"), InvalidMediaTypeError, "fps: unsupported type builtins.str"),
    (lambda: Video(frames(), fps=True), InvalidMediaTypeError, "fps: unsupported type"),
    (lambda: Video(frames(), fps=None), InvalidMediaTypeError, "fps: unsupported type"),
    (lambda: Video(frames(), format="avi"), InvalidMediaValueError, "format: 'avi' is not"),
    (lambda: Video(frames(), format=4), InvalidMediaTypeError, "format: unsupported type"),
    (lambda: Video(frames(), caption=3), InvalidAnnotationError, "caption: 3 is not a str"),
    (lambda: Video([[1, 2]]), InvalidMediaTypeError, "data_or_path: unsupported type"),
    (lambda: Video(b"GIF89a"), InvalidMediaTypeError, "data_or_path: unsupported type"),
    (lambda: Video({"a": 1}), InvalidMediaTypeError, "data_or_path: unsupported type"),
    (lambda: Video(None), InvalidMediaTypeError, "data_or_path: unsupported type"),
    (lambda: Video(np.zeros((4, 4, 3))), InvalidMediaValueError, "has 3 dimensions, not 4 or 5"),
    (lambda: Video(np.zeros((1,) * 6)), InvalidMediaValueError, "has 6 dimensions"),
    (lambda: Video(np.zeros((2, 2, 4, 4))), InvalidMediaValueError, "has 2 channels"),
    (lambda: Video(np.zeros((2, 8, 8, 3))), InvalidMediaValueError, "channels last"),
    (lambda: Video(np.zeros((0, 3, 4, 4))), InvalidMediaValueError, "is empty"),
    (lambda: Video(np.zeros((2, 3, 0, 4))), InvalidMediaValueError, "is empty"),
    (lambda: Video(np.full((2, 3, 4, 4), np.nan)), InvalidMediaValueError, "NaN or infinity"),
    (lambda: Video(np.zeros((2, 3, 4, 4), complex)), InvalidMediaValueError, "dtype complex128"),
    (lambda: Video(np.full((2, 3, 4, 4), "a")), InvalidMediaValueError, "dtype <U1"),
    (lambda: Video(np.zeros((1, 1, 1, 70000), bool)), InvalidMediaValueError, "too large"),
]


@pytest.mark.parametrize(("make", "error", "message"), BAD_INPUTS)
def test_bad_input_is_typed_and_writes_nothing(
    live: Live, make: Any, error: type[Exception], message: str
) -> None:
    live.log({"ok": Video(frames(2))})
    live.flush()
    before = tree(Path(live.dir))
    with pytest.raises(error) as raised:
        live.log({"bad": make()})
    assert str(raised.value).startswith(message) or message in str(raised.value)
    assert "accepted: " in str(raised.value)
    live.flush()
    assert tree(Path(live.dir)) == before


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(0, 5), min_size=0, max_size=7).filter(
        lambda s: not (len(s) in (4, 5) and s[-3] in (1, 3, 4) and 0 not in s)
    )
)
def test_any_bad_shape_is_refused(shape: list[int]) -> None:
    with pytest.raises(InvalidMediaValueError, match=r"^data_or_path: shape "):
        Video(np.zeros(shape, np.uint8))


@settings(max_examples=60, deadline=None)
@given(
    fps=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True).filter(lambda f: not 0 < f <= 240),
        st.integers().filter(lambda i: not 0 < i <= 240),
        st.text(max_size=3),
        st.none(),
        st.booleans(),
    )
)
def test_any_bad_fps_is_refused(fps: Any) -> None:
    with pytest.raises((InvalidMediaValueError, InvalidMediaTypeError), match=r"^fps: "):
        Video(np.zeros((1, 1, 2, 2), np.uint8), fps=fps)


# -- without PyAV -------------------------------------------------------------------------

NO_PYAV = textwrap.dedent(
    """
    import sys
    sys.modules["av"] = None  # makes "import av" raise ImportError, as if not installed
    import io, json
    import numpy as np
    from dvcstage import Live
    from dvcstage.media.video import MissingVideoExtraError, Video
    from dvcstage.validate import validate_tree

    frames = np.zeros((2, 3, 4, 4), np.uint8)
    for fmt in ("mp4", "webm", "ogg"):
        try:
            Video(frames, format=fmt)
        except MissingVideoExtraError as exc:
            assert isinstance(exc, ImportError), type(exc).__mro__
            print(exc)
        else:
            raise AssertionError(fmt + " encoded without PyAV")
    with Live(save_dvc_exp=False) as live:
        live.log({"gif": Video(frames)})  # Pillow only
        live.log({"file": Video(io.BytesIO(b"\\x00\\x00\\x00\\x18ftypmp42"), format="mp4")})
    document = json.load(open("dvclive/media/video/file/0.json"))
    assert "frames" not in document and document["source"] == "file", document
    assert validate_tree(".") == [], validate_tree(".")
    """
)


def test_without_pyav_arrays_need_the_extra_and_files_are_stored(plain_dir: Path) -> None:
    # PyAV is an optional extra installed in the test environment; its absence cannot be
    # arranged in one virtualenv, so a subprocess blocks the import before dvcstage loads.
    result = subprocess.run(
        [sys.executable, "-c", NO_PYAV], capture_output=True, text=True, cwd=plain_dir
    )
    assert result.returncode == 0, result.stderr
    messages = result.stdout.splitlines()
    assert len(messages) == 3
    for fmt, message in zip(("mp4", "webm", "ogg"), messages, strict=True):
        assert message.startswith(f"format: '{fmt}' needs PyAV, which is not installed")
        assert "pip install 'dvcstage[video]'" in message
        assert "format='gif'" in message


def test_missing_extra_error_is_an_import_error() -> None:
    error = MissingVideoExtraError("format", "mp4", "No module named 'av'")
    assert isinstance(error, ImportError)
    assert isinstance(error, dvcstage.DvcStageError)


# -- the index can be rebuilt from the files ----------------------------------------------


def test_rebuilt_index_has_the_same_files(live: Live) -> None:
    live.log({"a": Video(frames(2)), "b": [Video(frames(3)), Video(frames(2), format="gif")]})
    live.next_step()
    live.log({"a": Video(frames(4), caption="later")})
    live.flush()
    written = read_index(live.index_file).lines

    def files(lines: list[dict[str, Any]]) -> list[tuple[str, int, Any, Any]]:
        return sorted(
            (line["key"], line["step"], line.get("item"), [f["path"] for f in line["files"]])
            for line in lines
        )

    assert rebuild_index(live.dir).lines == 4
    assert files(read_index(live.index_file).lines) == files(written)


def test_content_must_match_the_format(live: Live) -> None:
    live.log({"w": Video(frames(2), format="webm")})
    live.flush()
    data = (VIDEOS / "w/0.webm").read_bytes()
    with pytest.raises(InvalidMediaValueError, match=r"^data_or_path: the content is matroska"):
        Video(io.BytesIO(data), format="mp4")
