"""The ``dvcstage`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .importers.cli import register as register_import
from .index import rebuild_index
from .validate import find_runs, validate_tree

DESCRIPTION = (
    "Rich, schema-validated media logging for DVC: check what a run wrote, rebuild its "
    "media index, install the dvc plots templates, run a demo, or show the media panel in "
    "a browser."
)
EXIT_CODES = "exit status: 0 success, 1 problems found or a failure, 2 bad usage or a bad path"


def _version() -> str:
    """``dvcstage X (dvclive Y, DVC Z, Python W)``: what a bug report needs."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name, label in (("dvclive", "dvclive"), ("dvc", "DVC")):
        try:
            parts.append(f"{label} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{label} not installed")
    python = ".".join(map(str, sys.version_info[:3]))
    return f"dvcstage {__version__} ({', '.join(parts)}, Python {python})"


def _usage_error(command: str, message: str) -> int:
    print(f"dvcstage {command}: error: {message}", file=sys.stderr)
    return 2


def _validate(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if not folder.exists():
        return _usage_error("validate", f"{args.dir}: no such folder")
    if not folder.is_dir():
        return _usage_error(
            "validate", f"{args.dir}: not a folder (give a run's folder, or one above)"
        )
    problems = validate_tree(args.dir)
    for problem in problems:
        print(problem)
    runs = len(find_runs(args.dir))
    if problems:
        print(f"{len(problems)} problem(s) in {runs} run(s)", file=sys.stderr)
        return 1
    if runs == 0:
        print(
            f"no runs under {args.dir}: nothing to check (a run is a folder with media.jsonl "
            "or plots/images, such as dvclive/)",
            file=sys.stderr,
        )
        return 0
    print(f"ok: {runs} run(s) under {args.dir}", file=sys.stderr)
    return 0


def _index(args: argparse.Namespace) -> int:
    if not args.rebuild:
        return _usage_error("index", "nothing to do: pass --rebuild")
    if not Path(args.dir).is_dir():
        return _usage_error("index", f"{args.dir}: no such folder")
    result = rebuild_index(args.dir)
    for path, why in result.skipped:
        print(f"{Path(args.dir) / path}: skipped: {why}", file=sys.stderr)
    print(f"{args.dir}: index rebuilt with {result.lines} item(s)")
    if result.skipped:
        print(f"{len(result.skipped)} file(s) could not be read back", file=sys.stderr)
        return 1
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
        return _usage_error("templates", f"{dvc_dir}: no such folder (run `dvc init` first)")
    written = install_templates(dvc_dir, overwrite=args.force)
    for path in written:
        print(f"installed {path}")
    kept = len(list_templates()) - len(written)
    print(f"{len(written)} template(s) installed, {kept} already there", file=sys.stderr)
    return 0


def _view(args: argparse.Namespace) -> int:
    from dvcstage_lsp.extras import missing_extra_message

    missing = missing_extra_message("view", "dvcstage view")
    if missing:
        print(missing, file=sys.stderr)
        return 1
    from .view.serve import ViewOptions, run

    return run(
        ViewOptions(
            folder=Path(args.path),
            host=args.host,
            port=args.port,
            open_browser=not args.no_browser,
            cache_dir=args.cache_dir,
            cache_answers=not args.no_answer_cache,
            deny=tuple(args.deny),
        )
    )


def _steps(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of steps >= 1, got {value!r}")
    return int(value)


def _port(value: str) -> int:
    if not value.isdigit() or int(value) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {value!r}")
    return int(value)


class _HelpFormatter(argparse.HelpFormatter):
    """Adds ``(default: X)`` to an argument's help where there is a default worth saying."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if default in (None, False, argparse.SUPPRESS) or "%(default)" in text:
            return text
        return f"{text} (default: %(default)s)"


def _command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    help_text: str,
    description: str | None = None,
    exit_codes: str = EXIT_CODES,
) -> argparse.ArgumentParser:
    """A subcommand whose help shows each argument's default and the exit codes."""
    return commands.add_parser(
        name,
        help=help_text,
        description=description or help_text[0].upper() + help_text[1:] + ".",
        epilog=exit_codes,
        formatter_class=_HelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dvcstage", description=DESCRIPTION, epilog=EXIT_CODES)
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    validate = _command(
        commands,
        "validate",
        "check every sidecar, mask and index line under DIR against the schemas",
        "Check every image, sidecar, mask, media file and index line of every run under DIR. "
        "Problems are printed as FILE:LINE:COLUMN: message.",
        "exit status: 0 no problems, 1 problems found, 2 DIR missing or not a folder",
    )
    validate.add_argument(
        "dir", metavar="DIR", nargs="?", default=".", help="a run's folder or a folder above runs"
    )
    validate.set_defaults(run=_validate)
    index = _command(commands, "index", "maintain a run's media index (media.jsonl)")
    index.add_argument(
        "--rebuild", action="store_true", help="recreate DIR/media.jsonl from the files"
    )
    index.add_argument("dir", metavar="DIR", help="the run folder (e.g. dvclive)")
    index.set_defaults(run=_index)
    templates = _command(
        commands,
        "templates",
        "list dvcstage's dvc plots templates or install them into .dvc/plots",
    )
    templates.add_argument(
        "action",
        choices=["list", "install"],
        help="list: names and files; install: copy them into DVC_DIR/plots (commit them)",
    )
    templates.add_argument("--dvc-dir", default=".dvc", help="the repository's .dvc folder")
    templates.add_argument(
        "--force", action="store_true", help="replace installed templates that differ"
    )
    templates.set_defaults(run=_templates)
    demo = _command(
        commands,
        "demo",
        "log annotated, masked images into a demo workspace",
        "Log annotated, masked images of synthetic shapes into a git + DVC workspace of its "
        "own (created if missing), then print where to look.",
    )
    demo.add_argument(
        "dir", metavar="DIR", nargs="?", default="demo-workspace", help="the workspace folder"
    )
    demo.add_argument("--steps", type=_steps, default=10, help="steps to log")
    demo.set_defaults(run=_demo)
    view = _command(
        commands,
        "view",
        "show the media panel in a browser (a local server; the URL carries a token)",
        "Serve the media panel of the runs under PATH on this machine. Prints a URL with a "
        "random token; every request needs it. Stops on Ctrl-C or SIGTERM.",
        "exit status: 0 stopped, 1 could not start, 2 bad usage or PATH not a folder",
    )
    view.add_argument("path", metavar="PATH", nargs="?", default=".", help="workspace folder")
    view.add_argument(
        "--host",
        default="127.0.0.1",
        help="interface to listen on (anything but loopback is reachable from other "
        "machines, still only with the token)",
    )
    view.add_argument("--port", type=_port, default=0, help="port to listen on (0: a free one)")
    view.add_argument(
        "--no-browser", action="store_true", help="print the URL, do not open a browser"
    )
    view.add_argument(
        "--cache-dir",
        type=Path,
        help="the language server's cache of files of other revisions (default: "
        "$XDG_CACHE_HOME/dvcstage-lsp/<hash of the workspace>)",
    )
    view.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="PATTERN",
        help="never serve files matching PATTERN (gitignore syntax, relative to PATH; "
        "repeatable). Always denied: .git/, .dvc/ (config.local, tmp/, cache/), .env, "
        "*.pem, *.key, SSH keys, .netrc",
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
