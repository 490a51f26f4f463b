"""depwheels.prefetch: downloads begun while a build compiles, and stopped when it ends early (real processes)."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mlc_devops import depwheels

pytestmark = pytest.mark.integration


def test_a_download_still_running_is_stopped_not_waited_for(tmp_path: Path) -> None:
    # stands for pip against an index that does not answer: it would run for minutes
    hanging = tmp_path / "python"
    hanging.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    hanging.chmod(0o755)
    with ThreadPoolExecutor(max_workers=2) as pool:
        begun = depwheels.prefetch(["apache-tvm-ffi"], tmp_path / "dl", dict(os.environ), pool, python=str(hanging))
        assert list(begun.futures) == ["apache-tvm-ffi"]
        time.sleep(0.5)
        started = time.monotonic()
        begun.stop()
        stopped_in = time.monotonic() - started
        future = begun.futures["apache-tvm-ffi"]
        assert future.cancelled() or future.result(timeout=5) is None
    assert stopped_in < 3, f"stop() took {stopped_in:.1f} s"


def test_a_download_gives_the_wheel_pip_gives(tmp_path: Path, ffi_wheel: Path) -> None:
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(ffi_wheel.parent)}
    with ThreadPoolExecutor(max_workers=2) as pool:
        begun = depwheels.prefetch(["mlc-standin-tvm-ffi", "mlc_standin_tvm_ffi", "???"], tmp_path / "dl", env, pool)
        assert list(begun.futures) == ["mlc-standin-tvm-ffi"]  # one key per requirement; unparsable left out
        wheel = begun.futures["mlc-standin-tvm-ffi"].result(timeout=120)
        begun.stop()
    assert wheel is not None and wheel.name == ffi_wheel.name
    assert wheel.read_bytes() == ffi_wheel.read_bytes()
