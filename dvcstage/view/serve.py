"""Start ``dvcstage view``: the language server, then the HTTP server; print the URL; wait.

>>> # dvcstage view runs/ --port 0 --no-browser
>>> # http://127.0.0.1:41231/?token=...
"""

from __future__ import annotations

import asyncio
import contextlib
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
from .files import FileRoots
from .lsp_bridge import CHANGED, LanguageServerBridge, ServerError


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
        roots=FileRoots({"w0": folder, "cache": cache_dir}),
        answers=AnswerCache() if options.cache_answers else None,
    )
    if not (state.static_dir / "panel.js").is_file():
        _say(f"the panel bundle is missing from {state.static_dir} (run scripts/build-panel)")
        return 1
    stop = stop or asyncio.Event()

    def notified(method: str, params: Any) -> None:
        if method == CHANGED:
            state.broadcast(method, params)

    bridge = LanguageServerBridge(folder, cache_dir, notified, options.lsp_args)
    bridge.on_exit = lambda why: _say(f"{why}\nrequests now fail; restart dvcstage view")
    try:
        await bridge.start()
    except ServerError as error:
        _say(error.message)
        return 1
    except OSError as error:
        _say(f"cannot start the language server ({' '.join(bridge.command)}): {error}")
        return 1
    state.bridge = bridge
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
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        _say("stopping")
        return 0
    finally:
        await runner.cleanup()
        await bridge.stop()


def run(options: ViewOptions) -> int:
    """Blocking entry point for the CLI."""
    if not options.folder.is_dir():
        _say(f"{options.folder}: not a folder")
        return 2
    return asyncio.run(serve(options))
