"""The fast path starts at the prompt: ``--help`` and ``doctor`` import nothing heavy (issue 7, item 5).

Measured with ``python -X importtime``: what a command imports, and how long its imports take.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from standin import STANDIN

pytestmark = pytest.mark.integration

# Modules that only some commands need (signing, SBOMs, wheels, containers, the network, YAML).
HEAVY = (
    "cryptography",
    "cyclonedx",
    "jsonschema",
    "yaml",
    "packaging.tags",
    "zipfile",
    "ssl",
    "http.client",
    "urllib.request",
    "email.parser",
    "asyncio",
    "xml.etree.ElementTree",
    "mlc_devops.supply",
    "mlc_devops.container",
    "mlc_devops.lint_pipeline",
    "mlc_devops.lint_tools",
    "mlc_devops.wheel",
    "mlc_devops.commands.build",
    "mlc_devops.buildsteps",
    "mlc_devops.commands.image",
)


def imported(*args: str) -> dict[str, int]:
    """Module -> its own import time in microseconds (without what it imports), for ``mlc-devops ARGS``."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mlc_devops", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]  # doctor exits 1 when a check blocks
    out: dict[str, int] = {}
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            own, _cumulative, name = line[len("import time:") :].split("|")
            if own.strip().isdigit():
                out[name.strip()] = int(own)
    return out


def test_help_imports_only_the_cli() -> None:
    modules = imported("--help")
    ours = {m for m in modules if m.startswith("mlc_devops")}
    assert ours <= {"mlc_devops", "mlc_devops.cli", "mlc_devops.errors"}, ours
    assert not [m for m in modules if m.startswith(HEAVY) or m in ("subprocess", "ctypes")]


@pytest.mark.parametrize("args", [("doctor", "--help"), ("doctor", "--source", str(STANDIN)), ("build", "--help")])
def test_doctor_and_build_help_import_nothing_heavy(args: tuple[str, ...]) -> None:
    modules = imported(*args)
    heavy = sorted(m for m in modules if m.startswith(HEAVY) and not (args[0] == "build" and _build_needs(m)))
    assert heavy == []
    ours = sum(t for m, t in modules.items() if m.startswith("mlc_devops"))
    assert ours < 100_000, f"mlc_devops's own modules took {ours / 1000:.0f} ms to import"


def _build_needs(module: str) -> bool:
    # build validates wheels (tags, zip) and its modules are the command itself and its steps
    return module.startswith(
        ("packaging.tags", "zipfile", "mlc_devops.wheel", "mlc_devops.commands.build", "mlc_devops.buildsteps")
    )


def test_doctor_answers_within_a_second() -> None:
    def once() -> float:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "mlc_devops", "doctor", "--source", str(STANDIN)],
            capture_output=True,
            check=False,
            timeout=60,
            cwd=Path(__file__).parent,
        )
        return time.perf_counter() - started

    best = min(once() for _ in range(3))
    assert best < 1.0, f"doctor took {best:.2f}s"
