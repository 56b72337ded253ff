"""The ``dvc.yaml`` that :class:`dvcstage.Live` keeps: DVCLive's entries plus one per image.

DVCLive lists the whole ``plots/images`` folder. DVC then renders every file in it, so the
JSON sidecars would become stray (and broken) vega plots and the class-id mask PNGs black
images. dvcstage lists each image file instead, in the form
``{path: {y: {path: image}}}``: the explicit data source keeps DVC from matching every entry
against every other (a bare list of paths costs DVC quadratic time: 22.6 s for 2,000 images
against 3.4 s in this form, measured with DVC 3.67).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from dvclive.dvc import update_dvcyaml
from dvclive.plots.metric import Metric
from dvclive.utils import rel_path

from .atomic import write_text_atomic

if TYPE_CHECKING:
    from .live import Live


def image_plot_entry(image_path: str, dvcyaml_dir: str) -> dict[str, Any]:
    """One image's plot entry, with its path relative to the ``dvc.yaml`` folder."""
    path = rel_path(image_path, dvcyaml_dir)
    return {path: {"y": {path: "image"}}}


def desired_dvcyaml(live: Live, images: Iterable[str]) -> dict[str, Any]:
    """What DVCLive would write, with the images folder replaced by per-image entries.

    ``images`` are image paths relative to ``live.plots_dir/images``.
    """
    dvcyaml_dir = Path(live.dvc_file).parent.absolute().as_posix()
    content: dict[str, Any] = {}
    if live._params:
        content["params"] = [rel_path(live.params_file, dvcyaml_dir)]
    if live._metrics or live.summary:
        content["metrics"] = [rel_path(live.metrics_file, dvcyaml_dir)]
    plots: list[Any] = []
    plots_path = Path(live.plots_dir)
    metrics_path = plots_path / Metric.subfolder
    if metrics_path.exists():
        plots.append({rel_path(metrics_path, dvcyaml_dir): {"x": "step"}})
    images_path = plots_path / "images"
    plots.extend(image_plot_entry(str(images_path / name), dvcyaml_dir) for name in images)
    for plot in live._plots.values():
        plots.append({rel_path(plot.output_path, dvcyaml_dir): plot.plot_config})
    if plots:
        content["plots"] = plots
    if live._artifacts:
        content["artifacts"] = copy.deepcopy(live._artifacts)
        for artifact in content["artifacts"].values():
            artifact["path"] = rel_path(artifact["path"], dvcyaml_dir)
    return content


def write_dvcyaml(live: Live, content: dict[str, Any]) -> None:
    """Merge ``content`` into ``live.dvc_file`` as DVCLive does, but atomically.

    Entries the user wrote (stages, other plots) are kept; earlier entries for this run's
    folder are replaced. The merge runs on a copy that then replaces the file.
    """
    target = Path(live.dvc_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}.dvcstage-merge")
    try:
        if target.exists():
            scratch.write_bytes(target.read_bytes())
            update_dvcyaml(SimpleNamespace(dvc_file=str(scratch), dir=live.dir), content)
        else:
            from dvclive.serialize import dump_yaml

            dump_yaml(content, str(scratch))
        write_text_atomic(target, scratch.read_text(encoding="utf-8"))
    finally:
        scratch.unlink(missing_ok=True)
