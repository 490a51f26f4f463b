"""Fixtures shared by every test folder: the stand-in workspace and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from standin import copy_standin, make_git_workspace


@pytest.fixture
def git_workspace(tmp_path: Path) -> Path:
    return make_git_workspace(tmp_path)


@pytest.fixture
def plain_workspace(tmp_path: Path) -> Path:
    return copy_standin(tmp_path / "plain")


CliResult = subprocess.CompletedProcess


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the real ``mlc-devops`` in a child process (so signals, exit codes and output are real)."""

    def _run(
        *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mlc_devops", *args],
            env=env if env is not None else dict(os.environ),
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return _run
