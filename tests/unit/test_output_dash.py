"""``-o -`` means standard output, never a file named ``-`` (issue 15, item 9).

Each command with ``-o``/``--output`` is run in-process in an empty folder;
one that can stream prints there, one that cannot (a directory, a key pair)
refuses with exit 2. Either way no ``-`` appears. A guard test finds every
command that has the option, so a new one cannot skip this.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from unit.test_supply_helpers import SOURCE_COMMIT, make_wheel, write_report

from mlc_devops import cli
from mlc_devops.commands import _args
from mlc_devops.errors import UsageError
from mlc_devops.supply import dsse

# Each case: the words before "-o -", given the folder to work in.
Case = Callable[[Path], list[str]]


def _wheel(here: Path) -> list[str]:
    wheel = make_wheel(here / "in")
    write_report(wheel)
    return ["sbom", str(wheel)]


def _attest(here: Path) -> list[str]:
    wheel = make_wheel(here / "in")
    write_report(wheel)
    return ["attest", str(wheel)]


def _checksums(here: Path) -> list[str]:
    (here / "a.txt").write_text("a\n")
    return ["checksums", "a.txt"]


def _sign(here: Path) -> list[str]:
    wheel = make_wheel(here / "in")
    statement = here / "in" / "x.intoto.jsonl"
    assert cli.main(["attest", str(wheel), "--source-uri", "git+https://h/o/r", "--source-commit", SOURCE_COMMIT,
                     "-o", str(statement)]) == 0  # fmt: skip
    key = here / "in" / "k.key"
    key.write_bytes(dsse.generate("ed25519", None).private_pem)
    return ["sign", str(statement), "--key", str(key)]


def _release(here: Path) -> list[str]:
    (here / "dist").mkdir()
    return ["release", str(here / "dist"), "--version", "v0.1.0"]


STREAMS: dict[str, tuple[Case, Callable[[str], bool]]] = {
    "config": (lambda here: ["config"], lambda out: "set(" in out),
    "sbom": (_wheel, lambda out: json.loads(out)["bomFormat"] == "CycloneDX"),
    "attest": (_attest, lambda out: json.loads(out)["_type"] == "https://in-toto.io/Statement/v1"),
    "checksums": (_checksums, lambda out: out.endswith("  a.txt\n")),
    "sign": (_sign, lambda out: "payloadType" in json.loads(out)),
}
REFUSES: dict[str, Case] = {
    "keygen": lambda here: ["keygen"],
    "release": _release,
}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert not (tmp_path / "-").exists(), "wrote a file named '-'"
    assert not list(tmp_path.glob("-.*")), "wrote files named '-.<suffix>'"


@pytest.mark.parametrize("command", sorted(STREAMS))
def test_dash_is_standard_output(command: str, here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv, looks_right = STREAMS[command]
    words = argv(here)
    capsys.readouterr()
    assert cli.main([*words, "-o", "-"]) == 0, capsys.readouterr().err
    assert looks_right(capsys.readouterr().out)


@pytest.mark.parametrize("command", sorted(REFUSES))
def test_dash_is_refused_where_the_output_cannot_be_a_stream(
    command: str, here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*REFUSES[command](here), "-o", "-"]) == 2
    assert "-o - (standard output) cannot be used here" in capsys.readouterr().err


def test_sign_refuses_json_with_dash(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*_sign(here), "-o", "-", "--json"]) == 2
    assert "both write to standard output" in capsys.readouterr().err


def _options(parser: argparse.ArgumentParser) -> set[str]:
    found = set(parser._option_string_actions)  # argparse offers no public listing
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _options(sub)
    return found


def test_every_command_with_an_output_option_is_covered() -> None:
    with_output = set()
    for name in cli.COMMANDS:
        parser = argparse.ArgumentParser()
        cli.load(name).add_arguments(parser)
        if {"-o", "--output"} & _options(parser):
            with_output.add(name)
    assert with_output == set(STREAMS) | set(REFUSES)


def test_output_helpers() -> None:
    assert _args.output_file(None) is None
    assert _args.output_file("-") is None
    assert _args.output_file("./-") == Path("./-")  # the way to name a file "-"
    assert _args.output_file("x.json") == Path("x.json")
    assert _args.output_not_stdout("rel", "a release is a directory") == Path("rel")
    with pytest.raises(UsageError, match="a release is a directory"):
        _args.output_not_stdout("-", "a release is a directory")
