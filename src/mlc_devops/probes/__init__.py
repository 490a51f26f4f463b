"""Scripts that run inside a clean environment, by file path, with only the standard library.

They are modules of the package so that ruff and mypy check them; the tool
runs them as ``python <file> ARGS`` (:func:`path`), so they import nothing of
mlc_devops.
"""

from __future__ import annotations

from pathlib import Path


def path(name: str) -> str:
    """File path of the probe ``name`` (``"load"``, ``"smoke"``), to run with another interpreter."""
    return str(Path(__file__).with_name(f"{name}.py"))
