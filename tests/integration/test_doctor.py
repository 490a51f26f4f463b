"""Each doctor check's failure, provoked for real."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jsonshapes
import pytest
from standin import Cli, env_without, git

pytestmark = pytest.mark.integration


def _doctor(cli: Cli, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    proc = cli("doctor", *args, "--json", env=env)
    return proc.returncode, jsonshapes.check_text(proc.stdout)


def _check(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in data["checks"] if c["name"] == name)


def test_healthy_workspace_passes(git_workspace: Path, cli: Cli) -> None:
    code, data = _doctor(cli, "--source", str(git_workspace))
    assert code == 0, data
    assert data["layout"] == "root"
    assert _check(data, "submodule 3rdparty/tvm")["status"] == "ok"


def test_uninitialised_submodule_blocks_with_upstreams_message(git_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    fresh = tmp_path / "clone"
    git("clone", "-q", str(git_workspace), str(fresh), cwd=tmp_path)  # a clone without --recursive
    code, data = _doctor(cli, "--source", str(fresh))
    assert code == 1
    sub = _check(data, "submodule 3rdparty/tvm")
    assert sub["status"] == "fail" and sub["fix"] == "git submodule update --init --recursive"
    assert _check(data, "tvm source")["detail"] == "3rdparty/tvm does not contain a CMakeLists.txt"
    build = cli("build", str(fresh))
    assert build.returncode == 3
    assert "3rdparty/tvm" in build.stderr.splitlines()[-1]


def test_submodule_at_another_commit_warns(git_workspace: Path, cli: Cli) -> None:
    tvm = git_workspace / "3rdparty" / "tvm"
    (tvm / "NEW").write_text("moved\n")
    git("add", "NEW", cwd=tvm)
    git("commit", "-q", "-m", "move", cwd=tvm)
    code, data = _doctor(cli, "--source", str(git_workspace))
    assert code == 0
    assert _check(data, "submodule 3rdparty/tvm")["status"] == "warn"


def test_cargo_missing_blocks(git_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    env = env_without("cargo", tmp_path)
    assert shutil.which("cargo", path=env["PATH"]) is None
    code, data = _doctor(cli, "--source", str(git_workspace), env=env)
    assert code == 1
    assert _check(data, "cargo")["status"] == "fail"
    proc = cli("build", str(git_workspace), env=env)
    assert proc.returncode == 3
    assert "cargo: cargo not found on PATH" in proc.stderr.splitlines()[-1]


def test_too_old_cmake_shim_blocks_a_legacy_build(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    (plain_workspace / "pyproject.toml").unlink()
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    shim = shim_dir / "cmake"
    shim.write_text("#!/bin/sh\necho 'cmake version 3.10.2'\n")
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim_dir}{os.pathsep}{os.environ['PATH']}"}
    code, data = _doctor(cli, "--source", str(plain_workspace), env=env)
    assert code == 1
    check = _check(data, "cmake")
    assert check["status"] == "fail"
    assert "cmake 3.10.2 on PATH is older than 3.24" in check["detail"]


def test_tree_floor_above_the_spec_is_read_from_the_tree(plain_workspace: Path, cli: Cli) -> None:
    ffi = plain_workspace / "3rdparty" / "tvm" / "ffi"
    ffi.mkdir()
    (ffi / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.99)\nproject(ffi)\n")
    code, data = _doctor(cli, "--source", str(plain_workspace), "--no-build-isolation")
    assert code == 1
    assert "required by 3rdparty/tvm/ffi/CMakeLists.txt" in _check(data, "cmake")["detail"]
    code, data = _doctor(cli, "--source", str(plain_workspace))  # root layout: pip fetches a newer cmake
    assert _check(data, "cmake")["status"] == "warn"


def test_vulkan_without_its_tools_blocks(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    env = env_without("glslangValidator", tmp_path)
    code, data = _doctor(cli, "--source", str(plain_workspace), "--backend", "vulkan", env=env)
    assert code == 1
    assert _check(data, "glslangValidator")["fix"].startswith("install glslang-tools")


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc (the CUDA toolkit)")
def test_cuda_arch_that_nvcc_cannot_target(cli: Cli) -> None:
    code, data = _doctor(cli, "--backend", "cuda", "--cuda-arch", "35")
    assert code == 1
    check = _check(data, "cuda-arch")
    assert "cannot target 35" in check["detail"] and "90" in check["fix"].split()


def test_tvm_home_is_flagged(plain_workspace: Path, cli: Cli) -> None:
    _, data = _doctor(cli, "--source", str(plain_workspace), env={**os.environ, "TVM_HOME": "/opt/tvm"})
    assert _check(data, "TVM_HOME")["status"] == "warn"


def test_help_and_doctor_start_fast() -> None:
    best = min(_timed([sys.executable, "-m", "mlc_devops", "--help"]) for _ in range(3))
    assert best < 0.3, f"--help took {best:.2f}s"


def _timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True)
    return time.perf_counter() - started
