"""Vega-Lite templates for ``dvc plots``, shipped in the package (``dvcstage/templates``).

DVC looks a plot's ``template`` up by name in ``.dvc/plots/`` (or as a path relative to the
working directory, which breaks as soon as ``dvc`` runs elsewhere). So the templates are
installed into the repository's ``.dvc/plots/`` (``dvcstage templates install``, or
:func:`install_templates`) and committed with it; the ``dvc.yaml`` entries name them:

- ``dvcstage-histogram-heatmap``: a histogram series over steps (x step, y the bin's value
  range, colour count), one panel per revision;
- ``dvcstage-histogram-overlay``: the last step's histogram of each revision, overlaid;
- ``dvcstage-detections``: box count and mean score per label over steps, from rows with
  ``step``, ``label`` and ``score`` (one per predicted box, as in the images' sidecars).

Each template uses DVC's ``<DVC_METRIC_DATA>`` and ``<DVC_METRIC_TITLE>`` anchors; DVC adds a
``rev`` field to every row, which the templates use to tell revisions apart.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from .atomic import write_text_atomic

HEATMAP = "dvcstage-histogram-heatmap"
OVERLAY = "dvcstage-histogram-overlay"
DETECTIONS = "dvcstage-detections"
SUFFIX = ".json"


def _folder() -> Path:
    return Path(str(resources.files("dvcstage") / "templates"))


def list_templates() -> list[str]:
    """The names of the shipped templates (what a ``dvc.yaml`` entry's ``template`` says).

    >>> list_templates()
    ['dvcstage-detections', 'dvcstage-histogram-heatmap', 'dvcstage-histogram-overlay']
    """
    return sorted(path.stem for path in _folder().glob(f"*{SUFFIX}"))


def template_path(name: str) -> Path:
    """The shipped file of template ``name`` (with or without ``.json``).

    Raises:
        KeyError: no template of that name is shipped.
    """
    stem = name.removesuffix(SUFFIX)
    if stem not in list_templates():
        raise KeyError(f"no dvcstage template {name!r}; shipped: {', '.join(list_templates())}")
    return _folder() / f"{stem}{SUFFIX}"


def template_text(name: str) -> str:
    """The JSON text of template ``name``."""
    return template_path(name).read_text(encoding="utf-8")


def install_templates(dvc_dir: str | os.PathLike[str], *, overwrite: bool = False) -> list[Path]:
    """Copy every shipped template into ``<dvc_dir>/plots/``; returns the files written.

    A file that already holds the same text is left alone. A file with other text (a
    template edited by the user, or one from another dvcstage version) is kept unless
    ``overwrite`` is true. Each file is written to a temporary name and renamed into place.

    Args:
        dvc_dir: the repository's ``.dvc`` folder.
        overwrite: replace templates whose text differs from the shipped one.

    Raises:
        FileNotFoundError: ``dvc_dir`` is not a folder (not a DVC repository).
    """
    root = Path(dvc_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder (run `dvc init` first)")
    target = root / "plots"
    target.mkdir(exist_ok=True)
    written: list[Path] = []
    for name in list_templates():
        text = template_text(name)
        path = target / f"{name}{SUFFIX}"
        if path.exists() and (not overwrite or path.read_text(encoding="utf-8") == text):
            continue
        write_text_atomic(path, text)
        written.append(path)
    return written


def stale_templates(dvc_dir: str | os.PathLike[str]) -> list[str]:
    """Shipped templates missing from ``<dvc_dir>/plots/`` or different there."""
    target = Path(dvc_dir) / "plots"
    stale = []
    for name in list_templates():
        path = target / f"{name}{SUFFIX}"
        if not path.is_file() or path.read_text(encoding="utf-8") != template_text(name):
            stale.append(name)
    return stale


def histogram_plot_entries(
    series: str, key: str, *, heatmap: str | None = None, last: str | None = None
) -> list[dict[str, Any]]:
    """The two ``dvc.yaml`` plot entries of one histogram series: heatmap and overlay.

    Args:
        series: the TSV, relative to the ``dvc.yaml`` (``dvclive/plots/histograms/w.tsv``);
            the entries' ids are ``<series>#heatmap`` and ``<series>#last``.
        key: the logged key (``w``), used in the titles.
        heatmap: the file the heatmap reads (the series' thinned view, see
            :mod:`dvcstage.histogram_views`); the series itself if not given.
        last: the file the overlay reads (the last step's rows); the series if not given.

    >>> [next(iter(e)) for e in histogram_plot_entries("d/plots/histograms/w.tsv", "w")]
    ['d/plots/histograms/w.tsv#heatmap', 'd/plots/histograms/w.tsv#last']
    """
    return [
        {
            f"{series}#heatmap": {
                "template": HEATMAP,
                "x": "step",
                "y": {heatmap or series: "count"},
                "title": f"{key}: histogram over steps",
            }
        },
        {
            f"{series}#last": {
                "template": OVERLAY,
                "x": "low",
                "y": {last or series: "count"},
                "title": f"{key}: last step",
            }
        },
    ]
