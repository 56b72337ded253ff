"""dvcstage-lsp's editor features end to end: hovers and code lenses on log calls in Python.

The real server process runs on a workspace holding two real runs (``old``, changed long ago,
and ``dvclive``); pytest-lsp's client opens Python documents naming keys in
``live.log_image(...)``, ``live.log({...})`` and ``log_<kind>(...)`` calls and asks for hovers
and code lenses. Exact ranges are checked in UTF-16 units.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import register_lsp_features

LSP_DIR = Path(__file__).resolve().parents[1] / "lsp"
RUN = "workspace:dvclive"
HANG_GUARD_S = 100.0  # only turns a hang into a failure; far above any real delay

LOG_RUNS = textwrap.dedent(
    """
    import numpy as np
    from dvcstage import Histogram, Image, Live

    rng = np.random.default_rng(0)
    for run, steps in (("old", 1), ("dvclive", 3)):
        with Live(run, save_dvc_exp=False) as live:
            for step in range(steps):
                img = rng.random((16, 20, 3))
                mask = np.zeros((16, 20), int)
                mask[2:8, 3:9] = 1
                live.log_image(
                    f"pred/{live.step}.png",
                    img,
                    annotations={"boxes": [[1, 2, 10, 12]], "labels": ["cat"], "scores": [0.9],
                                 "box_format": "tlbr"},
                    boxes={"predictions": {"box_data": [{"position": {"minX": 0.1, "maxX": 0.5,
                           "minY": 0.2, "maxY": 0.6}, "class_id": 1}],
                           "class_labels": {1: "cat"}}},
                    masks={"truth": {"mask_data": mask, "class_labels": {1: "cat"}}},
                    caption=f"step {step}",
                )
                live.log({"examples": Image(img, caption="input"),
                          "weights": Histogram(rng.normal(size=50), num_bins=4)})
                live.log_metric("loss", 1 / (step + 1))
                live.next_step()
    """
)

SOURCE = textwrap.dedent(
    """\
    from dvcstage import Image, Live

    with Live() as live:
        cat = "\U0001f431"; live.log_image("pred/0.png", img)
        live.log({"examples": Image(img), "loss": 0.5})
        live.log_image(
            f"pred/{live.step}.png", img
        )
        live.log_histogram("weights", values)
        live.log({"never": Image(img), "later": Image(img)})
    """
)


def child_env(tmp: Path) -> dict[str, str]:
    """The environment of the processes this module starts (no git discovery above ``tmp``)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(LSP_DIR), env.get("PYTHONPATH")]))
    env["GIT_CEILING_DIRECTORIES"] = str(tmp)
    env["DVC_NO_ANALYTICS"] = "1"
    env["DVCLIVE_LOGLEVEL"] = "WARNING"
    return env


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with runs ``old`` (1 step, changed a day ago) and ``dvclive`` (3 steps)."""
    root = tmp_path_factory.mktemp("editor") / "ws"
    root.mkdir()
    (root / "log_runs.py").write_text(LOG_RUNS)
    subprocess.run(
        [sys.executable, "log_runs.py"], cwd=root, env=child_env(root.parent), check=True
    )
    old = root / "old" / "media.jsonl"
    day_ago = old.stat().st_mtime - 86400
    os.utime(old, (day_ago, day_ago))
    return root


class Refreshes:
    """``workspace/codeLens/refresh`` requests the client received."""

    def __init__(self) -> None:
        self.count = 0
        self.event = asyncio.Event()


def make_client() -> LanguageClient:
    """pytest-lsp's client, answering and counting code lens refresh requests."""
    client = LanguageClient()
    register_lsp_features(client)
    refreshes = Refreshes()
    client.refreshes = refreshes  # type: ignore[attr-defined]

    @client.feature("dvcstage/changed")
    def changed(params: Any) -> None:
        pass

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def refresh(params: None) -> None:
        refreshes.count += 1
        refreshes.event.set()

    return client


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "dvcstage_lsp", "--rescan-interval", "0.3"],
        client_factory=make_client,
        server_env=child_env(Path(os.sep)),
    ),
    scope="module",
)
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """The server on the module's workspace; the client supports code lens refreshes."""
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                workspace=types.WorkspaceClientCapabilities(
                    code_lens=types.CodeLensWorkspaceClientCapabilities(refresh_support=True)
                ),
                text_document=types.TextDocumentClientCapabilities(
                    hover=types.HoverClientCapabilities(content_format=[types.MarkupKind.Markdown]),
                ),
            ),
            root_uri=workspace.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=workspace.as_uri(), name="ws")],
        )
    )
    yield
    await lsp_client.shutdown_session()


pytestmark = [pytest.mark.timeout(120), pytest.mark.asyncio(loop_scope="module")]

_versions = iter(range(1, 1_000_000))


def open_document(client: LanguageClient, path: Path, text: str) -> str:
    """Open ``text`` as the Python document ``path``; its URI."""
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=next(_versions), text=text
            )
        )
    )
    return uri


def span(text: str, needle: str, occurrence: int = 0, end: str | None = None) -> types.Range:
    """The UTF-16 range of the ``occurrence``-th ``needle`` (through ``end``, if given)."""
    at = -1
    for _ in range(occurrence + 1):
        at = text.index(needle, at + 1)
    stop = text.index(end, at) + len(end) if end is not None else at + len(needle)

    def position(offset: int) -> types.Position:
        line_start = text.rfind("\n", 0, offset) + 1
        column = len(text[line_start:offset].encode("utf-16-le")) // 2
        return types.Position(line=text.count("\n", 0, offset), character=column)

    return types.Range(start=position(at), end=position(stop))


async def hover_at(client: LanguageClient, uri: str, position: types.Position) -> Any:
    return await client.text_document_hover_async(
        types.HoverParams(text_document=types.TextDocumentIdentifier(uri=uri), position=position)
    )


def inside(position: types.Range) -> types.Position:
    """A position one character into ``position``'s range."""
    return types.Position(line=position.start.line, character=position.start.character + 1)


def file_uris(markdown: str) -> list[Path]:
    """The files linked or embedded in ``markdown`` (``](file://...)``)."""
    return [
        Path(unquote(urlparse(uri).path)) for uri in re.findall(r"\]\((file://[^)]+)\)", markdown)
    ]


@pytest.fixture(scope="module")
def document(client: LanguageClient, workspace: Path) -> str:
    """``SOURCE`` opened as ``train.py``."""
    return open_document(client, workspace / "train.py", SOURCE)


async def test_hover_on_an_image_name(
    client: LanguageClient, document: str, workspace: Path
) -> None:
    name = span(SOURCE, '"pred/0.png"')
    assert name.start.character == 31  # 30 characters: the cat before it is 2 UTF-16 units
    result = await hover_at(client, document, inside(name))
    assert result is not None and result.range == name
    text = result.contents.value
    assert result.contents.kind == types.MarkupKind.Markdown
    image = workspace / "dvclive" / "plots" / "images" / "pred" / "2.png"
    assert f"![pred step 2]({image.as_uri()})" in text  # the latest step, of the newest run
    assert "`pred`" in text and "step 2" in text and f"`{RUN}`" in text
    assert "20x16 px" in text and "caption: step 2" in text
    assert "1 annotation box" in text and "1 box" in text and "1 mask (`truth`)" in text
    files = file_uris(text)
    assert image in files and all(f.is_file() and f.is_relative_to(workspace) for f in files)


async def test_hover_on_an_f_string_name_and_a_log_key(
    client: LanguageClient, document: str, workspace: Path
) -> None:
    fstring = span(SOURCE, 'f"pred/{live.step}.png"')
    last = types.Position(line=fstring.end.line, character=fstring.end.character - 1)
    result = await hover_at(client, document, last)
    assert result.range == fstring and "step 2" in result.contents.value
    examples = span(SOURCE, '"examples"')
    result = await hover_at(client, document, examples.start)
    text = result.contents.value
    assert result.range == examples and "`examples`" in text and "step 2" in text
    image = workspace / "dvclive" / "plots" / "images" / "examples" / "2.png"
    assert f"]({image.as_uri()})" in text and image.is_file()
    assert "caption: input" in text


async def test_hover_on_other_kinds(client: LanguageClient, document: str) -> None:
    weights = await hover_at(client, document, inside(span(SOURCE, '"weights"')))
    text = weights.contents.value
    assert "`weights`" in text and "histogram" in text and "step 2" in text
    assert all(f.is_file() for f in file_uris(text)) and file_uris(text)
    loss = await hover_at(client, document, inside(span(SOURCE, '"loss"')))
    text = loss.contents.value
    assert "metric" in text and "step 2: 0.333333" in text and "(3 steps)" in text
    assert [f.name for f in file_uris(text)] == ["loss.tsv"]


async def test_hover_on_a_key_never_logged(client: LanguageClient, document: str) -> None:
    result = await hover_at(client, document, inside(span(SOURCE, '"never"')))
    assert "`never`" in result.contents.value
    assert "nothing logged under this key yet" in result.contents.value


@pytest.mark.parametrize(
    ("needle", "delta"),
    [("live.log_image(", 0), ('"pred/0.png"', 12), ("Image(img)", 0), ("from", 0)],
)
async def test_no_hover_elsewhere(
    client: LanguageClient, document: str, needle: str, delta: int
) -> None:
    where = span(SOURCE, needle).start
    where = types.Position(line=where.line, character=where.character + delta)
    assert await hover_at(client, document, where) is None


async def test_code_lenses(client: LanguageClient, document: str) -> None:
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=document))
    )
    found = [(lens.range, lens.command.title, list(lens.command.arguments)) for lens in lenses]
    log_examples = span(SOURCE, 'live.log({"examples"', end="})")
    assert found == [
        (
            span(SOURCE, "live.log_image(", end="img)"),
            "dvcstage: pred — 3 steps",
            [{"run": RUN, "key": "pred"}],
        ),
        (log_examples, "dvcstage: examples — 3 steps", [{"run": RUN, "key": "examples"}]),
        (
            span(SOURCE, "live.log_image(", 1, end=")"),
            "dvcstage: pred — 3 steps",
            [{"run": RUN, "key": "pred"}],
        ),
        (
            span(SOURCE, "live.log_histogram(", end=")"),
            "dvcstage: weights — 3 steps",
            [{"run": RUN, "key": "weights"}],
        ),
    ]  # none for the metric "loss" nor for keys nothing was logged under
    assert all(lens.command.command == "dvcstage.openMedia" for lens in lenses)


async def test_a_syntax_error_is_no_crash(
    client: LanguageClient, document: str, workspace: Path
) -> None:
    broken = SOURCE.replace("with Live() as live:", "with Live() as live\n    def (:")
    uri = open_document(client, workspace / "broken.py", broken)
    assert await hover_at(client, uri, inside(span(broken, '"pred/0.png"'))) is None
    lenses = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert list(lenses) == []
    # the server is still there
    assert await hover_at(client, document, inside(span(SOURCE, '"pred/0.png"'))) is not None


async def test_new_steps_refresh_the_lenses(
    client: LanguageClient, document: str, workspace: Path
) -> None:
    refreshes: Refreshes = client.refreshes  # type: ignore[attr-defined]
    params = types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=document))
    titles = [lens.command.title for lens in await client.text_document_code_lens_async(params)]
    assert not any("later" in title for title in titles)
    index = workspace / "dvclive" / "media.jsonl"
    line = next(json.loads(x) for x in index.read_text().splitlines() if '"key":"examples"' in x)
    refreshes.event.clear()  # before the change that makes the server ask for a refresh
    with index.open("a") as handle:
        for step in (0, 1):
            handle.write(json.dumps(line | {"key": "later", "step": step}) + "\n")
    await asyncio.wait_for(refreshes.event.wait(), HANG_GUARD_S)
    titles = [lens.command.title for lens in await client.text_document_code_lens_async(params)]
    assert "dvcstage: later — 2 steps" in titles
