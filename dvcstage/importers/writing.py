"""Write runs read from another tool as ordinary dvcstage runs (shared by every importer).

Each :class:`~dvcstage.importers.source.SourceRun` is written with :class:`dvcstage.Live`:
its items in step order (metrics with ``log_metric``, media with ``log``), its parameters
with ``log_params`` and its summary into ``metrics.json``. A file ``imported-from.json`` in
the run folder says where it came from and holds a fingerprint of the source files: a
second import of an unchanged source writes nothing, a changed source is imported anew.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..atomic import write_text_atomic
from ..errors import DvcStageError, ImportSourceError
from .source import METRIC, SourceOrigin, SourceRun, safe_run_name

MANIFEST = "imported-from.json"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class ImportOptions:
    """What ``dvcstage import`` was asked to do.

    Attributes:
        to: the folder to write into: the run itself for one run, else one subfolder a run.
        exp: save each run as a DVC experiment of this name (``NAME-<run>`` for several).
        dry_run: only say what would be written.
        overwrite: replace a run folder that was not written by an import, and import again
            runs an earlier import of an unchanged source wrote.
        progress: show a progress bar (on a terminal by default).
    """

    to: Path
    exp: str | None = None
    dry_run: bool = False
    overwrite: bool = False
    progress: bool | None = None


@dataclass(frozen=True)
class Outcome:
    """What happened to one run: ``imported``, ``up to date`` or ``would import``."""

    run: SourceRun
    dest: Path
    status: str
    exp_name: str | None
    written: int


def destinations(runs: Sequence[SourceRun], to: Path) -> list[Path]:
    """Where each run goes: ``to`` itself for a single run, ``to/<run name>`` for several."""
    if len(runs) == 1:
        return [to]
    names = [safe_run_name(run.name) for run in runs]
    seen: dict[str, int] = {}
    for name in names:
        seen[name] = seen.get(name, 0) + 1
    clashes = sorted(name for name, count in seen.items() if count > 1)
    if clashes:
        raise ImportSourceError(
            "source",
            ", ".join(run.name for run in runs if safe_run_name(run.name) in clashes),
            f"has several runs that would share the folder name(s) {clashes}",
            "runs whose names differ after '/' and ':' become '-'; import them one at a time",
        )
    return [to / name for name in names]


def experiment_names(runs: Sequence[SourceRun], exp: str | None) -> list[str | None]:
    """The DVC experiment name of each run: ``exp`` for one run, ``exp-<run>`` for several."""
    if exp is None:
        return [None] * len(runs)
    if len(runs) == 1:
        return [exp]
    return [re.sub(r"[^A-Za-z0-9._-]+", "-", f"{exp}-{run.name}").strip("-.") for run in runs]


def read_manifest(dest: Path) -> dict[str, Any] | None:
    """The ``imported-from.json`` of a run folder, or None."""
    try:
        manifest = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def _other_run_in(dest: Path, run: SourceRun) -> str | None:
    """What ``dest`` holds that importing ``run`` would replace: a user's own run, or the
    import of another run; None when it is new, empty, or an import of this same run."""
    if not dest.is_dir():
        return None
    manifest = read_manifest(dest)
    if manifest is None:
        names = ("metrics.json", "params.yaml", "plots", "media", "media.jsonl")
        if any((dest / name).exists() for name in names):
            return "a run that no import wrote"
        return None
    same_source = manifest.get("source") == run.source
    if same_source and manifest.get("path") == str(run.path.resolve()):
        return None
    return f"the import of another run ({manifest.get('source')} {manifest.get('path')})"


def describe(run: SourceRun, dest: Path, exp_name: str | None, out: TextIO) -> None:
    """Say what importing ``run`` into ``dest`` writes (the ``--dry-run`` report)."""
    counts = run.counts()
    kinds = (
        ", ".join(
            f"{n} {kind}{'' if kind == METRIC else ' item'}{'s' * (n != 1)}"
            for kind, n in sorted(counts.items())
        )
        or "nothing at any step"
    )
    print(f"{run.source} run {run.name!r} ({run.path}) -> {dest}", file=out)
    print(f"  {kinds}", file=out)
    if run.params:
        print(
            f"  params.yaml: {len(run.params)} parameter(s): {', '.join(sorted(run.params))}",
            file=out,
        )
    if run.summary:
        print(f"  metrics.json: {len(run.summary)} summary value(s)", file=out)
    for key, (kind, steps, first, last) in sorted(run.keys().items()):
        span = f"step {first}" if first == last else f"steps {first}..{last}"
        print(f"  {kind:<9} {key}  ({steps} step{'s' * (steps != 1)}, {span})", file=out)
    if exp_name:
        print(f"  saved as DVC experiment {exp_name!r}", file=out)
    for note in run.notes:
        print(f"  skipped: {note}", file=out)


def _progress_bar(total: int, label: str, enabled: bool | None) -> Any:
    from tqdm import tqdm

    disable = not sys.stderr.isatty() if enabled is None else not enabled
    return tqdm(total=total, desc=label, unit="item", disable=disable, leave=True)


def write_run(
    run: SourceRun,
    dest: Path,
    exp_name: str | None,
    *,
    progress: bool | None = None,
    on_item: Callable[[], None] | None = None,
    origin: dict[str, Any] | None = None,
) -> int:
    """Write ``run`` into ``dest`` with :class:`dvcstage.Live`; return the items written."""
    from ..live import Live

    items = run.sorted_items()
    from scmrepo.exceptions import SCMError

    if exp_name is not None and _without_commits(dest):
        raise ImportSourceError(
            "--exp",
            exp_name,
            "needs a commit to save the experiment on: the repository has none yet",
            "a git repository with at least one commit (or no --exp: the run is written)",
        )
    (dest / MANIFEST).unlink(missing_ok=True)  # an interrupted write is done again
    try:
        live = Live(
            dir=str(dest),
            save_dvc_exp=exp_name is not None,
            exp_name=exp_name,
            exp_message=f"Imported from {run.source} run {run.name} ({run.path})"
            if exp_name
            else None,
        )
    except SCMError as exc:  # DVCLive reads the git revision of the folder's repository
        raise ImportSourceError(
            "--to",
            dest,
            f"is in a git repository DVCLive cannot use ({exc})",
            "a repository with at least one commit, or a folder outside any repository",
        ) from exc
    written = 0
    with _progress_bar(len(items), f"{run.source}:{run.name}", progress) as bar:
        try:
            if run.params:
                live.log_params(run.params)
            failed: dict[str, list[Any]] = {}  # key -> [first step, first error, count]
            for item in items:
                live.step = item.step
                try:
                    value = item.load()
                    if item.kind == METRIC:
                        live.log_metric(item.key, value)
                    else:
                        live.log({item.key: value})
                except (DvcStageError, OSError, ValueError, KeyError, TypeError) as exc:
                    # One unreadable item (a media file gone, a kind whose extra is missing)
                    # does not stop the run: it is said, with every other failure of its key.
                    failed.setdefault(item.key, [item.step, exc, 0])[2] += 1
                else:
                    written += 1
                bar.update(1)
                if on_item is not None:
                    on_item()
            for key, (step, error, count) in failed.items():
                more = f" (and {count - 1} more step(s))" if count > 1 else ""
                run.notes.append(f"{key!r} at step {step}{more}: {error}")
            for key, value in run.summary.items():
                if isinstance(value, (int, float, str)):
                    live.log_metric(key, value, plot=False)
                else:  # a summary histogram: written into metrics.json as {"_type": ...}
                    live.summary[key] = value
        finally:
            live.end()
    manifest = {
        "format": MANIFEST_FORMAT,
        "source": run.source,
        "run": run.name,
        "path": str(run.path.resolve()),
        "fingerprint": run.fingerprint,
        "items": written,
        "experiment": exp_name,
        "origin": origin,
        "skipped": run.notes,
    }
    write_text_atomic(str(dest / MANIFEST), json.dumps(manifest, indent=2) + "\n")
    return written


def _origin_record(origin: SourceOrigin | None, runs: int) -> dict[str, Any] | None:
    if origin is None:
        return None
    return {
        "kind": origin.kind,
        "path": str(origin.path.resolve()),
        "fingerprint": origin.fingerprint,
        "runs": runs,
    }


def unchanged_import(origin: SourceOrigin, options: ImportOptions, out: TextIO) -> list[Outcome]:
    """The outcomes of an import of ``origin`` that an earlier one already did in full.

    Empty unless every run folder an earlier import of the same, unchanged source wrote into
    ``options.to`` (or its subfolders) is there; then nothing needs reading or writing.
    """
    to = options.to
    folders = [to, *sorted(p for p in to.iterdir() if p.is_dir())] if to.is_dir() else []
    record = _origin_record(origin, 0)
    assert record is not None
    found = []
    for folder in folders:
        manifest = read_manifest(folder)
        if manifest is None or not isinstance(manifest.get("origin"), dict):
            continue
        previous = manifest["origin"]
        same = all(previous.get(k) == record[k] for k in ("kind", "path", "fingerprint"))
        if same:
            found.append((folder, manifest, previous.get("runs")))
    if not found or any(runs != len(found) for _, _, runs in found):
        return []
    outcomes = []
    for folder, manifest, _ in found:
        run = SourceRun(
            name=str(manifest.get("run")), source=origin.kind, path=Path(manifest["path"])
        )
        print(f"{run.source} run {run.name!r}: {folder} is up to date", file=out)
        outcomes.append(Outcome(run, folder, "up to date", manifest.get("experiment"), 0))
    return outcomes


def import_runs(
    runs: Sequence[SourceRun],
    options: ImportOptions,
    out: TextIO,
    origin: SourceOrigin | None = None,
) -> list[Outcome]:
    """Import every run (or describe them with ``dry_run``); refuse unsafe targets first."""
    dests = destinations(runs, options.to)
    names = experiment_names(runs, options.exp)
    for run, dest in zip(runs, dests, strict=True):
        other = _other_run_in(dest, run)
        if other is not None and not options.overwrite:
            raise ImportSourceError(
                "--to",
                dest,
                f"already holds {other}, which would be replaced",
                "an empty or new folder, one an earlier import of the same run wrote, "
                "or --overwrite",
            )
    outcomes: list[Outcome] = []
    for run, dest, exp_name in zip(runs, dests, names, strict=True):
        manifest = read_manifest(dest)
        unchanged = manifest is not None and manifest.get("fingerprint") == run.fingerprint
        if unchanged and not options.overwrite:
            outcomes.append(Outcome(run, dest, "up to date", exp_name, 0))
            print(f"{run.source} run {run.name!r}: {dest} is up to date", file=out)
            continue
        if options.dry_run:
            describe(run, dest, exp_name, out)
            outcomes.append(Outcome(run, dest, "would import", exp_name, 0))
            continue
        written = write_run(
            run,
            dest,
            exp_name,
            progress=options.progress,
            origin=_origin_record(origin, len(runs)),
        )
        print(
            f"{run.source} run {run.name!r}: {written} item(s) -> {dest}"
            + (f" (experiment {exp_name})" if exp_name else ""),
            file=out,
        )
        outcomes.append(Outcome(run, dest, "imported", exp_name, written))
    return outcomes


def _without_commits(dest: Path) -> bool:
    """Whether ``dest`` is in a git repository that has no commit yet."""
    import subprocess

    folder = next((p for p in (dest, *dest.parents) if p.is_dir()), Path.cwd())
    inside = subprocess.run(
        ["git", "rev-parse", "--git-dir"], cwd=folder, capture_output=True, check=False
    )
    if inside.returncode != 0:
        return False  # not in a repository: DVCLive logs without one
    head = subprocess.run(
        ["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=folder, capture_output=True, check=False
    )
    return head.returncode != 0
