from __future__ import annotations

import json
import types

import pytest

from mlc_devops import cli


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_unknown_command_and_missing_command_are_usage_errors() -> None:
    assert cli.main(["frobnicate"]) == 2
    assert cli.main([]) == 2


def test_config_prints_the_rendered_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "--backend", "vulkan"]) == 0
    assert "set(USE_VULKAN ON)" in capsys.readouterr().out


def test_error_is_one_line_and_json_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["config", "--backend", "cublas"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "mlc-devops config: error: backend 'cublas' needs its parent 'cuda': add --backend cuda or drop cublas"
    ]
    assert cli.main(["config", "--backend", "cublas", "--json"]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload == {
        "schema": "mlc-devops/error/v1",
        "error": {
            "kind": "usage",
            "message": "backend 'cublas' needs its parent 'cuda'",
            "hint": "add --backend cuda or drop cublas",
            "exit_code": 2,
        },
    }


def test_config_show_says_where_each_value_came_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLC_BACKENDS", "vulkan")
    assert cli.main(["config", "--show", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["backends"] == {"value": "vulkan", "from": "env MLC_BACKENDS"}


def test_a_bad_argument_on_actions_is_an_error_annotation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert cli.main(["config", "--preset", "100%"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("usage: mlc-devops config")
    assert err[-2].startswith("::error title=mlc-devops config::argument --preset: invalid choice: '100%25'")
    assert err[-1].startswith("mlc-devops config: error: argument --preset: invalid choice: '100%'")


def test_a_tool_error_on_actions_is_an_error_annotation(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("MLC_PRESET", "100%")
    assert cli.main(["config"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "::error title=mlc-devops config::unknown preset '100%25': choose from cpu, vulkan, cuda, rocm, metal",
        "mlc-devops config: error: unknown preset '100%': choose from cpu, vulkan, cuda, rocm, metal",
    ]


def test_no_annotation_off_actions(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert cli.main(["config", "--preset", "100%"]) == 2
    assert cli.main(["config", "--backend", "cublas"]) == 2
    assert "::" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "verbosity"),
    [
        (["build", "-q"], "quiet"),
        (["smoke", "--verbose", "x.whl"], "verbose"),
        (["test"], None),
        (["image", "build", "-v"], "verbose"),
        (["image", "-q", "build"], "quiet"),  # before the action, kept by the action's parser
        (["image", "tags", "--quiet", "--ref", "refs/heads/main", "--sha", "0" * 40], "quiet"),
    ],
)
def test_commands_that_run_programs_take_quiet_and_verbose(argv: list[str], verbosity: str | None) -> None:
    args = cli.build_parser(argv[0]).parse_args(argv)
    assert args.verbosity == verbosity


def test_quiet_and_verbose_exclude_each_other_and_other_commands_refuse_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["build", "-q", "-v"]) == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert cli.main(["config", "-q"]) == 2
    assert "unrecognized arguments: -q" in capsys.readouterr().err


def test_the_flag_reaches_the_command_as_mlc_verbosity(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, str] = {}

    def run(_args: object, env: dict[str, str]) -> int:
        seen.update(env)
        return 0

    monkeypatch.setenv("MLC_VERBOSITY", "verbose")
    monkeypatch.setattr(cli, "load", lambda _name: types.SimpleNamespace(add_arguments=lambda _p: None, run=run))
    assert cli.main(["build", "-q"]) == 0
    assert seen["MLC_VERBOSITY"] == "quiet"
    seen.clear()
    assert cli.main(["build"]) == 0
    assert seen["MLC_VERBOSITY"] == "verbose"
