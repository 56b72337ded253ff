"""dvcstage-lsp's ``dvcstage/summary`` and ``dvcstage/panelState``, against the real server.

A real git + DVC repository runs a ``dvcstage.Live`` stage under ``dvc exp run`` twice with
different parameters: each experiment's summary must hold the parameters of its own
``params.yaml`` (from git objects, without a checkout) and the final metrics of its own
``metrics.json``; the workspace's follow its files as they change; a broken file is a problem,
not an error. The panel's layout survives a restart of the server.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import attrs
import pytest
import pytest_lsp
from conftest import exp_run, make_repo, repo_environment, run
from pygls.exceptions import JsonRpcException
from pytest_lsp import ClientServerConfig, LanguageClient
from test_lsp_server import Notes, child_env, init_params, make_client, request

pytestmark = [pytest.mark.timeout(240), pytest.mark.asyncio(loop_scope="module")]

TRAIN = textwrap.dedent(
    """
    import numpy as np
    from ruamel.yaml import YAML
    from dvcstage import Live

    p = YAML(typ="safe").load(open("params.yaml"))["train"]
    with Live("dvclive", save_dvc_exp=False) as live:
        live.log_params({"model": {"width": p["width"]}, "tags": ["a", "b"]})
        for step in range(p["epochs"]):
            live.log_image(f"pred/{live.step}.png", np.zeros((8, 8, 3), np.uint8))
            live.log_metric("loss", p["lr"] / (step + 1))
            live.log_metric("val/acc", 1 - p["lr"] / (step + 2))
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
    """
).lstrip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """exp-lo (lr 0.1, 2 epochs) and exp-hi (lr 0.5, 3 epochs); the workspace holds exp-hi's."""
    base = tmp_path_factory.mktemp("summary")
    with repo_environment(base):
        root = make_repo(base / "repo")
        (root / "train.py").write_text(TRAIN)
        (root / "params.yaml").write_text("train:\n  epochs: 2\n  lr: 0.1\n  width: 8\n")
        (root / "dvc.yaml").write_text(DVC_YAML)
        run("git", "add", "-A", cwd=root)
        run("git", "commit", "-q", "-m", "stage", cwd=root)
        exp_run(root, "exp-lo")
        exp_run(
            root, "exp-hi", "-S", "train.lr=0.5", "-S", "train.epochs=3", "-S", "train.width=16"
        )
    return root


SERVER = ClientServerConfig(
    server_command=[sys.executable, "-m", "dvcstage_lsp", "--revision-interval", "0.3"],
    client_factory=make_client,
    server_env=child_env(Path(os.sep)),
)


def cache_dir(repo: Path) -> Path:
    return repo.parent.resolve() / "lsp-cache"


async def start(client: LanguageClient, repo: Path) -> None:
    params = attrs.evolve(
        init_params(repo), initialization_options={"cacheDir": str(cache_dir(repo))}
    )
    await client.initialize_session(params)
    notes: Notes = client.notes  # type: ignore[attr-defined]
    await notes.wait_for(
        lambda r: sum(1 for n in r if n.get("kind") == "experiment" and n.get("new")) >= 2, 60
    )


@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, repo: Path) -> AsyncIterator[None]:
    await start(lsp_client, repo)
    yield
    await lsp_client.shutdown_session()


async def summaries(client: LanguageClient, params: Any = None) -> dict[str, dict[str, Any]]:
    result = await request(client, "dvcstage/summary", params)
    return {s["run"]: s for s in result["runs"]}


async def test_each_experiment_has_its_own_params_and_metrics(client: LanguageClient) -> None:
    found = await summaries(client)
    lo, hi = found["experiment:exp-lo:dvclive"], found["experiment:exp-hi:dvclive"]
    # params.yaml of the repository (DVC's), then dvclive/params.yaml (log_params) over it.
    assert lo["params"] == {
        "train.epochs": 2,
        "train.lr": 0.1,
        "train.width": 8,
        "model.width": 8,
        "tags": '["a","b"]',
    }
    assert hi["params"]["train.lr"] == 0.5 and hi["params"]["train.epochs"] == 3
    assert hi["params"]["model.width"] == 16
    # dvclive/metrics.json: the last step's values, nested names joined with "/".
    assert lo["metrics"] == {
        "loss": pytest.approx(0.1 / 2),
        "val/acc": pytest.approx(1 - 0.1 / 3),
        "step": 1,
    }
    assert hi["metrics"]["loss"] == pytest.approx(0.5 / 3) and hi["metrics"]["step"] == 2
    assert lo["problems"] == [] and hi["problems"] == []
    # The workspace holds exp-hi's results (the last experiment run).
    ws = found["workspace:dvclive"]
    assert ws["params"] == hi["params"] and ws["metrics"] == hi["metrics"]


async def test_the_workspace_follows_its_files(client: LanguageClient, repo: Path) -> None:
    metrics = repo / "dvclive" / "metrics.json"
    params = repo / "params.yaml"
    old_metrics, old_params = metrics.read_text(), params.read_text()
    try:
        summary_histogram = {"_type": "histogram", "values": [1], "bins": [0, 1]}
        metrics.write_text(json.dumps({"loss": 0.25, "step": 7, "hist": summary_histogram}))
        params.write_text("train: {lr: 0.3, epochs: 9, width: 4}\n")
        ws = (await summaries(client, {"runs": ["workspace:dvclive"]}))["workspace:dvclive"]
        assert ws["metrics"] == {"loss": 0.25, "step": 7}  # the summary histogram is left out
        assert ws["params"]["train.lr"] == 0.3 and ws["params"]["model.width"] == 16
        metrics.write_text('{"loss": 0.2')  # torn
        params.write_text("train: [unclosed\n")
        ws = (await summaries(client, {"runs": ["workspace:dvclive"]}))["workspace:dvclive"]
        assert ws["metrics"] == {}
        assert any(p.startswith("dvclive/metrics.json: not JSON") for p in ws["problems"])
        assert any(p.startswith("params.yaml: not valid YAML") for p in ws["problems"])
    finally:
        metrics.write_text(old_metrics)
        params.write_text(old_params)


async def test_only_the_runs_asked_for_and_unknown_runs(client: LanguageClient) -> None:
    found = await summaries(client, {"runs": ["experiment:exp-lo:dvclive"]})
    assert list(found) == ["experiment:exp-lo:dvclive"]
    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async("dvcstage/summary", {"runs": ["workspace:nope"]})
    assert caught.value.code == -32001 and "workspace:nope" in caught.value.message
    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async("dvcstage/summary", {"runs": "all"})
    assert caught.value.code == -32602


async def test_panel_state_is_kept(client: LanguageClient, repo: Path) -> None:
    assert (await request(client, "dvcstage/panelState", {})) == {"state": None}
    layout = {"v": 1, "collapsed": ["val"], "order": {"": ["pred", "loss"]}, "runs": ["a"]}
    assert (await request(client, "dvcstage/panelState", {"state": layout})) == {"state": layout}
    assert (await request(client, "dvcstage/panelState", None)) == {"state": layout}
    assert (cache_dir(repo) / "panel-state.json").is_file()
    with pytest.raises(JsonRpcException) as caught:
        await client.protocol.send_request_async("dvcstage/panelState", {"state": [1]})
    assert caught.value.code == -32602 and "state must be an object" in caught.value.message


async def test_panel_state_survives_a_restart(client: LanguageClient, repo: Path) -> None:
    layout = {"v": 1, "sizes": {"pred": {"span": 2, "height": 300}}}
    await request(client, "dvcstage/panelState", {"state": layout})
    again = await SERVER.start()  # a second server process on the same workspace and cache
    try:
        params = attrs.evolve(
            init_params(repo), initialization_options={"cacheDir": str(cache_dir(repo))}
        )
        await again.initialize_session(params)
        assert (await request(again, "dvcstage/panelState", {})) == {"state": layout}
        await again.shutdown_session()
    finally:
        await again.stop()
