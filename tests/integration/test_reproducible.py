"""Two clean builds of one commit, in different directories, give byte-identical wheels."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from standin import make_git_workspace

pytestmark = pytest.mark.integration


def _build(ws: Path, dist: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "mlc_devops", "build", str(ws), "--dist", str(dist), "--cache", "none"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    return next(dist.glob("*.whl"))


def test_two_clean_builds_are_byte_identical(tmp_path: Path) -> None:
    one = make_git_workspace(tmp_path / "a", name="checkout-one")
    two = make_git_workspace(tmp_path / "b" / "deeper", name="checkout-two")
    wheel_one = _build(one, tmp_path / "dist-one")
    wheel_two = _build(two, tmp_path / "dist-two")
    assert wheel_one.name == wheel_two.name
    digest = [hashlib.sha256(w.read_bytes()).hexdigest() for w in (wheel_one, wheel_two)]
    assert digest[0] == digest[1]
    with zipfile.ZipFile(wheel_one) as zf:
        blobs = {n: zf.read(n) for n in zf.namelist() if n.endswith(".so")}
        stamps = {info.date_time for info in zf.infolist()}
    for name, data in blobs.items():
        for path in (one, two, tmp_path):
            assert str(path).encode() not in data, f"{name} holds the build path {path}"
    assert stamps == {(2026, 1, 1, 0, 0, 0)}  # SOURCE_DATE_EPOCH from the commit time
