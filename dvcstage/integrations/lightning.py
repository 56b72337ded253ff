"""Lightning: a logger that takes W&B's media calls, and a callback that logs predictions.

:class:`DVCStageLogger` is DVCLive's ``DVCLiveLogger`` writing with :class:`dvcstage.Live`,
plus the media methods of Lightning's ``WandbLogger`` with the same signatures
(``log_image``, ``log_table``, ``log_text``, ``log_audio``, ``log_video``, ``watch``), so
a ``WandbLogger`` script switches by changing its import::

    from dvcstage.lightning import DVCStageLogger as WandbLogger

:class:`DVCStagePredictionLogger` logs the first ``num_samples`` validation samples of each
epoch with their ground truth and predicted boxes and masks (see
:mod:`dvcstage.integrations.predictions` for the adapters).

Needs Lightning (``pip install 'dvcstage[lightning]'``).
"""

from __future__ import annotations

import logging
from argparse import Namespace
from collections.abc import Callable, Mapping
from typing import Any, cast

from dvclive.lightning import DVCLiveLogger

try:
    from lightning.fabric.loggers.logger import rank_zero_experiment
    from lightning.pytorch.callbacks import Callback
    from lightning.pytorch.utilities import rank_zero_only
except ImportError:  # the standalone pytorch_lightning package
    from lightning_fabric.loggers.logger import rank_zero_experiment
    from pytorch_lightning.callbacks import Callback
    from pytorch_lightning.utilities import rank_zero_only

from ..live import Live
from ..media.audio import Audio
from ..media.histogram import Histogram
from ..media.image import Image
from ..media.table import Table
from ..media.video import Video
from .predictions import PredictionSample, as_numpy, sample_image

__all__ = ["DVCStageLogger", "DVCStagePredictionLogger"]

logger = logging.getLogger("dvcstage")

# WandbLogger's own arguments, which mean nothing here: accepted so that a WandbLogger(...)
# call works unchanged, and said once at INFO level. (W&B's ``dir`` is Live's ``dir`` here.)
WANDB_ONLY_ARGUMENTS = frozenset(
    {
        "name",
        "save_dir",
        "version",
        "offline",
        "id",
        "anonymous",
        "project",
        "entity",
        "tags",
        "group",
        "notes",
        "job_type",
        "mode",
        "checkpoint_name",
        "resume",
        "settings",
        "reinit",
        "sync_tensorboard",
        "monitor_gym",
        "save_code",
        "add_file_policy",
    }
)


def _plain(value: Any) -> Any:
    """Tensors (also inside W&B's boxes and masks dicts) as NumPy arrays."""
    if hasattr(value, "detach") or (hasattr(value, "numpy") and hasattr(value, "shape")):
        return as_numpy(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _per_item(kind: str, items: Any, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    """WandbLogger's rule: ``items`` is a list, each keyword a list of the same length."""
    if not isinstance(items, list):
        raise TypeError(f'Expected a list as "{kind}", found {type(items)}')
    count = len(items)
    for name, values in kwargs.items():
        if len(values) != count:
            raise ValueError(f"Expected {count} items but only found {len(values)} for {name}")
    return [{name: _plain(values[i]) for name, values in kwargs.items()} for i in range(count)]


class DVCStageLogger(DVCLiveLogger):
    """DVCLive's Lightning logger on :class:`dvcstage.Live`, with WandbLogger's media calls.

    Args:
        run_name, prefix, log_model, experiment: as ``DVCLiveLogger``.
        config: parameters to log at once (W&B's ``config``).
        **kwargs: :class:`dvcstage.Live` arguments (``dir``, ``save_dvc_exp``,
            ``cache_images``, ...). WandbLogger's own (``project``, ``entity``, ``name``,
            ``save_dir``, ``offline``, ...) are accepted and ignored.
    """

    def __init__(
        self,
        run_name: str | None = "dvclive_run",
        prefix: str = "",
        log_model: str | bool = False,
        experiment: Live | None = None,
        config: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        ignored = sorted(set(kwargs) & WANDB_ONLY_ARGUMENTS)
        for name in ignored:
            kwargs.pop(name)
        if ignored:
            logger.info("dvcstage: W&B-only logger argument(s) ignored: %s", ", ".join(ignored))
        super().__init__(
            run_name=run_name, prefix=prefix, log_model=log_model, experiment=experiment, **kwargs
        )
        self._config = dict(config) if config else None
        self._watched: list[Any] = []
        self._pending: list[tuple[str, Any]] = []

    @property
    @rank_zero_experiment
    def experiment(self) -> Live:
        """The :class:`dvcstage.Live` this logger writes with (created on first use)."""
        if self._experiment is None:
            self._experiment = Live(**self._kwargs)
            if self._config:
                self._experiment.log_params(self._config)
        return cast(Live, self._experiment)

    @rank_zero_only
    def log_metrics(
        self,
        metrics: Mapping[str, int | float | str],
        step: int | None = None,
        sync: bool | None = False,
    ) -> None:
        """DVCLive's, then the media handed over with :meth:`log_with_next_metrics`."""
        super().log_metrics(metrics, step, sync)
        self._flush_pending()

    def log_with_next_metrics(self, key: str, value: Any) -> None:
        """Log media at the step of the next metrics Lightning logs (a validation epoch's
        media land at the step of that epoch's validation metrics)."""
        self._pending.append((key, value))

    def _flush_pending(self) -> None:
        pending, self._pending = self._pending, []
        for key, value in pending:
            self._log_media(key, value, None)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Log media still waiting for metrics, then end as DVCLive does."""
        self._flush_pending()
        super().finalize(status)

    def _log_media(self, key: str, value: Any, step: int | None) -> None:
        live = self.experiment
        if step is not None:
            live.step = step
        live.log({f"{self._prefix}{self.LOGGER_JOIN_CHAR}{key}" if self._prefix else key: value})

    @rank_zero_only
    def log_image(
        self, key: str, images: list[Any], step: int | None = None, **kwargs: Any
    ) -> None:
        """Log images (arrays, tensors, PIL images, paths) under ``key`` at ``step``.

        Keywords are lists with one entry per image: ``caption``, ``masks``, ``boxes`` (W&B's
        structures), ``mode``. Written as ``key.items/<i>/<step>.png``.
        """
        per_image = _per_item("images", images, kwargs)
        self._log_media(
            key, [Image(_plain(img), **kw) for img, kw in zip(images, per_image, strict=True)], step
        )

    @rank_zero_only
    def log_table(
        self,
        key: str,
        columns: list[str] | None = None,
        data: list[list[Any]] | None = None,
        dataframe: Any = None,
        step: int | None = None,
    ) -> None:
        """Log a table from ``columns`` and ``data`` rows, or a pandas ``dataframe``."""
        self._log_media(key, Table(columns=columns, data=data, dataframe=dataframe), step)

    @rank_zero_only
    def log_text(
        self,
        key: str,
        columns: list[str] | None = None,
        data: list[list[str]] | None = None,
        dataframe: Any = None,
        step: int | None = None,
    ) -> None:
        """Log text as a table (as WandbLogger does)."""
        self.log_table(key, columns, data, dataframe, step)

    @rank_zero_only
    def log_audio(
        self, key: str, audios: list[Any], step: int | None = None, **kwargs: Any
    ) -> None:
        """Log audio clips (arrays with ``sample_rate``, or files); keywords are per-clip lists."""
        per_clip = _per_item("audios", audios, kwargs)
        self._log_media(
            key, [Audio(_plain(a), **kw) for a, kw in zip(audios, per_clip, strict=True)], step
        )

    @rank_zero_only
    def log_video(
        self, key: str, videos: list[Any], step: int | None = None, **kwargs: Any
    ) -> None:
        """Log videos (``T x C x H x W`` arrays, or files); ``caption``/``fps``/``format`` lists."""
        per_video = _per_item("videos", videos, kwargs)
        self._log_media(
            key, [Video(_plain(v), **kw) for v, kw in zip(videos, per_video, strict=True)], step
        )

    def log_hyperparams(self, params: dict[str, Any] | Namespace) -> None:
        """Parameters into ``params.yaml`` (DVCLive's), as WandbLogger's config."""
        super().log_hyperparams(params)

    def watch(
        self, model: Any, log: str | None = "gradients", log_freq: int = 100, log_graph: bool = True
    ) -> None:
        """Log histograms of ``model``'s gradients and/or parameters every ``log_freq``
        backward passes (``log``: ``gradients``, ``parameters``, ``all`` or None), as
        ``gradients/<name>`` and ``parameters/<name>`` histogram series at the model's global
        step. ``log_graph`` is accepted for WandbLogger's signature; no graph is logged."""
        if log not in ("gradients", "parameters", "all", None):
            raise ValueError(f"log: {log!r}; accepted: 'gradients', 'parameters', 'all' or None")
        if log is None:
            return
        for name, parameter in model.named_parameters():
            if parameter.requires_grad:
                hook = self._histogram_hook(model, name, log, log_freq)
                self._watched.append(parameter.register_post_accumulate_grad_hook(hook))

    def _histogram_hook(self, model: Any, name: str, log: str, log_freq: int) -> Any:
        calls = [0]

        def hook(parameter: Any) -> None:
            calls[0] += 1
            if calls[0] % log_freq or rank_zero_only.rank != 0:
                return
            values: dict[str, Any] = {}
            if log in ("parameters", "all"):
                values[f"parameters/{name}"] = Histogram(as_numpy(parameter).ravel())
            if log in ("gradients", "all") and parameter.grad is not None:
                values[f"gradients/{name}"] = Histogram(as_numpy(parameter.grad).ravel())
            step = getattr(model, "global_step", None)
            self._log_media_dict(values, step if isinstance(step, int) else None)

        return hook

    def _log_media_dict(self, values: dict[str, Any], step: int | None) -> None:
        live = self.experiment
        if step is not None:
            live.step = step
        live.log(values)

    def unwatch(self, model: Any = None) -> None:
        """Stop what :meth:`watch` started."""
        for handle in self._watched:
            handle.remove()
        self._watched.clear()


SampleAdapter = Callable[[Any, Any, Any], list[PredictionSample]]


class DVCStagePredictionLogger(Callback):
    """Log the first ``num_samples`` validation samples of each epoch with predictions.

    Each sample is an image with ``ground_truth`` and ``predictions`` box groups and masks,
    logged as ``<key>.items/<i>/<step>.png`` through the trainer's :class:`DVCStageLogger`, at the
    step of the epoch's validation metrics.

    Args:
        adapter: ``(batch, outputs, model) -> list[PredictionSample]``:
            :class:`~dvcstage.integrations.predictions.DetectionAdapter`,
            :class:`~dvcstage.integrations.predictions.SegmentationAdapter` or your own.
            ``outputs`` is what ``validation_step`` returned.
        num_samples: images per epoch (the first ones of the first validation loader).
        class_labels: class id -> name.
        key: where they go.
        every_n_epochs: log every n-th validation epoch.
    """

    def __init__(
        self,
        adapter: SampleAdapter,
        num_samples: int = 8,
        class_labels: Mapping[int, str] | None = None,
        key: str = "val/predictions",
        every_n_epochs: int = 1,
    ) -> None:
        super().__init__()
        if not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples: {num_samples!r}; accepted: an int >= 1")
        self.adapter = adapter
        self.num_samples = num_samples
        self.class_labels = dict(class_labels or {})
        self.key = key
        self.every_n_epochs = every_n_epochs
        self._samples: list[PredictionSample] = []

    def _active(self, trainer: Any) -> bool:
        return not trainer.sanity_checking and trainer.current_epoch % self.every_n_epochs == 0

    def on_validation_epoch_start(self, trainer: Any, pl_module: Any) -> None:
        self._samples = []

    def on_validation_batch_end(
        self,
        trainer: Any,
        pl_module: Any,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if dataloader_idx != 0 or len(self._samples) >= self.num_samples:
            return
        if not self._active(trainer):
            return
        samples = self.adapter(batch, outputs, pl_module)
        self._samples.extend(samples[: self.num_samples - len(self._samples)])

    def on_validation_epoch_end(self, trainer: Any, pl_module: Any) -> None:
        if not self._samples or not self._active(trainer):
            return
        images = [sample_image(s, self.class_labels) for s in self._samples]
        self._samples = []
        target = next((lg for lg in trainer.loggers if isinstance(lg, DVCStageLogger)), None)
        if target is None:
            raise TypeError(
                "DVCStagePredictionLogger: the trainer has no DVCStageLogger; accepted: "
                "Trainer(logger=DVCStageLogger(...), callbacks=[DVCStagePredictionLogger(...)])"
            )
        if trainer.global_rank == 0:
            target.log_with_next_metrics(self.key, images)
