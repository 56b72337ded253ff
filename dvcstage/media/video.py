"""Videos: ``dvcstage.Video`` (W&B's signature), from frame arrays, video files or bytes.

Arrays become an animated GIF with Pillow (the default) or MP4/WebM with PyAV, an optional
extra (``pip install 'dvcstage[video]'``) whose wheels carry FFmpeg. Files and ``BytesIO``
contents are stored byte for byte. Construction validates and copies; :meth:`Video.encode`
converts and encodes on a writer thread.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from ..errors import (
    InvalidAnnotationError,
    InvalidMediaTypeError,
    InvalidMediaValueError,
    MissingOptionalDependencyError,
)
from .base import EncodedFile, EncodedItem, Media, MediaSlot
from .pixels import array_from_arraylike, to_uint8

FORMATS = ("gif", "mp4", "webm", "ogg")
MAX_FPS = 240
VIDEO_EXTRA = "pip install 'dvcstage[video]'"
DATA_HELP = (
    "a NumPy array or array-like (time, channels, height, width) or (batch, time, channels, "
    "height, width) with channels 1, 3 or 4 and dtype bool, integer or float; a path (str or "
    "pathlib.Path) to an existing .gif, .mp4, .webm or .ogg file; or an io.BytesIO holding "
    "such a file, with format set"
)
FORMAT_HELP = "one of 'gif', 'mp4', 'webm', 'ogg' (or None: 'gif' for arrays, the suffix for paths)"

# FFmpeg encoders per container, in order of preference (the first one PyAV has is used).
# H.264 in MP4 and VP9 in WebM play in every current browser; Ogg means Theora, which the
# PyAV wheels do not include (arrays to "ogg" then raise; .ogg files are stored as is).
_ENCODERS = {"mp4": ("libx264", "h264"), "webm": ("libvpx-vp9", "libvpx"), "ogg": ("libtheora",)}
_ENCODER_OPTIONS = {
    "libx264": {"preset": "fast", "crf": "20"},
    "libvpx-vp9": {"deadline": "realtime", "cpu-used": "8", "crf": "32", "b": "0"},
    "libvpx": {"deadline": "realtime", "cpu-used": "8"},
}
# A GIF stores delays in hundredths of a second and browsers play delays under 20 ms as
# 100 ms, so a GIF frame lasts at least 20 ms (GIFs play at most 50 fps).
_GIF_MIN_DELAY_MS = 20
_GIF_MAX_SIDE = 65535


class MissingVideoExtraError(MissingOptionalDependencyError):
    """Encoding an array as MP4/WebM/Ogg needs PyAV (``pip install 'dvcstage[video]'``)."""

    def __init__(self, argument: str, value: str, reason: str) -> None:
        self.argument = argument
        super().__init__(
            f"{argument}: {value!r} needs PyAV, which is not installed ({reason}); install it "
            f"with {VIDEO_EXTRA}, or use format='gif' (Pillow only)"
        )


def _import_av(argument: str, value: str) -> Any:
    """The ``av`` module, or :class:`MissingVideoExtraError` naming ``argument``."""
    try:
        import av
    except ImportError as exc:
        raise MissingVideoExtraError(argument, value, str(exc)) from exc
    return av


@dataclass(frozen=True)
class Probe:
    """What a video file says about itself (``None`` where it could not be read)."""

    frames: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None


def _probe_gif(data: bytes, argument: str) -> Probe:
    try:
        with PILImage.open(io.BytesIO(data)) as gif:
            if gif.format != "GIF":
                raise InvalidMediaValueError(
                    argument, f"the content is {gif.format}, not GIF", DATA_HELP
                )
            delay = gif.info.get("duration") or 0
            width, height = gif.size
            frames = int(getattr(gif, "n_frames", 1))
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise InvalidMediaValueError(argument, f"not a readable GIF ({exc})", DATA_HELP) from exc
    fps = round(1000.0 / delay, 3) if delay > 0 else None
    return Probe(frames, width, height, fps)


def _probe_with_av(data: bytes, fmt: str, argument: str) -> Probe:
    """Frames, size and rate of an MP4/WebM/Ogg file; without PyAV nothing is known."""
    try:
        import av
    except ImportError:
        return Probe()  # stored unchecked: reading it would need the optional extra
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            names = container.format.name.split(",")  # e.g. "mov,mp4,m4a,3gp,3g2,mj2"
            if fmt not in names:
                raise InvalidMediaValueError(
                    argument, f"the content is {names[0]}, not {fmt}", DATA_HELP
                )
            if not container.streams.video:
                raise InvalidMediaValueError(
                    argument, f"the {fmt} file has no video stream", DATA_HELP
                )
            stream = container.streams.video[0]
            frames = stream.frames or sum(
                1 for packet in container.demux(stream) if packet.size > 0
            )
            rate = stream.average_rate
            return Probe(
                frames=frames or None,
                width=stream.codec_context.width or None,
                height=stream.codec_context.height or None,
                fps=round(float(rate), 3) if rate else None,
            )
    except av.FFmpegError as exc:
        raise InvalidMediaValueError(
            argument, f"not a readable {fmt} video ({exc})", DATA_HELP
        ) from exc


def _probe(data: bytes, fmt: str, argument: str) -> Probe:
    if not data:
        raise InvalidMediaValueError(argument, "is empty (0 bytes)", DATA_HELP)
    return _probe_gif(data, argument) if fmt == "gif" else _probe_with_av(data, fmt, argument)


def _check_fps(fps: Any) -> float | int:
    if isinstance(fps, bool) or not isinstance(fps, Real):
        raise InvalidMediaTypeError("fps", fps, f"an int or float > 0 and <= {MAX_FPS}")
    try:
        value = float(fps)
    except OverflowError:  # an int beyond float range
        value = math.inf
    if not (math.isfinite(value) and 0 < value <= MAX_FPS):
        raise InvalidMediaValueError(
            "fps", f"{fps!r} is out of range", f"an int or float > 0 and <= {MAX_FPS}"
        )
    return int(fps) if isinstance(fps, (int, np.integer)) else float(fps)


def _check_format(fmt: Any) -> str | None:
    if fmt is None:
        return None
    if not isinstance(fmt, str):
        raise InvalidMediaTypeError("format", fmt, FORMAT_HELP)
    if fmt.lower() not in FORMATS:
        raise InvalidMediaValueError("format", f"{fmt!r} is not supported", FORMAT_HELP)
    return fmt.lower()


def grid_shape(batch: int) -> tuple[int, int]:
    """(rows, columns) of the grid W&B tiles a batch of videos into.

    The batch is padded with black videos to a power of two; rows are
    ``2 ** ((batch.bit_length() - 1) // 2)``, so the grid is square or twice as wide as high.

    >>> [grid_shape(b) for b in (1, 2, 3, 4, 5, 16)]
    [(1, 1), (1, 2), (1, 4), (2, 2), (2, 4), (4, 4)]
    """
    padded = 1 << (batch - 1).bit_length()
    rows = 2 ** ((batch.bit_length() - 1) // 2)
    return rows, padded // rows


def _check_array(array: np.ndarray, argument: str) -> np.ndarray:
    """Validate frames and return a (batch, time, channels, height, width) C-ordered copy."""
    if array.dtype != np.bool_ and not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise InvalidMediaValueError(argument, f"dtype {array.dtype} is not supported", DATA_HELP)
    shape = tuple(int(n) for n in array.shape)
    if array.ndim not in (4, 5):
        raise InvalidMediaValueError(
            argument, f"shape {shape} has {array.ndim} dimensions, not 4 or 5", DATA_HELP
        )
    if shape[-3] not in (1, 3, 4):
        hint = ""
        if shape[-1] in (1, 3, 4):
            hint = " (channels last? move them before height and width, e.g. with np.moveaxis)"
        raise InvalidMediaValueError(
            argument, f"shape {shape} has {shape[-3]} channels{hint}", DATA_HELP
        )
    if 0 in shape:
        raise InvalidMediaValueError(argument, f"shape {shape} is empty", DATA_HELP)
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise InvalidMediaValueError(argument, "contains NaN or infinity", "finite values")
    batch = array if array.ndim == 5 else array[np.newaxis]
    return np.array(batch, copy=True, order="C")


def tile_frames(batch: np.ndarray) -> np.ndarray:
    """(batch, time, channels, height, width) uint8 -> (time, height, width, channels) frames.

    One video is transposed; several are tiled into :func:`grid_shape`'s grid, black where
    the grid has no video.
    """
    count, time, channels, height, width = batch.shape
    rows, cols = grid_shape(count)
    if rows * cols > count:
        padding = np.zeros((rows * cols - count, *batch.shape[1:]), dtype=batch.dtype)
        batch = np.concatenate([batch, padding])
    grid = batch.reshape(rows, cols, time, channels, height, width)
    # -> time, rows, height, cols, width, channels
    frames = grid.transpose(2, 0, 4, 1, 5, 3).reshape(time, rows * height, cols * width, channels)
    return np.ascontiguousarray(frames)


def encode_gif(frames: np.ndarray, fps: float) -> bytes:
    """(time, height, width, channels) uint8 frames as a looping GIF (Pillow)."""
    images = [
        PILImage.fromarray(frame[..., 0] if frame.shape[-1] == 1 else frame) for frame in frames
    ]
    delay = max(_GIF_MIN_DELAY_MS, round(1000.0 / fps / 10) * 10)
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:], duration=delay, loop=0
    )
    return buffer.getvalue()


def _encoder_for(av: Any, fmt: str) -> str | None:
    for name in _ENCODERS[fmt]:
        try:
            av.codec.Codec(name, "w")
        except (av.codec.codec.UnknownCodecError, ValueError):
            continue
        return name
    return None


def encode_with_av(frames: np.ndarray, fps: float, fmt: str) -> tuple[bytes, int, int]:
    """Frames as MP4 (H.264), WebM (VP9) or Ogg (Theora) with PyAV: (bytes, width, height).

    The alpha channel is dropped (these codecs' browser profiles have none). H.264's 4:2:0
    profile needs even sides, so an odd width or height gets one black column or row.
    """
    import av

    codec = _encoder_for(av, fmt)
    assert codec is not None  # checked in Video.__init__
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    elif frames.shape[-1] == 4:
        frames = frames[..., :3]
    _, height, width, _ = frames.shape
    if codec in ("libx264", "h264") and (height % 2 or width % 2):
        frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)))
        height, width = height + height % 2, width + width % 2
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=fmt) as container:
        stream = container.add_stream(
            codec,
            rate=Fraction(fps).limit_denominator(1001),
            options=_ENCODER_OPTIONS.get(codec, {}),
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in frames:
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode(None))
    return buffer.getvalue(), width, height


class Video(Media):
    """A video, W&B's ``wandb.Video(data_or_path, caption=None, fps=4, format=None)``.

    ``data_or_path`` is one of:

    - frames, a NumPy array or array-like (torch, JAX, ...) shaped (time, channels, height,
      width) with 1 (gray), 3 (RGB) or 4 (RGBA) channels. W&B's page says "time, channels,
      width, height", but its code, like every frame library, reads height before width, and
      so does dvcstage. A 5-D (batch, time, channels, height, width) array is tiled into
      W&B's grid (:func:`grid_shape`). Values follow the image rule (:func:`to_uint8`): floats
      in [0, 1] or [-1, 1] are scaled to 0..255 (W&B truncates floats to integers instead);
    - a path (str or ``pathlib.Path``) to an existing .gif, .mp4, .webm or .ogg file;
    - an ``io.BytesIO`` holding such a file (its whole buffer); ``format`` is then required.

    Files and bytes are read here and stored unchanged; ``fps`` applies to arrays only.
    ``format`` is "gif" (default for arrays, Pillow), "mp4" (H.264) or "webm" (VP9); these
    two need PyAV (``pip install 'dvcstage[video]'``), else :class:`MissingVideoExtraError`.
    "ogg" needs a Theora encoder, which PyAV's wheels lack, so arrays cannot become Ogg.

    >>> import numpy as np, dvcstage
    >>> frames = np.random.default_rng(0).random((8, 3, 32, 48))  # time, channels, H, W
    >>> video = dvcstage.Video(frames, fps=4, caption="rollout")
    >>> (video.format, video.frames, video.width, video.height)
    ('gif', 8, 48, 32)

    Log it with ``live.log({"rollout": video})`` (``media/video/rollout/<step>.gif`` and a
    ``<step>.json`` sidecar) or ``live.log_video("rollout", frames, fps=4)``.
    """

    kind = "video"

    def __init__(
        self,
        data_or_path: Any,
        caption: str | None = None,
        fps: int | float = 4,
        format: str | None = None,
    ) -> None:
        if caption is not None and not isinstance(caption, str):
            raise InvalidAnnotationError("caption", f"{caption!r} is not a str", "a str or None")
        self.caption = caption
        self.fps: int | float = _check_fps(fps)
        fmt = _check_format(format)
        self._array: np.ndarray | None = None
        self._file_bytes: bytes | None = None
        self._batch = 1
        #: "gif", "mp4", "webm" or "ogg": the stored file's format.
        self.format: str = fmt or "gif"
        #: Frames, width and height of the stored video (``None``: a file PyAV could not read).
        self.frames: int | None = None
        self.width: int | None = None
        self.height: int | None = None
        #: The frame rate a stored file declares (``fps`` applies to arrays only).
        self.file_fps: float | None = None
        #: (rows, columns) when a batch of videos is tiled into a grid.
        self.grid: tuple[int, int] | None = None
        if isinstance(data_or_path, (str, os.PathLike)):
            self._init_file(data_or_path, fmt)
        elif isinstance(data_or_path, io.BytesIO):
            self._init_bytes(data_or_path, fmt)
        else:
            self._init_array(data_or_path, fmt or "gif")

    def _init_file(self, value: str | os.PathLike[str], fmt: str | None) -> None:
        path = Path(value)
        suffix = path.suffix.lower().lstrip(".")
        if suffix not in FORMATS:
            raise InvalidMediaValueError(
                "data_or_path", f"{str(path)!r} has an unsupported suffix", DATA_HELP
            )
        if fmt is not None and fmt != suffix:
            raise InvalidMediaValueError(
                "format", f"{fmt!r} differs from the file's suffix .{suffix}", "None or " + suffix
            )
        if not path.is_file():
            raise InvalidMediaValueError("data_or_path", f"{str(path)!r} is not a file", DATA_HELP)
        data = path.read_bytes()  # now: the caller may overwrite the file right after logging
        self._init_stored(data, suffix)

    def _init_bytes(self, value: io.BytesIO, fmt: str | None) -> None:
        if fmt is None:
            raise InvalidMediaValueError(
                "format", "None is not allowed with an io.BytesIO", "one of " + ", ".join(FORMATS)
            )
        self._init_stored(value.getvalue(), fmt)

    def _init_stored(self, data: bytes, fmt: str) -> None:
        probe = _probe(data, fmt, "data_or_path")
        self._file_bytes = data
        self.format = fmt
        self.frames, self.width, self.height = probe.frames, probe.width, probe.height
        # A rate beyond what can be logged is a timestamp artefact, not a fact worth keeping.
        self.file_fps = probe.fps if probe.fps is not None and probe.fps <= MAX_FPS else None

    def _init_array(self, value: Any, fmt: str) -> None:
        array = array_from_arraylike(value)
        if array is None or isinstance(value, (bytes, bytearray, list, tuple, dict)):
            raise InvalidMediaTypeError("data_or_path", value, DATA_HELP)
        if fmt != "gif":
            av = _import_av("format", fmt)
            if _encoder_for(av, fmt) is None:
                raise InvalidMediaValueError(
                    "format",
                    f"{fmt!r} needs an FFmpeg encoder ({', '.join(_ENCODERS[fmt])}) that the "
                    f"installed PyAV {av.__version__} lacks",
                    "'gif', 'mp4' or 'webm' for arrays",
                )
        batch = _check_array(array, "data_or_path")
        count, time, _, height, width = batch.shape
        rows, cols = grid_shape(count)
        if fmt == "gif" and max(rows * height, cols * width) > _GIF_MAX_SIDE:
            raise InvalidMediaValueError(
                "data_or_path",
                f"frames of {cols * width}x{rows * height} pixels are too large for a GIF",
                f"sides up to {_GIF_MAX_SIDE} pixels",
            )
        self._array = batch
        self.format = fmt
        self.frames, self.width, self.height = time, cols * width, rows * height
        self.grid = (rows, cols) if count > 1 else None
        self._batch = count

    @property
    def held_bytes(self) -> int:
        """Memory held until written: the copied frames or the file's bytes."""
        if self._array is not None:
            return int(self._array.nbytes)
        return len(self._file_bytes or b"")

    def __repr__(self) -> str:
        size = f"{self.width}x{self.height}" if self.width else "?"
        return (
            f"<dvcstage.Video {self.format} {size} frames={self.frames} fps={self.fps} "
            f"caption={self.caption!r}>"
        )

    def encode(self, slot: MediaSlot) -> EncodedItem:
        """The video file and its sidecar for ``slot`` (pure: no I/O)."""
        width, height = self.width, self.height
        fps: float | None = self.file_fps
        if self._array is not None:
            frames = tile_frames(to_uint8(self._array))
            fps = self.fps
            if self.format == "gif":
                data = encode_gif(frames, self.fps)
            else:
                data, width, height = encode_with_av(frames, self.fps, self.format)
        else:
            assert self._file_bytes is not None
            data = self._file_bytes
        payload = slot.file(f".{self.format}")
        facts: dict[str, Any] = {"format": self.format, "source": "array"}
        if self._array is None:
            facts["source"] = "file"
        for name, value in (
            ("fps", fps),
            ("frames", self.frames),
            ("width", width),
            ("height", height),
            ("caption", self.caption),
        ):
            if value is not None:
                facts[name] = value
        if self.grid is not None:
            facts["grid"] = {"rows": self.grid[0], "columns": self.grid[1], "videos": self._batch}
        # width and height head the index line; the writer files the rest under "facts".
        return self.item_with_sidecar(
            slot,
            [EncodedFile(payload, data, self.kind)],
            facts,
            # A re-log of this slot in another format leaves no file of the old one behind.
            owned=tuple(slot.file(f".{fmt}") for fmt in FORMATS),
        )
