"""Compare DVCLive's tests run stock and with ``dvcstage.Live``: regressions, flakes, allow-list.

A test is in the *baseline* when it passed in every stock run. A *regression* is a baseline
test that did not pass in every run with ``dvcstage.Live`` (failed, errored, skipped, or was
not collected). A test is *flaky* in a mode when its outcome differed between that mode's
runs. Regressions named in the allow-list are reported but don't fail the suite.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STOCK, SWAPPED = "stock", "dvcstage"


class AllowListError(ValueError):
    """The allow-list file has an entry without a reason, or a malformed line."""


@dataclass(frozen=True)
class Allowed:
    """An allow-list entry: a test id (all its parametrizations without ``[...]``) and why."""

    test: str
    why: str
    line: int

    def matches(self, nodeid: str) -> bool:
        return nodeid == self.test or ("[" not in self.test and nodeid.split("[")[0] == self.test)


def read_allow_list(path: Path) -> list[Allowed]:
    """Entries ``tests/file.py::test_name[params]  # why``; blank and ``#`` lines are ignored."""
    if not path.is_file():
        return []
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        test, _, why = line.partition("#")
        test, why = test.strip(), why.strip()
        if not re.fullmatch(r"tests/\S+\.py::\S+", test):
            raise AllowListError(
                f"{path}:{number}: {test!r} is not a test id like tests/test_x.py::test_name"
            )
        if not why:
            raise AllowListError(f"{path}:{number}: {test} needs a reason after '#'")
        entries.append(Allowed(test, why, number))
    return entries


@dataclass
class Run:
    """One pytest run of the suite, as the plugin reported it."""

    mode: str
    index: int
    seconds: float
    exitcode: int
    log: str
    result: dict[str, Any]

    @property
    def tests(self) -> dict[str, dict[str, Any]]:
        tests: dict[str, dict[str, Any]] = self.result.get("tests", {})
        return tests

    def counts(self) -> Counter[str]:
        return Counter(entry["outcome"] for entry in self.tests.values())


def _missing(run: Run, nodeid: str) -> dict[str, Any]:
    file = nodeid.split("::")[0]
    error = run.result.get("collection_errors", {}).get(file)
    reason = f"collection error: {error}" if error else "not collected in this run"
    return {"outcome": "missing", "reason": reason}


def outcomes(runs: list[Run], mode: str) -> dict[str, list[dict[str, Any]]]:
    """Every test seen in ``mode``'s runs -> its entry in each of them (in run order)."""
    selected = [run for run in runs if run.mode == mode]
    nodeids = sorted({nodeid for run in selected for nodeid in run.tests})
    return {
        nodeid: [run.tests.get(nodeid) or _missing(run, nodeid) for run in selected]
        for nodeid in nodeids
    }


def _summary(entries: list[dict[str, Any]]) -> str:
    counts = Counter(entry["outcome"] for entry in entries)
    return ", ".join(f"{outcome} {count}/{len(entries)}" for outcome, count in counts.items())


def _first_failure(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return next(entry for entry in entries if entry["outcome"] != "passed")


@dataclass
class Comparison:
    """The suite's verdict and everything the report shows."""

    stock: dict[str, list[dict[str, Any]]]
    swapped: dict[str, list[dict[str, Any]]]
    allow_list: list[Allowed]
    baseline: list[str] = field(default_factory=list)
    passing_swapped: list[str] = field(default_factory=list)
    regressions: list[dict[str, Any]] = field(default_factory=list)
    allowed: list[dict[str, Any]] = field(default_factory=list)
    allowed_but_passing: list[Allowed] = field(default_factory=list)
    allowed_unknown: list[Allowed] = field(default_factory=list)
    flaky: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    not_passing_stock: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.regressions)


def compare(runs: list[Run], allow_list: list[Allowed]) -> Comparison:
    stock, swapped = outcomes(runs, STOCK), outcomes(runs, SWAPPED)
    result = Comparison(stock, swapped, allow_list)

    def passed(entries: list[dict[str, Any]]) -> bool:
        return all(entry["outcome"] == "passed" for entry in entries)

    result.baseline = [nodeid for nodeid, entries in stock.items() if passed(entries)]
    result.passing_swapped = [nodeid for nodeid, entries in swapped.items() if passed(entries)]
    swapped_runs = [run for run in runs if run.mode == SWAPPED]
    for nodeid in result.baseline if swapped_runs else []:
        entries = swapped.get(nodeid) or [_missing(run, nodeid) for run in swapped_runs]
        if passed(entries):
            continue
        failure = _first_failure(entries)
        reasons = [entry.get("reason", "") for entry in entries if entry["outcome"] != "passed"]
        regression: dict[str, Any] = {
            "test": nodeid,
            "outcomes": _summary(entries),
            "every_run": not any(entry["outcome"] == "passed" for entry in entries),
            **{key: failure[key] for key in ("reason", "raised_at", "test_line") if key in failure},
            "other_reasons": sorted(set(reasons) - {failure.get("reason", "")}),
        }
        allowed = next((entry for entry in allow_list if entry.matches(nodeid)), None)
        if allowed is None:
            result.regressions.append(regression)
        else:
            result.allowed.append({**regression, "why": allowed.why})
    for entry in allow_list:
        matching = [nodeid for nodeid in result.baseline if entry.matches(nodeid)]
        if not matching:
            result.allowed_unknown.append(entry)
        elif all(nodeid in result.passing_swapped for nodeid in matching):
            result.allowed_but_passing.append(entry)
    for mode, table in ((STOCK, stock), (SWAPPED, swapped)):
        result.flaky[mode] = [
            {"test": nodeid, "outcomes": _summary(entries)}
            for nodeid, entries in table.items()
            if len({entry["outcome"] for entry in entries}) > 1
        ]
    for nodeid, entries in stock.items():
        if not passed(entries):
            failure = _first_failure(entries)
            result.not_passing_stock.append(
                {"test": nodeid, "outcomes": _summary(entries), "reason": failure.get("reason", "")}
            )
    return result


def _where(entry: dict[str, Any]) -> str:
    parts = []
    if "test_line" in entry:
        parts.append(f"at {entry['test_line']}")
    if "raised_at" in entry and entry.get("raised_at") != entry.get("test_line"):
        parts.append(f"raised at {entry['raised_at']}")
    return f" ({'; '.join(parts)})" if parts else ""


def render(comparison: Comparison, runs: list[Run], header: list[str]) -> list[str]:
    """The human-readable report, as lines."""
    lines = list(header)
    stock_runs = [run for run in runs if run.mode == STOCK]
    swapped_runs = [run for run in runs if run.mode == SWAPPED]
    for label, mode_runs, table in (
        ("stock", stock_runs, comparison.stock),
        ("with dvcstage.Live", swapped_runs, comparison.swapped),
    ):
        seconds = sum(run.seconds for run in mode_runs) / max(len(mode_runs), 1)
        passing = comparison.baseline if label == "stock" else comparison.passing_swapped
        lines.append(
            f"{label}: {len(table)} tests, {len(passing)} passed in all {len(mode_runs)} runs "
            f"({seconds:.1f} s per run)"
        )
    lines.append("")
    exercised = sum(
        1
        for nodeid in comparison.baseline
        if any(
            any(
                cls.startswith("dvcstage.")
                for cls in run.result["instances_by_test"].get(nodeid, {})
            )
            for run in swapped_runs
        )
    )
    lines.append(
        f"{exercised} of the {len(comparison.baseline)} tests that pass stock create a "
        "dvcstage.Live (the others test helpers around it)"
    )
    if comparison.not_passing_stock:
        lines.append("")
        lines.append(f"Not passing stock, so not compared ({len(comparison.not_passing_stock)}):")
        for entry in comparison.not_passing_stock:
            lines.append(f"  {entry['test']}  [{entry['outcomes']}]  {entry['reason']}")
    lines.append("")
    lines.append(
        f"Pass stock, fail with dvcstage.Live ({len(comparison.regressions)}"
        f"{', not allowed' if comparison.allow_list else ''}):"
    )
    for entry in comparison.regressions:
        lines.append(f"  {entry['test']}  [{entry['outcomes']}]")
        lines.append(f"      {entry.get('reason', '')}{_where(entry)}")
        lines += [f"      in another run: {reason}" for reason in entry["other_reasons"]]
    if not comparison.regressions:
        lines.append("  none")
    if comparison.allowed:
        lines.append("")
        lines.append(f"Allowed to fail ({len(comparison.allowed)}), from the allow-list:")
        for entry in comparison.allowed:
            lines.append(f"  {entry['test']}  [{entry['outcomes']}]  why: {entry['why']}")
            lines.append(f"      {entry.get('reason', '')}{_where(entry)}")
    for allowed in comparison.allowed_but_passing:
        lines.append(f"note: allow-list line {allowed.line}: {allowed.test} passes now: remove it")
    for allowed in comparison.allowed_unknown:
        lines.append(
            f"note: allow-list line {allowed.line}: {allowed.test} matches no test passing stock"
        )
    for mode, label in ((SWAPPED, "with dvcstage.Live"), (STOCK, "stock")):
        flaky = comparison.flaky.get(mode, [])
        if flaky:
            lines.append("")
            lines.append(f"Flaky {label} (outcome differs between runs; {len(flaky)}):")
            lines += [f"  {entry['test']}  [{entry['outcomes']}]" for entry in flaky]
    return lines
