"""The real tool builds the stand-in in both layouts: real cmake, cargo, pip and git."""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path
from typing import TypedDict

import jsonshapes
import pytest
from standin import Cli

pytestmark = pytest.mark.integration

TOKENIZER = "tests/python/data/tokenizer.json"


class Built(TypedDict):
    """The module's one build: its workspace, dist folder, wheel, and the build's stderr."""

    ws: Path
    dist: Path
    wheel: Path
    stderr: Path
    log: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """One root-layout build from a git workspace with real submodules, shared by this module."""
    import subprocess
    import sys

    from standin import make_git_workspace

    base = tmp_path_factory.mktemp("built")
    ws = make_git_workspace(base)
    dist = base / "dist"
    proc = subprocess.run(
        # upstream's exact path: pip's isolated environment, CMake 4 from PyPI
        [sys.executable, "-m", "mlc_devops", "build", "--source", str(ws), "--dist", str(dist), "--build-isolation"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    wheels = list(dist.glob("*.whl"))
    assert len(wheels) == 1
    return {"ws": ws, "dist": dist, "wheel": wheels[0], "stderr": Path(base / "stderr.txt"), "log": proc.stderr}


def test_root_layout_wheel_holds_both_libraries(built: Built) -> None:
    wheel = built["wheel"]
    assert wheel.name == "mlc_llm-0.1.0.dev0-py3-none-linux_x86_64.whl"
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlc_llm/lib/libmlc_llm.so" in names
    assert "mlc_llm/lib/libtvm_runtime.so" in names


def test_build_says_layout_progress_and_phase_times(built: Built) -> None:
    log = str(built["log"])
    assert "layout:   root" in log
    assert "compile " in log and "(100%)" in log
    for phase in ("preflight", "config", "configure", "compile", "package", "validate"):
        assert f"    {phase}: " in log, phase


def test_report_records_layout_commits_and_digest(built: Built) -> None:
    import hashlib

    wheel = built["wheel"]
    report = jsonshapes.check_text(wheel.with_name(wheel.name + ".build.json").read_text())
    assert report["schema"] == "mlc-devops/build-report/v1"
    assert report["layout"] == "root"
    assert report["backends"] == ["cpu"]
    assert report["build_isolation"] is True
    assert report["wheel"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert len(report["source"]["commit"]) == 40
    paths = {s["path"]: s["commit"] for s in report["submodules"]}
    assert set(paths) == {"3rdparty/tvm", "3rdparty/tokenizers-cpp"}
    assert all(c and len(c) == 40 for c in paths.values())
    assert report["tool_versions"]["cmake"]
    assert report["tool_versions"]["cargo"]
    assert report["phases"]["compile"] > 0


def _runtime_bytes(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(next(n for n in zf.namelist() if n.endswith("libtvm_runtime.so")))


def test_cpu_build_compiles_no_vulkan_code(built: Built) -> None:
    text = (built["ws"] / "build" / "config.cmake").read_text()
    assert "set(USE_VULKAN OFF)" in text
    assert b"mlc_standin_vulkan_enabled" not in _runtime_bytes(built["wheel"])


@pytest.mark.skipif(
    shutil.which("glslangValidator") is None,
    reason="Vulkan build needs glslang-tools (apt-get install glslang-tools spirv-tools spirv-headers libvulkan-dev)",
)
def test_vulkan_backend_changes_what_is_compiled(built: Built, cli: Cli, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    proc = cli("build", str(built["ws"]), "--backend", "vulkan", "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr
    assert "set(USE_VULKAN ON)" in (built["ws"] / "build" / "config.cmake").read_text()
    wheel = next(dist.glob("*.whl"))
    assert b"mlc_standin_vulkan_enabled" in _runtime_bytes(wheel)
    report = json.loads(wheel.with_name(wheel.name + ".build.json").read_text())
    assert report["backends"] == ["cpu", "vulkan"]


def test_smoke_accepts_the_wheel_and_round_trips_text(built: Built, cli: Cli) -> None:
    proc = cli("smoke", str(built["wheel"]), "--tokenizer", str(built["ws"] / TOKENIZER), "--json")
    assert proc.returncode == 0, proc.stderr
    data = jsonshapes.check_text(proc.stdout)
    assert data["ok"] is True
    # the import loads the runtime and the package's first libmlc_llm; the smoke never loads a second copy
    assert data["present"] == ["mlc_llm/lib/libtvm_runtime.so", "mlc_llm/libmlc_llm.so"]
    assert data["from_dependencies"] == ["tvm_ffi_standin/lib/libtvm_ffi.so"]
    assert data["finder"]["tvm_runtime"].endswith("mlc_llm/lib/libtvm_runtime.so")
    assert data["tokenizer"]["round_trip"] is True
    assert [f["kind"] for f in data["findings"]] == ["version-mismatch"]


def test_smoke_offline_installs_the_wheel_alone(built: Built, cli: Cli, ffi_wheel: Path) -> None:
    alone = cli("smoke", str(built["wheel"]), "--offline")
    assert alone.returncode == 1
    assert alone.stderr.strip().splitlines()[-1] == (
        "mlc-devops smoke: error: import mlc_llm needs tvm_ffi_standin, from the declared dependency mlc-standin-tvm-ffi, "
        "which is not installed (it was installed with --offline, alone): "
        "pass --with mlc-standin-tvm-ffi (a wheel file, with --offline)"
    )
    proc = cli("smoke", str(built["wheel"]), "--offline", "--with", str(ffi_wheel))
    assert proc.returncode == 0, proc.stderr
    assert "smoke: passed" in proc.stdout


def test_smoke_rejects_a_wheel_whose_library_is_broken(built: Built, cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / built["wheel"].name
    with zipfile.ZipFile(built["wheel"]) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("libmlc_llm.so"):
                data = b"not an ELF file"
            dst.writestr(item, data)
    proc = cli("smoke", str(broken))
    assert proc.returncode == 1
    assert "smoke" in proc.stderr and "failed" in proc.stderr


def test_test_command_runs_unittest_selection_with_junit(built: Built, cli: Cli) -> None:
    junit = built["ws"] / "build" / "junit.xml"
    proc = cli("test", "--source", str(built["ws"]), "--dist", str(built["dist"]), "--junitxml", str(junit), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = jsonshapes.check_text(proc.stdout)
    assert result["junit"] == str(junit) and result["counts"]["failures"] == 0 and result["counts"]["tests"] > 0
    text = junit.read_text()
    assert 'failures="0"' in text
    assert "test_tokenizer" in text
    # the default selection leaves the engine and endpoint tests out (they fail by design)
    assert "deselected" in proc.stderr


def test_test_command_fails_when_selection_includes_engine_tests(built: Built, cli: Cli) -> None:
    proc = cli("test", "--source", str(built["ws"]), "--dist", str(built["dist"]), "-m", "", "-k", "", "-q")
    assert proc.returncode == 1
    assert "tests failed" in proc.stderr
    # quiet: no progress, but pytest's last lines, which name what failed, come before the error
    assert "==> pytest" not in proc.stderr
    assert " failed" in proc.stderr.split("mlc-devops test: error:")[0]


def test_legacy_layout_builds_and_smokes(tmp_path: Path, cli: Cli, ffi_wheel: Path) -> None:
    from standin import copy_standin

    ws = copy_standin(tmp_path / "legacy")
    (ws / "pyproject.toml").unlink()
    proc = cli("build", str(ws), "--dist", str(tmp_path / "dist"))
    assert proc.returncode == 0, proc.stderr
    assert "layout:   legacy" in proc.stderr
    wheels = list((tmp_path / "dist").glob("*.whl"))
    assert len(wheels) == 1
    assert "-linux_x86_64.whl" in wheels[0].name
    names = zipfile.ZipFile(wheels[0]).namelist()
    assert "mlc_llm/libmlc_llm.so" in names and "mlc_llm/libtvm_runtime.so" in names
    smoke = cli("smoke", str(wheels[0]), "--offline", "--with", str(ffi_wheel))
    assert smoke.returncode == 0, smoke.stderr


def test_failed_compile_leaves_no_wheel_in_dist(tmp_path: Path, cli: Cli) -> None:
    from standin import copy_standin

    ws = copy_standin(tmp_path / "broken")
    source = ws / "cpp" / "engine_info.cc"
    source.write_text(source.read_text() + "\nthis is not C++;\n")
    dist = tmp_path / "dist"
    proc = cli("build", str(ws), "--dist", str(dist))
    assert proc.returncode == 4, proc.stderr
    assert "failed with exit code" in proc.stderr
    assert list(dist.glob("*")) == []
    assert (ws / "build" / "mlc-devops-build.log").is_file()


def test_no_source_is_a_usage_error(cli: Cli) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MLC_SOURCE_DIR"}
    proc = cli("build", env=env)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert lines == [
        "mlc-devops build: error: no MLC-LLM source given: pass --source DIR (in the container, mount the checkout at /workspace)"
    ]


def test_stale_wheel_in_dist_is_reported_and_cleaned(built: Built, cli: Cli, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    old = dist / "mlc_llm-0.0.9-py3-none-linux_x86_64.whl"
    shutil.copyfile(built["wheel"], old)
    proc = cli("build", str(built["ws"]), "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr
    assert "also holds mlc_llm-0.0.9" in proc.stderr
    assert old.exists()
    proc = cli("build", str(built["ws"]), "--dist", str(dist), "--clean-dist")
    assert proc.returncode == 0, proc.stderr
    assert not old.exists()
    assert len(list(dist.glob("*.whl"))) == 1


def test_switching_the_cache_on_an_existing_build_takes_effect(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    ccache = shutil.which("ccache")
    if ccache is None:
        pytest.skip("needs ccache")
    args = ("build", str(plain_workspace), "--no-build-isolation", "--dist", str(tmp_path / "dist"))
    assert cli(*args, "--cache", "ccache").returncode == 0
    cache_file = plain_workspace / "build" / "CMakeCache.txt"
    assert "CMAKE_CXX_COMPILER_LAUNCHER:UNINITIALIZED=" + ccache in cache_file.read_text() or (
        "CMAKE_CXX_COMPILER_LAUNCHER:STRING=" + ccache in cache_file.read_text()
    )
    config = plain_workspace / "build" / "config.cmake"
    written = config.stat().st_mtime_ns
    proc = cli(*args, "--cache", "none")
    assert proc.returncode == 0, proc.stderr
    # the same options: config.cmake is left as it was (no write, no fsync), and the build says so
    assert config.stat().st_mtime_ns == written and f"kept, unchanged, {config}" in proc.stderr
    lines = [ln for ln in cache_file.read_text().splitlines() if ln.startswith("CMAKE_CXX_COMPILER_LAUNCHER:")]
    assert lines and lines[0].endswith("="), lines
    wheel = next((tmp_path / "dist").glob("*.whl"))
    report = json.loads(wheel.with_name(wheel.name + ".build.json").read_text())
    assert report["compiler_cache"]["kind"] == "none"
    assert report["build_isolation"] is False


def test_repair_gives_a_manylinux_wheel_that_still_loads(
    plain_workspace: Path, cli: Cli, tmp_path: Path, ffi_wheel: Path
) -> None:
    dist = tmp_path / "dist"
    proc = cli("build", str(plain_workspace), "--repair", "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr
    wheel = next(dist.glob("*.whl"))
    assert "-py3-none-manylinux_" in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    assert "mlc_llm/lib/libmlc_llm.so" in names and "mlc_llm/lib/libtvm_runtime.so" in names
    # upstream's excludes: the TVM runtime is never grafted a second time under a hashed name
    assert not [n for n in names if "mlc_llm.libs/libtvm" in n]
    smoke = cli("smoke", str(wheel), "--offline", "--with", str(ffi_wheel))
    assert smoke.returncode == 0, smoke.stderr
