"""A cache of the language server's answers, shared by every page of one ``dvcstage view``.

Scrubbing a slider asks for the same few items again and again, often from several pages
at once. Answers to ``dvcstage/runs``, ``media``, ``item`` and ``series`` are kept for at
most ``max_age`` seconds, identical requests in flight are sent once, and every
``dvcstage/changed`` drops the answers about its run (and the run list), so a page never gets
an answer older than the last change it was told about. Errors are not kept.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

CACHED_METHODS = frozenset({"dvcstage/runs", "dvcstage/media", "dvcstage/item", "dvcstage/series"})


class AnswerCache:
    """Answers by (method, params), with their run, age-limited and size-limited."""

    def __init__(self, max_age: float = 10.0, max_entries: int = 20_000) -> None:
        self.max_age = max_age
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str | None, asyncio.Future[Any]]] = (
            OrderedDict()
        )
        self.hits = 0
        self.misses = 0

    async def answer(
        self, method: str, params: Any, ask: Callable[[str, Any], Awaitable[Any]]
    ) -> Any:
        """The answer to ``method(params)``: kept, in flight, or asked with ``ask``."""
        if method not in CACHED_METHODS:
            return await ask(method, params)
        key = method + "\0" + json.dumps(params, sort_keys=True, separators=(",", ":"))
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] <= self.max_age:
            self.hits += 1
            return await asyncio.shield(entry[2])
        self.misses += 1
        run = params.get("run") if isinstance(params, dict) else None
        # A task of its own: a page that goes away cancels its wait, not the others'.
        task = asyncio.ensure_future(ask(method, params))
        self._entries[key] = (now, run if isinstance(run, str) else None, task)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        task.add_done_callback(lambda done: self._forget_failure(key, done))
        return await asyncio.shield(task)

    def _forget_failure(self, key: str, task: asyncio.Future[Any]) -> None:
        if (task.cancelled() or task.exception() is not None) and (
            self._entries.get(key, (0.0, None, None))[2] is task
        ):
            del self._entries[key]

    def changed(self, run: str | None) -> None:
        """Forget the run list and every answer about ``run`` (all answers if None)."""
        if run is None:
            self._entries.clear()
            return
        stale = [
            key
            for key, (_, entry_run, _) in self._entries.items()
            if entry_run == run or entry_run is None
        ]
        for key in stale:
            del self._entries[key]
