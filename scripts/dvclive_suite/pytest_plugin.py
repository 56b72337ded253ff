"""pytest plugin that runs DVCLive's own tests stock or with ``dvcstage.Live`` swapped in.

Loaded with ``-p dvclive_suite.pytest_plugin`` (``scripts/`` on ``PYTHONPATH``) inside the
suite's virtualenv, by ``scripts/dvclive-suite``. Environment:

``DVCLIVE_SUITE_MODE``
    ``stock`` (DVCLive untouched) or ``dvcstage`` (``dvclive.Live`` replaced by
    ``dvcstage.Live`` wherever a module binds it).
``DVCLIVE_SUITE_RESULT``
    Where to write the run's result as JSON: every test's outcome with a one-line reason,
    the ``Live`` instances created (by class, per test), and the bindings that were swapped.

The swap happens when the plugin is imported, before pytest imports DVCLive's ``conftest.py``
or any test module, so ``from dvclive import Live`` in a test module already gets
``dvcstage.Live``. Every ``dvclive`` submodule that imports is imported first, then every
module attribute that is DVCLive's ``Live`` class is rebound (``dvcstage``'s own modules
excepted: ``dvcstage.Live`` subclasses it). The scan is repeated after collection, and the
bindings still pointing at DVCLive's class at the end are reported.

Instances are counted by wrapping DVCLive's ``Live.__init__`` (``functools.wraps``: the
signature that ``inspect`` and jsonargparse see is unchanged; a ``__new__`` would change it),
which ``dvcstage.Live.__init__`` calls first; the class of ``self`` is recorded. In
``dvcstage`` mode an instance of DVCLive's own class (not a ``dvcstage.Live``) is a broken
swap: the run fails with the tests that created one, as it does when no ``dvcstage.Live`` was
created at all.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import json
import os
import pkgutil
import re
import sys
import sysconfig
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from types import ModuleType
from typing import Any

import dvclive
import dvclive.live
import pytest

MODE = os.environ.get("DVCLIVE_SUITE_MODE", "stock")
RESULT_FILE = os.environ.get("DVCLIVE_SUITE_RESULT")
OUTSIDE_TESTS = "<outside any test>"

if MODE not in ("stock", "dvcstage"):
    raise RuntimeError(f"DVCLIVE_SUITE_MODE must be 'stock' or 'dvcstage', not {MODE!r}")

ORIGINAL_LIVE: Any = dvclive.live.Live  # a class; Any: its __init__ is replaced below


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class _Recorder:
    """What the run saw: instances by class (overall and per test), outcomes, bindings."""

    def __init__(self) -> None:
        self.current_test = OUTSIDE_TESTS
        self.instances: Counter[str] = Counter()
        self.instances_by_test: dict[str, Counter[str]] = {}
        self.foreign: list[dict[str, str]] = []  # dvcstage mode: DVCLive's own Live created
        self.tests: dict[str, dict[str, Any]] = {}
        self.collection_errors: dict[str, str] = {}
        self.swapped: list[str] = []
        self.unimportable: dict[str, str] = {}
        self.replacement: type | None = None

    def created(self, cls: type) -> None:
        name = _class_name(cls)
        self.instances[name] += 1
        self.instances_by_test.setdefault(self.current_test, Counter())[name] += 1
        if self.replacement is not None and not issubclass(cls, self.replacement):
            self.foreign.append({"test": self.current_test, "class": name})


RECORDER = _Recorder()


_original_init = ORIGINAL_LIVE.__init__


@functools.wraps(_original_init)
def _counting_init(self: Any, *args: Any, **kwargs: Any) -> None:
    RECORDER.created(type(self))
    _original_init(self, *args, **kwargs)


def _import_dvclive_modules() -> None:
    """Import every ``dvclive`` submodule that can be imported here (frameworks may be absent)."""
    for info in pkgutil.walk_packages(dvclive.__path__, "dvclive."):
        if info.name in sys.modules:
            continue
        try:
            importlib.import_module(info.name)
        except Exception as error:  # a framework that is not installed, or fails to import
            RECORDER.unimportable[info.name] = f"{type(error).__name__}: {error}".splitlines()[0]


def _modules_to_scan() -> list[tuple[str, ModuleType]]:
    return [
        (name, module)
        for name, module in list(sys.modules.items())
        if isinstance(module, ModuleType)
        and name != __name__
        and name != "dvcstage"
        and not name.startswith("dvcstage.")
    ]


def _bindings_of_original() -> list[tuple[str, ModuleType, str]]:
    """Every ``module.attribute`` (outside dvcstage) that is DVCLive's ``Live`` class."""
    found = []
    for name, module in _modules_to_scan():
        with contextlib.suppress(Exception):  # an exotic module whose namespace can't be read
            for attribute, value in list(vars(module).items()):
                if value is ORIGINAL_LIVE:
                    found.append((name, module, attribute))
    return found


def _swap(replacement: type) -> list[str]:
    rebound = []
    for name, module, attribute in _bindings_of_original():
        setattr(module, attribute, replacement)
        rebound.append(f"{name}.{attribute}")
    return rebound


ORIGINAL_LIVE.__init__ = _counting_init
_import_dvclive_modules()
if MODE == "dvcstage":
    from dvcstage.live import Live as DvcstageLive

    if not issubclass(DvcstageLive, ORIGINAL_LIVE):
        raise RuntimeError("dvcstage.Live does not subclass dvclive.live.Live")
    RECORDER.replacement = DvcstageLive
    RECORDER.swapped = _swap(DvcstageLive)
    if "dvclive.Live" not in RECORDER.swapped or "dvclive.live.Live" not in RECORDER.swapped:
        raise RuntimeError(f"the swap missed dvclive.Live or dvclive.live.Live: {RECORDER.swapped}")


class _Paths:
    """Shortens paths in reasons: the tests' folder, site-packages, this checkout, tmp."""

    def __init__(self) -> None:
        self.replacements: list[tuple[str, str]] = []
        self.invocation = Path.cwd()

    def configure(self, config: pytest.Config) -> None:
        self.invocation = config.invocation_params.dir
        basetemp = config.option.basetemp
        found = [(str(Path(basetemp).resolve()), "<tmp>")] if basetemp else []
        import dvclive as package

        site = str(Path(package.__file__).resolve().parents[1])
        found += [(site + os.sep, "site-packages/"), (str(config.rootpath) + os.sep, "")]
        found.append((sysconfig.get_paths()["stdlib"] + os.sep, "<stdlib>/"))
        if MODE == "dvcstage":
            import dvcstage

            checkout = Path(dvcstage.__file__).resolve().parents[1]
            found.append((str(checkout) + os.sep, ""))
        self.replacements = sorted(found, key=lambda pair: -len(pair[0]))

    def location(self, path: str, lineno: int) -> str:
        return self.short(f"{self.invocation / path}:{lineno}")  # (absolute paths stay)

    def short(self, text: str) -> str:
        for long, short in self.replacements:
            text = text.replace(long, short)
        return text


PATHS = _Paths()


def _lines(text: str, limit: int = 400) -> str:
    """The first lines of a message (an assertion's "where" lines included), on one line."""
    text = re.sub(r"\b0x[0-9a-f]{6,}\b", "0x…", PATHS.short(text))  # the same in every run
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = " | ".join(lines[:3])
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _describe(report: pytest.TestReport | pytest.CollectReport) -> dict[str, str]:
    """A failure or skip in one line, with where it was raised and the test's own line."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, lineno, reason)
        return {"reason": _lines(str(longrepr[2]))}
    crash = getattr(longrepr, "reprcrash", None)
    described = {"reason": _lines(crash.message if crash else str(longrepr))}
    if crash is not None:
        described["raised_at"] = PATHS.location(crash.path, crash.lineno)
    entries = getattr(getattr(longrepr, "reprtraceback", None), "reprentries", [])
    for entry in reversed(entries):
        location = getattr(entry, "reprfileloc", None)
        if location is not None:
            where = PATHS.location(location.path, location.lineno)
            if where.startswith("tests/"):
                described["test_line"] = where
                break
    return described


def pytest_configure(config: pytest.Config) -> None:
    PATHS.configure(config)


def _record(nodeid: str, outcome: str, report: pytest.TestReport, when: str) -> None:
    entry: dict[str, Any] = {"outcome": outcome, "when": when}
    if outcome != "passed":
        entry.update(_describe(report))
    RECORDER.tests[nodeid] = entry


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, None, None]:
    RECORDER.current_test = item.nodeid
    try:
        yield
    finally:
        RECORDER.current_test = OUTSIDE_TESTS


def pytest_collection_finish(session: pytest.Session) -> None:
    if RECORDER.replacement is not None:  # a module imported during collection kept the class
        RECORDER.swapped += _swap(RECORDER.replacement)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        RECORDER.collection_errors[report.nodeid] = _describe(report)["reason"]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    nodeid, when = report.nodeid, report.when
    xfail = hasattr(report, "wasxfail")
    if when == "setup":
        if report.failed:
            _record(nodeid, "error", report, when)
        elif report.skipped:
            _record(nodeid, "xfailed" if xfail else "skipped", report, when)
    elif when == "call":
        if report.passed:
            _record(nodeid, "xpassed" if xfail else "passed", report, when)
        elif report.skipped:
            _record(nodeid, "xfailed" if xfail else "skipped", report, when)
        else:
            _record(nodeid, "failed", report, when)
    elif (
        when == "teardown"
        and report.failed
        and RECORDER.tests.get(nodeid, {}).get("outcome") in (None, "passed")
    ):
        _record(nodeid, "error", report, when)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say in pytest's own output what was swapped and what was created."""
    write = terminalreporter.write_line
    write(f"dvclive-suite mode: {MODE}")
    if RECORDER.swapped:
        write(f"dvclive-suite swapped: {', '.join(sorted(set(RECORDER.swapped)))}")
    write(f"dvclive-suite Live instances: {dict(RECORDER.instances)}")
    if RECORDER.foreign:
        tests = sorted({entry["test"] for entry in RECORDER.foreign})
        write(f"dvclive-suite: THE SWAP DID NOT TAKE: DVCLive's Live created in {tests}", red=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leftover = []
    if RECORDER.replacement is not None:
        leftover = [f"{name}.{attribute}" for name, _, attribute in _bindings_of_original()]
    if RECORDER.foreign or leftover:
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    if not RESULT_FILE:
        return
    result = {
        "mode": MODE,
        "dvclive_version": _dvclive_version(),
        "exitstatus": int(exitstatus),
        "tests": RECORDER.tests,
        "collection_errors": RECORDER.collection_errors,
        "instances": dict(RECORDER.instances),
        "instances_by_test": {test: dict(c) for test, c in RECORDER.instances_by_test.items()},
        "foreign_instances": RECORDER.foreign,
        "swapped": sorted(set(RECORDER.swapped)),
        "still_bound_to_dvclive_live": leftover,
        "unimportable_dvclive_modules": RECORDER.unimportable,
    }
    path = Path(RESULT_FILE)
    scratch = path.with_name(path.name + ".partial")
    scratch.write_text(json.dumps(result, indent=1, sort_keys=True), encoding="utf-8")
    scratch.replace(path)


def _dvclive_version() -> str:
    from importlib.metadata import version

    return version("dvclive")
