"""Unit tests start no processes: a real subprocess here is a bug in the test."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _no_processes(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("allow_processes"):
        return

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"unit test started a process: {args[0] if args else kwargs}")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
