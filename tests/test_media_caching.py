"""end() tracks the media folders with DVC (real dvc), as cache_images does for images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import run

import dvcstage
from dvcstage import Live


def _log_some(live: Live) -> None:
    live.log_image("img.png", np.zeros((8, 8), np.uint8))
    live.log({"song": dvcstage.Audio(np.zeros(800), sample_rate=8000)})
    live.log({"grads": dvcstage.Histogram(np.arange(100.0))})
    live.next_step()


def test_cache_images_also_caches_media(repo: Path) -> None:
    with Live(save_dvc_exp=False, cache_images=True) as live:
        _log_some(live)
    assert Path("dvclive/plots/images.dvc").is_file()
    assert Path("dvclive/media.dvc").is_file()
    assert "/media" in Path("dvclive/.gitignore").read_text().split()
    assert "/images" in Path("dvclive/plots/.gitignore").read_text().split()
    # git ignores the cached folders, DVC knows them, and the cache holds their files
    ignored = run("git", "check-ignore", "dvclive/media/audio/song/0.wav", cwd=repo)
    assert ignored.stdout.strip() == "dvclive/media/audio/song/0.wav"
    status = run("dvc", "status", "--json", cwd=repo)
    assert status.stdout.strip() == "{}"
    # histogram series stay small text files in git, like DVCLive's metrics
    assert not Path("dvclive/plots/histograms.dvc").exists()


def test_cache_media_switch(repo: Path) -> None:
    with Live(save_dvc_exp=False, cache_images=True, cache_media=False) as live:
        _log_some(live)
    assert Path("dvclive/plots/images.dvc").is_file()
    assert not Path("dvclive/media.dvc").exists()
    with Live(save_dvc_exp=False, cache_media=True) as live:
        _log_some(live)
    assert Path("dvclive/media.dvc").is_file()


def test_pulled_media_match_after_checkout(repo: Path) -> None:
    with Live(save_dvc_exp=False, cache_images=True) as live:
        _log_some(live)
    wav = Path("dvclive/media/audio/song/0.wav").read_bytes()
    run("rm", "-rf", "dvclive/media", cwd=repo)
    run("dvc", "checkout", cwd=repo)
    assert Path("dvclive/media/audio/song/0.wav").read_bytes() == wav
