"""``dvcstage.Live``: DVCLive's ``Live`` with rich media, written off the training thread."""

from __future__ import annotations

import atexit
import io
import json
import logging
import os
import shutil
import time
import weakref
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import dvclive
from dvclive import env as dvclive_env
from dvclive.dvc import _find_dvc_root, find_overlapping_stage
from dvclive.live import Live as DvcLive
from dvclive.plots.metric import Metric
from dvclive.plots.utils import NumpyEncoder

from .atomic import TEMP_MARK, remove_stale_temporaries, write_text_atomic
from .dvcyaml import DvcyamlTarget, desired_dvcyaml, write_dvcyaml
from .empty_repo import init_dvc as init_dvc_tolerating_no_commit
from .errors import (
    InvalidMediaNameError,
    InvalidMediaTypeError,
    InvalidMediaValueError,
    MediaWriteError,
)
from .histogram_views import VIEWS_FOLDER, HistogramViews
from .index import IMAGES_FOLDER, INDEX_FILE, MediaIndex, latest_items, read_index
from .media.audio import check_clip_budget, count_clips
from .media.base import MEDIA_FOLDER, EncodedItem, Media, MediaSlot
from .media.boxes import check_annotations
from .media.image import Image, encode_image
from .names import check_image_name, check_relative_name, key_and_step_of
from .plot_templates import install_templates, list_templates
from .writer import BackgroundWriter

logger = logging.getLogger("dvcstage")

LOG_VALUE_HELP = (
    "a metric (int, float, str or NumPy scalar), a media object (dvcstage.Image, Histogram, "
    "Audio, Video, Table, Html, Object3D, Molecule), a list of media objects, or a dict of "
    "these (keys joined with '/')"
)


class SummaryEncoder(NumpyEncoder):
    """DVCLive's JSON encoder, plus media objects that offer ``to_summary()`` (histograms)."""

    def default(self, o: Any) -> Any:
        to_summary = getattr(o, "to_summary", None)
        if callable(to_summary):
            return to_summary()
        return super().default(o)


def _flush_at_exit(ref: weakref.ReferenceType[Live]) -> None:
    live = ref()
    if live is not None and live._writer is not None:
        try:
            live._writer.close()
        except MediaWriteError as exc:  # at exit there is no caller left to raise to
            logger.error("dvcstage: %s", exc)


def _process_alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # it exists, owned by someone else (or we cannot tell: keep its file)
    return True


def _encode_with_views(encode: Callable[[], EncodedItem], views: HistogramViews) -> EncodedItem:
    """Encode a histogram and update its ``dvc plots`` views (on the series' writer thread)."""
    item = encode()
    views.add(item.step, item.files[0].data)
    return item


class Live(DvcLive):
    """A drop-in :class:`dvclive.Live` that also logs rich media.

    Images with boxes, masks and captions (:meth:`log_image`), and W&B's media kinds through
    :meth:`log` or the ``log_<kind>`` methods: histograms, audio, video, tables, HTML, 3D
    objects and molecules.

    Everything DVCLive does keeps working. Media calls validate on the calling thread and
    return at once; background threads encode and write the files atomically. Call
    :meth:`flush` to wait for them; :meth:`end` (or leaving the ``with`` block) does.

    Extra keyword arguments:
        cache_media: cache ``<dir>/media`` (audio, video, tables, ...) with DVC at
            :meth:`end`, as ``cache_images`` does for images; defaults to ``cache_images``.
            Inside ``dvc exp run`` the stage's ``outs`` own the folders instead.
        writer_threads: background writer threads (default: one per core, at most 4).
        max_pending_mb: memory the queued media may hold (their copied pixels) before
            logging calls wait for the writer threads (default 512 MiB).
        dvcyaml_interval: seconds between ``dvc.yaml`` rewrites that only add image entries
            (other changes are written at once, and :meth:`end` always writes).
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
        dvcyaml_interval: float = 10.0,
    ) -> None:
        # Set before DVCLive's __init__, which calls the _init_* hooks overridden below.
        self._media_images: dict[str, None] = {}
        self._media_stems: dict[str, str] = {}
        self._media_kinds: set[str] = set()
        self._histogram_series: dict[str, str] = {}  # key (with list item) -> run-relative TSV
        self._histogram_views: dict[str, HistogramViews] = {}  # run-relative TSV -> its views
        self._audio_clips: tuple[int, int] = (0, 0)  # (step, audio clips logged at it)
        self._dvcyaml_written: tuple[Any, Any] | None = None
        self._dvcyaml_written_at = 0.0
        self._dvcyaml_interval = dvcyaml_interval
        self._dvcyaml_force = False
        self._writer: BackgroundWriter | None = None
        self._signal_file: str | None = None
        self._in_next_step = False
        self._writer_threads = writer_threads
        self._templates_checked = False
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
        atexit.register(_flush_at_exit, weakref.ref(self))

    # -- paths ------------------------------------------------------------------------------

    @property
    def index_file(self) -> str:
        """The run's media index (``<dir>/media.jsonl``)."""
        return str(Path(self.dir) / INDEX_FILE)

    @property
    def images_dir(self) -> str:
        """Where images, their sidecars and masks go (``<dir>/plots/images``)."""
        return str(Path(self.dir) / IMAGES_FOLDER)

    # -- DVCLive hooks ----------------------------------------------------------------------

    @property
    def media_dir(self) -> str:
        """Where the other media kinds go (``<dir>/media/<kind>/<key>/<step>.*``)."""
        return str(Path(self.dir) / MEDIA_FOLDER)

    @property
    def histograms_dir(self) -> str:
        """Histogram series, one append-only TSV per key (``<dir>/plots/histograms``)."""
        return str(Path(self.plots_dir) / "histograms")

    def _init_dvc(self) -> None:
        # A repository without commits: DVCLive raises SCMError (see dvcstage/empty_repo.py).
        init_dvc_tolerating_no_commit(self, super()._init_dvc)

    def _init_cleanup(self) -> None:
        super()._init_cleanup()
        Path(self.index_file).unlink(missing_ok=True)
        shutil.rmtree(self.media_dir, ignore_errors=True)
        shutil.rmtree(self.histograms_dir, ignore_errors=True)
        shutil.rmtree(Path(self.dir) / VIEWS_FOLDER, ignore_errors=True)
        self._remove_stale_merges()

    def _remove_stale_merges(self) -> None:
        """Scratch copies of dvc.yaml that a run killed mid-merge left behind.

        A scratch copy is named after the process merging (``.dvc.yaml.<pid>-<thread>``): one
        of a process still running (another run sharing this dvc.yaml) is left alone.
        """
        dvc_file = Path(self.dvc_file)
        for scratch in dvc_file.parent.glob(f".{dvc_file.name}.*{TEMP_MARK}"):
            owner = scratch.name[len(dvc_file.name) + 2 :].split("-", 1)[0]
            if owner.isdigit() and int(owner) != os.getpid() and _process_alive(int(owner)):
                continue
            scratch.unlink(missing_ok=True)

    def _init_resume(self) -> None:
        super()._init_resume()
        remove_stale_temporaries(self.dir)
        self._remove_stale_merges()
        for line in latest_items(read_index(self.index_file).lines).values():
            if line["kind"] != "image":
                self._media_kinds.add(line["kind"])
                if line["kind"] == "histogram":
                    name = line["key"] if "item" not in line else f"{line['key']}/{line['item']}"
                    self._histogram_series[name] = line["files"][0]["path"]
                continue
            for file in line["files"]:
                path = PurePosixPath(file["path"])
                if file["role"] == "image" and (Path(self.dir) / path).is_file():
                    name = path.relative_to(IMAGES_FOLDER)
                    self._media_images[str(name)] = None
                    self._media_stems[str(name.with_suffix(""))] = str(name)

    def _ensure_writer(self) -> BackgroundWriter:
        if self._writer is None:
            self._writer = BackgroundWriter(
                self.dir,
                MediaIndex(self.index_file),
                workers=self._writer_threads,
                max_pending_bytes=self._max_pending_bytes,
            )
        return self._writer

    def _raise_writer_errors(self) -> None:
        if self._writer is not None:
            self._writer.raise_errors()

    def make_summary(self) -> None:
        """Write ``metrics.json`` atomically (DVCLive rewrites it in place).

        During :meth:`next_step` the write goes to the background writer (coalesced, still
        atomic) unless a report or DVC Studio reads the file right after.
        """
        if self._step is not None:
            self.summary["step"] = self.step
        text = json.dumps(self.summary, indent=4, cls=SummaryEncoder) + "\n"
        self._write_small_file(self.metrics_file, text)

    def _background_allowed(self) -> bool:
        """Whether next_step may leave file writes to the writer (nobody reads them at once)."""
        return (
            self._in_next_step
            and self._report_mode is None
            and "data" in self._studio_events_to_skip
        )

    def _write_small_file(self, path: str, text: str) -> None:
        if self._background_allowed():
            self._ensure_writer().write_latest(path, text)
        else:
            write_text_atomic(path, text)

    def _dump_params(self) -> None:
        from dvclive.serialize import get_yaml
        from ruamel.yaml.representer import RepresenterError

        buffer = io.StringIO()
        try:
            get_yaml().dump(self._params, buffer)
        except RepresenterError as exc:
            raise dvclive.error.InvalidParameterTypeError(exc.args[0]) from exc
        write_text_atomic(self.params_file, buffer.getvalue())

    def make_dvcyaml(self) -> None:
        """Write ``dvc.yaml`` when its content changed (DVCLive rewrites it every step).

        New image entries alone are written at most every ``dvcyaml_interval`` seconds;
        any other change is written at once, and :meth:`end` always writes.
        """
        structure = json.dumps(desired_dvcyaml(self), sort_keys=True, default=str)
        images = len(self._media_images)
        if self._dvcyaml_written is not None:
            same_structure = self._dvcyaml_written[0] == structure
            if same_structure and self._dvcyaml_written[1] == images:
                return
            recent = time.monotonic() - self._dvcyaml_written_at < self._dvcyaml_interval
            if same_structure and recent and not self._dvcyaml_force:
                return
        content = desired_dvcyaml(self)
        self._ensure_templates(content)
        args = (DvcyamlTarget.of(self), content, list(self._media_images))
        if self._background_allowed():
            self._ensure_writer().run("dvc.yaml", lambda: write_dvcyaml(*args))
        else:
            write_dvcyaml(*args)
        self._dvcyaml_written = (structure, images)
        self._dvcyaml_written_at = time.monotonic()

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
        if self._report_mode is not None and self._writer is not None:
            self._writer.flush()  # the report reads the images from disk
        super().make_report()

    def post_data_to_studio(self) -> None:
        # DVCLive re-reads every metric file on each step even when Studio is off.
        if "data" in self._studio_events_to_skip:
            return
        super().post_data_to_studio()

    def next_step(self) -> None:
        """Advance the step, as DVCLive does; raises a pending background write error."""
        self._raise_writer_errors()
        if self._step is None:
            self._step = 0
        self._in_next_step = True
        try:
            self.sync()
            self._mark_step_completed()
        finally:
            self._in_next_step = False
        self.step += 1

    def _mark_step_completed(self) -> None:
        """DVCLive's signal to the DVC VS Code extension, written atomically without fsync.

        DVCLive looks up the DVC root and fsyncs this file on every step (about 4 ms here);
        the extension only needs to see a whole file, which a rename guarantees.
        """
        if self._signal_file is None:
            root = os.getenv(dvclive_env.DVC_ROOT) or _find_dvc_root()
            signal = Path(root or ".", ".dvc", "tmp", "exps", "run", "DVCLIVE_STEP_COMPLETED")
            self._signal_file = str(signal) if root else ""
        if self._signal_file:
            contents = {"pid": os.getpid(), "step": self.step}
            self._write_small_file(self._signal_file, json.dumps(contents, sort_keys=True))

    def flush(self) -> None:
        """Wait until every media file logged so far is written; raise any write error."""
        if self._writer is not None:
            self._writer.flush()

    def end(self) -> None:
        """Flush the media, cache them if asked, then finish as DVCLive does."""
        if self._inside_with:
            return
        failure: MediaWriteError | None = None
        if self._writer is not None:
            try:
                self._writer.close()
            except MediaWriteError as exc:
                failure = exc
            self._writer = None
        if self._media_images and self._cache_images:
            self.cache(Path(self.images_dir))
        if self._cache_media and Path(self.media_dir).is_dir():
            self.cache(Path(self.media_dir))
        self._dvcyaml_force = True
        try:
            super().end()
        finally:
            self._dvcyaml_force = False
        if failure is not None:
            raise failure

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
        if isinstance(val, Image):
            image = val.with_overlays(caption=caption, boxes=boxes, masks=masks)
        else:
            image = Image.from_value(val, caption=caption, boxes=boxes, masks=masks)
        path = check_image_name(name, image.source.file_suffix)
        self._check_stem(path)
        checked = check_annotations(annotations)
        key, _ = key_and_step_of(path)
        self._submit_image(path, image, key=key, item=None, annotations=checked)

    def _check_stem(self, name: PurePosixPath) -> None:
        """Refuse ``a.jpg`` once ``a.png`` was logged: they would share a sidecar and masks."""
        other = self._media_stems.get(str(name.with_suffix("")))
        if other is not None and other != str(name):
            raise InvalidMediaNameError(
                "name",
                str(name),
                f"shares its sidecar and masks folder with {other!r} logged before",
                "one suffix per name within a run",
            )

    def _submit_image(
        self,
        name: PurePosixPath,
        image: Image,
        *,
        key: str,
        item: int | None,
        annotations: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        run_relpath = IMAGES_FOLDER / name
        step = self.step

        def encode() -> Any:
            return encode_image(
                image,
                run_relpath=run_relpath,
                key=key,
                step=step,
                item=item,
                annotations=annotations,
            )

        self._ensure_writer().submit(str(run_relpath), encode, image.held_bytes)
        self._media_images[str(name)] = None
        self._media_stems[str(name.with_suffix(""))] = str(name)

    def log(
        self,
        data: Mapping[str, Any],
        step: int | None = None,
        commit: bool = False,
    ) -> None:
        """Log several values at once, W&B style: ``live.log({"loss": 0.1, "pred": img})``.

        Numbers become metrics (:meth:`log_metric`); a :class:`dvcstage.Image` under key
        ``k`` is written to ``k/{step}.png`` (the slider pattern); a list of images to
        ``k/{i}/{step}.png``. Nested dicts are flattened with ``/``.

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
        plan: list[tuple[str, Any]] = []
        self._plan_log(data, "", plan, self.step if step is None else step)
        clips = count_clips(value for _, value in plan)
        if clips:  # the specification's limit: at most 100 clips per step
            at = self.step if step is None else step
            before = self._audio_clips[1] if self._audio_clips[0] == at else 0
            check_clip_budget(before, clips)
            self._audio_clips = (at, before + clips)
        if step is not None:
            self.step = step
        for key, value in plan:
            if isinstance(value, list):
                for i, media in enumerate(value):
                    self._submit_any(key, media, i)
            elif isinstance(value, (Image, Media)):
                self._submit_any(key, value, None)
            else:
                self.log_metric(key, value)
        if commit:
            self.next_step()

    def _submit_any(self, key: str, media: Image | Media, item: int | None) -> None:
        if isinstance(media, Image):
            folder = PurePosixPath(key) if item is None else PurePosixPath(key) / str(item)
            self._submit_image(folder / f"{self.step}.png", media, key=key, item=item)
            return
        slot = MediaSlot.for_key(media.kind, key, self.step, item)
        media = media.snapshot()
        target = media.shard(slot)
        encode = partial(media.encode, slot)
        if media.kind == "histogram":
            views = self._histogram_views.get(target)
            if views is None:
                views = self._histogram_views[target] = HistogramViews(self.dir, target)
            encode = partial(_encode_with_views, encode, views)
        self._ensure_writer().submit(target, encode, media.held_bytes)
        self._media_kinds.add(media.kind)
        if media.kind == "histogram":
            self._histogram_series[key if item is None else f"{key}/{item}"] = target

    def _plan_log(
        self, data: Mapping[str, Any], prefix: str, plan: list[tuple[str, Any]], step: int
    ) -> None:
        for raw_key, value in data.items():
            if not isinstance(raw_key, str):
                raise InvalidMediaTypeError("data key", raw_key, "str keys")
            key = f"{prefix}{raw_key}"
            check_relative_name(key, "data key")
            if isinstance(value, Mapping):
                self._plan_log(value, f"{key}/", plan, step)
            elif isinstance(value, Image):
                self._check_stem(PurePosixPath(key) / f"{step}.png")
                plan.append((key, value))
            elif isinstance(value, Media):
                plan.append((key, value))
            elif (
                isinstance(value, (list, tuple))
                and value
                and all(isinstance(v, (Image, Media)) for v in value)
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
