"""HTML: the spec page's samples, default styles, paths and file objects, bad input."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dvcstage
from dvcstage import InvalidMediaTypeError, InvalidMediaValueError, Live
from dvcstage.index import read_index, rebuild_index
from dvcstage.media.html import Html, default_stylesheet, inject_default_styles
from dvcstage.validate import validate_tree

PAGES = Path("dvclive/media/html")
SOME_HTML = (
    "<!DOCTYPE html>\n<html>\n<head><title>Some</title></head>\n<body><p>é</p></body>\n</html>\n"
)
CSS = resources.files("dvcstage").joinpath("static/html-default.css").read_text("utf-8")
BLOCK = f'<base target="_blank"><style data-dvcstage="html-default">{CSS}</style>'


@pytest.fixture
def live(plain_dir: Path) -> Iterator[Live]:
    Path("some.html").write_text(SOME_HTML, encoding="utf-8")
    run = Live(save_dvc_exp=False)
    yield run
    run.end()


def page(key: str, step: int = 0) -> bytes:
    return (PAGES / key / f"{step}.html").read_bytes()


def sidecar(key: str, step: int = 0) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((PAGES / key / f"{step}.json").read_text())
    return document


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# -- the spec page's samples (wandb.X -> dvcstage.X, wandb.log -> live.log) ---------------


def test_spec_samples(live: Live) -> None:
    live.log({"custom_file": dvcstage.Html(open("some.html"))})  # noqa: SIM115 (the sample)
    live.log({"custom_string": dvcstage.Html('<a href="https://mysite">Link</a>')})
    live.next_step()
    live.log({"custom_file": dvcstage.Html(open("some.html"), inject=False)})  # noqa: SIM115
    live.flush()
    injected = SOME_HTML.replace("<head>", "<head>" + BLOCK, 1)
    assert page("custom_file", 0).decode("utf-8") == injected
    assert page("custom_string") == (
        f'<head>{BLOCK}</head><a href="https://mysite">Link</a>'.encode()
    )
    assert page("custom_file", 1) == Path("some.html").read_bytes()
    assert sidecar("custom_file", 0) == {
        "kind": "html",
        "key": "custom_file",
        "step": 0,
        "files": [{"path": "0.html", "role": "html"}],
        "inject": True,
        "bytes": len(injected.encode("utf-8")),
    }
    assert sidecar("custom_file", 1)["inject"] is False
    assert sidecar("custom_file", 1)["bytes"] == len(SOME_HTML.encode("utf-8"))
    assert validate_tree(".") == []


def test_index_line_and_rebuild(live: Live) -> None:
    live.log({"p": Html("<p>x</p>"), "list": [Html("<p>a</p>"), Html("<p>b</p>", inject=False)]})
    live.flush()
    lines = {(line["key"], line.get("item")): line for line in read_index(live.index_file).lines}
    line = lines[("p", None)]
    assert [f["path"] for f in line["files"]] == ["media/html/p/0.html", "media/html/p/0.json"]
    assert [f.get("schema") for f in line["files"]] == [None, "html"]
    assert line["sidecar"] == "media/html/p/0.json"
    assert line["facts"] == {"inject": True, "bytes": len(page("p"))}
    assert lines[("list", 1)]["facts"] == {"inject": False, "bytes": 8}
    assert sidecar("list.items/1")["item"] == 1
    assert rebuild_index(live.dir).lines == 3
    rebuilt = {(line["key"], line.get("item")) for line in read_index(live.index_file).lines}
    assert rebuilt == set(lines)
    assert validate_tree(".") == []


# -- default styles ---------------------------------------------------------------------


def test_styles_come_from_the_package_and_load_nothing() -> None:
    assert default_stylesheet() == CSS
    assert "font-family" in CSS
    for remote in ("@import", "url(", "http:", "https:", "</style"):
        assert remote not in CSS.lower()


@pytest.mark.parametrize(
    ("given_html", "expected"),
    [
        (
            "<html><head><title>t</title></head></html>",
            "<html><head>{B}<title>t</title></head></html>",
        ),
        ('<HEAD lang="en">x</HEAD>', '<HEAD lang="en">{B}x</HEAD>'),
        (
            '<html lang="en"><body>x</body></html>',
            '<html lang="en"><head>{B}</head><body>x</body></html>',
        ),
        ("<!doctype html><p>x</p>", "<!doctype html><head>{B}</head><p>x</p>"),
        ("<header>not a head</header>", "<head>{B}</head><header>not a head</header>"),
        ("\ufeff<p>bom first</p>", "\ufeff<head>{B}</head><p>bom first</p>"),
        ("", "<head>{B}</head>"),
    ],
)
def test_where_styles_go(given_html: str, expected: str) -> None:
    assert inject_default_styles(given_html, "C") == expected.replace(
        "{B}", '<base target="_blank"><style data-dvcstage="html-default">C</style>'
    )
    assert Html(given_html).html == expected.replace("{B}", BLOCK)


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=60))
def test_injection_only_adds_the_block(text: str) -> None:
    assume(not text.strip().lower().endswith((".html", ".htm")))  # that would be a path
    assert Html(text, inject=False).data == text.encode("utf-8")
    injected = Html(text).html
    at = injected.index(BLOCK)
    rest = injected[:at] + injected[at + len(BLOCK) :]
    assert text in (rest, rest.replace("<head></head>", "", 1))


# -- paths and file objects ------------------------------------------------------------


def test_paths_and_file_objects(live: Live) -> None:
    Path("upper.HTM").write_text("<p>upper</p>")
    latin = b"<p>caf\xe9</p>"  # Latin-1, not UTF-8: only inject=False can keep it
    Path("latin.html").write_bytes(latin)
    text_handle = open("some.html", encoding="utf-8")  # noqa: SIM115
    text_handle.read()  # at the end: the whole file is still taken, as W&B does
    values = {
        "str_path": Html("some.html", inject=False),
        "pathlib": Html(Path("some.html"), inject=False),
        "upper": Html("upper.HTM", inject=False),
        "text_io": Html(text_handle, inject=False),
        "binary_io": Html(io.BytesIO(latin), inject=False),
        "latin": Html("latin.html", inject=False),
        "string_io": Html(io.StringIO("<b>s</b>"), inject=False),
        "txt_is_text": Html("notes.txt", inject=False),  # W&B: only .html/.htm names are paths
    }
    text_handle.close()
    live.log(values)
    live.flush()
    for key in ("str_path", "pathlib", "text_io"):
        assert page(key) == Path("some.html").read_bytes()
    assert page("upper") == b"<p>upper</p>"
    assert page("binary_io") == page("latin") == latin
    assert page("string_io") == b"<b>s</b>"
    assert page("txt_is_text") == b"notes.txt"
    assert validate_tree(".") == []


def test_file_is_read_when_constructed(live: Live) -> None:
    html = Html("some.html")
    Path("some.html").write_text("<p>changed</p>")
    live.log({"p": html})
    live.flush()
    assert b"<title>Some</title>" in page("p")
    assert b"changed" not in page("p")


def test_table_cell(live: Live) -> None:
    live.log({"table": dvcstage.Table(columns=["page"], data=[[Html("<p>cell</p>")]])})
    live.flush()
    assert validate_tree(".") == []


# -- bad input: a typed error naming the argument, and nothing written ---------------------


class _ReadsNumbers:
    def read(self) -> int:
        return 3


def _closed() -> io.StringIO:
    handle = io.StringIO("<p>x</p>")
    handle.close()
    return handle


BAD_INPUTS: list[tuple[Any, type[Exception], str]] = [
    (lambda: Html("<p>x</p>", inject="yes"), InvalidMediaTypeError, "inject: unsupported type"),
    (lambda: Html("<p>x</p>", inject=1), InvalidMediaTypeError, "inject: unsupported type"),
    (lambda: Html("<p>x</p>", inject=None), InvalidMediaTypeError, "inject: unsupported type"),
    (lambda: Html(None), InvalidMediaTypeError, "data: unsupported type builtins.NoneType"),
    (lambda: Html(3), InvalidMediaTypeError, "data: unsupported type builtins.int"),
    (lambda: Html(b"<p>x</p>"), InvalidMediaTypeError, "data: unsupported type builtins.bytes"),
    (lambda: Html(["<p>"]), InvalidMediaTypeError, "data: unsupported type builtins.list"),
    (lambda: Html(Html("<p>x</p>")), InvalidMediaTypeError, "data: unsupported type"),
    (lambda: Html(_ReadsNumbers()), InvalidMediaTypeError, "data: unsupported type"),
    (lambda: Html("missing.html"), InvalidMediaValueError, "data: 'missing.html' looks like"),
    (lambda: Html(Path("missing.html")), InvalidMediaValueError, "'missing.html' is not a file"),
    (lambda: Html(Path("notes.txt")), InvalidMediaValueError, "is not an .html or .htm file"),
    (lambda: Html(Path("folder.html")), InvalidMediaValueError, "'folder.html' is not a file"),
    (lambda: Html(_closed()), InvalidMediaValueError, "data: file object"),
    (lambda: Html(open("w.html", "w")), InvalidMediaValueError, "could not be read"),  # noqa: SIM115
    (lambda: Html(io.BytesIO(b"\xff<p>")), InvalidMediaValueError, "data: is not UTF-8"),
    (lambda: Html("latin.html"), InvalidMediaValueError, "inject=False to store the bytes"),
]


@pytest.mark.parametrize(("make", "error", "message"), BAD_INPUTS)
def test_bad_input_is_typed_and_writes_nothing(
    live: Live, make: Any, error: type[Exception], message: str
) -> None:
    Path("folder.html").mkdir()
    Path("notes.txt").write_text("<p>notes</p>")
    Path("latin.html").write_bytes(b"<p>caf\xe9</p>")
    live.log({"ok": Html("<p>ok</p>")})
    live.flush()
    before = tree(Path(live.dir))
    with pytest.raises(error) as raised:
        live.log({"bad": make()})
    assert message in str(raised.value)
    assert "accepted: " in str(raised.value)
    live.flush()
    assert tree(Path(live.dir)) == before


@settings(max_examples=60, deadline=None)
@given(
    data=st.one_of(
        st.none(),
        st.integers(),
        st.floats(),
        st.binary(max_size=10),
        st.lists(st.text(max_size=3), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    ),
    inject=st.booleans(),
)
def test_any_other_type_is_refused(data: Any, inject: bool) -> None:
    with pytest.raises(InvalidMediaTypeError, match=r"^data: unsupported type"):
        Html(data, inject=inject)
