"""The ``dvcstage-lsp`` command: stdio by default, ``--tcp`` / ``--ws`` for development."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .revisions import DEFAULT_MAX_REVISIONS, DEFAULT_REVISIONS


def _host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    command = argparse.ArgumentParser(
        prog="dvcstage-lsp",
        description="A language server for dvcstage runs (stdio unless --tcp or --ws).",
    )
    transport = command.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (default)")
    transport.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="listen on TCP")
    transport.add_argument(
        "--ws", type=_host_port, metavar="HOST:PORT", help="listen on a WebSocket"
    )
    command.add_argument(
        "--poll-interval",
        type=float,
        default=0.1,
        help="seconds between index polls when the client has no file watcher (default 0.1)",
    )
    command.add_argument(
        "--rescan-interval",
        type=float,
        default=2.0,
        help="seconds between looks for new runs while polling (default 2)",
    )
    command.add_argument(
        "--cache-dir",
        type=Path,
        help="where files of other revisions are written (default: "
        "$XDG_CACHE_HOME/dvcstage-lsp/<hash of the workspace folders>)",
    )
    command.add_argument(
        "--revisions",
        default=DEFAULT_REVISIONS,
        help="revisions whose runs are listed: HEAD, branches, tags, experiments, ref names, "
        f"comma-separated, or none (default {DEFAULT_REVISIONS})",
    )
    command.add_argument(
        "--max-revisions",
        type=int,
        default=DEFAULT_MAX_REVISIONS,
        help="at most this many commits and this many experiments, newest first "
        f"(default {DEFAULT_MAX_REVISIONS})",
    )
    command.add_argument(
        "--revision-interval",
        type=float,
        default=5.0,
        help="seconds between looks for new commits and experiments (default 5)",
    )
    # Experiments only on a git remote (remote_exps.py).
    command.add_argument(
        "--remote-experiments",
        default="auto",
        metavar="REMOTE",
        help="the git remote whose DVC experiments are listed (fetched when opened): auto "
        "(the upstream's remote, else origin, else the only one), none, a name or a URL",
    )
    command.add_argument(
        "--remote-interval", type=float, default=60.0, help="seconds between listings (60)"
    )
    command.add_argument(
        "--remote-timeout", type=float, default=30.0, help="seconds a listing may take (30)"
    )
    command.add_argument("--log-file", help="write the server's log here (default: stderr)")
    command.add_argument("-v", "--verbose", action="count", default=0, help="log more")
    command.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return command


MAX_LOG_RECORD = 4000


class _BoundedFormatter(logging.Formatter):
    """Log records cut to ``MAX_LOG_RECORD`` characters: pygls logs a failed request with its
    params, which a client may make as long as it likes (and the reader of our error output
    need not handle endless lines)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if len(text) > MAX_LOG_RECORD:
            text = f"{text[:MAX_LOG_RECORD]} … ({len(text):,} characters)"
        return text


def main(argv: Sequence[str] | None = None) -> int:
    """Run the server until the client disconnects."""
    args = parser().parse_args(argv)
    from .extras import missing_extra_message

    missing = missing_extra_message("lsp", "dvcstage-lsp")
    if missing:
        print(missing, file=sys.stderr)
        return 1
    level = logging.WARNING - 10 * min(args.verbose, 2)
    handler: logging.Handler = (
        logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    )
    from .credentials import RedactingFilter  # a remote's URL may hold a token

    handler.addFilter(RedactingFilter())
    handler.setFormatter(_BoundedFormatter("%(asctime)s %(name)s %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])

    from .options import ServerOptions
    from .remote_exps import RemoteSettingError, check_remote_setting
    from .revisions import RevisionSpec, RevisionSpecError

    try:
        revisions = RevisionSpec.parse(args.revisions, args.max_revisions)
        remote = check_remote_setting(args.remote_experiments)
    except (RevisionSpecError, RemoteSettingError) as exc:
        parser().error(str(exc))
    options = ServerOptions(
        poll_interval=max(0.01, args.poll_interval),
        rescan_interval=max(0.05, args.rescan_interval),
        cache_dir=args.cache_dir.expanduser() if args.cache_dir else None,
        revisions=revisions,
        revision_interval=max(0.1, args.revision_interval),
        remote_experiments=remote,
        remote_interval=max(0.1, args.remote_interval),
        remote_timeout=max(0.1, args.remote_timeout),
    )
    if not (args.tcp or args.ws):
        from .fastfront import serve_stdio

        serve_stdio(options)  # the first answers before pygls is even imported
        return 0
    from .server import create_server

    server = create_server(options)
    if args.tcp:
        server.start_tcp(*args.tcp)
    else:
        server.start_ws(*args.ws)
    return 0
