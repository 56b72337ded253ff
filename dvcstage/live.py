"""``dvcstage.Live``: DVCLive's ``Live`` with rich media, written by a writer process."""

from __future__ import annotations

import atexit
import io
import json
import logging
import operator
import os
import shutil
import time
import weakref
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import dvclive
import numpy as np
from dvclive import env as dvclive_env
from dvclive.dvc import _find_dvc_root, find_overlapping_stage
from dvclive.live import Live as DvcLive
from dvclive.plots.image import Image as DvcLiveImage
from dvclive.plots.metric import Metric
from dvclive.plots.utils import NumpyEncoder

from .atomic import TEMP_MARK, SwapFile, remove_stale_temporaries, write_text_atomic
from .dvcyaml import desired_dvcyaml, write_dvcyaml
from .empty_repo import init_dvc as init_dvc_tolerating_no_commit
from .errors import (
    InvalidMediaNameError,
    InvalidMediaTypeError,
    InvalidMediaValueError,
    MediaWriteError,
)
from .histogram_views import VIEWS_FOLDER, rebuild_views
from .index import INDEX_FILE, index_line, repair_torn_tail
from .item_writer import ItemWriter
from .jobs import FinishInline, LinkPreviews, PlainImage, WriteMedia
from .journal import SESSIONS_FOLDER, SPARES_FOLDER
from .media.audio import check_clip_budget, count_clips
from .media.base import IMAGES_FOLDER, MEDIA_FOLDER, PREVIEWS_FOLDER, Media, MediaSlot
from .media.boxes import check_annotations
from .media.histogram import HISTOGRAMS_FOLDER
from .media.image import FORMAT_MAX_SIDE, Image, check_format_limits
from .media.preview import DRAWN_SUFFIX
from .names import (
    check_image_name,
    check_image_text,
    check_relative_name,
    key_and_step_of,
    key_and_step_of_text,
)
from .plot_templates import install_templates, list_templates
from .processes import process_alive
from .resume import prune_rows_from
from .sessions import discard_sessions, finish_sessions, remove_empty_folders
from .summary_json import summary_text
from .writer import DEFAULT_STALL_SECONDS, MediaWriter, private_folder

logger = logging.getLogger("dvcstage")

LOG_VALUE_HELP = (
    "a metric (int, float, str or NumPy scalar), a media object (dvcstage.Image, Histogram, "
    "Audio, Video, Table, Html, Object3D, Molecule), a list of media objects, or a dict of "
    "these (keys joined with '/')"
)
#: Images this small are also written before ``log_image`` returns, as DVCLive writes every
#: image: encoding one costs about 0.1 ms, and code written for DVCLive may read it back.
INLINE_IMAGE_PIXELS = 64 * 64
#: Seconds the interpreter's exit waits for a writer that makes no progress (a stuck disk).
EXIT_STALL_SECONDS = 60.0


class SummaryEncoder(NumpyEncoder):
    """DVCLive's JSON encoder, plus media objects that offer ``to_summary()`` (histograms)."""

    def default(self, o: Any) -> Any:
        to_summary = getattr(o, "to_summary", None)
        if callable(to_summary):
            return to_summary()
        return super().default(o)


class _LoggedImage(DvcLiveImage):
    """DVCLive's record of a logged image (``Live._images``), for DVC Studio's live updates
    and DVCLive's ``make_dvcyaml``: where the file DVC draws is, and the step it was logged at.
    The file itself is written by the writer process, never by :meth:`dump`."""

    def __init__(self, name: str, output_folder: str, drawn: str, step: int) -> None:
        # DVCLive's Data.__init__ makes a path object of the folder: done when asked for.
        self.name = name
        self._plots_dir = output_folder
        self.drawn = drawn
        self._step = step

    @property
    def output_folder(self) -> Path:  # type: ignore[override]
        return Path(self._plots_dir) / self.subfolder

    @property
    def output_path(self) -> Path:
        return Path(self.drawn)

    def dump(self, val: Any, **kwargs: Any) -> None:
        raise NotImplementedError("dvcstage writes images in its writer process")


class _Metric(Metric):
    """DVCLive's metric series, appending each row with one ``write`` (DVCLive opens the file
    through ``csv`` and checks its folder on every row). Rows are DVCLive's, byte for byte."""

    _path: Path | None = None
    _file: str | None = None

    @property
    def output_path(self) -> Path:
        if self._path is None:
            self._path = super().output_path  # makes the folder
        elif not self._path.parent.is_dir():  # removed meanwhile (a new run's cleanup)
            self._path.parent.mkdir(parents=True, exist_ok=True)
        return self._path

    def dump(self, val: Any, **kwargs: Any) -> None:
        text = _tsv_field(val)
        if text is None:  # quoting or a NumPy scalar: DVCLive's csv writer
            super().dump(val, **kwargs)
            return
        timestamp = kwargs.get("timestamp", False)
        row = f"{self.step}\t{text}{os.linesep}"
        if timestamp:
            row = f"{int(time.time() * 1000)}\t{row}"
        if self._file is None:
            self._file = os.fspath(self.output_path)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            fd = os.open(self._file, flags, 0o666)
        except FileNotFoundError:  # the folder was removed meanwhile
            fd = os.open(self.output_path, flags, 0o666)
        try:
            if os.fstat(fd).st_size == 0:  # DVCLive's header first
                column = self.name.rpartition("/")[2]  # os.path.basename (POSIX names)
                header = f"step\t{column}{os.linesep}"
                row = ("timestamp\t" if timestamp else "") + header + row
            os.write(fd, row.encode("utf-8"))
        finally:
            os.close(fd)


def _tsv_field(value: Any) -> str | None:
    """``value`` as DVCLive's csv writer puts it in a row (``repr`` of a float, ``str`` of
    anything else), or ``None`` when the writer would quote it or its type is not plain."""
    kind = type(value)
    if kind is float:
        return float.__repr__(value)
    if kind is int or kind is bool:
        return str(value)
    if kind is str and not any(c in value for c in '\t"\r\n'):
        return str(value)
    return None


def _finish_at_exit(ref: weakref.ReferenceType[Live]) -> None:
    """At interpreter exit, leave what ``end()`` would leave: media written, dvc.yaml and
    metrics.json current. Bounded: a writer without progress is given up with a message."""
    live = ref()
    if live is None or live._ended:
        return
    try:
        live._finish_files(EXIT_STALL_SECONDS)
    except MediaWriteError as exc:  # at exit there is no caller left to raise to
        logger.error("dvcstage: %s", exc)
    except Exception:  # an exit hook must not hide the program's own outcome
        logger.exception("dvcstage: could not finish the run's files at exit")


class Live(DvcLive):
    """A drop-in :class:`dvclive.Live` that also logs rich media.

    Images with boxes, masks and captions (:meth:`log_image`), and W&B's media kinds through
    :meth:`log` or the ``log_<kind>`` methods: histograms, audio, video, tables, HTML, 3D
    objects and molecules.

    Everything DVCLive does keeps working, and DVCLive's files are DVCLive's: after
    :meth:`next_step` returns, ``metrics.json``, the metric rows, ``dvc.yaml`` and the step
    signal are on disk. Media calls validate on the calling thread, append the item to a
    journal on disk and return; from then on the item survives this process being killed.
    A writer process encodes and writes the files atomically. :meth:`flush` waits for it;
    :meth:`end` (or leaving the ``with`` block, or the interpreter exiting) does.

    Extra keyword arguments:
        cache_media: cache ``<dir>/media`` (audio, video, tables, ...) with DVC at
            :meth:`end`, as ``cache_images`` does for images; defaults to ``cache_images``.
            Inside ``dvc exp run`` the stage's ``outs`` own the folders instead.
        writer_threads: encoding threads of the writer process (default: one per core,
            at most 4).
        max_pending_mb: journal not yet written (copied pixels, encoded later) beyond which
            logging calls wait for the writer process (default 512 MiB).
        previews: draw boxes, masks and captions into the images ``dvc plots`` and DVC
            Studio show (``plots/previews/``, listed in ``dvc.yaml`` once an image has
            overlays); ``False`` shows them bare there. The panel always draws them itself.
    """

    def __init__(
        self,
        dir: str = "dvclive",
        resume: bool = False,
        report: str | None = None,
        save_dvc_exp: bool = True,
        dvcyaml: str | bool | None = "dvc.yaml",
        cache_images: bool = False,
        exp_name: str | None = None,
        exp_message: str | None = None,
        monitor_system: bool = False,
        *,
        cache_media: bool | None = None,
        writer_threads: int | None = None,
        max_pending_mb: float = 512,
        previews: bool = True,
    ) -> None:
        # Set before DVCLive's __init__, which calls the _init_* hooks overridden below.
        self._root: Path = Path(dir).absolute()  # a later chdir changes nothing
        # Strings for every logged image (``_drawn``): no path objects on the logging thread.
        self._images_dir = str(self._root / IMAGES_FOLDER)
        self._previews_dir = str(self._root / PREVIEWS_FOLDER)
        # What items logged so far occupy (run-relative): a stem's main file ("<stem>.*" when
        # its suffix is the kind's choice), exact files, and the folders they are in.
        self._stems: dict[str, str] = {}
        self._files: set[str] = set()
        self._dirs: set[str] = set()
        self._media_kinds: set[str] = set()
        self._has_images = False
        self._previews = False  # dvc.yaml lists plots/previews (an image had overlays)
        self._draw_previews = bool(previews)
        self._histogram_series: dict[str, str] = {}  # key (with list item) -> run-relative TSV
        self._audio_clips: tuple[int, int] = (0, 0)  # (step, audio clips logged at it)
        self._dvcyaml_signature: tuple[Any, ...] | None = None
        self._writer: MediaWriter | None = None
        self._swap_files: dict[str, SwapFile] = {}
        self._inline: ItemWriter | None = None
        self._signal_file: str | None = None
        self._writer_threads = writer_threads
        self._templates_checked = False
        self._resumed = False
        self._ended = False
        self._cache_media = cache_images if cache_media is None else cache_media
        self._max_pending_bytes = int(max_pending_mb * 1024 * 1024)
        super().__init__(
            dir=dir,
            resume=resume,
            report=report,  # type: ignore[arg-type]
            save_dvc_exp=save_dvc_exp,
            dvcyaml=dvcyaml,
            cache_images=cache_images,
            exp_name=exp_name,
            exp_message=exp_message,
            monitor_system=monitor_system,
        )
        atexit.register(_finish_at_exit, weakref.ref(self))

    # -- paths ------------------------------------------------------------------------------

    @property
    def index_file(self) -> str:
        """The run's media index (``<dir>/media.jsonl``)."""
        return str(self._root / INDEX_FILE)

    @property
    def images_dir(self) -> str:
        """Where images, their sidecars and masks go (``<dir>/plots/images``)."""
        return self._images_dir

    @property
    def previews_dir(self) -> str:
        """What ``dvc plots`` shows of the images, overlays drawn in (``<dir>/plots/previews``)."""
        return self._previews_dir

    @property
    def media_dir(self) -> str:
        """Where the other media kinds go (``<dir>/media/<kind>/<key>/<step>.*``)."""
        return str(self._root / MEDIA_FOLDER)

    @property
    def histograms_dir(self) -> str:
        """Histogram series, one append-only TSV per key (``<dir>/plots/histograms``)."""
        return str(self._root / HISTOGRAMS_FOLDER)

    # -- DVCLive hooks ----------------------------------------------------------------------

    def _own_sessions(self) -> set[Path]:
        return {self._writer.session} if self._writer is not None else set()

    def _init_dvc(self) -> None:
        # A repository without commits: DVCLive raises SCMError (see dvcstage/empty_repo.py).
        init_dvc_tolerating_no_commit(self, super()._init_dvc)

    def _init_cleanup(self) -> None:
        discard_sessions(self._root, self._own_sessions())
        super()._init_cleanup()
        Path(self.index_file).unlink(missing_ok=True)
        shutil.rmtree(self.media_dir, ignore_errors=True)
        shutil.rmtree(self.previews_dir, ignore_errors=True)
        shutil.rmtree(self.histograms_dir, ignore_errors=True)
        shutil.rmtree(self._root / VIEWS_FOLDER, ignore_errors=True)
        self._remove_stale_merges()

    def _remove_stale_merges(self) -> None:
        """Scratch copies of dvc.yaml that a run killed mid-merge left behind.

        A scratch copy is named after the process merging (``.dvc.yaml.<pid>-<token>``):
        those of this process or of another one still running are left alone.
        """
        dvc_file = Path(self.dvc_file)
        for scratch in dvc_file.parent.glob(f".{dvc_file.name}.*{TEMP_MARK}"):
            owner = scratch.name[len(dvc_file.name) + 2 :].split("-", 1)[0]
            if owner.isdigit() and (int(owner) == os.getpid() or process_alive(int(owner))):
                continue
            scratch.unlink(missing_ok=True)

    def _init_resume(self) -> None:
        """Resume where the killed or ended run stopped.

        First every item an earlier process journaled is written (its writer may still be
        running, or have died too), so the folder holds everything that was logged. Then
        DVCLive's rule: the run continues after the last step whose ``next_step()`` returned
        (``metrics.json``, written when every item of the step was journaled). Rows of later
        steps (a step cut short) are dropped from metric and histogram series, so the steps
        logged again do not appear twice.
        """
        report = finish_sessions(self._root, self._own_sessions())
        if not report.running:
            remove_stale_temporaries(self._root)
        repair_torn_tail(self.index_file)
        self._remove_stale_merges()
        super()._init_resume()
        self._resumed = True
        latest = self.read_latest()
        if isinstance(latest.get("step"), int):
            self._step = latest["step"] + 1  # DVCLive resumes at 0 after a completed step 0
            cut = prune_rows_from(self._root / "plots", self._step)
            for series in cut:
                if series.is_relative_to(self._root / HISTOGRAMS_FOLDER):
                    rebuild_views(
                        self._root, PurePosixPath(series.relative_to(self._root).as_posix())
                    )
        self._restore_state()

    def _restore_state(self) -> None:
        """What dvc.yaml needs to know of the media already in the folder."""
        images = Path(self.images_dir)
        self._has_images = images.is_dir() and any(images.iterdir())
        self._previews = Path(self.previews_dir).is_dir()
        series_root = Path(self.histograms_dir)
        for series in sorted(series_root.rglob("*.tsv")) if series_root.is_dir() else ():
            rel = series.relative_to(self._root).as_posix()
            key = series.relative_to(series_root).with_suffix("").as_posix()
            self._histogram_series[key.replace(".items/", "/")] = rel
        media = Path(self.media_dir)
        if media.is_dir():
            self._media_kinds.update(p.name for p in media.iterdir() if p.is_dir())
        if self._histogram_series:
            self._media_kinds.add("histogram")

    def _ensure_writer(self) -> MediaWriter:
        if self._writer is not None and self._writer.forked:
            self._writer = None  # after fork, the parent's writer is not the child's
        if self._writer is None:
            self._writer = MediaWriter(
                self._root,
                workers=self._writer_threads,
                max_pending_bytes=self._max_pending_bytes,
            )
        return self._writer

    def _raise_writer_errors(self) -> None:
        if self._writer is not None:
            self._writer.raise_errors()

    def _swap_file(self, path: str) -> SwapFile:
        """The atomic rewriter of a file written on every step (its spares in this run)."""
        found = self._swap_files.get(path)
        if found is None:
            spares = private_folder(self._root, SPARES_FOLDER) / f"{os.getpid()}-{id(self):x}"
            found = self._swap_files[path] = SwapFile(path, spares)
        return found

    def _close_swap_files(self) -> None:
        for swap in self._swap_files.values():
            swap.close()
        if self._swap_files:
            next(iter(self._swap_files.values())).spare_dir.rmdir()
        self._swap_files.clear()
        remove_empty_folders(self._root)

    def make_summary(self) -> None:
        """Write ``metrics.json`` atomically (DVCLive rewrites it in place)."""
        if self._step is not None:
            self.summary["step"] = self.step
        text = summary_text(self.summary)
        if text is None:  # NumPy scalars, media objects: the encoder's ``default`` hook
            text = json.dumps(self.summary, indent=4, cls=SummaryEncoder)
        self._swap_file(self.metrics_file).write((text + "\n").encode("utf-8"))

    def _dump_params(self) -> None:
        from dvclive.serialize import get_yaml
        from ruamel.yaml.representer import RepresenterError

        buffer = io.StringIO()
        try:
            get_yaml().dump(self._params, buffer)
        except RepresenterError as exc:
            raise dvclive.error.InvalidParameterTypeError(exc.args[0]) from exc
        write_text_atomic(self.params_file, buffer.getvalue())

    def _dvcyaml_state(self) -> tuple[Any, ...]:
        """What dvc.yaml's entries depend on, cheap to compare on every step."""
        return (
            self.dvc_file,
            bool(self._params),
            bool(self._metrics or self.summary),
            tuple(self._metrics),
            tuple((name, id(plot)) for name, plot in self._plots.items()),
            self._has_images,
            tuple(self._histogram_series.items()),
            json.dumps(self._artifacts, sort_keys=True, default=str) if self._artifacts else "",
        )

    def make_dvcyaml(self) -> None:
        """Write ``dvc.yaml`` when its entries changed (DVCLive rewrites it every step).

        Entries are per folder or per series, never per image, so they change only when a
        new kind of thing is logged. A broken ``dvc.yaml`` is warned about, as DVCLive does.
        """
        state = self._dvcyaml_state()
        if state == self._dvcyaml_signature:
            return
        content = desired_dvcyaml(self)
        self._ensure_templates(content)
        if write_dvcyaml(self.dvc_file, self.dir, content, warn=logger.warning):
            logger.debug("dvcstage: wrote %s", self.dvc_file)
        self._dvcyaml_signature = state

    def _ensure_templates(self, content: dict[str, Any]) -> None:
        """Install dvcstage's plot templates into ``.dvc/plots/`` once, when an entry uses one.

        DVC finds a plot's ``template`` by name there. Templates already present are left
        as they are; new files are included in the experiment that ``end()`` saves.
        """
        if self._templates_checked or self._dvc_repo is None:
            return
        names = set(list_templates())
        used = any(
            isinstance(config, dict) and config.get("template") in names
            for entry in content.get("plots", [])
            if isinstance(entry, dict)
            for config in entry.values()
        )
        if not used:
            return
        self._templates_checked = True
        for path in install_templates(self._dvc_repo.dvc_dir):
            self._include_untracked.append(str(path))

    def cache(self, path: Any) -> None:
        """DVCLive's ``cache``, unless nothing can or should track ``path``.

        Without a DVC repository there is nothing to track with. Outside a pipeline, a folder
        that a stage lists in its ``outs`` is left to that stage (``dvc add`` would fail).
        """
        if self._dvc_repo is None:
            return
        if not self._inside_dvc_pipeline:
            stage = find_overlapping_stage(self._dvc_repo, path)
            if stage is not None and stage.cmd:
                logger.info(
                    "dvcstage: %s is an output of stage %s; not adding it with `dvc add`",
                    path,
                    stage.addressing,
                )
                return
        super().cache(path)

    def make_report(self) -> None:
        if self._report_mode is not None:
            self.flush()  # the report reads the images from disk
        super().make_report()

    def post_data_to_studio(self) -> None:
        # DVCLive re-reads every metric file on each step even when Studio is off.
        if "data" in self._studio_events_to_skip:
            return
        super().post_data_to_studio()

    def _get_live_data(self) -> dict[str, Any] | None:
        """DVCLive's Studio update; its images are read once the writer has written them."""
        data = super()._get_live_data()
        if data is not None and data.get("images") and self._writer is not None:
            data["images"] = _WrittenImages(data["images"], self._writer)
        return data

    @property
    def step(self) -> int:
        """The current step, as DVCLive's."""
        return self._step or 0

    @step.setter
    def step(self, value: int) -> None:
        # DVCLive stores any value; an integer of another type (``np.int64`` from a NumPy
        # loop) becomes an ``int`` here, so that every file and index line holds a JSON
        # integer (a float step stays a float, as in DVCLive).
        if not isinstance(value, (int, float)) and hasattr(value, "__index__"):
            value = operator.index(value)
        elif isinstance(value, int) and type(value) is not int and not isinstance(value, bool):
            value = int(value)
        DvcLive.step.fset(self, value)  # type: ignore[attr-defined]

    def next_step(self) -> None:
        """Advance the step, as DVCLive does; raises a pending background write error.

        When it returns, ``metrics.json``, ``dvc.yaml`` and the step signal are on disk,
        and every item logged at the step is in the journal.
        """
        self._raise_writer_errors()
        if self._step is None:
            self._step = 0
        self.sync()
        self._mark_step_completed()
        self.step += 1

    def _mark_step_completed(self) -> None:
        """DVCLive's signal to the DVC VS Code extension, written atomically without fsync.

        DVCLive looks up the DVC root and fsyncs this file on every step (about 4 ms here);
        the extension only needs to see a whole file, which a rename guarantees.
        """
        if self._signal_file is None:
            root = os.getenv(dvclive_env.DVC_ROOT) or _find_dvc_root()
            signal = Path(root or ".", ".dvc", "tmp", "exps", "run", "DVCLIVE_STEP_COMPLETED")
            self._signal_file = str(signal.absolute()) if root else ""
        if self._signal_file:
            # json.dumps({"pid": ..., "step": ...}, sort_keys=True), as DVCLive writes it
            contents = f'{{"pid": {os.getpid()}, "step": {int(self.step)}}}'
            self._swap_file(self._signal_file).write(contents.encode())

    def flush(self) -> None:
        """Wait until every media file logged so far is written; raise any write error."""
        if self._writer is not None and not self._writer.forked:
            self._writer.flush()

    def _close_writer(self, stall_seconds: float = DEFAULT_STALL_SECONDS) -> MediaWriteError | None:
        """Let the writer write everything logged; the write error it held, if any."""
        writer, self._writer = self._writer, None
        if writer is None or writer.forked:
            return None
        writer.stall_seconds = stall_seconds
        try:
            writer.close()
        except MediaWriteError as exc:
            return exc
        return None

    def _write_end_files(self) -> None:
        """``metrics.json`` and ``dvc.yaml`` as ``end()`` leaves them."""
        if "step" in self.summary:
            self.step = self.summary["step"]
        self.make_summary()
        if self._dvcyaml:
            self._dvcyaml_signature = None
            self.make_dvcyaml()

    def _finish_files(self, stall_seconds: float = DEFAULT_STALL_SECONDS) -> None:
        """What ``end()`` leaves on disk, without saving an experiment (at exit)."""
        failure = self._close_writer(stall_seconds)
        try:
            self._write_end_files()
        except OSError as exc:
            if failure is None:
                raise
            raise _after(failure, exc) from exc
        finally:
            self._close_swap_files()
        if failure is not None:
            raise failure

    def end(self) -> None:
        """Write the media, cache them if asked, then finish as DVCLive does.

        Raises the first background write error after everything else is done (the files
        that could be written are written); an error DVCLive's own ending meets afterwards
        (a full disk) is named in it rather than hiding it.
        """
        if self._inside_with:
            return
        failure = self._close_writer()
        cached_images = self._cache_images
        try:
            self._write_end_files()
            if self._has_images and self._cache_images:
                self.cache(Path(self.images_dir))
                if Path(self.previews_dir).is_dir():
                    self.cache(Path(self.previews_dir))
            if self._cache_media and Path(self.media_dir).is_dir():
                self.cache(Path(self.media_dir))
            self._cache_images = False  # cached above
            super().end()
        except OSError as exc:
            if failure is None:
                raise
            raise _after(failure, exc) from exc
        finally:
            self._ended = True
            self._cache_images = cached_images
            self._close_swap_files()
        if failure is not None:
            raise failure

    # -- DVCLive's own names ----------------------------------------------------------------

    def log_metric(
        self, name: str, val: int | float | str, timestamp: bool = False, plot: bool = True
    ) -> None:
        """DVCLive's ``log_metric``; ``name`` is checked like a media name (it names a file)."""
        if name not in self._metrics:
            check_relative_name(name, "name", "metric")
            self._metrics[name] = _Metric(name, self.plots_dir)
        super().log_metric(name, val, timestamp=timestamp, plot=plot)

    def log_plot(self, name: str, datapoints: Any, *args: Any, **kwargs: Any) -> None:
        """DVCLive's ``log_plot``; ``name`` is checked like a media name (it names a file)."""
        check_relative_name(name, "name", "plot")
        super().log_plot(name, datapoints, *args, **kwargs)

    def log_sklearn_plot(  # type: ignore[override]
        self, kind: str, labels: Any, predictions: Any, name: str | None = None, **kwargs: Any
    ) -> Any:
        """DVCLive's ``log_sklearn_plot``; ``name`` is checked like a media name."""
        if name is not None:
            check_relative_name(name, "name", "plot")
        return super().log_sklearn_plot(kind, labels, predictions, name=name, **kwargs)

    def log_param(self, name: str, val: Any) -> None:
        """DVCLive's ``log_param``; ``name`` must be a string without control characters."""
        if not isinstance(name, str) or not name or any(ord(c) < 32 or ord(c) == 127 for c in name):
            raise InvalidMediaNameError(
                "name",
                name,
                "is not a usable parameter name",
                "a non-empty str without control characters",
                "parameter",
            )
        super().log_param(name, val)

    # -- media ------------------------------------------------------------------------------

    def log_image(
        self,
        name: str,
        val: Any,
        annotations: dict[str, Any] | None = None,
        *,
        boxes: dict[str, Any] | None = None,
        masks: dict[str, Any] | None = None,
        caption: str | None = None,
    ) -> None:
        """Save an image to ``{plots_dir}/images/{name}``, with optional overlays.

        Args:
            name: relative name ending in .png, .jpg, .jpeg or .gif; folders are allowed
                (``f"pred/{live.step}.png"`` is the slider pattern). A path ``val`` gives
                its suffix to a ``name`` without one.
            val: a NumPy array or array-like (torch CxHxW too), ``PIL.Image``, matplotlib
                ``Figure``, a path to an image file, or a :class:`dvcstage.Image`.
            annotations: DVCLive's boxes: ``{"boxes", "labels", "scores", "box_format"}``
                with ``box_format`` one of tlbr, ltrb, tlhw, xywh.
            boxes: W&B's box groups ``{group: {"box_data": [...], "class_labels": {...}}}``.
            masks: W&B's masks ``{name: {"mask_data": array | "path": file,
                "class_labels": {...}}}``, each the image's height x width.
            caption: a caption stored in the sidecar.

        Raises:
            InvalidDataTypeError: ``val`` has an unsupported type (as in DVCLive).
            InvalidMediaNameError, InvalidMediaValueError, InvalidAnnotationError: bad input;
                nothing is written.
            MediaWriteError: an earlier background write failed.
        """
        self._raise_writer_errors()
        plain = annotations is None and boxes is None and masks is None and caption is None
        if plain and self._log_plain_pixels(name, val):
            return
        if isinstance(val, Image):
            image = val.with_overlays(caption=caption, boxes=boxes, masks=masks)
        else:
            # No copy: the journal takes the pixels before this call returns.
            image = Image.from_value(val, caption=caption, boxes=boxes, masks=masks, copy=False)
        path = check_image_name(name, image.source.file_suffix)
        check_format_limits(image, path.suffix)
        image = image.logged_as(path.suffix, check_annotations(annotations))
        key, _ = key_and_step_of(path)
        self._log_media(MediaSlot(IMAGES_FOLDER / path.with_suffix(""), key, self.step), image)

    def _log_plain_pixels(self, name: Any, val: Any) -> bool:
        """``log_image`` of uint8 pixels without overlays (the common call), journaled without
        building media objects; the same checks, files and errors as the general path.

        Returns False, having done nothing, for any other ``val`` (the general path takes it).
        """
        if type(val) is not np.ndarray or val.dtype != np.uint8 or not val.flags.c_contiguous:
            return False
        shape = val.shape
        if not (len(shape) == 2 or (len(shape) == 3 and shape[2] in (3, 4))):
            return False
        height, width = shape[0], shape[1]
        step = self.step
        if height * width <= INLINE_IMAGE_PIXELS or type(step) is not int:
            return False  # written before returning, or a step set to another type
        text = check_image_text(name)
        suffix = text[text.rfind(".") :]
        if max(height, width) > FORMAT_MAX_SIDE[suffix]:
            return False  # the general path refuses it
        key, _ = key_and_step_of_text(text)
        stem = f"{IMAGES_FOLDER}/{text[: -len(suffix)]}"
        main = stem + suffix
        self._claim_files(stem, main, True, key)
        writer = self._ensure_writer()
        record = PlainImage(stem, key, step, suffix, val, self._previews, self._draw_previews)
        writer.submit(record, stem, f"image {key!r} at step {step}", val.nbytes)
        self._record_files(stem, main)
        self._media_kinds.add("image")
        self._has_images = True
        self._images[text] = _LoggedImage(text, self.plots_dir, self._drawn(text), step)
        return True

    def _claim(self, slot: MediaSlot, media: Media) -> str:
        """Check that the item's files fit beside what was logged; returns its main file.

        Refused: an image name that shares its sidecar with another suffix (``a.png`` then
        ``a.jpg``), a name inside a file logged before (``f.png`` then ``f.png/1.png``) and a
        name that is a folder of earlier files. Checked against this process's items, and in
        a resumed run against the folder.
        """
        image = isinstance(media, Image)
        stem = str(slot.stem)
        main = stem + (media.suffix if isinstance(media, Image) else ".*")
        self._claim_files(stem, main, image, slot.key)
        return main

    def _claim_files(self, stem: str, main: str, image: bool, key: str) -> None:
        """:meth:`_claim` for an item's ``stem`` and ``main`` file (``<stem>.*`` for kinds
        other than images)."""
        earlier = self._stems.get(stem)
        if earlier is not None and earlier != main and image and not earlier.endswith(".*"):
            raise InvalidMediaNameError(
                "name",
                _shown(main),
                f"shares its sidecar and masks folder with {_shown(earlier)!r} logged before",
                "one suffix per name within a run",
            )
        conflict = next((p for p in _parents(stem) if self._is_file(p)), None)
        sidecar = f"{stem}.json"
        if conflict is None and (main in self._dirs or sidecar in self._dirs):
            conflict = main if main in self._dirs else sidecar
        if conflict is None and self._resumed:
            conflict = self._conflict_on_disk(PurePosixPath(stem), main)
        if conflict is not None:
            raise InvalidMediaNameError(
                "name" if image else "data key",
                _shown(main) if image else key,
                f"would put a file where {_shown(conflict)!r} is (a file used as a folder, "
                "or a folder used as a file)",
                "names that keep files and folders apart",
            )

    def _is_file(self, path: str) -> bool:
        """Whether an item logged before has a file at ``path``."""
        if path in self._files:
            return True
        folder, _, name = path.rpartition("/")
        base = name.split(".", 1)[0]
        stem = f"{folder}/{base}" if folder else base
        return name != base and self._stems.get(stem, "").endswith(".*")

    def _conflict_on_disk(self, stem: PurePosixPath, main: str) -> str | None:
        """A resumed run: a file on disk where one of the item's folders would go, or a
        folder where its file would go."""
        for parent in _parents(str(stem)):
            if (self._root / parent).is_file():
                return parent
        for path in (main, f"{stem}.json"):
            if not path.endswith(".*") and (self._root / path).is_dir():
                return path
        return None

    def _record(self, slot: MediaSlot, main: str) -> None:
        self._record_files(str(slot.stem), main)

    def _record_files(self, stem: str, main: str) -> None:
        self._stems[stem] = main
        self._files.add(f"{stem}.json")
        if not main.endswith(".*"):
            self._files.add(main)
        self._dirs.update(_parents(stem))

    def _log_media(self, slot: MediaSlot, media: Media) -> None:
        """Journal ``media`` for ``slot`` (written by the writer process)."""
        main = self._claim(slot, media)
        media = media.snapshot()
        shard = media.shard(slot)
        writer = self._ensure_writer()
        if isinstance(media, Image) and media.has_overlays and not self._previews:
            self._start_previews(writer)
        job = WriteMedia(media, slot, shard, preview=self._previews, draw=self._draw_previews)
        inline = isinstance(media, Image) and media.writes_inline(INLINE_IMAGE_PIXELS)
        # Written now unless an older write of these files is still on its way.
        line = self._write_inline(job) if inline and writer.idle_for(shard) else None
        if line is not None:  # the writer adds the preview and the index line
            writer.submit(FinishInline(job, line), shard, job.describe(), writes=False)
        else:
            writer.submit(job, shard, job.describe(), media.held_bytes)
        self._record(slot, main)
        self._media_kinds.add(media.kind)
        if isinstance(media, Image):
            self._has_images = True
            name = _shown(main)
            drawn = self._drawn(name, media.has_overlays)
            self._images[name] = _LoggedImage(name, self.plots_dir, drawn, slot.step)
        elif media.kind == "histogram":
            name = slot.key if slot.item is None else f"{slot.key}/{slot.item}"
            self._histogram_series[name] = shard

    def _drawn(self, name: str, overlays: bool = False) -> str:
        """The file DVC draws for the image ``name`` (its preview, or itself)."""
        if not self._previews:
            return f"{self._images_dir}/{name}"
        if overlays and self._draw_previews:  # preview_path's name: the suffix replaced
            return f"{self._previews_dir}/{name[: name.rfind('.')]}{DRAWN_SUFFIX}"
        return f"{self._previews_dir}/{name}"

    def _start_previews(self, writer: MediaWriter) -> None:
        """The first image with overlays: from now on DVC draws ``plots/previews``.

        Images logged before get their previews (links to them) once they are written.
        """
        self._previews = True
        if self._has_images:
            writer.submit(LinkPreviews(), "plots/previews", "previews of earlier images")
        for name, image in self._images.items():  # all without overlays, until now
            if isinstance(image, _LoggedImage):
                image.drawn = self._drawn(name)

    def _write_inline(self, job: WriteMedia) -> dict[str, Any] | None:
        """Write a small image's files now, as DVCLive would; returns its index line (the
        writer process appends it). ``None`` if that failed: the job then goes to the writer,
        which reports the error where every other write error is reported."""
        if self._inline is None:
            self._inline = ItemWriter(self._root, None)
        try:
            item = job.media.encode(job.slot)
            sizes = self._inline.write_item_files(item)
        except Exception:  # the writer tries again and reports it
            logger.debug("dvcstage: writing %s now failed; the writer tries", job.slot.stem)
            return None
        return index_line(item, sizes)

    def log(
        self,
        data: Mapping[str, Any],
        step: int | None = None,
        commit: bool = False,
    ) -> None:
        """Log several values at once, W&B style: ``live.log({"loss": 0.1, "pred": img})``.

        Numbers become metrics (:meth:`log_metric`); a :class:`dvcstage.Image` under key
        ``k`` is written to ``k/{step}.png`` (the slider pattern); a list of images to
        ``k.items/{i}/{step}.png``. Nested dicts are flattened with ``/``.

        Steps follow DVCLive: everything is logged at the current :attr:`step`, which
        :meth:`next_step` advances. W&B advances its step on every ``wandb.log``; pass
        ``commit=True`` to do that here (it calls :meth:`next_step` after logging), or
        ``step=N`` (N >= the current step) to jump to a step first. Everything is validated
        before anything is logged.
        """
        self._raise_writer_errors()
        if not isinstance(data, Mapping):
            raise InvalidMediaTypeError("data", data, "a dict of key -> value")
        if step is not None and (
            isinstance(step, bool) or not isinstance(step, int) or step < self.step
        ):
            raise InvalidMediaValueError(
                "step", f"{step!r} is not a step at or after {self.step}", "an int >= live.step"
            )
        at = self.step if step is None else step
        plan: list[tuple[str, Any]] = []
        self._plan_log(data, "", plan)
        slots: list[tuple[MediaSlot, Media]] = []
        for key, value in plan:
            if isinstance(value, list):
                slots.extend(
                    (MediaSlot.for_key(m.kind, key, at, i), m) for i, m in enumerate(value)
                )
            elif isinstance(value, Media):
                slots.append((MediaSlot.for_key(value.kind, key, at), value))
        for slot, media in slots:
            if isinstance(media, Image):
                check_format_limits(media, media.suffix)
            self._claim(slot, media)
        clips = count_clips(value for _, value in plan)
        if clips:  # the specification's limit: at most 100 clips per step
            before = self._audio_clips[1] if self._audio_clips[0] == at else 0
            check_clip_budget(before, clips)
            self._audio_clips = (at, before + clips)
        if step is not None:
            self.step = step
        for slot, media in slots:
            self._log_media(slot, media)
        for key, value in plan:
            if not isinstance(value, (list, Media)):
                self.log_metric(key, value)
        if commit:
            self.next_step()

    def _plan_log(self, data: Mapping[str, Any], prefix: str, plan: list[tuple[str, Any]]) -> None:
        for raw_key, value in data.items():
            if not isinstance(raw_key, str):
                raise InvalidMediaTypeError("data key", raw_key, "str keys")
            key = f"{prefix}{raw_key}"
            check_relative_name(key, "data key")
            if isinstance(value, Mapping):
                self._plan_log(value, f"{key}/", plan)
            elif isinstance(value, Media):
                plan.append((key, value))
            elif (
                isinstance(value, (list, tuple))
                and value
                and all(isinstance(v, Media) for v in value)
            ):
                plan.append((key, list(value)))
            elif Metric.could_log(value):
                if isinstance(value, int) and not isinstance(value, bool):
                    try:
                        float(value)  # DVCLive checks metrics with math.isnan
                    except OverflowError:
                        raise InvalidMediaValueError(
                            f"data[{key!r}]",
                            f"an integer of {len(str(value))} digits is beyond float range",
                            "a float",
                        ) from None
                plan.append((key, value))
            else:
                raise InvalidMediaTypeError(f"data[{key!r}]", value, LOG_VALUE_HELP)

    # -- one method per media kind (each is live.log({name: Kind(...)})) -------------------

    def log_histogram(
        self,
        name: str,
        values: Any = None,
        num_bins: int = 64,
        *,
        np_histogram: tuple[Any, Any] | None = None,
    ) -> None:
        """Append a histogram of ``values`` (or a given ``np_histogram``) to ``name``'s series.

        The series is ``plots/histograms/<name>.tsv`` (step, bin edges, count), which
        ``dvc plots`` templates draw as a heatmap over steps. Binning happens off this thread.
        """
        from .media.histogram import Histogram

        self.log({name: Histogram(values, np_histogram=np_histogram, num_bins=num_bins)})

    def log_audio(
        self, name: str, data: Any, sample_rate: int | None = None, caption: str | None = None
    ) -> None:
        """Log an audio clip (array with ``sample_rate``, or a wav/flac/mp3/ogg path)."""
        from .media.audio import Audio

        self.log({name: Audio(data, sample_rate=sample_rate, caption=caption)})

    def log_video(
        self,
        name: str,
        data: Any,
        fps: int = 4,
        format: str | None = None,
        caption: str | None = None,
    ) -> None:
        """Log a video (time x channels x height x width array, a path or a BytesIO)."""
        from .media.video import Video

        self.log({name: Video(data, caption=caption, fps=fps, format=format)})

    def log_html(self, name: str, data: Any, inject: bool = True) -> None:
        """Log HTML (a string, a path or a file object); shown sandboxed by the viewers."""
        from .media.html import Html

        self.log({name: Html(data, inject=inject)})

    def log_table(
        self,
        name: str,
        table: Any = None,
        *,
        columns: list[str] | None = None,
        data: list[list[Any]] | None = None,
        dataframe: Any = None,
    ) -> None:
        """Log a :class:`dvcstage.Table`, or build one from ``columns``/``data``/``dataframe``."""
        from .media.table import Table

        if table is None:
            table = Table(columns=columns, data=data, dataframe=dataframe)
        self.log({name: table})

    def log_object3d(self, name: str, data_or_path: Any, **kwargs: Any) -> None:
        """Log a 3D object: a mesh file, a point cloud array or a ``lidar/beta`` scene."""
        from .media.object3d import Object3D

        self.log({name: Object3D(data_or_path, **kwargs)})

    def log_molecule(
        self, name: str, data_or_path: Any, caption: str | None = None, **kwargs: Any
    ) -> None:
        """Log a molecule file (pdb, sdf, mol2, ...)."""
        from .media.molecule import Molecule

        self.log({name: Molecule(data_or_path, caption=caption, **kwargs)})


class _WrittenImages(list):  # type: ignore[type-arg]
    """DVCLive's list of images for a Studio update, handed over once they are written.

    DVCLive's Studio thread iterates it to read the files: it waits there for the writer,
    never on the training thread.
    """

    def __init__(self, images: list[Any], writer: MediaWriter) -> None:
        super().__init__(images)
        self._appended = writer.appended
        self._writer = writer

    def __iter__(self) -> Any:
        try:
            self._writer.wait_from_another_thread(self._appended)
        except MediaWriteError as exc:
            logger.warning("dvcstage: images for DVC Studio not written: %s", exc)
        return super().__iter__()


def _after(failure: MediaWriteError, exc: OSError) -> MediaWriteError:
    """The held write error, saying what failed after it (DVCLive's ending: a full disk)."""
    return MediaWriteError(f"{failure}; then ending the run failed: {exc}")


def _shown(path: str) -> str:
    """A run-relative image path as the user named it (without ``plots/images/``)."""
    return path.removeprefix(f"{IMAGES_FOLDER}/")


def _parents(path: str) -> list[str]:
    """``a/b/c`` -> ``["a", "a/b"]``."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


__all__ = ["LOG_VALUE_HELP", "SESSIONS_FOLDER", "Live"]
