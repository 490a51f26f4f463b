"""The tool's floor is Python 3.9: install it there and run it, where a 3.9 interpreter exists."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _python39() -> list[str] | None:
    if shutil.which("python3.9"):
        probe = subprocess.run(["python3.9", "--version"], capture_output=True, text=True)
        if probe.returncode == 0:
            return ["python3.9"]
    if shutil.which("pyenv"):
        probe = subprocess.run(["pyenv", "versions", "--bare"], capture_output=True, text=True)
        versions = [v for v in probe.stdout.split() if v.startswith("3.9")]
        if versions:
            return ["env", f"PYENV_VERSION={versions[-1]}", "python3"]
    return None


def test_installs_and_runs_on_python_39(tmp_path: Path) -> None:
    python = _python39()
    if python is None:
        pytest.skip("no Python 3.9 interpreter here")
    venv = tmp_path / "py39"
    subprocess.run([*python, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYENV_VERSION"}
    tool = venv / "bin" / "mlc-devops"
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(REPO)], capture_output=True, text=True, env=env
    )
    assert install.returncode == 0, install.stderr
    version = subprocess.run([str(venv / "bin" / "python"), "--version"], capture_output=True, text=True, env=env)
    assert version.stdout.startswith("Python 3.9")
    config = subprocess.run([str(tool), "config", "--backend", "vulkan"], capture_output=True, text=True, env=env)
    assert config.returncode == 0, config.stderr
    assert "set(USE_VULKAN ON)" in config.stdout
    doctor = subprocess.run(
        [str(tool), "doctor", "--source", str(REPO / "examples" / "mini-mlc-llm"), "--json"],
        capture_output=True,
        text=True,
        env=env,
    )
    data = json.loads(doctor.stdout)
    assert data["layout"] == "root"
    assert next(c for c in data["checks"] if c["name"] == "python")["detail"].startswith("Python 3.9")
