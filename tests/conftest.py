"""Fixtures shared by every test folder: the stand-in workspace and the CLI."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from standin import Cli, build_ffi_wheel, copy_standin, make_git_workspace


@contextlib.contextmanager
def _variable(name: str, value: str) -> Iterator[None]:
    """``name=value`` in this process's environment (so in every child's) for the block; then as before."""
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@pytest.fixture(scope="session", autouse=True)
def ffi_wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A wheel directory with the stand-in's tvm-ffi wheel, for every build and smoke of the stand-in.

    Its libraries NEED libtvm_ffi.so, which only that wheel ships (as upstream's
    need apache-tvm-ffi's), so validation and smoke find it through
    ``MLC_FIND_LINKS``, set here for every child process.
    """
    house = tmp_path_factory.mktemp("wheelhouse")
    build_ffi_wheel(house)
    with _variable("MLC_FIND_LINKS", str(house)):
        yield house


@pytest.fixture(scope="session", autouse=True)
def validation_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Builds keep and reuse validations in a folder of this session (``MLC_VALIDATION_CACHE``), not in the
    user's cache directory: a test starts from no earlier validation but its session's."""
    folder = tmp_path_factory.mktemp("validation-cache")
    with _variable("MLC_VALIDATION_CACHE", str(folder)):
        yield folder


@pytest.fixture(scope="session", autouse=True)
def build_env_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Isolated builds keep their build environments in a folder of this session (``MLC_BUILD_ENV``), not in
    the user's cache directory: the session's first isolated build of a stand-in makes it, later ones reuse it."""
    folder = tmp_path_factory.mktemp("build-env")
    with _variable("MLC_BUILD_ENV", str(folder)):
        yield folder


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see the tool's plain output even when the suite runs in a GitHub Actions job.

    There ``GITHUB_ACTIONS=true`` makes the CLI print an ``::error::`` annotation
    before each error line (cli.py), which tests of exact output do not expect;
    the annotation tests set the variable themselves.
    """
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


@pytest.fixture
def ffi_wheel(ffi_wheelhouse: Path) -> Path:
    """The stand-in's tvm-ffi wheel file, for ``smoke --offline --with`` (what the stand-in's import needs)."""
    (wheel,) = ffi_wheelhouse.glob("mlc_standin_tvm_ffi-*.whl")
    return wheel


@pytest.fixture
def git_workspace(tmp_path: Path) -> Path:
    return make_git_workspace(tmp_path)


@pytest.fixture
def plain_workspace(tmp_path: Path) -> Path:
    return copy_standin(tmp_path / "plain")


CliResult = subprocess.CompletedProcess


@pytest.fixture
def cli() -> Cli:
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
