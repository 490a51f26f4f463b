"""URLs the tool records lose their credentials (issue 15, item 1): the rules, and each reader and writer."""

from __future__ import annotations

import io
from typing import Any

import pytest

from mlc_devops import urls
from mlc_devops.supply import provenance, report, sbom


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        # a GitHub Actions installation token, as actions/checkout leaves it
        ("https://x-access-token:ghs_FAKE0123@github.com/o/mlc-llm.git", "https://github.com/o/mlc-llm.git"),
        ("https://ghp_FAKE0123@github.com/o/r.git", "https://github.com/o/r.git"),  # token as the user
        ("http://alice:s3cret@git.example.com/o/r.git", "http://git.example.com/o/r.git"),  # basic auth
        ("git+https://oauth2:glpat-FAKE@gitlab.com/o/r.git", "git+https://gitlab.com/o/r.git"),
        ("https://tok:x@git.example.com:8443/o/r.git", "https://git.example.com:8443/o/r.git"),  # port kept
        ("https://u:p%40ss@host/o/r", "https://host/o/r"),  # percent-encoded password
        ("https://u:p@ss@host/o/r", "https://host/o/r"),  # a raw "@" in the password
        ("https://u:p@[2001:db8::1]:8443/o/r", "https://[2001:db8::1]:8443/o/r"),  # IPv6 host
        # ssh keeps the user name (needed to log in, no secret), drops a password
        ("ssh://user:pw@host.example.com/o/r.git", "ssh://user@host.example.com/o/r.git"),
        ("ssh://git:pw@host.example.com:2222/o/r.git", "ssh://git@host.example.com:2222/o/r.git"),
        ("git+ssh://git:pw@github.com/o/r.git", "git+ssh://git@github.com/o/r.git"),
        ("ssh://:pw@host/o/r", "ssh://host/o/r"),
        # secret query parameters go, the others stay as written
        ("https://host/o/r.git?access_token=FAKE", "https://host/o/r.git"),
        ("https://host/o/r.git?ref=main&private_token=FAKE&depth=1", "https://host/o/r.git?ref=main&depth=1"),
        ("https://host/r?X-Amz-Signature=ab&X-Amz-Credential=cd&a=b%20c", "https://host/r?a=b%20c"),
        ("https://host/r?sig=FAKE#readme", "https://host/r#readme"),
        ("https://t:x@host/r?api_key=FAKE&ref=v1", "https://host/r?ref=v1"),
    ],
)
def test_credentials_are_stripped(given: str, recorded: str) -> None:
    assert urls.strip_credentials(given) == recorded


@pytest.mark.parametrize(
    "clean",
    [
        "https://github.com/mlc-ai/mlc-llm.git",
        "git+https://github.com/mlc-ai/mlc-llm@refs/tags/v0.20.0",
        "https://git.example.com:8443/o/r.git?ref=main&author=me",
        "ssh://git@github.com/o/r.git",
        "git@github.com:mlc-ai/mlc-llm.git",  # scp-like: no password possible
        "github.com:o/r.git",
        "/home/me/src/tvm",
        "../tvm",
        "file:///srv/git/tvm.git",
        "C:\\src\\tvm",
        "",
        "https://[broken/r",  # not parseable: returned as it is
    ],
)
def test_urls_without_credentials_are_kept_as_written(clean: str) -> None:
    assert urls.strip_credentials(clean) == clean


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("access_token", True),
        ("private-token", True),
        ("accesstoken", True),
        ("X-Amz-Security-Token", True),
        ("sig", True),
        ("api_key", True),
        ("password", True),
        ("ref", False),
        ("branch", False),
        ("author", False),
        ("keyword", False),
        ("depth", False),
    ],
)
def test_secret_parameter(name: str, secret: bool) -> None:
    assert urls.secret_parameter(name) is secret


def test_recorded_says_so_once_per_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urls, "_noted", set())
    out = io.StringIO()
    assert urls.recorded("https://t@h/r", stream=out) == "https://h/r"
    assert urls.recorded("https://u:p@h/s", stream=out) == "https://h/s"
    assert urls.recorded("https://h/clean", "submodule URL", stream=out) == "https://h/clean"
    assert out.getvalue() == "note: recorded origin URL without its credentials\n"
    urls.recorded("https://t@h/tvm", "submodule URL", stream=out)
    assert out.getvalue().count("\n") == 2 and "submodule URL without its credentials" in out.getvalue()


def _report(source_uri: str, submodule_url: str) -> dict[str, Any]:
    return {
        "schema": report.SCHEMA,
        "source": {"uri": source_uri, "commit": "a" * 40},
        "submodules": [{"path": "3rdparty/tvm", "url": submodule_url, "commit": "b" * 40}],
    }


def test_a_report_read_has_no_credentials_and_names_where_they_were() -> None:
    parsed = report.parse(_report("git+https://x-access-token:T@github.com/o/r.git", "https://T2@gitlab.com/o/tvm"))
    assert parsed.source.uri == "git+https://github.com/o/r.git"
    assert parsed.submodules[0].url == "https://gitlab.com/o/tvm"
    assert parsed.stripped == ("source.uri", "submodules[3rdparty/tvm].url")
    note = report.credentials_note(parsed, "x.build.json")
    assert note is not None and "source.uri" in note and "T2" not in note


def test_a_clean_report_has_nothing_stripped() -> None:
    parsed = report.parse(_report("git+https://github.com/o/r.git", "git@github.com:o/tvm.git"))
    assert parsed.stripped == ()
    assert report.credentials_note(parsed, "x.build.json") is None


def test_the_writers_strip_urls_given_to_them_directly() -> None:
    """An SBOM or statement made from a ReportFacts built in code (not parsed) is clean too."""
    ref = sbom.repo_ref("https://oauth2:T@gitlab.example.com/o/tvm.git", "c" * 40, "tvm")
    assert ref.url == "https://gitlab.example.com/o/tvm"
    assert provenance.git_uri("https://t:T@github.com/o/r.git") == "git+https://github.com/o/r.git"
    spec = provenance.source_spec(None, uri="https://T@github.com/o/r", commit="d" * 40)
    assert spec.uri == "git+https://github.com/o/r"
