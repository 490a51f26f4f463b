"""Fatal errors of the real CLI reach GitHub Actions as ``::error::`` annotations, escaped."""

from __future__ import annotations

import os

import pytest
from standin import Cli

pytestmark = pytest.mark.integration


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "MLC_PRESET", "MLC_VERBOSITY")}
    return {**env, **values}


def test_a_bad_argument_is_an_annotation_on_actions(cli: Cli) -> None:
    proc = cli("doctor", "--no-such-flag", env=_env(GITHUB_ACTIONS="true"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-2:] == [
        "::error title=mlc-devops::unrecognized arguments: --no-such-flag",
        "mlc-devops: error: unrecognized arguments: --no-such-flag",
    ]
    assert proc.stdout == ""


def test_a_tool_error_is_an_escaped_annotation_on_actions(cli: Cli) -> None:
    proc = cli("config", "--json", env=_env(GITHUB_ACTIONS="true", MLC_PRESET="50%"))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "::error title=mlc-devops config::unknown preset '50%25': choose from cpu, vulkan, cuda, rocm, metal",
        "mlc-devops config: error: unknown preset '50%': choose from cpu, vulkan, cuda, rocm, metal",
    ]
    assert '"kind": "usage"' in proc.stdout  # the JSON error stays on stdout, without the annotation


def test_no_annotation_off_actions(cli: Cli) -> None:
    proc = cli("doctor", "--no-such-flag", env=_env())
    assert proc.returncode == 2
    assert "::error" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == "mlc-devops: error: unrecognized arguments: --no-such-flag"
