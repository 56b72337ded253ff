"""dvcstage.Audio: WAV files read back with ``wave``, stored files, sidecars, bad inputs."""

from __future__ import annotations

import hashlib
import json
import textwrap
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dvcstage
from dvcstage import schemas
from dvcstage.errors import (
    DvcStageError,
    InvalidAnnotationError,
    InvalidMediaTypeError,
    InvalidMediaValueError,
)
from dvcstage.index import read_index
from dvcstage.media.audio import MAX_CLIPS_PER_STEP, Audio, check_clip_budget, count_clips
from dvcstage.validate import validate_tree

RATE = 16_000


@pytest.fixture
def live(plain_dir: Path) -> Iterator[dvcstage.Live]:
    run = dvcstage.Live(save_dvc_exp=False)
    yield run
    run.end()


def read_wav(path: Path) -> tuple[wave._wave_params, np.ndarray]:
    """The WAV's parameters and its samples as (frames, channels) int16."""
    with wave.open(str(path), "rb") as reader:
        params = reader.getparams()
        raw = reader.readframes(params.nframes)
    assert params.sampwidth == 2 and params.comptype == "NONE"
    return params, np.frombuffer(raw, dtype="<i2").reshape(-1, params.nchannels)


def sidecar(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert schemas.schema_errors("audio", document) == []
    return document


def tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def make_wav(path: Path, samples: np.ndarray, rate: int) -> bytes:
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(samples.shape[1])
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.astype("<i2").tobytes())
    return path.read_bytes()


def flac_bytes(rate: int, channels: int, frames: int) -> bytes:
    """A FLAC header (marker and STREAMINFO) followed by filler: enough to be parsed and stored."""
    packed = (rate << 44) | ((channels - 1) << 41) | (15 << 36) | frames
    streaminfo = bytes(10) + packed.to_bytes(8, "big") + bytes(16)
    return b"fLaC" + bytes([0x80, 0, 0, 34]) + streaminfo + b"\xff\xf8" + bytes(64)


def test_float_mono_becomes_16_bit_pcm(live: dvcstage.Live) -> None:
    tone = (0.5 * np.sin(np.linspace(0, 2 * np.pi * 440, RATE))).astype(np.float32)
    tone[:3] = [-1.0, 1.0, 0.0]
    live.log({"whale songs": Audio(tone, sample_rate=RATE, caption="OooOoo")})
    expected = tone.copy()
    tone[:] = 0.9  # the clip copied its samples when it was made
    live.flush()
    folder = Path(live.media_dir) / "audio" / "whale songs"
    params, samples = read_wav(folder / "0.wav")
    assert (params.nchannels, params.framerate, params.nframes) == (1, RATE, RATE)
    # The documented scaling: int16 = round(x * 32767); -1.0 -> -32767, 1.0 -> 32767.
    assert samples[:3, 0].tolist() == [-32767, 32767, 0]
    assert np.array_equal(samples[:, 0], np.rint(expected.astype(np.float64) * 32767))
    assert np.abs(samples[:, 0] / 32767 - expected).max() <= 0.5 / 32767 + 1e-7
    document = sidecar(folder / "0.json")
    assert document == {
        "kind": "audio",
        "key": "whale songs",
        "step": 0,
        "caption": "OooOoo",
        "files": [{"path": "0.wav", "role": "audio"}],
        "format": "wav",
        "sample_rate": RATE,
        "channels": 1,
        "frames": RATE,
        "duration_s": 1.0,
    }
    (line,) = read_index(live.index_file).lines
    assert line["facts"] == {"sample_rate": RATE, "channels": 1, "frames": RATE, "duration_s": 1.0}
    assert line["sidecar"] == "media/audio/whale songs/0.json"
    assert [f["role"] for f in line["files"]] == ["audio", "sidecar"]
    assert validate_tree(live.dir) == []


def test_int16_multichannel_round_trips_exactly(live: dvcstage.Live) -> None:
    rng = np.random.default_rng(0)
    clips = [rng.integers(-32768, 32768, size=(1001, c), dtype=np.int16) for c in (2, 5, 32)]
    for step, clip in enumerate(clips):
        live.log_audio("multi", clip, sample_rate=8000 + step)
        live.next_step()
    live.flush()
    for step, clip in enumerate(clips):
        params, samples = read_wav(Path(live.media_dir) / f"audio/multi/{step}.wav")
        assert (params.nchannels, params.framerate, params.nframes) == (
            clip.shape[1],
            8000 + step,
            1001,
        )
        assert np.array_equal(samples, clip)  # frames interleaved channel by channel
        facts = sidecar(Path(live.media_dir) / f"audio/multi/{step}.json")
        assert facts["duration_s"] == pytest.approx(1001 / (8000 + step))
    assert validate_tree(live.dir) == []


class ArrayLike:
    """An array-like that is not a NumPy array (as JAX or CuPy values are)."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.array


def test_lists_of_clips_and_array_likes(live: dvcstage.Live) -> None:
    clips = [Audio(ArrayLike(np.zeros(10)), sample_rate=100), Audio([0.0, 0.5, -0.5], 3)]
    assert count_clips([clips, Audio([0.1], 1), 3.0]) == 3
    live.log({"list": clips})
    live.flush()
    assert read_wav(Path(live.media_dir) / "audio/list.items/0/0.wav")[0].nframes == 10
    _, samples = read_wav(Path(live.media_dir) / "audio/list.items/1/0.wav")
    assert samples[:, 0].tolist() == [0, 16384, -16384]
    assert sidecar(Path(live.media_dir) / "audio/list.items/1/0.json")["item"] == 1
    assert validate_tree(live.dir) == []


def test_files_are_stored_byte_for_byte(live: dvcstage.Live, tmp_path: Path) -> None:
    wav = make_wav(tmp_path / "clip.WAV", np.arange(200, dtype=np.int16).reshape(100, 2), 22050)
    sources = {
        "wav": (tmp_path / "clip.WAV", wav),
        "flac": (tmp_path / "clip.flac", flac_bytes(44100, 2, 441000)),
        "mp3": (tmp_path / "clip.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100)),
        "ogg": (tmp_path / "clip.ogg", b"OggS\x00\x02" + bytes(100)),
    }
    for fmt, (path, data) in sources.items():
        path.write_bytes(data)
        live.log({fmt: Audio(str(path) if fmt == "wav" else path, caption=fmt)})
        path.write_bytes(b"overwritten")  # read when the clip was made
    live.flush()
    media = Path(live.media_dir) / "audio"
    for fmt, (_, data) in sources.items():
        assert (media / fmt / f"0.{fmt}").read_bytes() == data
        document = sidecar(media / fmt / "0.json")
        assert document["format"] == fmt and document["caption"] == fmt
        assert document["files"] == [{"path": f"0.{fmt}", "role": "audio"}]
    assert (
        sidecar(media / "wav/0.json")["sample_rate"],
        sidecar(media / "wav/0.json")["frames"],
    ) == (
        22050,
        100,
    )
    flac = sidecar(media / "flac/0.json")
    assert (flac["sample_rate"], flac["channels"], flac["frames"], flac["duration_s"]) == (
        44100,
        2,
        441000,
        10.0,
    )
    mp3 = sidecar(media / "mp3/0.json")
    assert (mp3["sample_rate"], mp3["channels"], mp3["duration_s"]) == (None, None, None)
    assert validate_tree(live.dir) == []


def test_a_clip_logged_again_as_another_format_replaces_the_old_file(
    live: dvcstage.Live, tmp_path: Path
) -> None:
    ogg = tmp_path / "a.ogg"
    ogg.write_bytes(b"OggS" + bytes(20))
    live.log({"a": Audio(ogg)})
    live.flush()
    live.log({"a": Audio(np.zeros(4), sample_rate=4)})
    live.flush()
    assert sorted(p.name for p in (Path(live.media_dir) / "audio/a").iterdir()) == [
        "0.json",
        "0.wav",
    ]
    assert validate_tree(live.dir) == []


def test_spec_sample(live: dvcstage.Live) -> None:
    sample = """
    live.log({"whale songs": dvcstage.Audio(np_array, caption="OooOoo", sample_rate=32)})
    """
    np_array = np.sin(np.arange(64) / 3.0)
    exec(textwrap.dedent(sample), {"dvcstage": dvcstage, "live": live, "np_array": np_array})
    live.flush()
    params, _ = read_wav(Path(live.media_dir) / "audio/whale songs/0.wav")
    assert (params.framerate, params.nframes) == (32, 64)
    assert sidecar(Path(live.media_dir) / "audio/whale songs/0.json")["duration_s"] == 2.0
    assert validate_tree(live.dir) == []


def test_at_most_100_clips_per_step(live: dvcstage.Live) -> None:
    check_clip_budget(MAX_CLIPS_PER_STEP - 1, 1)
    with pytest.raises(InvalidMediaValueError, match="101 audio clips"):
        check_clip_budget(MAX_CLIPS_PER_STEP, 1)
    clip = Audio(np.zeros(8), sample_rate=8)
    live.log({"a": [clip] * 60})
    live.flush()
    before = tree(Path(live.dir))
    with pytest.raises(InvalidMediaValueError, match=r"^data: 101 audio clips") as caught:
        live.log({"b": [clip] * 40, "c": clip, "loss": 1.0})  # nothing of it is logged
    assert caught.value.argument == "data"
    live.flush()
    assert tree(Path(live.dir)) == before
    live.log({"b": [clip] * 39, "c": clip})  # exactly 100
    live.next_step()
    live.log({"a": [clip] * 100})  # a new step, a new budget
    live.flush()
    assert len(list((Path(live.media_dir) / "audio/a.items").rglob("1.wav"))) == 100


def write_bad_files(folder: Path) -> dict[str, Path]:
    files = {
        "aac": folder / "clip.aac",
        "fake_wav": folder / "fake.wav",
        "empty_mp3": folder / "empty.mp3",
        "dir_wav": folder / "dir.wav",
        "wav": folder / "good.wav",
    }
    files["aac"].write_bytes(b"\xff\xf1" + bytes(10))
    files["fake_wav"].write_bytes(b"not a wav file at all")
    files["empty_mp3"].write_bytes(b"")
    files["dir_wav"].mkdir()
    make_wav(files["wav"], np.zeros((10, 1), dtype=np.int16), 8000)
    return files


BAD_INPUTS: list[tuple[Any, dict[str, Any], str]] = [
    (np.zeros(10), {}, "sample_rate"),
    (np.zeros(10), {"sample_rate": 0}, "sample_rate"),
    (np.zeros(10), {"sample_rate": 768_001}, "sample_rate"),
    (np.zeros(10), {"sample_rate": 16000.0}, "sample_rate"),
    (np.zeros(10), {"sample_rate": True}, "sample_rate"),
    (np.zeros(10), {"sample_rate": "16000"}, "sample_rate"),
    ("wav", {"sample_rate": 44100}, "sample_rate"),
    (np.zeros(10), {"sample_rate": 8, "caption": 5}, "caption"),
    (np.array([0.0, 1.5]), {"sample_rate": 8}, "data_or_path"),
    (np.array([-1.0001]), {"sample_rate": 8}, "data_or_path"),
    (np.array([0.0, np.nan]), {"sample_rate": 8}, "data_or_path"),
    (np.array([0.0, -np.inf]), {"sample_rate": 8}, "data_or_path"),
    (np.zeros(10, dtype=np.int32), {"sample_rate": 8}, "data_or_path"),
    (np.zeros(10, dtype=np.uint8), {"sample_rate": 8}, "data_or_path"),
    (np.zeros(10, dtype=bool), {"sample_rate": 8}, "data_or_path"),
    (np.zeros(10, dtype=np.complex64), {"sample_rate": 8}, "data_or_path"),
    (np.zeros((10, 2, 2)), {"sample_rate": 8}, "data_or_path"),
    (np.zeros((2, 16000)), {"sample_rate": 8}, "data_or_path"),
    (np.zeros((10, 33)), {"sample_rate": 8}, "data_or_path"),
    (np.zeros(0), {"sample_rate": 8}, "data_or_path"),
    (np.zeros((0, 2)), {"sample_rate": 8}, "data_or_path"),
    (np.float64(0.5), {"sample_rate": 8}, "data_or_path"),
    ([0.0, [0.1, 0.2]], {"sample_rate": 8}, "data_or_path"),
    ([1000, -1000], {"sample_rate": 8}, "data_or_path"),
    (b"RIFF", {"sample_rate": 8}, "data_or_path"),
    ({"data": [0.0]}, {"sample_rate": 8}, "data_or_path"),
    (None, {"sample_rate": 8}, "data_or_path"),
    ("aac", {}, "data_or_path"),
    ("fake_wav", {}, "data_or_path"),
    ("empty_mp3", {}, "data_or_path"),
    ("dir_wav", {}, "data_or_path"),
    ("missing.ogg", {}, "data_or_path"),
]


@pytest.mark.parametrize(("data", "kwargs", "argument"), BAD_INPUTS)
def test_bad_input_raises_naming_the_argument_and_writes_nothing(
    live: dvcstage.Live, tmp_path: Path, data: Any, kwargs: dict[str, Any], argument: str
) -> None:
    files = write_bad_files(tmp_path)
    if isinstance(data, str):
        data = files.get(data, tmp_path / data)
    live.log_metric("loss", 1.0)
    live.flush()
    before = tree(Path(live.dir))
    with pytest.raises(
        (InvalidMediaTypeError, InvalidMediaValueError, InvalidAnnotationError)
    ) as caught:
        live.log({"bad": Audio(data, **kwargs)})
    assert getattr(caught.value, "argument", None) == argument
    assert str(caught.value).startswith(f"{argument}:")
    assert "accepted:" in str(caught.value)
    with pytest.raises(DvcStageError):
        live.log_audio("bad", data, **kwargs)
    live.flush()
    assert tree(Path(live.dir)) == before


def test_channels_first_arrays_get_a_hint() -> None:
    with pytest.raises(InvalidMediaValueError, match="transpose"):
        Audio(np.zeros((2, 48000)), sample_rate=48000)


def test_an_audio_is_not_a_source() -> None:
    clip = Audio(np.zeros(4), sample_rate=4)
    with pytest.raises(InvalidMediaTypeError, match=r"^data_or_path: "):
        Audio(clip, sample_rate=4)


@settings(max_examples=50, deadline=None)
@given(
    samples=st.lists(
        st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=40
    )
)
def test_property_float_samples(samples: list[float]) -> None:
    array = np.array(samples, dtype=np.float32)
    if np.isfinite(array).all() and np.abs(array).max() <= 1.0:
        clip = Audio(array, sample_rate=8)
        assert clip.frames == len(samples)
        pcm = np.frombuffer(clip.audio_bytes()[44:], dtype="<i2")
        assert np.abs(pcm / 32767 - array).max() <= 0.5 / 32767 + 1e-7
    else:
        with pytest.raises(InvalidMediaValueError, match=r"^data_or_path: "):
            Audio(array, sample_rate=8)


@settings(max_examples=50, deadline=None)
@given(sample_rate=st.one_of(st.integers(), st.floats(), st.none(), st.booleans()))
def test_property_sample_rate(sample_rate: Any) -> None:
    valid = (
        isinstance(sample_rate, int)
        and not isinstance(sample_rate, bool)
        and 1 <= sample_rate <= 768_000
    )
    if valid:
        assert Audio(np.zeros(3), sample_rate=sample_rate).sample_rate == sample_rate
    else:
        with pytest.raises(
            (InvalidMediaTypeError, InvalidMediaValueError), match=r"^sample_rate: "
        ):
            Audio(np.zeros(3), sample_rate=sample_rate)
