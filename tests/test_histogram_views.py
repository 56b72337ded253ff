"""The ``dvc plots`` views of a histogram series: a thinned heatmap and the last step."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import dvcstage
from dvcstage.histogram_views import HistogramViews, heatmap_path, last_path

SERIES = "plots/histograms/w.tsv"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def steps_of(path: Path) -> list[int]:
    return sorted({int(row["step"]) for row in rows_of(path)})


def log(run_dir: Path, steps: Iterator[int] | list[int], max_steps: int) -> HistogramViews:
    """Feed the views as the writer thread does: rows of each step, then the series append."""
    views = HistogramViews(run_dir, SERIES, max_steps=max_steps)
    series = run_dir / SERIES
    series.parent.mkdir(parents=True, exist_ok=True)
    if not series.exists():
        series.write_bytes(b"step\tbin\tlow\thigh\tcount\n")
    for step in steps:
        rows = b"".join(
            b"%d\t%d\t%d\t%d\t%d\n" % (step, b, b, b + 1, step * 10 + b) for b in range(3)
        )
        views.add(step, rows)
        with series.open("ab") as handle:
            handle.write(rows)
    return views


def test_paths_mirror_the_series() -> None:
    assert str(heatmap_path("plots/histograms/a/b.tsv")) == "plots/histogram-views/heatmap/a/b.tsv"
    assert str(last_path("plots/histograms/w/0.tsv")) == "plots/histogram-views/last/w/0.tsv"


def test_every_step_until_the_limit_then_every_second(tmp_path: Path) -> None:
    log(tmp_path, range(8), max_steps=8)
    heatmap = tmp_path / heatmap_path(SERIES)
    assert steps_of(heatmap) == list(range(8))
    rows = rows_of(heatmap)
    assert [(r["step"], r["from"]) for r in rows[::3]] == [(str(s), str(s - 1)) for s in range(8)]
    log(tmp_path, range(8, 9), max_steps=8)  # a fresh views object resumes from the series
    assert steps_of(heatmap) == [0, 2, 4, 6, 8]
    rows = rows_of(heatmap)
    assert {r["step"]: r["from"] for r in rows} == {
        "0": "-1",
        "2": "0",
        "4": "2",
        "6": "4",
        "8": "6",
    }
    assert {r["count"] for r in rows if r["step"] == "6"} == {"60", "61", "62"}


def test_thinning_is_bounded_and_spans_every_step(tmp_path: Path) -> None:
    views = log(tmp_path, range(0, 10_000, 7), max_steps=50)
    heatmap = tmp_path / heatmap_path(SERIES)
    kept = steps_of(heatmap)
    assert 25 < len(kept) <= 50
    assert views.stride == 32
    assert kept == list(range(0, 10_000, 7))[:: views.stride]
    # consecutive cells touch: each starts where the previous kept step was
    froms = {int(r["step"]): int(r["from"]) for r in rows_of(heatmap)}
    assert all(froms[b] == a for a, b in itertools.pairwise(kept))
    last = rows_of(tmp_path / last_path(SERIES))
    assert {r["step"] for r in last} == {str(list(range(0, 10_000, 7))[-1])}
    assert len(last) == 3


def test_the_same_step_again_replaces_its_rows(tmp_path: Path) -> None:
    views = HistogramViews(tmp_path, SERIES, max_steps=4)
    views.add(0, b"0\t0\t0\t1\t5\n")
    views.add(0, b"0\t0\t0\t1\t7\n")
    assert [r["count"] for r in rows_of(tmp_path / heatmap_path(SERIES))] == ["7"]
    assert [r["count"] for r in rows_of(tmp_path / last_path(SERIES))] == ["7"]


def test_max_steps_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_steps: 1 is too small"):
        HistogramViews(tmp_path, SERIES, max_steps=1)


def test_live_writes_the_views_and_points_dvc_yaml_at_them(plain_dir: Path) -> None:
    live = dvcstage.Live(save_dvc_exp=False)
    rng = np.random.default_rng(0)
    for _ in range(5):
        live.log({"w": dvcstage.Histogram(rng.normal(size=100), num_bins=4)})
        live.next_step()
    live.end()
    run = Path(live.dir)
    assert steps_of(run / "plots/histogram-views/heatmap/w.tsv") == [0, 1, 2, 3, 4]
    assert steps_of(run / "plots/histogram-views/last/w.tsv") == [4]
    series = rows_of(run / "plots/histograms/w.tsv")
    last = rows_of(run / "plots/histogram-views/last/w.tsv")
    assert last == [r for r in series if r["step"] == "4"]
    text = (plain_dir / "dvc.yaml").read_text()
    assert "dvclive/plots/histogram-views/heatmap/w.tsv: count" in text
    assert "dvclive/plots/histogram-views/last/w.tsv: count" in text
    # a new run starts over
    again = dvcstage.Live(save_dvc_exp=False)
    again.log({"w": dvcstage.Histogram([1.0, 2.0], num_bins=2)})
    again.end()
    assert steps_of(run / "plots/histogram-views/heatmap/w.tsv") == [0]
