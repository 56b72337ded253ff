"""``dvcstage/panelState``: the media panel's layout, kept per workspace by the server.

The panel (in ``dvcstage view``, whose browser origin changes with its port) saves its layout
here: sections folded, panel order and sizes, chosen runs and their colours. It is one JSON
object in ``<cache dir>/panel-state.json``, written atomically, at most ``MAX_STATE_BYTES``.
The server does not look inside it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import protocol as p

if TYPE_CHECKING:
    from .server import DvcstageLanguageServer

METHOD = "dvcstage/panelState"
STATE_FILE = "panel-state.json"
MAX_STATE_BYTES = 1024 * 1024


def load(cache_dir: Path) -> dict[str, Any] | None:
    """The saved state, or ``None`` (never saved, or unreadable)."""
    try:
        data = (cache_dir / STATE_FILE).read_bytes()
    except OSError:
        return None
    if len(data) > MAX_STATE_BYTES:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def save(cache_dir: Path, state: dict[str, Any]) -> None:
    """Write ``state`` atomically; a QueryError if it is too large."""
    data = json.dumps(state, separators=(",", ":")).encode()
    if len(data) > MAX_STATE_BYTES:
        raise p.QueryError(
            p.INVALID_PARAMS,
            f"{METHOD}: state is {len(data)} bytes; at most {MAX_STATE_BYTES} are kept",
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{STATE_FILE}.", dir=cache_dir)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(name).replace(cache_dir / STATE_FILE)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def answer(cache_dir: Path, params: Any) -> dict[str, Any]:
    """``{"state": ...}``: saves ``params["state"]`` when given, then answers what is kept."""
    if params is None:
        params = {}
    if not isinstance(params, dict) or not params.keys() <= {"state"}:
        raise p.QueryError(
            p.INVALID_PARAMS, f'{METHOD}: params must be {{}} or {{"state": {{...}}}}'
        )
    if "state" in params:
        state = params["state"]
        if not isinstance(state, dict):
            raise p.QueryError(
                p.INVALID_PARAMS, f"{METHOD}: state must be an object, not {type(state).__name__}"
            )
        save(cache_dir, state)
        return {"state": state}
    return {"state": load(cache_dir)}


def register(server: DvcstageLanguageServer) -> None:
    """Answer ``dvcstage/panelState`` on ``server``."""
    from pygls.exceptions import JsonRpcException

    from .server import PlainJson

    @server.feature(METHOD)
    def panel_state(ls: DvcstageLanguageServer, params: Any) -> Any:
        try:
            return PlainJson(answer(ls.cache_dir(), params))
        except p.QueryError as exc:
            raise JsonRpcException(message=exc.message, code=exc.code) from exc
        except OSError as exc:
            raise JsonRpcException(
                message=f"{METHOD}: cannot write the state: {exc.strerror or exc}",
                code=p.FILE_REFUSED,
            ) from exc
