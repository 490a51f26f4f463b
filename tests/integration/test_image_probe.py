"""The image SBOM's probe, run for real: on this Debian host, as it runs inside the image."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlc_devops.supply import image

pytestmark = pytest.mark.integration


def test_the_probe_reads_this_debian_host() -> None:
    """The probe reports the OS, the dpkg database, Python's distributions and Rust, as the SBOM needs them."""
    proc = subprocess.run([sys.executable, "-c", image.PROBE], capture_output=True, text=True, check=True, timeout=60)
    data = json.loads(proc.stdout)
    assert data["python_version"] == sys.version.split()[0]
    assert "ID=debian" in (data["os_release"] or "")
    assert "Package: " in (data["dpkg_status"] or "")
    assert any(d["name"] == "pytest" for d in data["python"])
