from __future__ import annotations

import json

import pytest

from mlc_devops import cli


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in cli.COMMANDS:
        assert name in out


def test_unknown_command_and_missing_command_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
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
