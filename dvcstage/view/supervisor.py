"""Keeps ``dvcstage view``'s language server running: a dead one is restarted, with a backoff.

The view asks one language server (:class:`.lsp_bridge.LanguageServerBridge`). When it dies —
a crash, the out-of-memory killer, a ``kill`` — requests fail at once with code -32099 and a
message saying what happened and when the next start is; the supervisor starts a new server
after a delay that doubles with each failure in a row (0.5 s, 1 s, 2 s, ... at most 30 s; a
server that ran for a minute counts as a success), and tells the panels through ``on_change``
so that they ask again (their status line shows the message meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable
from typing import Any

from .lsp_bridge import SERVER_NOT_RUNNING, LanguageServerBridge, ServerError

logger = logging.getLogger(__name__)

FIRST_DELAY_S = 0.5
MAX_DELAY_S = 30.0
STABLE_AFTER_S = 60.0


def restart_delay(failures: int) -> float:
    """Seconds before restart number ``failures`` (1, 2, ...) of a row of failures.

    ``DVCSTAGE_VIEW_FIRST_RESTART_S`` sets the first delay (tests use it to look at the
    view while its server is down).
    """
    try:
        first = float(os.environ.get("DVCSTAGE_VIEW_FIRST_RESTART_S", FIRST_DELAY_S))
    except ValueError:
        first = FIRST_DELAY_S
    return float(min(MAX_DELAY_S, max(first, 0.0) * 2 ** max(failures - 1, 0)))


class ServerSupervisor:
    """One language server at a time, made by ``make_bridge``; restarted when it dies.

    ``say`` prints a line for the user; ``on_change`` is called with ``"down"`` when the server
    died and ``"up"`` when a new one answers (the view then has the panels ask again).
    """

    def __init__(
        self,
        make_bridge: Callable[[], LanguageServerBridge],
        say: Callable[[str], None],
        on_change: Callable[[str], None],
    ) -> None:
        self.make_bridge = make_bridge
        self.say = say
        self.on_change = on_change
        self.bridge: LanguageServerBridge | None = None
        self.restarts = 0
        self.failures = 0
        self.down_reason: str | None = None
        self.next_start_at: float | None = None
        self.stopping = False
        self._started_at = 0.0
        self._restart_task: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int | None:
        """The running server's process id."""
        return None if self.bridge is None else self.bridge.pid

    @property
    def command(self) -> list[str]:
        """The command that starts a server."""
        return self.make_bridge().command

    async def start(self) -> None:
        """Start the first server; raises :class:`ServerError` (or OSError) if it cannot."""
        await self._start_one()

    async def _start_one(self) -> None:
        bridge = self.make_bridge()
        bridge.on_exit = lambda why: self._died(bridge, why)
        await bridge.start()
        self.bridge = bridge
        self.down_reason = None
        self.next_start_at = None
        self._started_at = time.monotonic()

    def _died(self, bridge: LanguageServerBridge, why: str) -> None:
        if self.stopping or bridge is not self.bridge:
            return
        if time.monotonic() - self._started_at > STABLE_AFTER_S:
            self.failures = 0
        self.failures += 1
        self.bridge = None
        self._schedule(why)
        self.on_change("down")

    def _schedule(self, why: str) -> None:
        delay = restart_delay(self.failures)
        self.down_reason = why
        self.next_start_at = time.monotonic() + delay
        self.say(f"{why}\nstarting a new language server in {delay:g} s")
        self._restart_task = asyncio.get_running_loop().create_task(self._restart(delay))

    async def _restart(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self.stopping:
            return
        try:
            await self._start_one()
        except (ServerError, OSError) as exc:
            self.failures += 1
            self._schedule(f"the language server did not start: {exc}")
            return
        self.restarts += 1
        self.say(f"language server restarted (pid {self.pid})")
        self.on_change("up")

    def _not_running(self) -> ServerError:
        if self.stopping:
            return ServerError(SERVER_NOT_RUNNING, "dvcstage view is stopping")
        reason = self.down_reason or "the language server is not running"
        if self.next_start_at is None:
            return ServerError(SERVER_NOT_RUNNING, reason)
        wait = max(0.0, self.next_start_at - time.monotonic())
        when = f"in {wait:.0f} s" if wait >= 1 else "now"
        return ServerError(SERVER_NOT_RUNNING, f"{reason}; restarting it {when}")

    async def request(self, method: str, params: Any) -> Any:
        """The running server's answer; a -32099 error saying when it restarts if none is."""
        bridge = self.bridge
        if bridge is None or bridge.failure is not None:
            raise self._not_running()
        try:
            return await bridge.request(method, params)
        except ServerError as error:
            if error.code == SERVER_NOT_RUNNING and bridge is not self.bridge:
                raise self._not_running() from error
            raise

    async def stop(self, timeout: float = 2.0) -> None:
        """Stop restarting and stop the running server (bounded by ``timeout`` + 1 s)."""
        self.stopping = True
        if self._restart_task is not None:
            self._restart_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._restart_task
        if self.bridge is not None:
            await self.bridge.stop(timeout)
