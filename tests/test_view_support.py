"""Helpers of the ``dvcstage view`` tests (no tests here): a logged workspace and a real server.

``ViewServer`` runs ``dvcstage view --no-browser --port 0 PATH`` as a process, reads the URL
it prints, and stops it with SIGTERM.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from conftest import exp_run, make_repo, run

BIN = Path(sys.executable).parent
LSP_DIR = Path(__file__).resolve().parents[1] / "lsp"
URL_LINE = re.compile(r"^(http://([^/]+))/\?token=([A-Za-z0-9_-]+)$")

LOG_RUN = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from dvcstage import Html, Live

    run, steps, pause, shade = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    with Live(run, save_dvc_exp=False) as live:
        for step in range(steps):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:, :] = [(40 * step + shade) % 256, 100, 200]
            mask = np.zeros((48, 64), np.uint8)
            mask[30:44, 4:20] = 1
            live.log_image(
                f"pred/{step}.png",
                img,
                annotations={"boxes": [[8, 10, 30, 40], [20, 30, 40, 60]],
                             "labels": ["cat", "dog"], "scores": [0.9, 0.8],
                             "box_format": "tlbr"},
                masks={"truth": {"mask_data": mask, "class_labels": {1: "cat"}}},
                caption=f"step {step}",
            )
            if step == 0:
                live.log({"page": Html("<p id=x>logged html</p><script>1</script>")})
            live.log_metric("loss", 1 / (step + 1))
            live.next_step()
            live.flush()
            time.sleep(pause)
    """
)


def child_env(tmp: Path) -> dict[str, str]:
    """The environment of processes the tests start (no git discovery above ``tmp``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LSP_DIR), env.get("PYTHONPATH")]))
    env["GIT_CEILING_DIRECTORIES"] = str(tmp)
    env["DVC_NO_ANALYTICS"] = "1"
    env["DVCLIVE_LOGLEVEL"] = "WARNING"
    return env


def start_logging(
    root: Path, run: str, steps: int, pause: float = 0.0, shade: int = 0
) -> subprocess.Popen[bytes]:
    """A child process logging ``steps`` steps into ``root / run``, ``pause`` s apart."""
    script = root.parent / "log_view_run.py"
    script.write_text(LOG_RUN)
    return subprocess.Popen(
        [sys.executable, str(script), run, str(steps), str(pause), str(shade)],
        cwd=root,
        env=child_env(root.parent),
    )


def make_workspace(parent: Path) -> Path:
    """``parent/ws`` with two finished runs (``dvclive``: 4 steps, ``other``: 3 steps), a
    secret file beside it and symbolic links inside it that point out of it."""
    root = parent / "ws"
    root.mkdir()
    # One after the other: both would write the same dvc.yaml.
    assert start_logging(root, "dvclive", 4).wait(timeout=120) == 0
    assert start_logging(root, "other", 3, shade=120).wait(timeout=120) == 0
    secret = parent / "secret.txt"
    secret.write_text(SECRET)
    (root / "link-out.txt").symlink_to(secret)
    (root / "dir-out").symlink_to(parent)
    (root / "inside.txt").write_text("inside\n")
    (root / "link-in.txt").symlink_to(root / "inside.txt")
    return root


SECRET = "TOP-SECRET-outside-the-workspace\n"

# The logger above as a DVC stage whose image shade and number of steps are parameters.
EXPERIMENT_DVC_YAML = textwrap.dedent(
    """
    stages:
      train:
        cmd: python train.py dvclive ${steps} 0 ${shade}
        deps: [train.py]
        params: [steps, shade]
        outs:
          - dvclive/plots/images
          - dvclive/media
    """
).lstrip()


def make_experiments(parent: Path, experiments: dict[str, dict[str, int]]) -> Path:
    """``parent/repo``, a git + DVC repository whose stage runs the logger above, and one DVC
    experiment per entry of ``experiments`` (name -> ``{"steps": n, "shade": s}``), run with
    ``dvc exp run -n NAME -S steps=n -S shade=s`` in that order. The workspace then holds the
    results of ``dvc repro`` with the committed params (steps 3, shade 20)."""
    root = make_repo(parent / "repo")
    env = {**child_env(parent), "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    (root / "train.py").write_text(LOG_RUN)
    (root / "params.yaml").write_text("steps: 3\nshade: 20\n")
    (root / "dvc.yaml").write_text(EXPERIMENT_DVC_YAML)
    run("git", "add", "-A", cwd=root)
    run("git", "commit", "-q", "-m", "stage", cwd=root)
    for name, params in experiments.items():
        exp_run(root, name, *(f"-S{key}={value}" for key, value in params.items()), env=env)
    run("git", "checkout", "-q", "--", "params.yaml", cwd=root)
    done = run("dvc", "repro", "-q", cwd=root, check=False, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@dataclass
class ViewServer:
    """A running ``dvcstage view`` process."""

    process: subprocess.Popen[str]
    base: str
    host: str
    token: str
    stderr: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The URL the server printed."""
        return f"{self.base}/?token={self.token}"

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.host.rsplit(":", 1)[1])

    @property
    def cookie(self) -> str:
        """A ``Cookie`` header value that authenticates."""
        return f"dvcstage-view-{self.port}={self.token}"

    def get(
        self, path: str, headers: dict[str, str] | None = None, auth: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        """A raw GET (the path is sent exactly as given): status, headers, body."""
        connection = http.client.HTTPConnection(self.host, timeout=30)
        sent = {"Host": self.host, **({"Cookie": self.cookie} if auth else {}), **(headers or {})}
        connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body

    def lsp_children(self) -> list[int]:
        """Process ids of the language servers this view started."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


def _pump(stream: IO[str], sink: list[str]) -> None:
    for line in stream:
        sink.append(line)


def start_view(
    folder: Path, *args: str, timeout: float = 90.0, env: dict[str, str] | None = None
) -> ViewServer:
    """Start ``dvcstage view --no-browser --port 0 FOLDER ARGS``; wait for its URL."""
    process = subprocess.Popen(
        [str(BIN / "dvcstage"), "view", "--no-browser", "--port", "0", *args, str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**child_env(folder.parent), **(env or {})},
    )
    assert process.stdout is not None and process.stderr is not None
    stderr: list[str] = []
    threading.Thread(target=_pump, args=(process.stderr, stderr), daemon=True).start()
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = URL_LINE.match(line.strip())
        if match:
            base, host, token = match.groups()
            threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True).start()
            return ViewServer(process, base, host, token, stderr)
    process.kill()
    process.wait()
    raise AssertionError(f"no URL printed: {''.join(lines)}{''.join(stderr)}")


def run_page_script(script: Path, *args: str) -> dict[str, Any]:
    """Run a Node script that drives Chromium (``CHROMIUM``) on a page; the facts it prints
    as its last line, once it exited cleanly and reported no error."""
    from conftest import CHROMIUM

    done = subprocess.run(
        ["node", str(script), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "CHROMIUM": CHROMIUM},
    )
    lines = done.stdout.strip().splitlines()
    assert lines, done.stderr
    facts: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0 and "error" not in facts, json.dumps(facts, indent=1)
    return facts
