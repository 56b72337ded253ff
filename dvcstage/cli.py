"""The ``dvcstage`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .index import rebuild_index
from .validate import find_runs, validate_tree


def _validate(args: argparse.Namespace) -> int:
    problems = validate_tree(args.dir)
    for problem in problems:
        print(problem)
    runs = len(find_runs(args.dir))
    if problems:
        print(f"{len(problems)} problem(s) in {runs} run(s)", file=sys.stderr)
        return 1
    print(f"ok: {runs} run(s) under {args.dir}", file=sys.stderr)
    return 0


def _index(args: argparse.Namespace) -> int:
    if not args.rebuild:
        print("nothing to do: pass --rebuild", file=sys.stderr)
        return 2
    if not Path(args.dir).is_dir():
        print(f"{args.dir}: not a folder", file=sys.stderr)
        return 2
    count = rebuild_index(args.dir)
    print(f"{args.dir}: index rebuilt with {count} item(s)")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import main as demo_main

    return demo_main(args.dir, args.steps)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dvcstage", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    validate = commands.add_parser(
        "validate", help="check every sidecar and index line under DIR against the schemas"
    )
    validate.add_argument("dir", metavar="DIR", nargs="?", default=".")
    validate.set_defaults(run=_validate)
    index = commands.add_parser("index", help="maintain a run's media index")
    index.add_argument("--rebuild", action="store_true", help="recreate DIR/media.jsonl")
    index.add_argument("dir", metavar="DIR", help="the run folder (e.g. dvclive)")
    index.set_defaults(run=_index)
    demo = commands.add_parser("demo", help="log annotated, masked images into a demo workspace")
    demo.add_argument("dir", metavar="DIR", nargs="?", default="demo-workspace")
    demo.add_argument("--steps", type=int, default=10)
    demo.set_defaults(run=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dvcstage`` console script."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
