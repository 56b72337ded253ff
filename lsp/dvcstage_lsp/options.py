"""The server's settings: command-line options, overridden by the client's
``initializationOptions``.

=====================  ==========================  ==========================================
initializationOptions  command line                meaning
=====================  ==========================  ==========================================
``cacheDir``           ``--cache-dir DIR``         where files of other revisions are written
``revisions``          ``--revisions LIST``        ``HEAD,branches,tags,experiments``, ``none``
                                                   or ref names (a string or a list)
``maxRevisions``       ``--max-revisions N``       at most N commits and N experiments (20)
``revisionInterval``   ``--revision-interval S``   seconds between looks at the refs (5)
``remoteExperiments``  ``--remote-experiments R``  the git remote whose experiments are listed:
                                                   ``auto`` (default), ``none``, a name or URL
``remoteInterval``     ``--remote-interval S``     seconds between listings of the remote (60)
``remoteTimeout``      ``--remote-timeout S``      seconds a listing may take (30; a fetch 4x)
=====================  ==========================  ==========================================
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .remote_exps import (
    AUTO,
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    RemoteSettingError,
    check_remote_setting,
)
from .revisions import RevisionSpec, RevisionSpecError

logger = logging.getLogger(__name__)


class OptionError(ValueError):
    """An initialization option with a value the server cannot use."""


@dataclass(frozen=True)
class ServerOptions:
    """Everything tunable about the server."""

    poll_interval: float = 0.1
    rescan_interval: float = 2.0
    cache_dir: Path | None = None  # None: materialise.default_cache_dir(workspace folders)
    revisions: RevisionSpec = field(default_factory=RevisionSpec)
    revision_interval: float = 5.0
    remote_experiments: str = AUTO
    remote_interval: float = DEFAULT_INTERVAL
    remote_timeout: float = DEFAULT_TIMEOUT

    def with_client_options(self, options: Any) -> ServerOptions:
        """These options overridden by the client's ``initializationOptions``.

        Unknown members are ignored (the client may send options for itself); a bad value
        raises :class:`OptionError` naming it.
        """
        if options is None:
            return self
        if not isinstance(options, dict):
            raise OptionError(f"initializationOptions: expected an object, got {options!r}")
        changes: dict[str, Any] = {}
        cache_dir = options.get("cacheDir")
        if cache_dir is not None:
            if not isinstance(cache_dir, str) or not cache_dir:
                raise OptionError(f"cacheDir: expected a folder path, got {cache_dir!r}")
            changes["cache_dir"] = Path(cache_dir).expanduser()
        if "revisions" in options or "maxRevisions" in options:
            value = options.get("revisions", ",".join(self.revisions.tokens) or "none")
            if not isinstance(value, str) and not (
                isinstance(value, Sequence) and all(isinstance(x, str) for x in value)
            ):
                raise OptionError(f"revisions: expected a string or strings, got {value!r}")
            count = options.get("maxRevisions", self.revisions.max_revisions)
            try:
                changes["revisions"] = RevisionSpec.parse(value, count)
            except RevisionSpecError as exc:
                raise OptionError(str(exc)) from exc
        interval = options.get("revisionInterval")
        if interval is not None:
            if isinstance(interval, bool) or not isinstance(interval, (int, float)):
                raise OptionError(f"revisionInterval: expected seconds, got {interval!r}")
            changes["revision_interval"] = max(0.1, float(interval))
        if "remoteExperiments" in options:
            try:
                changes["remote_experiments"] = check_remote_setting(options["remoteExperiments"])
            except RemoteSettingError as exc:
                raise OptionError(str(exc)) from exc
        for name, field_name, least in (
            ("remoteInterval", "remote_interval", 0.1),
            ("remoteTimeout", "remote_timeout", 0.1),
        ):
            seconds = options.get(name)
            if seconds is None:
                continue
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
                raise OptionError(f"{name}: expected seconds (a number > 0), got {seconds!r}")
            changes[field_name] = max(least, float(seconds))
        return dataclasses.replace(self, **changes)
