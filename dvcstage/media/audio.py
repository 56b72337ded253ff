"""Audio clips (W&B's ``Audio``): 16-bit PCM WAV from arrays, audio files stored as they are.

``live.log({"whale songs": dvcstage.Audio(clip, sample_rate=16000)})`` at step 3 writes
``media/audio/whale songs/3.wav`` and its sidecar ``3.json`` (sample rate, channels, frames,
duration, caption; schema ``schemas/audio.schema.json``).

Arrays are ``(frames,)`` (mono) or ``(frames, channels)`` with at most 32 channels, as
``soundfile`` (which W&B uses) lays them out:

- ``int16`` samples are written unchanged;
- float samples must lie in ``[-1, 1]`` and become ``round(x * 32767)``, so ``-1.0`` is
  ``-32767`` and ``1.0`` is ``32767`` (read back, ``int16 / 32767`` is within ``0.5 / 32767``
  of the input). A value outside ``[-1, 1]`` is an error rather than clipped: W&B hands
  floats to libsndfile, which does not rescale them either, and a clip of ``[-3, 3]`` (a
  forgotten normalisation) would be silently distorted. Clip or normalise it yourself
  (``x / np.abs(x).max()``). NaN and infinity are errors.

Files (``.wav``, ``.flac``, ``.mp3``, ``.ogg``) are read when the clip is made and stored
byte for byte; the sample rate, channels and length of WAV and FLAC files are read from their
headers (for MP3 and Ogg they are left out).

W&B allows at most 100 clips per step: :func:`check_clip_budget` enforces it for
:class:`dvcstage.Live`.
"""

from __future__ import annotations

import io
import os
import struct
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..errors import InvalidAnnotationError, InvalidMediaTypeError, InvalidMediaValueError
from .base import EncodedFile, EncodedItem, Media, MediaSlot
from .pixels import array_from_arraylike

SCHEMA = "audio"
MAX_CHANNELS = 32
MAX_SAMPLE_RATE = 768_000
MAX_CLIPS_PER_STEP = 100
FILE_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")
_WAV_DATA_LIMIT = 0xFFFFFFFF - 36  # RIFF sizes are 32-bit

DATA_HELP = (
    "a NumPy array or array-like (e.g. a torch tensor) of shape (frames,) or "
    f"(frames, channels) with 1 to {MAX_CHANNELS} channels, float in [-1, 1] or int16 "
    "(with sample_rate), or a path (str or pathlib.Path) to a "
    + ", ".join(s.lstrip(".") for s in FILE_SUFFIXES)
    + " file"
)
SAMPLE_RATE_HELP = f"an int from 1 to {MAX_SAMPLE_RATE} (samples per second)"


def check_clip_budget(logged_in_step: int, adding: int = 1) -> None:
    """Refuse more than 100 audio clips in one step (W&B's documented limit).

    ``logged_in_step`` clips were already logged at the current step; ``adding`` more are
    about to be. :class:`dvcstage.Live` calls this before it logs anything of a call.

    >>> check_clip_budget(99, 1)  # the 100th clip is fine
    >>> try:
    ...     check_clip_budget(100, 1)
    ... except InvalidMediaValueError as exc:
    ...     print(exc.argument, "-", exc.accepted)
    data - at most 100 audio clips per step (call live.next_step() first)
    """
    total = logged_in_step + adding
    if total > MAX_CLIPS_PER_STEP:
        raise InvalidMediaValueError(
            "data",
            f"{total} audio clips in one step ({logged_in_step} logged before, {adding} now)",
            f"at most {MAX_CLIPS_PER_STEP} audio clips per step (call live.next_step() first)",
        )


def count_clips(values: Iterable[Any]) -> int:
    """The audio clips among ``values``: :class:`Audio` objects and the items of lists."""
    count = 0
    for value in values:
        items = value if isinstance(value, (list, tuple)) else (value,)
        count += sum(isinstance(item, Audio) for item in items)
    return count


@dataclass(frozen=True)
class AudioInfo:
    """What a clip's header says (``None`` where a file's header was not read)."""

    sample_rate: int | None
    channels: int | None
    frames: int | None

    @property
    def duration_s(self) -> float | None:
        """Length in seconds."""
        if self.frames is None or not self.sample_rate:
            return None
        return self.frames / self.sample_rate


def wav_info(data: bytes) -> AudioInfo | None:
    """Rate, channels and frames of a RIFF/WAVE file (any sample format); ``None`` if unreadable."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    rate = channels = block_align = None
    position = 12
    while position + 8 <= len(data):
        chunk, size = data[position : position + 4], struct.unpack_from("<I", data, position + 4)[0]
        body = position + 8
        if chunk == b"fmt " and size >= 16 and body + 16 <= len(data):
            _, channels, rate, _, block_align = struct.unpack_from("<HHIIH", data, body)
        elif chunk == b"data" and rate and channels and block_align:
            size = min(size, len(data) - body)  # a streamed WAV may carry a placeholder size
            return AudioInfo(rate, channels, size // block_align)
        position = body + size + (size & 1)
    return None


def _skip_id3(data: bytes) -> int:
    """Where the audio starts after an ID3v2 tag (0 without one)."""
    if len(data) >= 10 and data[:3] == b"ID3":
        size = 0
        for byte in data[6:10]:
            size = (size << 7) | (byte & 0x7F)
        return 10 + size + (10 if data[5] & 0x10 else 0)
    return 0


def flac_info(data: bytes) -> AudioInfo | None:
    """Rate, channels and frames from a FLAC file's STREAMINFO block; ``None`` if unreadable."""
    start = _skip_id3(data)
    info = start + 8  # "fLaC", then the block header (type 0 = STREAMINFO, 34 bytes)
    if data[start : start + 4] != b"fLaC" or len(data) < info + 18 or data[start + 4] & 0x7F:
        return None
    packed = int.from_bytes(data[info + 10 : info + 18], "big")
    rate = packed >> 44
    channels = ((packed >> 41) & 0x7) + 1
    frames = packed & ((1 << 36) - 1)
    return AudioInfo(rate or None, channels, frames or None)


def _looks_like(suffix: str, data: bytes) -> bool:
    """Whether ``data`` starts as a ``suffix`` file does (magic bytes)."""
    if suffix == ".wav":
        return data[:4] in (b"RIFF", b"RF64") and data[8:12] == b"WAVE"
    if suffix == ".flac":
        start = _skip_id3(data)
        return data[start : start + 4] == b"fLaC"
    if suffix == ".ogg":
        return data[:4] == b"OggS"
    # MP3: an ID3v2 tag, or an MPEG audio frame sync (11 set bits).
    return data[:3] == b"ID3" or (len(data) >= 2 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def _check_sample_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise InvalidMediaTypeError("sample_rate", sample_rate, SAMPLE_RATE_HELP)
    if not 1 <= int(sample_rate) <= MAX_SAMPLE_RATE:
        raise InvalidMediaValueError(
            "sample_rate", f"{int(sample_rate)} is out of range", SAMPLE_RATE_HELP
        )
    return int(sample_rate)


def _check_samples(value: Any) -> np.ndarray:
    """Validate a clip array; returns a (frames, channels) copy (float64 or int16)."""
    array = array_from_arraylike(value)
    if array is None:
        if not isinstance(value, (list, tuple)):
            raise InvalidMediaTypeError("data_or_path", value, DATA_HELP)
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise InvalidMediaValueError(
                "data_or_path", f"is not a regular array of samples ({exc})", DATA_HELP
            ) from None
        if array.dtype.kind == "i":
            array = array.astype(np.float64)  # Python ints in a list: not int16 samples
    if array.dtype.kind == "f":
        pass
    elif array.dtype != np.int16:
        raise InvalidMediaValueError(
            "data_or_path",
            f"has dtype {array.dtype}",
            "float samples in [-1, 1] or int16 samples (convert other integers yourself, "
            "e.g. (x / 2**31).astype(np.float32) for int32)",
        )
    if array.ndim == 1:
        array = array[:, np.newaxis]
    if array.ndim != 2:
        raise InvalidMediaValueError(
            "data_or_path",
            f"shape {tuple(array.shape)} is not (frames,) or (frames, channels)",
            DATA_HELP,
        )
    frames, channels = array.shape
    if not 1 <= channels <= MAX_CHANNELS:
        hint = " (a (channels, frames) array? transpose it)" if frames <= MAX_CHANNELS else ""
        raise InvalidMediaValueError(
            "data_or_path", f"shape {tuple(array.shape)} has {channels} channels{hint}", DATA_HELP
        )
    if frames < 1:
        raise InvalidMediaValueError("data_or_path", "has no samples", DATA_HELP)
    if frames * channels * 2 > _WAV_DATA_LIMIT:
        raise InvalidMediaValueError(
            "data_or_path",
            f"{frames} frames x {channels} channels exceed 4 GiB of WAV data",
            "a shorter clip (split it)",
        )
    if array.dtype.kind == "f":
        low, high = float(array.min()), float(array.max())  # NaN propagates
        if not (np.isfinite(low) and np.isfinite(high)):
            raise InvalidMediaValueError("data_or_path", "contains NaN or infinity", DATA_HELP)
        if low < -1.0 or high > 1.0:
            raise InvalidMediaValueError(
                "data_or_path",
                f"float samples range over [{low:g}, {high:g}]",
                "float samples in [-1, 1] (normalise or clip first: x / np.abs(x).max(), "
                "np.clip(x, -1, 1)) or int16 samples",
            )
        return np.array(array, dtype=np.float64, copy=True, order="C")
    return np.array(array, copy=True, order="C")


def to_int16(samples: np.ndarray) -> np.ndarray:
    """16-bit PCM samples: int16 unchanged, floats in [-1, 1] as ``round(x * 32767)``."""
    if samples.dtype == np.int16:
        return samples
    pcm: np.ndarray = np.rint(samples * 32767.0).astype(np.int16)
    return pcm


def encode_wav(samples: np.ndarray, sample_rate: int) -> bytes:
    """A 16-bit PCM WAV file of ``(frames, channels)`` samples, made with :mod:`wave`."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(samples.shape[1])
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(to_int16(samples).astype("<i2", copy=False).tobytes())
    return buffer.getvalue()


class Audio(Media):
    """An audio clip: an array with its ``sample_rate``, or an audio file (W&B's signature).

    >>> import numpy as np, dvcstage
    >>> tone = np.sin(np.linspace(0, 2 * np.pi * 440, 16000)) * 0.5
    >>> clip = dvcstage.Audio(tone, sample_rate=16000, caption="A4")
    >>> (clip.channels, clip.frames, clip.duration_s)
    (1, 16000, 1.0)

    Log it with ``live.log({"whale songs": clip})`` or ``live.log_audio("whale songs", tone,
    sample_rate=16000)``; a list logs several clips under one key (at most 100 per step).

    Args:
        data_or_path: samples ``(frames,)`` or ``(frames, channels)``, float in [-1, 1] or
            int16, written as 16-bit PCM WAV; or a path to a .wav, .flac, .mp3 or .ogg file,
            read now and stored as is.
        sample_rate: samples per second, required for arrays (1 to 768000). For a file it may
            be left out; if given, it must match a WAV or FLAC file's header.
        caption: a caption stored in the sidecar.

    Raises:
        InvalidMediaTypeError, InvalidMediaValueError, InvalidAnnotationError: a bad argument
            (named in the message); nothing is written.
    """

    kind: ClassVar[str] = "audio"

    def __init__(
        self, data_or_path: Any, sample_rate: int | None = None, caption: str | None = None
    ) -> None:
        if caption is not None and not isinstance(caption, str):
            raise InvalidAnnotationError("caption", f"{caption!r} is not a str", "a str or None")
        self.caption = caption
        rate = None if sample_rate is None else _check_sample_rate(sample_rate)
        self._samples: np.ndarray | None = None
        self._file_bytes: bytes | None = None
        self.suffix = ".wav"
        if isinstance(data_or_path, (str, os.PathLike)):
            self._take_file(data_or_path, rate)
            return
        if isinstance(data_or_path, Audio):
            raise InvalidMediaTypeError("data_or_path", data_or_path, DATA_HELP + " (not an Audio)")
        if rate is None:
            raise InvalidMediaValueError(
                "sample_rate",
                "is required for an array (got None)",
                SAMPLE_RATE_HELP + ", e.g. Audio(samples, sample_rate=16000)",
            )
        self._samples = _check_samples(data_or_path)
        self.info = AudioInfo(rate, self._samples.shape[1], self._samples.shape[0])

    def _take_file(self, value: str | os.PathLike[str], rate: int | None) -> None:
        path = Path(value)
        suffix = path.suffix.lower()
        if suffix not in FILE_SUFFIXES:
            raise InvalidMediaValueError(
                "data_or_path", f"{str(path)!r} has an unsupported suffix", DATA_HELP
            )
        if not path.is_file():
            raise InvalidMediaValueError("data_or_path", f"{str(path)!r} is not a file", DATA_HELP)
        data = path.read_bytes()  # now: the caller may overwrite the file right after logging
        if not _looks_like(suffix, data):
            raise InvalidMediaValueError(
                "data_or_path",
                f"{str(path)!r} does not start like a {suffix.lstrip('.')} file",
                DATA_HELP,
            )
        parsed = (
            wav_info(data) if suffix == ".wav" else flac_info(data) if suffix == ".flac" else None
        )
        info = parsed or AudioInfo(None, None, None)
        if rate is not None and info.sample_rate is not None and rate != info.sample_rate:
            raise InvalidMediaValueError(
                "sample_rate",
                f"{rate} differs from {str(path)!r}'s {info.sample_rate} Hz",
                "the file's own rate, or None (files are stored as they are, not resampled)",
            )
        if info.sample_rate is None and rate is not None:
            info = AudioInfo(rate, info.channels, info.frames)
        self._file_bytes = data
        self.suffix = suffix
        self.info = info

    @property
    def sample_rate(self) -> int | None:
        """Samples per second (``None`` for an MP3 or Ogg file logged without one)."""
        return self.info.sample_rate

    @property
    def channels(self) -> int | None:
        """Channels (``None`` where a file's header was not read)."""
        return self.info.channels

    @property
    def frames(self) -> int | None:
        """Samples per channel (``None`` where a file's header was not read)."""
        return self.info.frames

    @property
    def duration_s(self) -> float | None:
        """Length in seconds (``None`` where unknown)."""
        return self.info.duration_s

    @property
    def held_bytes(self) -> int:
        """Memory held until written: the copied samples or the file's bytes."""
        if self._samples is not None:
            return int(self._samples.nbytes)
        return len(self._file_bytes or b"")

    def audio_bytes(self) -> bytes:
        """The clip's file: a WAV encoded from the samples, or the logged file's bytes."""
        if self._samples is not None:
            assert self.info.sample_rate is not None
            return encode_wav(self._samples, self.info.sample_rate)
        assert self._file_bytes is not None
        return self._file_bytes

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """The audio file and its sidecar for ``slot`` (pure: no I/O)."""
        audio_path = slot.file(self.suffix)
        facts = {
            name: value
            for name, value in (
                ("sample_rate", self.info.sample_rate),
                ("channels", self.info.channels),
                ("frames", self.info.frames),
                ("duration_s", self.info.duration_s),
            )
            if value is not None
        }
        fields: dict[str, Any] = {
            **({"caption": self.caption} if self.caption is not None else {}),
            "format": self.suffix.lstrip("."),
            "sample_rate": self.info.sample_rate,
            "channels": self.info.channels,
            "frames": self.info.frames,
            "duration_s": self.info.duration_s,
        }
        return self.item_with_sidecar(
            slot,
            [EncodedFile(audio_path, self.audio_bytes(), "audio")],
            fields,
            facts=facts,
            # A clip logged again at this step as another format replaces the old file.
            owned=tuple(slot.file(s) for s in FILE_SUFFIXES if s != self.suffix),
        )

    def __repr__(self) -> str:
        source = "array" if self._samples is not None else self.suffix.lstrip(".")
        return (
            f"<dvcstage.Audio {source} rate={self.sample_rate} channels={self.channels} "
            f"frames={self.frames} caption={self.caption!r}>"
        )
