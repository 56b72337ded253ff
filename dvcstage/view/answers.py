"""A cache of the language server's answers, shared by every page of one ``dvcstage view``.

Scrubbing a slider asks for the same few items again and again, often from several pages
at once. Answers to ``dvcstage/runs``, ``media``, ``item`` and ``series`` are kept for at
most ``max_age`` seconds, identical requests in flight are sent once, and every
``dvcstage/changed`` drops the answers about its run (and the run list), so a page never gets
an answer older than the last change it was told about. Errors are not kept.

``dvcstage/items`` (several items in one request) is answered item by item from the same
entries as ``dvcstage/item``: what is kept or already asked for is not asked again, and the
rest goes to the server as one ``dvcstage/items`` request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from .lsp_bridge import ServerError

ITEM = "dvcstage/item"
ITEMS = "dvcstage/items"
CACHED_METHODS = frozenset({"dvcstage/runs", "dvcstage/media", ITEM, "dvcstage/series"})
INTERNAL_ERROR = -32603
MAX_ITEMS = 256  # the items one dvcstage/items request may hold (its params schema's maxItems)

Ask = Callable[[str, Any], Awaitable[Any]]


def _key(method: str, params: Any) -> str:
    return method + "\0" + json.dumps(params, sort_keys=True, separators=(",", ":"))


def _item_requests(params: Any) -> list[dict[str, Any]] | None:
    """The item params of a ``dvcstage/items`` request, if it has that shape; None to pass the
    request on as it is (the server checks it, and refuses it as a whole)."""
    if not isinstance(params, dict) or params.keys() != {"items"}:
        return None
    items = params["items"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        return None
    return items if all(isinstance(i, dict) for i in items) else None


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Mark a failed future's error as seen (its waiters may all have gone)."""
    if not future.cancelled():
        future.exception()


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

    async def answer(self, method: str, params: Any, ask: Ask) -> Any:
        """The answer to ``method(params)``: kept, in flight, or asked with ``ask``."""
        if method == ITEMS:
            requests = _item_requests(params)
            if requests is not None:
                return await self._items(requests, ask)
        if method not in CACHED_METHODS:
            return await ask(method, params)
        key = _key(method, params)
        entry = self._fresh(key)
        if entry is not None:
            self.hits += 1
            return await asyncio.shield(entry)
        self.misses += 1
        # A task of its own: a page that goes away cancels its wait, not the others'.
        task = asyncio.ensure_future(ask(method, params))
        self._keep(key, params, task)
        return await asyncio.shield(task)

    def _fresh(self, key: str) -> asyncio.Future[Any] | None:
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry[0] <= self.max_age:
            return entry[2]
        return None

    def _keep(self, key: str, params: Any, future: asyncio.Future[Any]) -> None:
        run = params.get("run") if isinstance(params, dict) else None
        self._entries[key] = (time.monotonic(), run if isinstance(run, str) else None, future)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        future.add_done_callback(lambda done: self._forget_failure(key, done))

    async def _items(self, requests: list[dict[str, Any]], ask: Ask) -> dict[str, Any]:
        """``dvcstage/items``: each item from its ``dvcstage/item`` entry; the missing ones
        asked in one ``dvcstage/items`` request."""
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Any]] = []
        missing: list[tuple[dict[str, Any], asyncio.Future[Any]]] = []
        for request in requests:
            key = _key(ITEM, request)
            entry = self._fresh(key)
            if entry is None:
                self.misses += 1
                entry = loop.create_future()
                entry.add_done_callback(_retrieve)
                self._keep(key, request, entry)
                missing.append((request, entry))
            else:
                self.hits += 1
            futures.append(entry)
        failure: asyncio.Task[ServerError | None] | None = None
        if missing:
            failure = asyncio.ensure_future(self._ask_items(missing, ask))
        answers: list[dict[str, Any]] = []
        for future in futures:
            try:
                answers.append({"result": await asyncio.shield(future)})
            except ServerError as error:
                refused = failure.result() if failure is not None and failure.done() else None
                if refused is not None:
                    raise refused from None  # the request as a whole was refused
                answers.append({"error": {"code": error.code, "message": error.message}})
        return {"items": answers}

    async def _ask_items(
        self, missing: list[tuple[dict[str, Any], asyncio.Future[Any]]], ask: Ask
    ) -> ServerError | None:
        """Ask the server for ``missing`` and settle their futures; the error that refused
        the whole request, if one did."""
        try:
            result = await ask(ITEMS, {"items": [request for request, _ in missing]})
            answers = result.get("items") if isinstance(result, dict) else None
            if not isinstance(answers, list) or len(answers) != len(missing):
                raise ServerError(INTERNAL_ERROR, f"{ITEMS}: an answer of another shape")
        except BaseException as exc:
            error = (
                exc
                if isinstance(exc, ServerError)
                else ServerError(INTERNAL_ERROR, f"{ITEMS}: {exc}")
            )
            for _, future in missing:
                if not future.done():
                    future.set_exception(error)
            if not isinstance(exc, Exception):
                raise
            return error
        for (_, future), answer in zip(missing, answers, strict=True):
            if future.done():
                continue
            if isinstance(answer, dict) and "result" in answer:
                future.set_result(answer["result"])
            else:
                error_part = answer.get("error") if isinstance(answer, dict) else None
                error_part = error_part if isinstance(error_part, dict) else {}
                code = error_part.get("code")
                future.set_exception(
                    ServerError(
                        code if isinstance(code, int) else INTERNAL_ERROR,
                        str(error_part.get("message", f"{ITEMS}: an answer of another shape")),
                    )
                )
        return None

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
