"""Whether a process still runs: the owners of sessions, scratch files and writers."""

from __future__ import annotations

import os


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (``pid`` <= 0: no).

    A process owned by another user counts as alive (``kill`` is refused, not failed), and
    so does one we cannot tell about: callers then keep what it owns.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
