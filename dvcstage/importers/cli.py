"""The ``dvcstage import`` command: ``dvcstage import tensorboard|wandb SOURCE --to DIR``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DESCRIPTION = (
    "Write the runs of another tool as dvcstage runs: metrics at their steps, media with "
    "their overlays, parameters, summary. A single run goes into DIR, several into "
    "DIR/<run name>. Re-running with an unchanged source writes nothing."
)


def _run(args: argparse.Namespace) -> int:
    from ..errors import DvcStageError
    from . import ImportOptions, import_tensorboard, import_wandb

    options = ImportOptions(
        to=Path(args.to),
        exp=args.exp,
        dry_run=args.dry_run,
        overwrite=args.overwrite,
        progress=False if args.no_progress else None,
    )
    importer = import_tensorboard if args.source_kind == "tensorboard" else import_wandb
    try:
        outcomes = importer(Path(args.source), options, sys.stdout)
    except DvcStageError as exc:
        print(f"dvcstage import {args.source_kind}: {exc}", file=sys.stderr)
        return 2
    for outcome in outcomes:
        for note in outcome.run.notes:
            if outcome.status == "imported":
                print(f"  skipped: {note}", file=sys.stderr)
    done = sum(o.status == "imported" for o in outcomes)
    same = sum(o.status == "up to date" for o in outcomes)
    planned = sum(o.status == "would import" for o in outcomes)
    verb = "would import" if args.dry_run else "imported"
    print(
        f"{verb} {planned if args.dry_run else done} run(s), {same} up to date",
        file=sys.stderr,
    )
    return 0


def register(commands: Any) -> None:
    """Add the ``import`` command to the ``dvcstage`` command's subparsers."""
    parser = commands.add_parser(
        "import",
        help="bring TensorBoard or W&B runs in as dvcstage runs",
        description=DESCRIPTION,
        epilog="exit status: 0 imported or up to date (items that could not be read are "
        "named), 2 bad usage, an unknown layout or a destination that cannot be used",
    )
    kinds = parser.add_subparsers(
        dest="source_kind",
        required=True,
        metavar="{tensorboard,wandb}",
        help="the format of the runs to import",
    )
    for kind, metavar, source_help in (
        (
            "tensorboard",
            "LOGDIR",
            "a TensorBoard log folder; every folder with event files is a run",
        ),
        (
            "wandb",
            "RUN_DIR",
            "a W&B run folder (wandb/offline-run-*), a wandb/ folder of runs, or downloaded "
            "run files",
        ),
    ):
        sub = kinds.add_parser(kind, help=f"import {kind} runs", description=DESCRIPTION)
        sub.add_argument("source", metavar=metavar, help=source_help)
        sub.add_argument("--to", required=True, metavar="DIR", help="where the run(s) go")
        sub.add_argument(
            "--exp",
            metavar="NAME",
            help="save each run as a DVC experiment (NAME-<run> for several)",
        )
        sub.add_argument(
            "--dry-run", action="store_true", help="say what would be written; write nothing"
        )
        sub.add_argument(
            "--overwrite",
            action="store_true",
            help="replace a run in DIR that no import wrote; import unchanged runs again",
        )
        sub.add_argument("--no-progress", action="store_true", help="no progress bar")
        sub.set_defaults(run=_run)
