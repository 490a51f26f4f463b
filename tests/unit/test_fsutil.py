"""Files written whole or not at all: write_text_if_changed."""

from __future__ import annotations

import os
from pathlib import Path

from mlc_devops import fsutil


def test_write_text_if_changed_writes_new_and_changed_text_only(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "config.cmake"
    assert fsutil.write_text_if_changed(target, "set(USE_CUDA OFF)\n")
    assert target.read_text() == "set(USE_CUDA OFF)\n"
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))
    assert not fsutil.write_text_if_changed(target, "set(USE_CUDA OFF)\n")
    assert target.stat().st_mtime_ns == 1_000_000_000  # untouched
    assert fsutil.write_text_if_changed(target, "set(USE_CUDA ON)\n")
    assert target.read_text() == "set(USE_CUDA ON)\n" and target.stat().st_mtime_ns != 1_000_000_000
    assert [p.name for p in target.parent.iterdir()] == ["config.cmake"]  # no temporary file left
