"""The ``dvcstage`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from .importers.cli import register as register_import
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


def _templates(args: argparse.Namespace) -> int:
    from .plot_templates import install_templates, list_templates, template_path

    if args.action == "list":
        for name in list_templates():
            print(f"{name}\t{template_path(name)}")
        return 0
    dvc_dir = Path(args.dvc_dir)
    if not dvc_dir.is_dir():
        print(f"{dvc_dir}: not a folder (run `dvc init` first)", file=sys.stderr)
        return 2
    written = install_templates(dvc_dir, overwrite=args.force)
    for path in written:
        print(f"installed {path}")
    kept = len(list_templates()) - len(written)
    print(f"{len(written)} template(s) installed, {kept} already there", file=sys.stderr)
    return 0


def _view(args: argparse.Namespace) -> int:
    from .view.serve import ViewOptions, run

    return run(
        ViewOptions(
            folder=Path(args.path),
            host=args.host,
            port=args.port,
            open_browser=not args.no_browser,
            cache_dir=args.cache_dir,
            cache_answers=not args.no_answer_cache,
        )
    )


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {value!r}")
    return int(value)


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
    templates = commands.add_parser(
        "templates", help="list dvcstage's dvc plots templates or install them into .dvc/plots"
    )
    templates.add_argument("action", choices=["list", "install"])
    templates.add_argument(
        "--dvc-dir", default=".dvc", help="the repository's .dvc folder (default: .dvc)"
    )
    templates.add_argument(
        "--force", action="store_true", help="replace installed templates that differ"
    )
    templates.set_defaults(run=_templates)
    demo = commands.add_parser("demo", help="log annotated, masked images into a demo workspace")
    demo.add_argument("dir", metavar="DIR", nargs="?", default="demo-workspace")
    demo.add_argument("--steps", type=int, default=10)
    demo.set_defaults(run=_demo)
    view = commands.add_parser(
        "view",
        help="show the media panel in a browser (a local server; the URL carries a token)",
        description="Serve the media panel of the runs under PATH on this machine. Prints a "
        "URL with a random token; every request needs it.",
    )
    view.add_argument("path", metavar="PATH", nargs="?", default=".", help="workspace folder")
    view.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (default 127.0.0.1; anything else is reachable from "
        "other machines, still only with the token)",
    )
    view.add_argument(
        "--port", type=_port, default=0, help="port to listen on (default 0: a free one)"
    )
    view.add_argument(
        "--no-browser", action="store_true", help="print the URL, do not open a browser"
    )
    view.add_argument(
        "--cache-dir",
        type=Path,
        help="the language server's cache of files of other revisions (default: its own)",
    )
    view.add_argument(
        "--no-answer-cache",
        action="store_true",
        help="ask the language server every time (for measurements; answers are otherwise "
        "kept until the run changes, at most 10 s)",
    )
    view.set_defaults(run=_view)
    register_import(commands)  # dvcstage import tensorboard|wandb (dvcstage/importers/cli.py)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``dvcstage`` console script."""
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
