"""Read TensorBoard event files with TensorBoard's own reader (``dvcstage import tensorboard``).

Every folder under LOGDIR that holds event files is a run (as TensorBoard shows them). Its
events are read with ``tensorboard.backend.event_processing.plugin_event_accumulator``, which
turns every summary, old style (``torch.utils.tensorboard``, tensorboardX) or new
(``tf.summary``), into tensors tagged with their plugin:

===========  ==================================================================
plugin       becomes
===========  ==================================================================
scalars      a metric at its step (``plots/metrics/<tag>.tsv``)
images       images at the step (``<tag>/<step>.png``; several: ``<tag>.items/<i>/<step>.png``)
histograms   a histogram series (``plots/histograms/<tag>.tsv``)
audio        audio clips at the step
text         HTML (Markdown rendered and sanitised as TensorBoard does); 2-D text a table
hparams      parameters (``params.yaml``)
===========  ==================================================================

``torch.utils.tensorboard`` and tensorboardX write ``add_hparams`` into a subfolder of the run
(named by a timestamp) that holds only the hyperparameters and their metrics: such a folder is
merged into its parent run (parameters, and the metrics as final values in ``metrics.json``).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImportSourceError, MissingOptionalDependencyError
from .source import METRIC, SourceItem, SourceOrigin, SourceRun, safe_key

HPARAMS_TAG_PREFIX = "_hparams_/"
EXTRA_HELP = "pip install 'dvcstage[import]' (TensorBoard's event reader)"


def _tensorboard() -> Any:
    try:
        from tensorboard.backend.event_processing import io_wrapper
        from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    except ImportError as exc:
        raise MissingOptionalDependencyError(
            f"dvcstage import tensorboard needs the tensorboard package: {EXTRA_HELP}"
        ) from exc
    _fast_checksums()
    return io_wrapper, pea


def _fast_checksums() -> None:
    """Let TensorBoard's reader check record checksums in C when TensorFlow is absent.

    Without TensorFlow, TensorBoard's record reader computes every record's CRC-32C in pure
    Python (about 3 MB/s here, most of an import's time). ``google-crc32c`` (the ``import``
    extra) computes the same values in C; the reader still checks every record.
    """
    try:
        import google_crc32c
        from tensorboard.compat.tensorflow_stub import pywrap_tensorflow
    except ImportError:
        return
    if getattr(pywrap_tensorflow.crc32c, "dvcstage_fast", False):
        return

    def crc32c(data: Any) -> int:
        return int(google_crc32c.value(bytes(data)))

    crc32c.dvcstage_fast = True  # type: ignore[attr-defined]
    pywrap_tensorflow.crc32c = crc32c


def find_runs(logdir: Path) -> list[Path]:
    """Every folder under ``logdir`` (itself included) that holds TensorBoard event files."""
    if not logdir.is_dir():
        raise ImportSourceError(
            "LOGDIR", logdir, "is not a folder", "a TensorBoard log folder (events.out.tfevents.*)"
        )
    io_wrapper, _ = _tensorboard()
    runs = sorted(Path(p) for p in io_wrapper.GetLogdirSubdirectories(str(logdir)))
    if not runs:
        raise ImportSourceError(
            "LOGDIR",
            logdir,
            "holds no TensorBoard event file (events.out.tfevents.*) in it or below",
            "a folder that `tensorboard --logdir` would show runs of",
        )
    return runs


def _event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and "tfevents" in p.name)


def origin_of(logdir: Path) -> SourceOrigin:
    """The event files of every run under ``logdir`` (nothing read yet)."""
    files = [f for folder in find_runs(logdir) for f in _event_files(folder)]
    return SourceOrigin("tensorboard", logdir, files)


def _number(array: np.ndarray) -> float | int:
    value = array.reshape(-1)[0] if array.size else np.float64("nan")
    if isinstance(value, np.floating) and value.dtype == np.float32:
        return float(str(value))  # the shortest decimal that is this float32 (0.33333334)
    item = value.item()
    return item if isinstance(item, (int, float)) else float(item)


def _image(encoded: bytes) -> Any:
    from PIL import Image as PILImage

    from ..media.image import Image

    with PILImage.open(io.BytesIO(encoded)) as picture:
        picture.load()
        return Image(picture.copy())


def _images(array: np.ndarray) -> Any:
    encoded = [bytes(b) for b in array.reshape(-1)[2:]]  # width, height, then the images
    images = [_image(b) for b in encoded]
    return images[0] if len(images) == 1 else images


def histogram_from_buckets(buckets: np.ndarray) -> Any:
    """A ``dvcstage.Histogram`` from TensorBoard buckets ``[[left, right, count], ...]``.

    Buckets are contiguous; a zero-width single bucket (all values equal) gets a width of 1.
    More than 512 buckets are merged, neighbours summed, into at most 512.
    """
    from ..media.histogram import MAX_BINS, Histogram

    buckets = np.asarray(buckets, dtype=np.float64).reshape(-1, 3)
    if len(buckets) == 0:
        return Histogram(np_histogram=([0], [0.0, 1.0]))
    counts = buckets[:, 2]
    edges = np.concatenate([buckets[:1, 0], buckets[:, 1]])
    if len(buckets) == 1 and edges[0] >= edges[1]:
        edges = np.array([edges[0] - 0.5, edges[0] + 0.5])
    if len(counts) > MAX_BINS:
        groups = int(np.ceil(len(counts) / MAX_BINS))
        starts = np.arange(0, len(counts), groups)
        counts = np.add.reduceat(counts, starts)
        edges = np.concatenate([edges[starts], edges[-1:]])
    return Histogram(np_histogram=(counts, edges))


def _audio(array: np.ndarray, scratch: Path) -> Any:
    from ..media.audio import Audio

    clips = array[:, 0] if array.ndim == 2 else array.reshape(-1)
    audios = []
    for i, encoded in enumerate(clips):
        path = scratch / f"clip-{id(array)}-{i}.wav"
        path.write_bytes(bytes(encoded))
        audios.append(Audio(path))
        path.unlink()
    return audios[0] if len(audios) == 1 else audios


def _text(array: np.ndarray) -> Any:
    from tensorboard import plugin_util

    from ..media.html import Html
    from ..media.table import Table

    strings = np.vectorize(
        lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b), otypes=[object]
    )(array)
    if strings.ndim == 2:
        columns = [str(i) for i in range(strings.shape[1])]
        return Table(columns=columns, data=[list(row) for row in strings])
    texts = [str(s) for s in strings.reshape(-1)]
    html = "".join(f"<div>{plugin_util.markdown_to_safe_html(t)}</div>" for t in texts)
    return Html(html)


def _hparams(content: bytes) -> dict[str, Any]:
    from tensorboard.plugins.hparams import metadata

    info = metadata.parse_session_start_info_plugin_data(content)
    params: dict[str, Any] = {}
    for name, value in info.hparams.items():
        kind = value.WhichOneof("kind")
        if kind == "number_value":
            number = value.number_value
            params[name] = int(number) if number.is_integer() else number
        elif kind == "string_value":
            params[name] = value.string_value
        elif kind == "bool_value":
            params[name] = value.bool_value
    return params


def _loader(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    return lambda: function(*args)


def read_run(folder: Path, logdir: Path, scratch: Path) -> SourceRun:
    """Read one run folder's event files (not its subfolders') into a :class:`SourceRun`."""
    from tensorboard.util import tensor_util

    _, pea = _tensorboard()
    relative = folder.relative_to(logdir).as_posix()
    name = logdir.resolve().name if relative == "." else relative
    run = SourceRun(name=name, source="tensorboard", path=folder)
    run.files = _event_files(folder)
    accumulator = pea.EventAccumulator(str(folder), size_guidance={pea.TENSORS: 0})
    accumulator.Reload()
    tags = accumulator.Tags()
    if tags.get("graph"):
        run.notes.append("the model graph (TensorBoard's Graphs tab)")
    for tag in tags.get("tensors", []):
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        events = accumulator.Tensors(tag)
        key = safe_key(tag)
        if plugin == "hparams":
            if tag == HPARAMS_TAG_PREFIX + "session_start_info":
                content = accumulator.SummaryMetadata(tag).plugin_data.content
                run.params.update(_hparams(content))
            continue
        for event in events:
            array = tensor_util.make_ndarray(event.tensor_proto)
            step = int(event.step)
            if plugin == "scalars":
                run.items.append(SourceItem(step, key, METRIC, _loader(_number, array)))
            elif plugin == "images":
                count = max(array.size - 2, 0)
                run.items.append(SourceItem(step, key, "image", _loader(_images, array), count))
            elif plugin == "histograms":
                run.items.append(
                    SourceItem(step, key, "histogram", _loader(histogram_from_buckets, array))
                )
            elif plugin == "audio":
                count = array.shape[0] if array.ndim == 2 else array.size
                run.items.append(
                    SourceItem(step, key, "audio", _loader(_audio, array, scratch), count)
                )
            elif plugin == "text":
                kind = "table" if array.ndim == 2 else "html"
                run.items.append(SourceItem(step, key, kind, _loader(_text, array)))
            else:
                run.notes.append(f"{tag!r}: TensorBoard plugin {plugin!r} has no dvcstage kind")
                break
    return run


def _only_hparams(run: SourceRun) -> bool:
    return bool(run.params) and all(item.kind == METRIC for item in run.items)


def read_logdir(logdir: Path, scratch: Path) -> list[SourceRun]:
    """Every run under ``logdir``; ``add_hparams`` subfolders merged into their parent run."""
    folders = find_runs(logdir)
    runs = {folder: read_run(folder, logdir, scratch) for folder in folders}
    for folder, run in list(runs.items()):
        parent = runs.get(folder.parent)
        if parent is None or folder == logdir or not _only_hparams(run):
            continue
        parent.params.update(run.params)
        for item in run.sorted_items():
            parent.summary[item.key] = item.load()
        parent.files.extend(run.files)
        parent.notes.extend(run.notes)
        del runs[folder]
    return list(runs.values())


def read_tensorboard(logdir: Path) -> tuple[list[SourceRun], tempfile.TemporaryDirectory[str]]:
    """The runs under ``logdir`` and a scratch folder the caller removes when done."""
    scratch = tempfile.TemporaryDirectory(prefix="dvcstage-import-")
    try:
        return read_logdir(logdir, Path(scratch.name)), scratch
    except BaseException:
        scratch.cleanup()
        raise
