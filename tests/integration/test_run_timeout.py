"""run.run's timeout: a process tree that outlives its limit is stopped, and the result says so."""

from __future__ import annotations

import time

import pytest

from mlc_devops import run
from mlc_devops.errors import BuildFailed


def test_a_process_past_its_limit_is_stopped_with_its_children() -> None:
    started = time.monotonic()
    # The grandchild sleeps too: the whole group must go, or the pipe stays open and run() waits 60 s.
    result = run.run(["bash", "-c", "echo started; sleep 60 & sleep 60"], check=False, timeout=1)
    assert time.monotonic() - started < 15
    assert result.timed_out
    assert result.returncode != 0
    assert result.output == "started\n"


def test_a_process_inside_its_limit_is_not_marked() -> None:
    result = run.run(["bash", "-c", "echo fine"], timeout=30)
    assert not result.timed_out
    assert result.returncode == 0


def test_checked_run_past_its_limit_names_the_limit() -> None:
    with pytest.raises(BuildFailed, match=r"stopped after its 1 s limit"):
        run.run(["sleep", "60"], timeout=1, what="sleep")
