"""dvcstage.Histogram: TSV series read back, summaries, resume, bad inputs."""

from __future__ import annotations

import hashlib
import itertools
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dvcstage
from dvcstage import schemas
from dvcstage.errors import DvcStageError, InvalidMediaTypeError, InvalidMediaValueError
from dvcstage.index import read_index
from dvcstage.media.base import MediaSlot
from dvcstage.media.histogram import TSV_HEADER, Histogram
from dvcstage.validate import validate_tree

HEADER = TSV_HEADER.decode().rstrip("\n").split("\t")


@pytest.fixture
def live(plain_dir: Path) -> Iterator[dvcstage.Live]:
    run = dvcstage.Live(save_dvc_exp=False)
    yield run
    run.end()


def read_series(path: Path) -> dict[int, tuple[list[int | float], list[float]]]:
    """step -> (counts, edges) from a series TSV; checks its header and row layout."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == HEADER
    assert all(line.split("\t") != HEADER for line in lines[1:]), "header written twice"
    series: dict[int, tuple[list[int | float], list[float]]] = {}
    for line in lines[1:]:
        step, position, low, high, count = line.split("\t")
        counts, edges = series.setdefault(int(step), ([], []))
        assert int(position) == len(counts)
        if not edges:
            edges.append(float(low))
        assert float(low) == edges[-1]
        edges.append(float(high))
        counts.append(float(count) if "." in count or "e" in count else int(count))
    return series


def tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with a hash of its content."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_series_rows_equal_np_histogram_over_steps(live: dvcstage.Live) -> None:
    rng = np.random.default_rng(1)
    logged = {}
    for _ in range(4):
        values = rng.normal(size=(32, 17)).astype(np.float32)  # flattened
        live.log({"gradients": Histogram(values, num_bins=40)})
        logged[live.step] = values.copy()
        values[:] = 1e9  # the histogram copied its values when it was made
        live.next_step()
    live.flush()
    series = read_series(Path(live.plots_dir) / "histograms" / "gradients.tsv")
    assert sorted(series) == sorted(logged)
    for step, values in logged.items():
        counts, edges = np.histogram(values, bins=40)
        assert series[step][0] == counts.tolist()
        assert series[step][1] == edges.tolist()  # repr round-trips every float exactly


def test_index_lines_and_validate(live: dvcstage.Live) -> None:
    live.log({"weights": Histogram([1, 2, 2, 3, 3, 3], num_bins=3)})
    live.log({"layers": [Histogram(np.arange(10)), Histogram(np.ones(5), num_bins=2)]})
    live.flush()
    lines = read_index(live.index_file).lines
    by_key = {(line["key"], line.get("item")): line for line in lines}
    weights = by_key[("weights", None)]
    assert weights["kind"] == "histogram"
    assert weights["files"] == [
        {
            "path": "plots/histograms/weights.tsv",
            "role": "series",
            "bytes": weights["files"][0]["bytes"],
        }
    ]
    assert weights["facts"] == {"bins": 3, "low": 1.0, "high": 3.0, "total": 6}
    assert by_key[("layers", 1)]["facts"] == {"bins": 2, "low": 0.5, "high": 1.5, "total": 5}
    assert (Path(live.dir) / "plots/histograms/layers.items/0.tsv").is_file()
    assert read_series(Path(live.dir) / "plots/histograms/layers.items/1.tsv")[0] == (
        [0, 5],
        [0.5, 1.0, 1.5],
    )
    assert [str(p) for p in validate_tree(live.dir)] == []


def test_resume_appends_to_the_series(plain_dir: Path) -> None:
    rng = np.random.default_rng(2)
    logged: dict[int, np.ndarray] = {}
    for resume in (False, True):
        with dvcstage.Live(save_dvc_exp=False, resume=resume) as live:
            for _ in range(2):
                values = rng.uniform(-3, 3, size=200)
                live.log_histogram("acts", values, num_bins=16)
                logged[live.step] = values
                live.next_step()
    series = read_series(plain_dir / "dvclive/plots/histograms/acts.tsv")
    assert len(logged) == 4 and sorted(series) == sorted(logged)
    for step, values in logged.items():
        counts, edges = np.histogram(values, bins=16)
        assert series[step] == (counts.tolist(), edges.tolist())
    assert validate_tree(plain_dir) == []


def test_a_new_run_starts_a_new_series(plain_dir: Path) -> None:
    for _ in range(2):
        with dvcstage.Live(save_dvc_exp=False) as live:
            live.log({"h": Histogram([1.0, 2.0])})
    text = (plain_dir / "dvclive/plots/histograms/h.tsv").read_text()
    assert text.count("step\t") == 1 and len(text.splitlines()) == 65


def test_np_histogram_as_given(live: dvcstage.Live) -> None:
    rng = np.random.default_rng(3)
    values = rng.uniform(size=500)
    density = np.histogram(values, density=True, range=(0.0, 1.0))
    live.log({"keyword": Histogram(np_histogram=density)})
    live.log({"positional": Histogram(density)})  # W&B's documented call
    counts = np.histogram(values, bins=[0, 0.1, 0.5, 1.0])
    live.log_histogram("edges", np_histogram=counts)
    live.flush()
    root = Path(live.plots_dir) / "histograms"
    for name in ("keyword", "positional"):
        got_counts, got_edges = read_series(root / f"{name}.tsv")[0]
        assert got_counts == density[0].tolist() and got_edges == density[1].tolist()
    assert read_series(root / "edges.tsv")[0] == (counts[0].tolist(), [0.0, 0.1, 0.5, 1.0])


def test_summary_histogram_keeps_metrics_json_valid(plain_dir: Path) -> None:
    logits = np.random.default_rng(4).normal(size=(8, 10))
    with dvcstage.Live(save_dvc_exp=False) as live:
        live.log_metric("loss", 0.5)
        live.summary.update({"final_logits": Histogram(logits)})
        live.next_step()
    metrics = json.loads((plain_dir / "dvclive/metrics.json").read_text())
    summary = metrics["final_logits"]
    assert schemas.schema_errors("histogram", summary) == []
    counts, edges = np.histogram(logits, bins=64)
    assert summary == {"_type": "histogram", "values": counts.tolist(), "bins": edges.tolist()}
    with dvcstage.Live(save_dvc_exp=False, resume=True) as live:  # read back and rewritten
        live.log_metric("loss", 0.25)
    assert json.loads((plain_dir / "dvclive/metrics.json").read_text())["final_logits"] == summary


def test_spec_samples(live: dvcstage.Live) -> None:
    samples = [
        'live.log({"gradients": dvcstage.Histogram(grads)})',
        """
        np_hist_grads = np.histogram(grads, density=True, range=(0.0, 1.0))
        live.log({"gradients": dvcstage.Histogram(np_hist_grads)})
        """,
        """
        live.summary.update(  # if only in summary, only visible on overview tab
            {"final_logits": dvcstage.Histogram(logits)}
        )
        """,
    ]
    rng = np.random.default_rng(5)
    grads = rng.uniform(size=1000)
    for sample in samples:
        namespace: dict[str, Any] = {"dvcstage": dvcstage, "live": live, "np": np}
        namespace |= {"grads": grads, "logits": rng.normal(size=100)}
        exec(textwrap.dedent(sample), namespace)
        live.next_step()
    live.flush()
    series = read_series(Path(live.plots_dir) / "histograms" / "gradients.tsv")
    assert series[0][0] == np.histogram(grads, bins=64)[0].tolist()
    assert series[1][1] == np.histogram(grads, density=True, range=(0.0, 1.0))[1].tolist()
    metrics = json.loads(Path(live.metrics_file).read_text())
    assert metrics["final_logits"]["_type"] == "histogram"
    assert validate_tree(live.dir) == []


BAD_INPUTS: list[tuple[dict[str, Any], str]] = [
    ({}, "sequence"),
    ({"sequence": [1, 2], "np_histogram": ([1], [0, 1])}, "np_histogram"),
    ({"sequence": []}, "sequence"),
    ({"sequence": np.zeros((3, 0))}, "sequence"),
    ({"sequence": [1.0, float("nan")]}, "sequence"),
    ({"sequence": np.array([1.0, np.inf])}, "sequence"),
    ({"sequence": [1, [2, 3]]}, "sequence"),
    ({"sequence": "1 2 3"}, "sequence"),
    ({"sequence": 3.5}, "sequence"),
    ({"sequence": {"a": 1}}, "sequence"),
    ({"sequence": ["a", "b"]}, "sequence"),
    ({"sequence": np.array([1 + 2j])}, "sequence"),
    ({"sequence": [-1e308, 1e308]}, "sequence"),
    ({"sequence": [1.0, 1.0000000000000002]}, "num_bins"),
    ({"sequence": [1, 2], "num_bins": 0}, "num_bins"),
    ({"sequence": [1, 2], "num_bins": 513}, "num_bins"),
    ({"sequence": [1, 2], "num_bins": 8.0}, "num_bins"),
    ({"sequence": [1, 2], "num_bins": True}, "num_bins"),
    ({"sequence": [1, 2], "num_bins": "64"}, "num_bins"),
    ({"np_histogram": ([1, 2], [0, 1])}, "np_histogram"),
    ({"np_histogram": ([1, 2], [0, 1, 2], [3])}, "np_histogram"),
    ({"np_histogram": "counts"}, "np_histogram"),
    ({"np_histogram": ([1, -1], [0, 1, 2])}, "np_histogram"),
    ({"np_histogram": ([1.0, np.nan], [0, 1, 2])}, "np_histogram"),
    ({"np_histogram": ([1, 2], [0, 2, 1])}, "np_histogram"),
    ({"np_histogram": ([1, 2], [0, 1, 1])}, "np_histogram"),
    ({"np_histogram": ([1, 2], [0, 1, np.inf])}, "np_histogram"),
    ({"np_histogram": ([], [0])}, "np_histogram"),
    ({"np_histogram": (np.ones(513), np.arange(514))}, "np_histogram"),
    ({"np_histogram": (np.ones((2, 2)), np.arange(3))}, "np_histogram"),
    ({"np_histogram": (["a"], [0, 1])}, "np_histogram"),
]


@pytest.mark.parametrize(("kwargs", "argument"), BAD_INPUTS)
def test_bad_input_raises_naming_the_argument_and_writes_nothing(
    live: dvcstage.Live, kwargs: dict[str, Any], argument: str
) -> None:
    live.log_metric("loss", 1.0)
    live.flush()
    before = tree(Path(live.dir))
    with pytest.raises((InvalidMediaTypeError, InvalidMediaValueError)) as caught:
        live.log({"bad": Histogram(**kwargs)})
    assert getattr(caught.value, "argument", None) == argument
    assert str(caught.value).startswith(f"{argument}:")
    assert "accepted:" in str(caught.value)
    with pytest.raises(DvcStageError):
        live.log_histogram(
            "bad", kwargs.get("sequence"), **{k: v for k, v in kwargs.items() if k != "sequence"}
        )
    live.flush()
    assert tree(Path(live.dir)) == before


def test_the_writer_thread_bins(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = np.histogram

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(np, "histogram", spy)
    hist = Histogram(np.arange(1000.0))
    assert calls == []  # not binned when made
    item = hist.encode(MediaSlot.for_key("histogram", "k", 7))
    assert len(calls) == 1
    assert item.files[0].data.startswith(b"7\t0\t0.0\t")
    assert item.files[0].header == TSV_HEADER and item.files[0].append


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=50),
)
def test_property_non_finite_sequences_are_refused(values: list[float]) -> None:
    if all(np.isfinite(values)):
        try:
            Histogram(values).encode(MediaSlot.for_key("histogram", "k", 0))
        except InvalidMediaValueError as exc:  # finite, but a range too wide or narrow
            assert exc.argument in ("sequence", "num_bins") and "range" in str(exc)
    else:
        with pytest.raises(InvalidMediaValueError, match=r"^sequence: "):
            Histogram(values)


@settings(max_examples=40, deadline=None)
@given(num_bins=st.one_of(st.integers(), st.floats(), st.booleans(), st.text(max_size=3)))
def test_property_num_bins(num_bins: Any) -> None:
    valid = isinstance(num_bins, int) and not isinstance(num_bins, bool) and 1 <= num_bins <= 512
    if valid:
        assert Histogram([0.0, 1.0], num_bins=num_bins).to_summary()["values"][0] == 1
    else:
        with pytest.raises((InvalidMediaTypeError, InvalidMediaValueError), match=r"^num_bins: "):
            Histogram([0.0, 1.0], num_bins=num_bins)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=6),
    edges=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=8),
)
def test_property_np_histogram(counts: list[float], edges: list[float]) -> None:
    valid = (
        len(counts) >= 1
        and len(edges) == len(counts) + 1
        and all(np.isfinite(counts))
        and all(c >= 0 for c in counts)
        and all(np.isfinite(edges))
        and all(a < b for a, b in itertools.pairwise(edges))
    )
    if valid:
        summary = Histogram(np_histogram=(counts, edges)).to_summary()
        assert summary["values"] == counts and summary["bins"] == edges
    else:
        with pytest.raises(InvalidMediaValueError, match=r"^np_histogram: "):
            Histogram(np_histogram=(counts, edges))
