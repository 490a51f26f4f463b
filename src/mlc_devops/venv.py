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


# Variables that make a check pass or fail for reasons outside the wheel: a library path
# pointing at the build tree, a preloaded library, another Python's modules (ld.so(8), dyld(1), python(1)).
LEAKY_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "LD_LIBRARY_PATH", "LD_PRELOAD")
LEAKY_PREFIXES = ("DYLD_",)


def leaky_variables(env: Mapping[str, str]) -> list[str]:
    """The variables of ``env`` that :func:`clean_env` removes, sorted (to say which were removed)."""
    return sorted(k for k in env if k in LEAKY_VARIABLES or k.startswith(LEAKY_PREFIXES))


def clean_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment for the venv's processes: nothing that redirects libraries or modules leaks in.

    Removes :data:`LEAKY_VARIABLES` and ``DYLD_*``, so that a library found only
    through ``LD_LIBRARY_PATH`` pointing at a build tree fails as it would for users.
    """
    leaky = set(leaky_variables(env))
    out = {k: v for k, v in env.items() if k not in leaky}
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
