"""The pieces of the remote-experiment listing that need no server: parsing ``git ls-remote``
output, ranking and bounding, settings, and keeping credentials out of messages and logs."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

import pytest
from conftest import make_repo, run
from dvcstage_lsp.credentials import RedactingFilter, redact
from dvcstage_lsp.options import OptionError, ServerOptions
from dvcstage_lsp.remote_exps import (
    RemoteExperiment,
    RemoteSettingError,
    check_remote_setting,
    parse_listing,
    rank,
    resolve_remote,
    valid_ref_name,
)

BASE = "3e7ea1dce18753e0ca862d81bdebafdbff0c28c0"
SHA = "b75597232a1c1b49ddd5271fec839fcf49e12b44"


def ref(name: str, baseline: str = BASE) -> str:
    return f"refs/exps/{baseline[:2]}/{baseline[2:]}/{name}"


def test_parse_listing_keeps_experiment_refs_only() -> None:
    listing = "".join(
        f"{sha}\t{refname}\n"
        for sha, refname in [
            (SHA, ref("exp-a")),
            (SHA, ref("group/exp-b")),  # names may hold '/'
            (SHA, "refs/exps/exec/EXEC_BASELINE"),  # DVC's own refs
            (SHA, "refs/exps/celery/stash"),
            (SHA, "refs/heads/main"),
            ("nothex" * 6 + "abcd", ref("bad-sha")),
            (SHA, ref("a:b")),  # git refuses these names: never fetched
            (SHA, ref("x..y")),
            (SHA, ref(".hidden")),
            (SHA, ref("name.lock")),
            (SHA, ref("sp ace")),
            (SHA, ref("-dash") + "\x00"),
        ]
    )
    listing += "garbage without a tab\n" + f"{SHA}\t{ref('torn')}"  # cut, no newline
    found = parse_listing(listing.encode())
    assert found == [
        RemoteExperiment(ref("exp-a"), SHA, BASE, "exp-a"),
        RemoteExperiment(ref("group/exp-b"), SHA, BASE, "group/exp-b"),
    ]


def test_valid_ref_names() -> None:
    for good in ("exp-a", "my_exp.2", "team/exp", "éxp"):
        assert valid_ref_name(good), good
    for bad in ("", "a:b", "a b", "a~1", "a^", "a?", "a*", "a[", "a\\b", "x..y", "a@{1}", "@",
                ".a", "a/.b", "a.lock", "a.", "a/", "a//b", "a\x7f"):  # fmt: skip
        assert not valid_ref_name(bad), bad


def test_settings_refuse_what_git_would_take_as_an_option() -> None:
    assert check_remote_setting("origin") == "origin"
    assert check_remote_setting("https://host/r.git") == "https://host/r.git"
    for bad in ("", "--upload-pack=touch x", "a\nb", None, 3):
        with pytest.raises(RemoteSettingError, match="remoteExperiments: expected"):
            check_remote_setting(bad)
    with pytest.raises(RemoteSettingError) as caught:
        check_remote_setting("-https://me:s3cret@host/r.git")
    assert "s3cret" not in str(caught.value) and "***@host" in str(caught.value)
    options = ServerOptions().with_client_options(
        {"remoteExperiments": "team", "remoteInterval": 2, "remoteTimeout": 0.5}
    )
    assert (options.remote_experiments, options.remote_interval, options.remote_timeout) == (
        "team",
        2.0,
        0.5,
    )
    assert ServerOptions().remote_experiments == "auto"
    for bad, text in [
        ({"remoteExperiments": "-x"}, "remoteExperiments: expected"),
        ({"remoteInterval": "often"}, "remoteInterval: expected seconds"),
        ({"remoteTimeout": 0}, "remoteTimeout: expected seconds (a number > 0), got 0"),
        ({"remoteTimeout": True}, "remoteTimeout: expected seconds"),
    ]:
        with pytest.raises(OptionError, match=re.escape(text)):
            ServerOptions().with_client_options(bad)


def test_command_line_refuses_a_bad_remote() -> None:
    from dvcstage_lsp.cli import main

    with pytest.raises(SystemExit) as caught:
        main(["--remote-experiments", "--upload-pack=x"])
    assert caught.value.code == 2


def test_redact_removes_user_information_of_urls() -> None:
    text = (
        "fatal: unable to access 'https://me:s3cret@example.com/r.git/' and "
        "ssh://git@host:22/r.git, http://tok@h/x, git@github.com:me/r.git"
    )
    assert redact(text) == (
        "fatal: unable to access 'https://***@example.com/r.git/' and "
        "ssh://***@host:22/r.git, http://***@h/x, git@github.com:me/r.git"
    )
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test-redact")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("initialized %s", {"remoteExperiments": "https://u:s3cret@h/r.git"})
        log.warning("plain %d", 3)
    finally:
        log.removeHandler(handler)
    assert stream.getvalue() == (
        "initialized {'remoteExperiments': 'https://***@h/r.git'}\nplain 3\n"
    )


def test_auto_finds_the_upstream_remote_then_origin_then_the_only_one(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    assert resolve_remote(repo, "auto") is None
    assert resolve_remote(repo, "none") is None
    run("git", "remote", "add", "team", "https://u:s3cret@host/r.git", cwd=repo)
    assert resolve_remote(repo, "auto") == ("team", "team")
    run("git", "remote", "add", "origin", str(tmp_path / "o.git"), cwd=repo)
    assert resolve_remote(repo, "auto") == ("origin", "origin")
    run("git", "config", "branch.main.remote", "team", cwd=repo)
    assert resolve_remote(repo, "auto") == ("team", "team")
    url = "https://u:s3cret@host/r.git"
    assert resolve_remote(repo, url) == (url, "https://***@host/r.git")


def test_rank_puts_head_first_then_local_baselines_and_bounds(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r")
    first = run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip()
    run("git", "commit", "-q", "--allow-empty", "-m", "two", cwd=repo)
    head = run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip()
    unknown = "ab" * 20

    def exp(name: str, baseline: str) -> RemoteExperiment:
        return RemoteExperiment(ref(name, baseline), SHA, baseline, name)

    listed = [exp("z-old", first), exp("y-away", unknown), exp("b-head", head)]
    listed += [exp(f"bulk-{i:04d}", unknown) for i in range(5000)]
    listed += [exp("a-head", head)]
    ranked = rank(repo, listed, 5)
    assert [e.name for e in ranked] == ["a-head", "b-head", "z-old", "bulk-0000", "bulk-0001"]
    assert rank(repo, listed, 0) == []
