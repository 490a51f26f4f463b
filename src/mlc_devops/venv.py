"""Clean virtual environments for smoke tests and test runs."""

from __future__ import annotations

import contextlib
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from mlc_devops import platforms
from mlc_devops import run as run_mod
from mlc_devops.errors import CheckFailed, PrerequisiteMissing


def install_command(
    python: str,
    requirements: Sequence[str],
    *,
    offline: bool,
    index_url: str | None,
    find_links: Sequence[str] = (),
    no_deps: bool = False,
) -> list[str]:
    cmd = [python, "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    if offline:
        cmd += ["--no-index"]
    if no_deps:
        cmd += ["--no-deps"]
    if index_url and not offline:
        cmd += ["--index-url", index_url]
    for link in find_links:
        cmd += ["--find-links", link]
    cmd += list(requirements)
    return cmd


def clean_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment for the venv's processes: no PYTHONPATH or PYTHONHOME leaking in."""
    out = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    out["PYTHONNOUSERSITE"] = "1"
    out["PYTHONDONTWRITEBYTECODE"] = "1"
    return out


@contextlib.contextmanager
def fresh(env: Mapping[str, str], *, python: str | None = None, keep: Path | None = None) -> Iterator[Path]:
    """Create a new virtual environment and yield its interpreter; removed afterwards unless ``keep``."""
    base = python or sys.executable
    if keep is not None:
        if keep.exists():
            shutil.rmtree(keep)
        root = keep
        cleanup = False
    else:
        root = Path(tempfile.mkdtemp(prefix="mlc-devops-venv-"))
        cleanup = True
    try:
        try:
            run_mod.run(
                [base, "-m", "venv", str(root)], env=clean_env(env), what="python -m venv", error=PrerequisiteMissing
            )
        except PrerequisiteMissing as exc:
            exc.hint = "install the venv module (Debian: apt-get install python3-venv)"
            raise
        interpreter = Path(platforms.current().venv_python(root))
        if not interpreter.exists():
            raise CheckFailed(f"virtual environment at {root} has no interpreter {interpreter.name}")
        yield interpreter
    finally:
        if cleanup:
            shutil.rmtree(root, ignore_errors=True)
