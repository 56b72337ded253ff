"""dvcstage-lsp and other revisions: git commits and DVC experiments, read without a checkout.

A real git + DVC repository runs a small ``dvcstage.Live`` stage (an image whose shade is a
parameter, a histogram, an audio clip, a metric) under ``dvc exp run`` twice, commits the
second result on a branch and pushes its media to a local remote, then loses those objects
from its DVC cache. The real server process (pytest-lsp) must list the workspace, the branch
and both experiments, and hand out the files of another revision from its cache directory:
from DVC's cache, or from the remote when the cache lacks them.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import attrs
import pytest
import pytest_lsp
from conftest import BIN, exp_run, make_repo, repo_environment, run
from dvcstage_lsp.revisions import IndexCache, RevisionSpec, discover, workspace_repos
from lsprotocol import types
from PIL import Image
from pytest_lsp import ClientServerConfig, LanguageClient
from test_lsp_server import Notes, _diagnose, _span, child_env, init_params, make_client, request

pytestmark = [pytest.mark.timeout(240), pytest.mark.asyncio(loop_scope="module")]

TRAIN = textwrap.dedent(
    """
    import numpy as np
    from ruamel.yaml import YAML
    from dvcstage import Audio, Histogram, Live

    p = YAML(typ="safe").load(open("params.yaml"))["train"]
    with Live("dvclive", save_dvc_exp=False) as live:
        for step in range(p["epochs"]):
            live.log_image(f"pred/{live.step}.png", np.full((8, 8, 3), p["shade"] + step, np.uint8))
            live.log({"weights": Histogram(np.arange(10) * p["shade"], num_bins=4),
                      "voice": Audio(np.full(100, p["shade"] / 1000), sample_rate=8000)})
            live.log_metric("loss", p["shade"] / (step + 1))
            live.next_step()
    """
)
DVC_YAML = textwrap.dedent(
    """
    stages:
      train:
        cmd: python train.py
        deps: [train.py]
        params: [train]
        outs:
          - dvclive/plots/images
          - dvclive/media
    """
).lstrip()


def git(repo: Path, *args: str) -> str:
    return run("git", *args, cwd=repo).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """exp-a (shade 50, 2 steps), exp-b (shade 100, 3 steps) committed on branch ``trained``.

    The workspace holds exp-b's results. exp-b's media were pushed to the ``local`` remote
    and then deleted from the DVC cache; exp-a's are only in the cache.
    """
    base = tmp_path_factory.mktemp("revs")
    with repo_environment(base):
        root = make_repo(base / "repo")
        (root / "train.py").write_text(TRAIN)
        (root / "params.yaml").write_text("train:\n  epochs: 2\n  shade: 10\n")
        (root / "dvc.yaml").write_text(DVC_YAML)
        run("dvc", "remote", "add", "-d", "local", str(base / "remote"), cwd=root)
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "stage")
        exp_run(root, "exp-a", "-S", "train.shade=50")
        exp_run(root, "exp-b", "-S", "train.shade=100", "-S", "train.epochs=3")
        git(root, "checkout", "-q", "-b", "trained")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "exp-b's results")
        git(root, "tag", "v1")
        run("dvc", "push", "-q", cwd=root)
        cache = root / ".dvc" / "cache"
        pushed = [p.relative_to(base / "remote") for p in (base / "remote").rglob("*")]
        removed = 0
        for relative in pushed:
            if (cache / relative).is_file():
                (cache / relative).unlink()
                removed += 1
        assert removed >= 8  # 3 images, 3 clips, their sidecars, the folders' manifests
    return root


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "dvcstage_lsp", "--revision-interval", "0.3"],
    client_factory=make_client,
    server_env=child_env(Path(os.sep)),
)


def cache_dir(repo: Path) -> Path:
    """The server's cache folder (given as the ``cacheDir`` initialization option)."""
    return repo.parent.resolve() / "lsp-cache"


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, repo: Path) -> AsyncIterator[None]:
    """The server on the repository; ready once the experiments' runs are listed."""
    params = attrs.evolve(
        init_params(repo), initialization_options={"cacheDir": str(cache_dir(repo))}
    )
    await lsp_client.initialize_session(params)
    notes: Notes = lsp_client.notes  # type: ignore[attr-defined]
    await notes.wait_for(
        lambda r: sum(1 for n in r if n.get("kind") == "experiment" and n.get("new")) >= 2
    )
    yield
    await lsp_client.shutdown_session()


def path_of(uri: str) -> Path:
    assert uri.startswith("file://")
    return Path(unquote(urlparse(uri).path))


def shade(png: Path) -> int:
    with Image.open(io.BytesIO(png.read_bytes())) as image:
        value = image.convert("RGB").getpixel((0, 0))
    assert isinstance(value, tuple)
    return int(value[0])


async def runs_by_id(client: LanguageClient) -> dict[str, dict[str, Any]]:
    result = await request(client, "dvcstage/runs", {})
    return {r["id"]: r for r in result["runs"]}


async def test_runs_lists_workspace_branch_and_experiments(
    client: LanguageClient, repo: Path
) -> None:
    runs = await runs_by_id(client)
    head = git(repo, "rev-parse", "HEAD")
    main = git(repo, "rev-parse", "main")
    workspace = runs["workspace:dvclive"]
    assert (workspace["kind"], workspace["revision"], workspace["lastStep"]) == (
        "workspace",
        "workspace",
        2,
    )
    committed = runs[f"commit:{head[:7]}:dvclive"]
    assert committed["kind"] == "commit" and committed["revision"] == head
    assert committed["lastStep"] == 2 and committed["items"] == 9
    assert set(committed["refs"]) == {"HEAD", "trained", "v1"}
    assert committed["label"].endswith(": dvclive") and "trained" in committed["label"]
    assert committed["folder"] == repo.as_uri() and committed["dir"] == "dvclive"
    # main has the stage but no run: no commit run for it
    assert not any(main == r["revision"] for r in runs.values())
    exp_a, exp_b = runs["experiment:exp-a:dvclive"], runs["experiment:exp-b:dvclive"]
    assert (exp_a["kind"], exp_a["lastStep"], exp_a["items"]) == ("experiment", 1, 6)
    assert (exp_b["kind"], exp_b["lastStep"]) == ("experiment", 2)
    assert exp_a["baseline"] == exp_b["baseline"] == main
    assert exp_a["refs"] == ["exp-a"] and exp_a["label"] == "exp-a: dvclive"
    assert len({exp_a["revision"], exp_b["revision"], head}) == 3
    assert next(iter(runs)) == "workspace:dvclive"  # the workspace first
    media = await request(client, "dvcstage/media", {"run": exp_a["id"]})
    assert {k["key"]: k["steps"] for k in media["keys"]} == {
        "pred": [0, 1],
        "weights": [0, 1],
        "voice": [0, 1],
    }
    assert [m["name"] for m in media["metrics"]] == ["loss"]


async def test_item_of_an_experiment_comes_from_the_cache_dir(
    client: LanguageClient, repo: Path
) -> None:
    started = time.perf_counter()
    result = await request(
        client, "dvcstage/item", {"run": "experiment:exp-a:dvclive", "key": "pred", "step": 1}
    )
    print(f"first materialised item (imports DVC): {time.perf_counter() - started:.3f} s")
    assert result["problems"] == []
    (image,) = result["files"]
    assert image["role"] == "image" and image["exists"]
    path = path_of(image["uri"])
    assert path.is_relative_to(cache_dir(repo))
    assert shade(path) == 51  # exp-a: shade 50, step 1
    workspace_png = repo / "dvclive" / "plots" / "images" / "pred" / "1.png"
    assert shade(workspace_png) == 101 and workspace_png.read_bytes() != path.read_bytes()
    started = time.perf_counter()
    again = await request(
        client, "dvcstage/item", {"run": "experiment:exp-a:dvclive", "key": "pred", "step": 0}
    )
    print(f"next item: {time.perf_counter() - started:.3f} s")
    assert shade(path_of(again["files"][0]["uri"])) == 50


async def test_series_of_an_experiment(client: LanguageClient, repo: Path) -> None:
    run_id = "experiment:exp-a:dvclive"
    metric = await request(
        client, "dvcstage/series", {"run": run_id, "key": "loss", "kind": "metric"}
    )
    assert metric["points"] == [{"step": 0, "value": 50}, {"step": 1, "value": 25}]
    assert path_of(metric["uri"]).is_relative_to(cache_dir(repo))
    hist = await request(
        client, "dvcstage/series", {"run": run_id, "key": "weights", "kind": "histogram"}
    )
    assert [s["step"] for s in hist["steps"]] == [0, 1]
    assert hist["steps"][0]["bins"][-1]["high"] == 450  # arange(10) * 50


async def test_item_missing_from_the_cache_comes_from_the_remote(
    client: LanguageClient, repo: Path
) -> None:
    head = git(repo, "rev-parse", "HEAD")
    run_id = f"commit:{head[:7]}:dvclive"
    remote, away = repo.parent / "remote", repo.parent / "remote-away"
    remote.rename(away)
    try:  # neither cache nor remote: the item is answered, its file flagged
        lost = await request(client, "dvcstage/item", {"run": run_id, "key": "pred", "step": 1})
    finally:
        away.rename(remote)
    assert [f["exists"] for f in lost["files"]] == [False]
    (problem,) = lost["problems"]
    assert problem.startswith("plots/images/pred/1.png: cannot be read from revision"), problem
    for step in (1, 2):
        image = await request(client, "dvcstage/item", {"run": run_id, "key": "pred", "step": step})
        assert image["problems"] == [] and image["files"][0]["exists"]
        assert shade(path_of(image["files"][0]["uri"])) == 100 + step
    clip = await request(client, "dvcstage/item", {"run": run_id, "key": "voice", "step": 0})
    assert clip["problems"] == [] and clip["sidecar"]["sample_rate"] == 8000
    assert {f["role"] for f in clip["files"]} == {"audio", "sidecar"}
    for file in clip["files"]:
        assert file["exists"] and path_of(file["uri"]).is_relative_to(cache_dir(repo) / head)
        assert path_of(file["uri"]).stat().st_size == file["bytes"]
    assert clip["links"] and all(link["exists"] for link in clip["links"])


async def test_unknown_step_of_a_revision(client: LanguageClient) -> None:
    from pygls.exceptions import JsonRpcException

    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async(
            "dvcstage/item", {"run": "experiment:exp-a:dvclive", "key": "pred", "step": 2}
        )
    assert caught.value.code == -32003


async def test_select_revisions_by_name(repo: Path) -> None:
    """Explicit refs, and a limit; the listing costs git calls only."""
    repos = workspace_repos([repo])
    started = time.perf_counter()
    found = discover(repos, RevisionSpec.parse("v1,main", 5), repo / "c", IndexCache(), False)
    print(f"listing revisions: {time.perf_counter() - started:.3f} s")
    assert [r.revision.names for r in found.values()] == [["v1"]]
    assert discover(repos, RevisionSpec.parse("none", 5), repo / "c", IndexCache(), False) == {}
    only_exps = discover(
        repos, RevisionSpec.parse("experiments", 1), repo / "c", IndexCache(), False
    )
    assert [r.label for r in only_exps.values()] == ["exp-b: dvclive"]  # the newest


async def test_dvc_yaml_diagnostics(client: LanguageClient, repo: Path) -> None:
    path = repo / "dvc.yaml"
    good = path.read_text()
    assert await _diagnose(client, path, good) == []
    folder = re.search(r"^ *- (dvclive/plots/(?:images|previews))$", good, re.MULTILINE)
    series = re.search(r"^ +(dvclive/plots/[^\n]*weights\.tsv): count$", good, re.MULTILINE)
    assert series is not None and folder is not None
    image, gone = folder.group(1), folder.group(1) + "-gone"
    listed = re.search(r"^plots:\n( *)- ", good, re.MULTILINE)
    assert listed is not None
    dash = listed.group(1)  # how the list is indented
    x_step = re.search(r"^( +)x: step$", good, re.MULTILINE)
    assert x_step is not None
    step = x_step.group(1)  # and an entry's settings
    entry = good.rindex(f"- {image}\n")  # the plots entry (the stage's outs name it too)
    bad = (
        (good[:entry] + f"- {gone}\n" + good[entry + len(image) + 3 :])
        .replace(series.group(1), "dvclive/plots/gone.tsv", 1)
        .replace("template: dvcstage-histogram-heatmap", "template: dvcstage-nope", 1)
        .replace(f"\n{step}x: step\n", f"\n{step}x: step\n{step}colour: red\n", 1)
        .replace("plots:\n", f"plots:\n{dash}- dvclive/nothing/here.png\n{dash}- [1, 2]\n", 1)
    )
    found = await _diagnose(client, path, bad)
    warning, error = types.DiagnosticSeverity.Warning, types.DiagnosticSeverity.Error
    assert sorted(
        (d.range.start.line, d.range.start.character, d.code, d.severity) for d in found
    ) == sorted(
        (r.start.line, r.start.character, code, severity)
        for r, code, severity in [
            (_span(bad, "dvclive/nothing/here.png"), "missing-file", warning),
            (_span(bad, "[1, 2]"), "schema", error),
            (_span(bad, "colour"), "schema", error),
            (_span(bad, "dvcstage-nope"), "missing-template", warning),
            (_span(bad, "dvclive/plots/gone.tsv"), "missing-file", warning),
            (_span(bad, gone), "missing-file", warning),
        ]
    )
    assert all(d.range.end.line == d.range.start.line for d in found)
    by_code = {d.code: d for d in found}
    assert by_code["missing-template"].range == _span(bad, "dvcstage-nope")
    assert "dvcstage templates install" in by_code["missing-template"].message
    broken = await _diagnose(client, path, "plots:\n- a: [\n")
    assert [(d.code, d.range.start.line) for d in broken] == [("yaml", 2)]


async def test_a_removed_experiment_is_announced(client: LanguageClient, repo: Path) -> None:
    notes: Notes = client.notes  # type: ignore[attr-defined]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([str(BIN / "dvc"), "exp", "remove", "exp-a"], cwd=repo, check=True, env=env)
    await notes.wait_for(
        lambda r: any(n["run"] == "experiment:exp-a:dvclive" and n.get("removed") for n in r),
    )
    assert "experiment:exp-a:dvclive" not in await runs_by_id(client)
    shutil.rmtree(cache_dir(repo), ignore_errors=True)


async def test_initialization_options_and_the_default_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dvcstage_lsp.materialise import default_cache_dir
    from dvcstage_lsp.options import OptionError, ServerOptions

    options = ServerOptions().with_client_options(
        {"cacheDir": str(tmp_path), "revisions": ["HEAD", "tags"], "maxRevisions": 3, "x": 1}
    )
    assert options.cache_dir == tmp_path
    assert options.revisions == RevisionSpec(("HEAD", "tags"), 3)
    for bad, text in [
        ({"cacheDir": 3}, "cacheDir: expected a folder path, got 3"),
        ({"maxRevisions": -1}, "maxRevisions: must be >= 0"),
        ({"revisions": "HEAD,--all"}, "revisions: '--all' is not HEAD"),
        ({"revisionInterval": "soon"}, "revisionInterval: expected seconds"),
    ]:
        with pytest.raises(OptionError, match=re.escape(text)):
            ServerOptions().with_client_options(bad)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = default_cache_dir([tmp_path / "a"])
    assert first.parent == tmp_path / "xdg" / "dvcstage-lsp" and len(first.name) == 16
    assert default_cache_dir([tmp_path / "b"]) != first
