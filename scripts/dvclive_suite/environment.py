"""DVCLive's source distribution and the virtualenv its tests run in.

The sdist of the DVCLive release that dvcstage runs against is downloaded once with
``pip download`` and kept, with the virtualenvs, under a git-ignored cache folder. What the
virtualenv gets is read from the sdist's own metadata (``PKG-INFO``): the ``tests`` extra, and
for the framework tests the extras of the frameworks that ``tests/frameworks/`` uses, with the
substitutions below so that everything runs on the CPU without CUDA downloads.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement

# Requirements of DVCLive's ``tests`` extra that the core tests (``tests/`` without
# ``frameworks/``) do not need, and why.
NOT_FOR_CORE = {
    "pytest-sugar": "a progress display",
    "pytest-cov": "coverage measurement",
    "transformers": "only tests/frameworks/ use it",
    "tf-keras": "only tests/frameworks/ use it",
}
# Requirements of the ``tests`` extra that no part needs here, and why.
NEVER = {
    "pytest-sugar": "a progress display",
    "pytest-cov": "coverage measurement",
    "tf-keras": (
        "Keras 2 for transformers' TensorFlow models, which DVCLive's tests don't use; it "
        "requires the full tensorflow distribution beside tensorflow-cpu"
    ),
}
# Same code, smaller CPU-only builds.
SUBSTITUTES = {
    "tensorflow": ("tensorflow-cpu", "the CPU-only build of the same release line"),
    "xgboost": ("xgboost-cpu", "the CPU-only build, without the NCCL (CUDA) dependency"),
}
# Installed without these dependencies (then with all their other ones), and why.
WITHOUT = {
    "fastai": {
        "torchvision": (
            "PyPI's torchvision is built against the CUDA torch and fails to import beside the "
            "CPU torch; fastai's tabular API, which DVCLive's tests use, does not import it"
        ),
    },
}
# The CPU build of torch that this machine's pip finds on local disk; without a pin, a
# requirement on plain ``torch`` takes a CUDA build of several GB.
TORCH = os.environ.get("DVCLIVE_SUITE_TORCH", "torch==2.13.0")
# The hang guard's default (per test, pytest-timeout): far above any healthy test's time.
HARNESS_REQUIREMENTS = ["pytest-timeout>=2.3"]


class SetupError(RuntimeError):
    """The sdist or the virtualenv could not be prepared."""


@dataclass
class Plan:
    """What the suite's virtualenv gets, and what was left out or replaced, with why."""

    requirements: list[str]
    constraints: list[str]
    without: dict[str, dict[str, str]]
    notes: list[str] = field(default_factory=list)


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]


def cache_root() -> Path:
    return Path(os.environ.get("DVCLIVE_SUITE_CACHE") or project_root() / ".dvclive-suite")


def run(command: list[str], log: Path | None = None, cwd: Path | None = None) -> None:
    """Run a setup command; on failure, raise with the end of its output."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    output = result.stdout + result.stderr
    if log is not None:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(f"$ {' '.join(command)}\n{output}\n")
    if result.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-25:])
        raise SetupError(f"command failed ({result.returncode}): {' '.join(command)}\n{tail}")


def installed_dvclive_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dvclive")
    except PackageNotFoundError as error:
        raise SetupError("dvclive is not installed here: run scripts/setup first") from error


def fetch_sdist(version: str, log: Path) -> Path:
    """DVCLive's sdist for ``version``, unpacked; downloaded with pip the first time."""
    source = cache_root() / "src" / f"dvclive-{version}"
    if (source / "PKG-INFO").is_file() and (source / "tests").is_dir():
        return source
    downloads = cache_root() / "sdist"
    downloads.mkdir(parents=True, exist_ok=True)
    archive = downloads / f"dvclive-{version}.tar.gz"
    if not archive.is_file():
        with tempfile.TemporaryDirectory(dir=downloads) as scratch:
            run(
                [
                    sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                    "--no-deps", "--dest", scratch, f"dvclive=={version}",
                ],
                log,
            )  # fmt: skip
            found = list(Path(scratch).glob("dvclive-*.tar.gz"))
            if len(found) != 1:
                raise SetupError(
                    f"pip download gave no dvclive sdist: {sorted(Path(scratch).iterdir())}"
                )
            found[0].replace(archive)
    source.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=source.parent) as scratch:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(scratch, filter="data")
            else:  # Python without extraction filters: check the names by hand
                for member in tar.getmembers():
                    if member.name.startswith(("/", "..")) or "/../" in member.name:
                        raise SetupError(f"unsafe path in {archive}: {member.name}")
                tar.extractall(scratch)  # names checked above
        unpacked = Path(scratch) / f"dvclive-{version}"
        if not (unpacked / "tests").is_dir():
            raise SetupError(f"{archive} has no tests/ folder")
        shutil.rmtree(source, ignore_errors=True)
        unpacked.replace(source)
    return source


def _requires(source: Path) -> list[tuple[Requirement, str | None]]:
    """The sdist's ``Requires-Dist`` lines with the extra each belongs to (None: always)."""
    metadata = email.parser.Parser().parsestr((source / "PKG-INFO").read_text(encoding="utf-8"))
    parsed = []
    for line in metadata.get_all("Requires-Dist") or []:
        requirement = Requirement(line)
        extra = None
        if requirement.marker is not None:
            for candidate in metadata.get_all("Provides-Extra") or []:
                if requirement.marker.evaluate({"extra": candidate}) and not (
                    requirement.marker.evaluate({"extra": ""})
                ):
                    extra = candidate
                    break
            else:
                if not requirement.marker.evaluate({"extra": ""}):
                    continue  # not for this Python or platform
            requirement.marker = None
        parsed.append((requirement, extra))
    return parsed


def _extra(requires: list[tuple[Requirement, str | None]], name: str) -> list[Requirement]:
    return [requirement for requirement, extra in requires if extra == name]


def _framework_extras(
    source: Path, requires: list[tuple[Requirement, str | None]], core_extras: set[str]
) -> tuple[list[str], list[str]]:
    """The extras in ``all`` that a test in ``tests/frameworks/`` uses, and notes on the rest."""
    text = "\n".join(
        path.read_text(encoding="utf-8") for path in (source / "tests/frameworks").glob("*.py")
    )
    named: set[str] = set()
    for requirement in _extra(requires, "all"):
        if requirement.name == "dvclive":
            named |= requirement.extras
    used, notes = [], []
    for extra in sorted(named - core_extras):
        names = [requirement.name for requirement in _extra(requires, extra)]
        if any(name.replace("-", "_") in text for name in names):
            used.append(extra)
        else:
            notes.append(f"left out the extra [{extra}] ({', '.join(names)}): no test uses it")
    return used, notes


def plan(source: Path, frameworks: bool) -> Plan:
    """What to install for the core part, or for core and frameworks, from the sdist's metadata."""
    requires = _requires(source)
    sdist = cache_root() / "sdist" / f"{source.name}.tar.gz"
    if not sdist.is_file():
        raise SetupError(f"{sdist} is missing: remove {source} to download it again")
    core_extras: set[str] = set()
    wanted: list[Requirement] = []
    notes: list[str] = []
    for requirement in _extra(requires, "tests"):
        if requirement.name == "dvclive":
            core_extras |= requirement.extras
        elif requirement.name in NEVER:
            notes.append(f"left out {requirement}: {NEVER[requirement.name]}")
        elif not frameworks and requirement.name in NOT_FOR_CORE:
            notes.append(f"left out {requirement}: {NOT_FOR_CORE[requirement.name]}")
        else:
            wanted.append(requirement)
    constraints: list[str] = []
    without: dict[str, dict[str, str]] = {}
    if frameworks:
        extras, skipped = _framework_extras(source, requires, core_extras)
        notes += skipped
        for extra in extras:
            wanted += _extra(requires, extra)
        constraints.append(TORCH)
        notes.append(f"constraint {TORCH}: the CPU build (this machine's pip has it on disk)")
    requirements = [f"dvclive[{','.join(sorted(core_extras))}] @ {sdist.resolve().as_uri()}"]
    for requirement in wanted:
        if requirement.name in SUBSTITUTES:
            substitute, why = SUBSTITUTES[requirement.name]
            notes.append(f"{requirement.name} -> {substitute}: {why}")
            requirement.name = substitute
        if requirement.name in WITHOUT:
            without[str(requirement)] = WITHOUT[requirement.name]
            for name, why in WITHOUT[requirement.name].items():
                notes.append(f"{requirement.name} without its dependency {name}: {why}")
        elif str(requirement) not in requirements:
            requirements.append(str(requirement))
    requirements += HARNESS_REQUIREMENTS
    return Plan(requirements, constraints, without, notes)


def _dvcstage_fingerprint() -> str:
    """Changes when dvcstage's dependencies do (the checkout itself is installed editable)."""
    return hashlib.sha256((project_root() / "pyproject.toml").read_bytes()).hexdigest()[:16]


def venv_for(version: str, frameworks: bool, source: Path, log: Path) -> tuple[Path, Plan]:
    """The suite's virtualenv for this DVCLive version and part, made or updated as needed.

    dvcstage is installed from this checkout in editable mode: changes to its code need no
    reinstall, changes to its dependencies (``pyproject.toml``) are picked up here.
    """
    part = "frameworks" if frameworks else "core"
    python_tag = f"py{sys.version_info.major}{sys.version_info.minor}"
    venv = cache_root() / "venv" / f"dvclive-{version}-{part}-{python_tag}"
    wanted = plan(source, frameworks)
    stamp = {
        "requirements": wanted.requirements,
        "constraints": wanted.constraints,
        "without": wanted.without,
        "dvcstage": _dvcstage_fingerprint(),
        "project": str(project_root()),
    }
    stamp_file = venv / "dvclive-suite.json"
    python = venv / "bin" / "python"
    if (
        python.is_file()
        and stamp_file.is_file()
        and json.loads(stamp_file.read_text(encoding="utf-8")) == stamp
    ):
        return venv, wanted
    stamp_file.unlink(missing_ok=True)
    if not python.is_file():
        shutil.rmtree(venv, ignore_errors=True)
        venv.parent.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "venv", str(venv)], log)
    pip = [str(python), "-m", "pip"]
    run([*pip, "install", "-q", "--upgrade", "pip"], log)
    constraints = venv / "constraints.txt"
    constraints.write_text("".join(f"{line}\n" for line in wanted.constraints), encoding="utf-8")
    install = [*pip, "install", "-q", "-c", str(constraints)]
    run([*install, *wanted.requirements, "-e", str(project_root())], log)
    for requirement, excluded in wanted.without.items():
        run([*install, "--no-deps", requirement], log)
        name = Requirement(requirement).name
        script = (
            "import importlib.metadata as m, json, sys;"
            f"print(json.dumps(m.requires({name!r}) or []))"
        )
        listed = subprocess.run(
            [str(python), "-c", script], capture_output=True, text=True, check=True
        ).stdout
        rest = []
        for line in json.loads(listed):
            dependency = Requirement(line)
            if dependency.name in excluded:
                continue
            if dependency.marker is not None and not dependency.marker.evaluate({"extra": ""}):
                continue  # an extra, or not for this platform
            dependency.marker = None
            rest.append(str(dependency))
        if rest:
            run([*install, *rest], log)
    stamp_file.write_text(json.dumps(stamp, indent=1), encoding="utf-8")
    return venv, wanted
