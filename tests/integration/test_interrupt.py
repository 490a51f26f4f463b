"""SIGINT and SIGTERM during a real compile: every child stops, dist/ stays empty, the next build resumes."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from standin import copy_standin

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("ccache") is None, reason="needs ccache (CCACHE_PREFIX slows one compile down)"),
]

SLOW_COMPILER = """#!/bin/sh
# Stands in front of the real compiler: record our pid and a child's, then take our time.
echo $$ >> "{pids}"
sleep 120 &
echo $! >> "{pids}"
wait
exec "$@"
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _totals(stderr: str) -> list[int]:
    return [int(m.group(2)) for m in re.finditer(r"compile (\d+)/(\d+)", stderr)]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_compile_stops_everything_and_the_next_build_resumes(
    tmp_path: Path, signum: int, code: int
) -> None:
    ws = copy_standin(tmp_path / "ws")
    tool = [sys.executable, "-m", "mlc_devops", "build", str(ws), "--cache", "ccache", "--no-build-isolation"]
    env = {**os.environ, "CCACHE_DIR": str(tmp_path / "ccache")}
    first = subprocess.run(
        [*tool, "--dist", str(tmp_path / "first")], env=env, capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr
    full = max(_totals(first.stderr))

    source = ws / "cpp" / "engine_info.cc"
    # new code, not a comment: a comment would still hit ccache's preprocessed cache
    source.write_text(source.read_text() + f"\nint mlc_devops_changed_{time.time_ns()}(void) {{ return 1; }}\n")
    pids = tmp_path / "pids"
    slow = tmp_path / "slow-compiler.sh"
    slow.write_text(SLOW_COMPILER.format(pids=pids))
    slow.chmod(0o755)
    dist = tmp_path / "dist"
    proc = subprocess.Popen(
        [*tool, "--dist", str(dist)],
        env={**env, "CCACHE_PREFIX": str(slow)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while not (pids.exists() and len(pids.read_text().split()) >= 2):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the compile never started"
        time.sleep(0.2)
    started = time.monotonic()
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert time.monotonic() - started < 30
    assert proc.returncode == code, stderr
    assert f"interrupted by {signal.Signals(signum).name}" in stderr.splitlines()[-1]
    children = [int(p) for p in pids.read_text().split()]
    assert children and not [p for p in children if _alive(p)], "orphaned compiler processes"
    assert not dist.exists() or list(dist.iterdir()) == []

    resumed = subprocess.run([*tool, "--dist", str(dist)], env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert max(_totals(resumed.stderr)) < full, "the next build started over instead of resuming"
    assert len(list(dist.glob("*.whl"))) == 1
