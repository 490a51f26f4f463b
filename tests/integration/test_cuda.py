"""A CUDA wheel built here with the real nvcc; on this GPU-less machine smoke --gpu must say there is no driver."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from standin import Cli

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc (the CUDA toolkit)"),
]


def _has_driver() -> bool:
    import ctypes

    try:
        ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    return True


def test_cuda_wheel_builds_with_nvcc_and_smoke_gpu_reports_the_missing_driver(
    plain_workspace: Path, cli: Cli, tmp_path: Path, ffi_wheel: Path
) -> None:
    dist = tmp_path / "dist"
    proc = cli("build", str(plain_workspace), "--backend", "cuda", "--cuda-arch", "90", "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'set(CMAKE_CUDA_ARCHITECTURES "90")' in (plain_workspace / "build" / "config.cmake").read_text()
    wheel = next(dist.glob("*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        runtime = zf.read("mlc_llm/lib/libtvm_runtime.so")
    assert b"tvm_standin_cuda_saxpy" in runtime
    report = json.loads(wheel.with_name(wheel.name + ".build.json").read_text())
    assert report["cuda_architectures"] == ["90"] and report["tool_versions"]["nvcc"]
    smoke = cli("smoke", str(wheel), "--offline", "--with", str(ffi_wheel), "--gpu")
    if _has_driver():
        assert smoke.returncode == 0, smoke.stderr
        assert "matches the CPU reference" in smoke.stdout
    else:
        assert smoke.returncode == 1
        assert (
            smoke.stderr.strip()
            .splitlines()[-1]
            .startswith("mlc-devops smoke: error: smoke --gpu: no NVIDIA driver library")
        )
