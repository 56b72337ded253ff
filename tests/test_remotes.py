"""``dvc push`` / ``dvc pull`` of media: a local-directory remote and an S3 remote.

The S3 remote is a real ``moto_server`` on 127.0.0.1 (a random free port), reached by
``dvc-s3`` with fake credentials and ``endpointurl`` set in the remote's config. A second
clone plus ``dvc pull`` must restore every media file byte for byte, and the media index
(``media.jsonl``, in git) must describe exactly those files.

The helpers here are reused by the end-to-end test in ``test_pipeline.py``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import BIN, make_repo, run

import dvcstage
from dvcstage import Live
from dvcstage.validate import validate_tree

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
MEDIA_FOLDERS = ("dvclive/plots/images", "dvclive/media")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[str]:
    """A moto S3 server on 127.0.0.1 with a bucket ``media``; yields the endpoint URL.

    Fake AWS credentials are set in the environment for the module and removed after.
    """
    pytest.importorskip("moto.server", reason="needs moto[server] (dev extra)")
    pytest.importorskip("dvc_s3", reason="needs dvc-s3 (the s3 extra)")
    import boto3

    saved = {name: os.environ.get(name) for name in FAKE_AWS}
    os.environ.update(FAKE_AWS)
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.1)
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="media")
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def add_remotes(repo: Path, local: Path, s3_endpoint: str, prefix: str) -> None:
    """Remote ``local`` (a folder, the default) and remote ``s3`` (``s3://media/<prefix>``)."""
    run("dvc", "remote", "add", "-d", "local", str(local), cwd=repo)
    run("dvc", "remote", "add", "s3", f"s3://media/{prefix}", cwd=repo)
    run("dvc", "remote", "modify", "s3", "endpointurl", s3_endpoint, cwd=repo)


def digests(root: Path, folders: tuple[str, ...] = MEDIA_FOLDERS) -> dict[str, str]:
    """SHA-256 of every file under ``folders`` of ``root`` (``.gitignore`` files left out)."""
    found = {}
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and path.name != ".gitignore":
                found[path.relative_to(root).as_posix()] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return found


def check_pull(source: Path, origin: Path, dest: Path, remote: str) -> None:
    """Clone ``origin`` to ``dest``, ``dvc pull -r remote``, compare with ``source``."""
    run("git", "clone", "-q", str(origin), str(dest))
    assert not (dest / "dvclive/plots/images").exists()
    pulled = run("dvc", "pull", "-r", remote, cwd=dest, check=False)
    assert pulled.returncode == 0, pulled.stderr
    assert "WARNING" not in pulled.stderr, pulled.stderr
    expected = digests(source)
    assert expected, "nothing to compare"
    assert digests(dest) == expected
    index = "dvclive/media.jsonl"
    assert (dest / index).read_bytes() == (source / index).read_bytes()
    assert validate_tree(dest / "dvclive") == []
    status = run("dvc", "status", cwd=dest)
    assert "up to date" in status.stdout, status.stdout


def push_everywhere(repo: Path) -> None:
    """``dvc push`` to both remotes; each must report what it sent."""
    for remote in ("local", "s3"):
        pushed = run("dvc", "push", "-r", remote, cwd=repo)
        assert "pushed" in pushed.stdout, pushed.stdout
        assert "WARNING" not in pushed.stderr, pushed.stderr


def test_live_outside_pipeline_caches_pushes_and_pulls(
    tmp_path: Path,
    moto_s3: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Outside a pipeline ``end()`` tracks both media folders; push and pull restore them."""
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    rng = np.random.default_rng(0)
    with caplog.at_level(logging.WARNING), Live(cache_images=True, save_dvc_exp=False) as live:
        for _ in range(3):
            image = rng.random((24, 32, 3))
            mask = (rng.random((24, 32)) > 0.5).astype(np.uint8)
            live.log_image(
                f"pred/{live.step}.png",
                image,
                annotations={
                    "boxes": [[1, 2, 10, 12]],
                    "labels": ["cat"],
                    "scores": [0.5],
                    "box_format": "tlbr",
                },
                masks={"seg": {"mask_data": mask, "class_labels": {1: "cat"}}},
            )
            table = dvcstage.Table(columns=["image", "loss"])
            table.add_data(dvcstage.Image(image), float(live.step))
            live.log({"hard": table, "w": dvcstage.Histogram(rng.normal(size=50))})
            live.next_step()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert (repo / "dvclive/plots/images.dvc").is_file()
    assert (repo / "dvclive/media.dvc").is_file()
    origin = tmp_path / "origin.git"
    run("git", "init", "-q", "--bare", "-b", "main", str(origin))
    add_remotes(repo, tmp_path / "remote", moto_s3, "outside")
    run("git", "add", "-A", cwd=repo)
    run("git", "commit", "-q", "-m", "run", cwd=repo)
    run("git", "push", "-q", str(origin), "main", cwd=repo)
    push_everywhere(repo)
    check_pull(repo, origin, tmp_path / "clone-local", "local")
    check_pull(repo, origin, tmp_path / "clone-s3", "s3")
