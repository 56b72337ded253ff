"""Jobs for tests of the writer process (importable there: tests/ is put on its path)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class WaitForFile:
    """A job that holds its writer thread until ``path`` exists (then writes nothing)."""

    path: str
    payload: bytes = b""
    shard: str = "wait"
    barrier = False

    def run(self, out: Any) -> None:
        while not Path(self.path).exists():
            time.sleep(0.01)

    def describe(self) -> str:
        return f"a job waiting for {self.path}"
