"""Run DVCLive's own test suite stock and with ``dvcstage.Live``; see ``scripts/dvclive-suite``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from dvclive_suite.environment import (
    SetupError,
    cache_root,
    fetch_sdist,
    installed_dvclive_version,
    project_root,
    venv_for,
)
from dvclive_suite.results import (
    STOCK,
    SWAPPED,
    AllowListError,
    Run,
    compare,
    read_allow_list,
    render,
)

ALLOW_LIST = project_root() / "scripts" / "dvclive-suite-allowed.txt"
# Variables that would make DVCLive's tests behave differently from a plain shell: a pytest
# configuration, DVC/DVCLive/Studio settings (e.g. when this runs inside ``dvc exp run``).
SCRUBBED_PREFIXES = ("PYTEST_", "DVC_", "DVCLIVE_", "STUDIO_", "VIRTUAL_ENV")
HARNESS_ERROR = 2
KEPT_LOG_FOLDERS = 20


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scripts/dvclive-suite",
        description=(
            "Run DVCLive's own tests (from the sdist of the installed dvclive) stock and with "
            "dvclive.Live replaced by dvcstage.Live; fail if a test that passes stock fails "
            "with dvcstage.Live (scripts/dvclive-suite-allowed.txt excepted)."
        ),
    )
    parser.add_argument(
        "--core", action="store_true", help="tests/ without frameworks/ (the default)"
    )
    parser.add_argument(
        "--frameworks",
        action="store_true",
        help="tests/frameworks/ (torch, transformers, lightning, keras, xgboost, lightgbm, "
        "optuna, fastai); with --core too: both",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, metavar="N", help="runs per mode (default 3)"
    )
    parser.add_argument("-k", dest="keyword", metavar="EXPR", help="pytest -k expression")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the result as JSON")
    parser.add_argument(
        "--dvclive-version", help="DVCLive release to test (default: the one installed)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        metavar="S",
        help="hang guard per test, pytest-timeout (default 900 s; not a speed check)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="pytest -vv: full assertion diffs in the run logs (their paths are printed)",
    )
    parser.add_argument(
        "--only",
        choices=[STOCK, SWAPPED],
        help="run one mode only: shows its outcomes, compares nothing (for debugging)",
    )
    parser.add_argument(
        "tests",
        nargs="*",
        metavar="TEST",
        help="test files or ids relative to the sdist, e.g. tests/test_resume.py "
        "(instead of the part's folder)",
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if not args.core and not args.frameworks:
        args.core = True
    return args


def pytest_command(python: Path, args: argparse.Namespace, basetemp: Path) -> list[str]:
    if args.tests:
        selection = list(args.tests)
    elif args.core and args.frameworks:
        selection = ["tests"]
    elif args.frameworks:
        selection = ["tests/frameworks"]
    else:
        selection = ["tests", "--ignore=tests/frameworks"]
    command = [
        str(python), "-m", "pytest", *selection,
        "-p", "dvclive_suite.pytest_plugin",
        "-p", "no:cacheprovider",
        f"--basetemp={basetemp}",
        f"--timeout={args.timeout:g}",
        "-q", "-rfE",
    ]  # fmt: skip
    if args.keyword:
        command += ["-k", args.keyword]
    if args.verbose:
        command.append("-vv")
    return command


def environment(mode: str, result_file: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(SCRUBBED_PREFIXES) and name != "PYTHONPATH"
    }
    env.update(
        PYTHONPATH=str(project_root() / "scripts"),
        DVCLIVE_SUITE_MODE=mode,
        DVCLIVE_SUITE_RESULT=str(result_file),
        DVC_NO_ANALYTICS="1",
        HF_HUB_OFFLINE="1",  # nothing in the tests downloads; don't let a library try
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    return env


def run_once(
    mode: str, index: int, python: Path, source: Path, args: argparse.Namespace, logs: Path
) -> Run:
    log = logs / f"{mode}-{index}.log"
    result_file = logs / f"{mode}-{index}.json"
    with tempfile.TemporaryDirectory(prefix=f"dvclive-suite-{mode}-") as basetemp:
        started = time.perf_counter()
        with log.open("w", encoding="utf-8") as output:
            process = subprocess.run(
                pytest_command(python, args, Path(basetemp) / "t"),
                cwd=source,
                env=environment(mode, result_file),
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            )
        seconds = time.perf_counter() - started
    if not result_file.is_file():
        tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:])
        raise SetupError(
            f"{mode} run {index}: pytest exited {process.returncode} without a result "
            f"(log: {log}):\n{tail}"
        )
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    return Run(mode, index, seconds, process.returncode, str(log), result)


def check_run(run: Run) -> list[str]:
    """Problems that make a run meaningless: the swap did not take, pytest itself failed."""
    problems = []
    instances: dict[str, int] = run.result["instances"]
    where = f"{run.mode} run {run.index} ({run.log})"
    if run.exitcode not in (0, 1):
        problems.append(f"{where}: pytest exited {run.exitcode}")
    if not run.tests:
        problems.append(f"{where}: no test ran")
    if run.mode == SWAPPED:
        ours = sum(count for cls, count in instances.items() if cls.startswith("dvcstage."))
        if run.result["foreign_instances"]:
            tests = sorted({entry["test"] for entry in run.result["foreign_instances"]})
            problems.append(
                f"{where}: THE SWAP DID NOT TAKE: DVCLive's own Live was created in "
                f"{len(tests)} tests, e.g. {tests[:5]}"
            )
        if run.result["still_bound_to_dvclive_live"]:
            bound = run.result["still_bound_to_dvclive_live"]
            problems.append(f"{where}: still bound to DVCLive's Live: {bound}")
        if ours == 0 and run.tests:
            problems.append(
                f"{where}: THE SWAP DID NOT TAKE: no dvcstage.Live was created (a selection "
                "of tests that creates no Live cannot show that the swap took)"
            )
    elif any(cls.startswith("dvcstage.") for cls in instances):
        problems.append(f"{where}: a dvcstage.Live was created in a stock run: {instances}")
    return problems


def new_log_folder(keep: int = KEPT_LOG_FOLDERS) -> Path:
    """A folder for this invocation's logs; the oldest ones beyond ``keep`` are removed."""
    runs = cache_root() / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    logs = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=runs))
    for old in sorted(runs.iterdir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return logs


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        allow_list = read_allow_list(ALLOW_LIST)
    except AllowListError as error:
        print(f"dvclive-suite: {error}", file=sys.stderr)
        return HARNESS_ERROR
    logs = new_log_folder()
    part = " + ".join(
        name for name, on in (("core", args.core), ("frameworks", args.frameworks)) if on
    )
    try:
        version = args.dvclive_version or installed_dvclive_version()
        print(f"dvclive-suite: DVCLive {version}, {part}; setting up (log: {logs}/setup.log)")
        started = time.perf_counter()
        source = fetch_sdist(version, logs / "setup.log")
        venv, plan = venv_for(version, args.frameworks, source, logs / "setup.log")
        print(f"dvclive-suite: ready in {time.perf_counter() - started:.0f} s: {venv}")
        for note in plan.notes:
            print(f"  {note}")
        python = venv / "bin" / "python"
        modes = [args.only] if args.only else [STOCK, SWAPPED]
        runs: list[Run] = []
        problems: list[str] = []
        for index in range(1, args.repeat + 1):
            for mode in modes:  # interleaved, so a noisy moment hits both modes alike
                run = run_once(mode, index, python, source, args, logs)
                counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(run.counts().items()))
                print(
                    f"  {mode:8} run {index}/{args.repeat}: {counts} ({run.seconds:.1f} s; "
                    f"log: {run.log})"
                )
                runs.append(run)
                problems += check_run(run)
    except SetupError as error:
        print(f"dvclive-suite: {error}", file=sys.stderr)
        return HARNESS_ERROR
    comparison = compare(runs, allow_list)
    swapped = next((run.result for run in runs if run.mode == SWAPPED), None)
    stock = next((run.result for run in runs if run.mode == STOCK), {})
    header = [""]
    if swapped is not None:
        header.append(f"dvcstage.Live swapped in for: {', '.join(swapped['swapped'])}")
    unimportable = (swapped or stock).get("unimportable_dvclive_modules", {})
    if unimportable:
        header.append(
            "not importable here (their tests skip): "
            + ", ".join(f"{name} ({why})" for name, why in sorted(unimportable.items()))
        )
    for mode in modes:
        created: dict[str, int] = {}
        for run in runs:
            if run.mode == mode:
                for cls, count in run.result["instances"].items():
                    created[cls] = created.get(cls, 0) + count
        header.append(f"Live instances created in the {mode} runs: {created}")
    header.append("")
    for line in render(comparison, runs, header):
        print(line)
    for problem in problems:
        print(f"dvclive-suite: ERROR: {problem}", file=sys.stderr)
    if args.json:
        payload = {
            "dvclive_version": version,
            "part": part,
            "repeat": args.repeat,
            "keyword": args.keyword,
            "logs": str(logs),
            "problems": problems,
            "baseline": comparison.baseline,
            "passing_swapped": comparison.passing_swapped,
            "regressions": comparison.regressions,
            "allowed": comparison.allowed,
            "flaky": comparison.flaky,
            "not_passing_stock": comparison.not_passing_stock,
            "runs": [
                {
                    "mode": run.mode,
                    "index": run.index,
                    "seconds": round(run.seconds, 2),
                    "exitcode": run.exitcode,
                    "log": run.log,
                    **run.result,
                }
                for run in runs
            ],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    passed = len([test for test in comparison.baseline if test in comparison.passing_swapped])
    print(f"\nDVCLive: {passed} passed, {len(comparison.regressions)} failed")
    if problems:
        return HARNESS_ERROR
    if args.only:
        return 0
    return 1 if comparison.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
