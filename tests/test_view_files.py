"""``dvcstage view``'s rules without a server: which request paths name which files, how
``file://`` URIs become ``/files/...`` URLs, and who passes the token and Host checks."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dvcstage.view.auth import Access, is_loopback
from dvcstage.view.files import FileRefusedError, FileRoots, rewrite_file_uris
from dvcstage.view.page import file_csp, page_csp, panel_page


@pytest.fixture
def roots(tmp_path: Path) -> FileRoots:
    ws = tmp_path / "ws"
    (ws / "run" / "plots").mkdir(parents=True)
    (ws / "run" / "plots" / "a b.png").write_bytes(b"png")
    (ws / "ünï.txt").write_text("u")
    (tmp_path / "secret").write_text("s")
    (ws / "out").symlink_to(tmp_path / "secret")
    (ws / "loop").symlink_to(ws / "loop")
    (tmp_path / "cache").mkdir()
    return FileRoots({"w0": ws, "cache": tmp_path / "cache"})


def test_plain_paths_resolve(roots: FileRoots, tmp_path: Path) -> None:
    assert roots.resolve("w0", "run/plots/a%20b.png") == tmp_path / "ws/run/plots/a b.png"
    assert roots.resolve("w0", quote("ünï.txt")) == tmp_path / "ws/ünï.txt"


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("../secret", 403),
        ("run/../../secret", 403),
        ("%2e%2e/secret", 403),
        ("..%2fsecret", 403),
        ("run%2Fplots%2Fa%20b.png", 403),
        ("run%5cplots", 403),
        ("run\\plots", 403),
        ("run/%00", 403),
        ("/etc/passwd", 403),
        ("run//plots", 403),
        ("./run", 403),
        ("~/x", 403),
        ("%ff", 403),
        ("out", 403),
        ("loop", 404),
        ("run", 404),
        ("missing.png", 404),
        ("", 404),
    ],
)
def test_refused_paths(roots: FileRoots, raw: str, status: int) -> None:
    with pytest.raises(FileRefusedError) as refused:
        roots.resolve("w0", raw)
    assert refused.value.status == status


def test_unknown_root(roots: FileRoots) -> None:
    with pytest.raises(FileRefusedError) as refused:
        roots.resolve("w1", "run")
    assert refused.value.status == 404


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "..",
                ".",
                "%2e",
                "%2f",
                "%5c",
                "/",
                "run",
                "plots",
                "out",
                "a%20b.png",
                "%252e",
                "secret",
                "ws",
                "%00",
                "~",
            ]
        ),
        max_size=8,
    )
)
def test_whatever_is_resolved_lies_inside(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    base = tmp_path_factory.getbasetemp() / "prop"
    if not base.exists():
        (base / "ws" / "run" / "plots").mkdir(parents=True)
        (base / "ws" / "run" / "plots" / "a b.png").write_bytes(b"png")
        (base / "secret").write_text("s")
        (base / "ws" / "out").symlink_to(base / "secret")
    roots = FileRoots({"w0": base / "ws"})
    try:
        path = roots.resolve("w0", "".join(parts))
    except FileRefusedError:
        return
    assert path.resolve().is_relative_to((base / "ws").resolve())


def test_uris_become_urls_of_their_root(roots: FileRoots, tmp_path: Path) -> None:
    ws = (tmp_path / "ws").as_uri()
    assert roots.url_for(f"{ws}/run/plots/a%20b.png") == "/files/w0/run/plots/a%20b.png"
    assert (
        roots.url_for((tmp_path / "cache" / "abc" / "x.png").as_uri()) == "/files/cache/abc/x.png"
    )
    assert roots.url_for((tmp_path / "secret").as_uri()) is None
    assert roots.url_for(f"{ws}/../secret") is None
    assert roots.url_for(ws) is None
    assert roots.url_for("file://other-host/x") is None
    assert roots.url_for("https://example.com/x") is None
    value = {
        "files": [{"uri": f"{ws}/a.png", "path": "a.png"}],
        "uri": "file:///elsewhere",
        "other": {"uri": 3, "deep": [{"uri": f"{ws}/b"}]},
        "folder": ws,
        "sidecar": {"caption": "x", "files": [{"uri": f"{ws}/c"}]},  # the logged JSON, as is
    }
    assert rewrite_file_uris(value, roots) == {
        "files": [{"uri": "/files/w0/a.png", "path": "a.png"}],
        "uri": "file:///elsewhere",
        "other": {"uri": 3, "deep": [{"uri": "/files/w0/b"}]},
        "folder": ws,
        "sidecar": {"caption": "x", "files": [{"uri": f"{ws}/c"}]},
    }


def test_access_rules() -> None:
    access = Access(token="t0k", port=8123)
    assert access.token_ok("t0k") and not access.token_ok("t0K") and not access.token_ok(None)
    assert access.host_ok("127.0.0.1:8123") and access.host_ok("LOCALHOST:8123")
    assert access.host_ok("[::1]:8123")
    assert not access.host_ok("127.0.0.1:8124") and not access.host_ok("evil:8123")
    assert not access.host_ok(None)
    assert access.origin_ok(None, "127.0.0.1:8123")
    assert access.origin_ok("http://127.0.0.1:8123", "127.0.0.1:8123")
    assert not access.origin_ok("http://localhost:8123", "127.0.0.1:8123")
    assert not access.origin_ok("null", "127.0.0.1:8123")
    assert access.url() == "http://127.0.0.1:8123/?token=t0k"
    lan = Access(token="t", bind_host="192.168.1.5", port=80)
    assert lan.host_ok("192.168.1.5:80") and not lan.host_ok("localhost:80")
    anywhere = Access(token="t", bind_host="0.0.0.0", port=80)
    assert anywhere.host_ok("whatever:80") and anywhere.url() == "http://127.0.0.1:80/?token=t"
    assert is_loopback("::1") and is_loopback("127.0.0.2") and not is_loopback("0.0.0.0")


def test_policies() -> None:
    page = panel_page('127.0.0.1:1"><script>', "n0nce")
    assert "<script>" not in page.split("<script src", 1)[0]
    assert "frame-ancestors" not in page  # not allowed in <meta>
    assert "frame-ancestors 'none'" in page_csp("h:1", "n")
    assert "script-src 'nonce-n0nce'" in page and '<script nonce="n0nce" src=' in page
    assert file_csp("x.HTML").startswith("sandbox allow-scripts;")
    assert file_csp("x.svg").startswith("sandbox;") and "script" not in file_csp("x.svg")


def test_answer_cache_keeps_shares_and_forgets() -> None:
    import asyncio

    from dvcstage.view.answers import AnswerCache

    asked: list[tuple[str, object]] = []

    async def ask(method: str, params: object) -> object:
        asked.append((method, params))
        await asyncio.sleep(0.01)
        if params == {"run": "bad"}:
            raise ValueError("no")
        return {"n": len(asked)}

    async def scenario() -> None:
        cache = AnswerCache(max_age=60)
        item = {"run": "r", "key": "k", "step": 1}
        first, second = await asyncio.gather(
            cache.answer("dvcstage/item", item, ask), cache.answer("dvcstage/item", item, ask)
        )
        assert first == second == {"n": 1} and len(asked) == 1  # one request in flight
        assert await cache.answer("dvcstage/item", dict(reversed(item.items())), ask) == {"n": 1}
        assert await cache.answer("dvcstage/runs", {}, ask) == {"n": 2}
        assert await cache.answer("dvcstage/media", {"run": "other"}, ask) == {"n": 3}
        cache.changed("r")  # drops r's answers and the run list, keeps other's
        assert await cache.answer("dvcstage/item", item, ask) == {"n": 4}
        assert await cache.answer("dvcstage/runs", {}, ask) == {"n": 5}
        assert await cache.answer("dvcstage/media", {"run": "other"}, ask) == {"n": 3}
        for _ in range(2):  # errors are not kept
            with pytest.raises(ValueError):
                await cache.answer("dvcstage/media", {"run": "bad"}, ask)
        assert len(asked) == 7
        assert await cache.answer("textDocument/hover", {}, ask) == {"n": 8}
        assert await cache.answer("textDocument/hover", {}, ask) == {"n": 9}
        expired = AnswerCache(max_age=0.0)
        await expired.answer("dvcstage/runs", {}, ask)
        await asyncio.sleep(0.01)
        await expired.answer("dvcstage/runs", {}, ask)
        assert len(asked) == 11

    asyncio.run(scenario())


def test_answer_cache_answers_items_from_item_entries_and_asks_the_rest_at_once() -> None:
    """``dvcstage/items`` through the cache: kept items are not asked again, the missing ones go
    in one request, each item's error stays its own, and a refused request stays refused.
    ``ask`` stands in for the language server here (tests/test_view.py asks the real one)."""
    import asyncio

    from dvcstage.view.answers import MAX_ITEMS, AnswerCache
    from dvcstage.view.lsp_bridge import ServerError

    asked: list[tuple[str, object]] = []

    def answer_one(params: dict[str, object], n: int) -> dict[str, object]:
        if params["step"] == 99:
            return {"error": {"code": -32003, "message": "no step 99"}}
        return {"result": {"step": params["step"], "n": n}}

    async def ask(method: str, params: object) -> object:
        asked.append((method, params))
        n = len(asked)  # the answer says which request brought it
        await asyncio.sleep(0.01)
        assert isinstance(params, dict)
        if method == "dvcstage/item":
            one = answer_one(params, n)
            if "error" in one:
                raise ServerError(-32003, "no step 99")
            return one["result"]
        items = params["items"]
        if len(items) > MAX_ITEMS or any(i["step"] < 0 for i in items):
            raise ServerError(-32602, "dvcstage/items: invalid params")
        return {"items": [answer_one(i, n) for i in items]}

    def item(step: int) -> dict[str, object]:
        return {"run": "r", "key": "k", "step": step}

    async def scenario() -> None:
        cache = AnswerCache(max_age=60)
        kept = await cache.answer("dvcstage/item", item(1), ask)
        assert kept == {"step": 1, "n": 1}
        both = await asyncio.gather(
            cache.answer("dvcstage/items", {"items": [item(1), item(2), item(99)]}, ask),
            cache.answer("dvcstage/items", {"items": [item(2), item(3)]}, ask),
        )
        # step 1 was kept; 2 and 99 asked in one request; the second shares 2 and asks 3
        assert asked[1:] == [
            ("dvcstage/items", {"items": [item(2), item(99)]}),
            ("dvcstage/items", {"items": [item(3)]}),
        ]
        first, second = both
        assert first == {
            "items": [
                {"result": kept},
                {"result": {"step": 2, "n": 2}},
                {"error": {"code": -32003, "message": "no step 99"}},
            ]
        }
        assert second == {
            "items": [{"result": {"step": 2, "n": 2}}, {"result": {"step": 3, "n": 3}}]
        }
        # what dvcstage/items brought answers dvcstage/item; the error was not kept
        assert await cache.answer("dvcstage/item", item(3), ask) == {"step": 3, "n": 3}
        again = await cache.answer("dvcstage/items", {"items": [item(99), item(2)]}, ask)
        assert asked[-1] == ("dvcstage/items", {"items": [item(99)]})
        assert again["items"][0]["error"]["code"] == -32003 and "result" in again["items"][1]
        # a request the server refuses as a whole is refused as a whole, and nothing is kept
        for params in ({"items": [item(2), item(-1)]}, {"items": [item(4)] * (MAX_ITEMS + 1)}):
            with pytest.raises(ServerError) as caught:
                await cache.answer("dvcstage/items", params, ask)
            assert caught.value.code == -32602
        assert asked[-2] == ("dvcstage/items", {"items": [item(-1)]})
        assert asked[-1] == ("dvcstage/items", {"items": [item(4)] * (MAX_ITEMS + 1)})
        assert await cache.answer("dvcstage/item", item(4), ask) == {"step": 4, "n": len(asked)}
        changed = len(asked)
        cache.changed("r")  # a change drops the items too
        await cache.answer("dvcstage/items", {"items": [item(2)]}, ask)
        assert len(asked) == changed + 1

    asyncio.run(scenario())


def test_small_images_of_an_items_answer_travel_inside_it_through_the_file_checks(
    tmp_path: Path,
) -> None:
    """``inline_images``: the bytes of small images a ``/files/`` URL may serve are attached as
    ``data``; a big, missing, hard-linked or refused file is left to be fetched (and refused)."""
    import base64

    from dvcstage.view.inline import INLINE_MAX_BYTES, inline_images

    ws = tmp_path / "ws"
    (ws / "run").mkdir(parents=True)
    small = ws / "run" / "0.png"
    small.write_bytes(b"\x89PNG small")
    big = ws / "run" / "1.png"
    big.write_bytes(b"x" * (INLINE_MAX_BYTES + 1))
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"secret")
    os.link(secret, ws / "run" / "2.png")
    (ws / "run" / "3.png").symlink_to(secret)
    roots = FileRoots({"w0": ws})

    def image(name: str, size: int, exists: bool = True, role: str = "image") -> dict[str, Any]:
        return {"role": role, "path": name, "uri": f"/files/w0/run/{name}", "bytes": size,
                "exists": exists}  # fmt: skip

    answer: dict[str, Any] = {
        "items": [
            {"result": {"files": [image("0.png", 10), image("0.png", 10, role="mask")]}},
            {"result": {"files": [image("1.png", 10)]}},  # says 10 bytes, holds more
            {"result": {"files": [image("1.png", INLINE_MAX_BYTES + 1)]}},
            {"result": {"files": [image("2.png", 6), image("3.png", 6)]}},
            {"result": {"files": [image("4.png", 6, exists=False), image("4.png", 6)]}},
            {"error": {"code": -32003, "message": "no step 9"}},
        ]
    }
    inline_images("dvcstage/items", answer, roots)
    files = [f for a in answer["items"] if "result" in a for f in a["result"]["files"]]
    assert base64.b64decode(files[0]["data"]) == small.read_bytes()
    assert ["data" in f for f in files] == [True] + [False] * 7  # only the small image
    one = {"files": [image("0.png", 10)]}
    inline_images("dvcstage/item", one, roots)  # only dvcstage/items answers
    assert "data" not in one["files"][0]
