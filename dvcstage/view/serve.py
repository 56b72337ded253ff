"""Start ``dvcstage view``: the language server, then the HTTP server; print the URL; wait.

>>> # dvcstage view runs/ --port 0 --no-browser
>>> # http://127.0.0.1:41231/?token=...

SIGINT or SIGTERM stops it: the HTTP server and the language server are stopped together,
each within a bound; if that still takes longer than ``STOP_DEADLINE_S`` (a wedged child, a
stuck socket), the language server is killed and the process exits anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from .answers import AnswerCache
from .app import ViewState, create_app
from .auth import Access, is_loopback, is_wildcard, new_token
from .files import DenyList, FileRoots
from .lsp_bridge import CHANGED, LanguageServerBridge, ServerError
from .supervisor import ServerSupervisor

STOP_DEADLINE_S = 4.5


@dataclass(frozen=True)
class ViewOptions:
    """What ``dvcstage view`` was asked for."""

    folder: Path
    host: str = "127.0.0.1"
    port: int = 0
    open_browser: bool = True
    cache_dir: Path | None = None
    lsp_args: tuple[str, ...] = ()
    cache_answers: bool = True
    deny: tuple[str, ...] = ()


def default_cache_dir(folder: Path) -> Path:
    """The language server's own default cache folder for ``folder`` (shared with VS Code)."""
    from dvcstage_lsp.materialise import default_cache_dir as lsp_default

    return lsp_default([folder])


def _say(text: str) -> None:
    print(f"dvcstage view: {text}", file=sys.stderr, flush=True)


async def serve(options: ViewOptions, stop: asyncio.Event | None = None) -> int:
    """Run until ``stop`` is set, SIGINT or SIGTERM; returns the exit code."""
    folder = options.folder.resolve()
    cache_dir = (options.cache_dir or default_cache_dir(folder)).expanduser().resolve()
    access = Access(token=new_token(), bind_host=options.host)
    state = ViewState(
        access=access,
        roots=FileRoots({"w0": folder, "cache": cache_dir}, DenyList(options.deny)),
        answers=AnswerCache() if options.cache_answers else None,
    )
    if not (state.static_dir / "panel.js").is_file():
        _say(f"the panel bundle is missing from {state.static_dir} (run scripts/build-panel)")
        return 1
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):  # before anything starts: a signal always stops
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    def notified(method: str, params: Any) -> None:
        if method == CHANGED:
            state.broadcast(method, params)

    def server_changed(what: str) -> None:
        # died or restarted: forget its answers; the panels ask again (and show why meanwhile)
        if state.answers is not None:
            state.answers.changed(None)
        state.send_command("refresh")

    supervisor = ServerSupervisor(
        lambda: LanguageServerBridge(folder, cache_dir, notified, options.lsp_args),
        _say,
        server_changed,
    )
    try:
        await supervisor.start()
    except ServerError as error:
        _say(error.message)
        return 1
    except OSError as error:
        _say(f"cannot start the language server ({' '.join(supervisor.command)}): {error}")
        return 1
    state.bridge = supervisor
    runner = web.AppRunner(create_app(state), access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, options.host or None, options.port)
        try:
            await site.start()
        except OSError as error:
            _say(f"cannot listen on {options.host}:{options.port}: {error}")
            return 1
        access.port = int(runner.addresses[0][1])
        url = access.url()
        if not is_loopback(options.host):
            _say(
                f"listening on {options.host or '*'}: reachable from other machines over "
                "plain HTTP; anyone with the URL (and its token) can read the workspace"
            )
            if is_wildcard(options.host):
                _say("any Host header is accepted; the token is still required")
        print(f"dvcstage view: serving {folder}", flush=True)
        print(url, flush=True)
        if options.open_browser:
            with contextlib.suppress(Exception):
                webbrowser.open(url)
        await stop.wait()
        _say("stopping")
        return 0
    finally:
        watchdog = _stop_watchdog(supervisor)
        try:
            await asyncio.gather(
                runner.cleanup(), supervisor.stop(timeout=2.0), return_exceptions=True
            )
        finally:
            watchdog.cancel()


def _stop_watchdog(supervisor: ServerSupervisor) -> asyncio.TimerHandle:
    """Exit the process if stopping takes longer than ``STOP_DEADLINE_S`` (killing the
    language server first): a signal must always stop the view."""

    def give_up() -> None:
        pid = supervisor.pid
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _say(f"could not stop cleanly within {STOP_DEADLINE_S:g} s; exiting")
        os._exit(1)

    return asyncio.get_running_loop().call_later(STOP_DEADLINE_S, give_up)


def run(options: ViewOptions) -> int:
    """Blocking entry point for the CLI."""
    if not options.folder.is_dir():
        _say(f"{options.folder}: not a folder")
        return 2
    return asyncio.run(serve(options))
