from __future__ import annotations

from pathlib import Path

from mlc_devops import cache
from mlc_devops.buildsteps import decisions
from mlc_devops.depwheels import requirement_key
from mlc_devops.ui import Console, Progress, parse_step
from mlc_devops.wheel import repair


def test_root_command_is_upstreams_pip_wheel_with_the_policy_floor() -> None:
    cmd = decisions.root_wheel_command("py", Path("/s"), Path("/w"), "Release", isolation=True)
    assert cmd[:7] == ["py", "-m", "pip", "wheel", "--no-deps", "-w", "/w"]
    assert "cmake.define.CMAKE_POLICY_VERSION_MINIMUM=3.5" in cmd
    assert cmd[-1] == "/s" and "--no-build-isolation" not in cmd
    assert "--no-build-isolation" in decisions.root_wheel_command(
        "py", Path("/s"), Path("/w"), "Release", isolation=False
    )


def test_legacy_commands() -> None:
    assert decisions.legacy_configure_command(Path("/s"), Path("/s/build"), "Release", "Ninja")[:5] == [
        "cmake",
        "-G",
        "Ninja",
        "-S",
        "/s",
    ]
    assert "-G" not in decisions.legacy_configure_command(Path("/s"), Path("/b"), "Release", None)
    assert decisions.legacy_compile_command(Path("/b"), 3, "Release") == [
        "cmake",
        "--build",
        "/b",
        "--parallel",
        "3",
        "--config",
        "Release",
    ]
    assert decisions.legacy_package_command("py", Path("/s/python"), Path("/w"), isolation=True)[-1] == "/s/python"
    assert decisions.choose_generator(windows=True, ninja=True) is None
    assert decisions.choose_generator(windows=False, ninja=False) == "Unix Makefiles"


def test_repair_excludes_follow_upstream_per_backend() -> None:
    base = repair.repair_excludes(frozenset({"cpu", "vulkan"}))
    assert "libtvm_runtime.so" in base and "libvulkan.so.1" in base and "libcuda.so.1" not in base
    cuda = repair.repair_command(Path("w.whl"), Path("out"), frozenset({"cpu", "cuda"}), ("py", "-m", "auditwheel"))
    assert (
        cuda[:6] == ["py", "-m", "auditwheel", "repair", "-w", "out"] and "libcuda.so.1" in cuda and cuda[-1] == "w.whl"
    )
    assert "libamdhip64.so.*" in repair.repair_excludes(frozenset({"rocm"}))


def test_build_environment() -> None:
    env = decisions.build_environment(
        {"PATH": "/bin", "CUDAFLAGS": "-O2"},
        jobs=4,
        launcher_vars={"CMAKE_C_COMPILER_LAUNCHER": "/ccache"},
        source_date_epoch=1700000000,
        cuda_threads=2,
    )
    assert env["CMAKE_BUILD_PARALLEL_LEVEL"] == "4"
    assert env["CMAKE_C_COMPILER_LAUNCHER"] == "/ccache"
    assert env["SOURCE_DATE_EPOCH"] == "1700000000"
    assert env["CUDAFLAGS"] == "-O2 --threads 2"
    kept = decisions.build_environment(
        {"SOURCE_DATE_EPOCH": "5"}, jobs=1, launcher_vars={}, source_date_epoch=9, cuda_threads=None
    )
    assert kept["SOURCE_DATE_EPOCH"] == "5" and "CUDAFLAGS" not in kept


def test_stale_wheels() -> None:
    existing = [
        "mlc_llm-0.1-py3-none-linux_x86_64.whl",
        "mlc_llm-0.2-py3-none-linux_x86_64.whl",
        "other-1.0-py3-none-any.whl",
        "junk.whl",
    ]
    assert decisions.stale_wheels(existing, "mlc-llm", "mlc_llm-0.2-py3-none-linux_x86_64.whl") == [
        "mlc_llm-0.1-py3-none-linux_x86_64.whl"
    ]


def test_progress_lines() -> None:
    assert parse_step("[12/40] Building CXX object x.o") == (12, 40)
    assert parse_step("[ 30%] Building CXX object") == (30, 100)
    assert parse_step("[info] nothing") is None
    assert parse_step("no bracket") is None
    import io

    out = io.StringIO()
    progress = Progress(Console(stream=out), every_percent=50)
    for i in range(1, 11):
        progress.feed(f"[{i}/10] step")
    assert out.getvalue().splitlines() == [
        "    compile 1/10 (10%)",
        "    compile 5/10 (50%)",
        "    compile 10/10 (100%)",
    ]


def test_cache_choice() -> None:
    assert cache.choose("auto", ccache="/c", sccache="/s", env={}).kind == "ccache"
    assert cache.choose("auto", ccache="/c", sccache="/s", env={"SCCACHE_BUCKET": "b"}).kind == "sccache"
    assert cache.choose("auto", ccache=None, sccache=None, env={}).kind == "none"
    assert cache.choose("none", ccache="/c", sccache="/s", env={}).kind == "none"
    import pytest

    from mlc_devops.errors import PrerequisiteMissing

    with pytest.raises(PrerequisiteMissing, match="ccache is not on PATH"):
        cache.choose("ccache", ccache=None, sccache="/s", env={})


def test_ccache_environment_survives_another_checkout_path() -> None:
    env = cache.launcher_env(cache.Launcher("ccache", "/usr/bin/ccache"), Path("/w/src"), {})
    assert env["CMAKE_CXX_COMPILER_LAUNCHER"] == "/usr/bin/ccache"
    assert env["CMAKE_CUDA_COMPILER_LAUNCHER"] == "/usr/bin/ccache"
    assert (
        env["CCACHE_BASEDIR"] == "/w/src"
        and env["CCACHE_NOHASHDIR"] == "1"
        and env["CCACHE_COMPILERCHECK"] == "content"
    )
    assert "CCACHE_BASEDIR" not in cache.launcher_env(
        cache.Launcher("ccache", "/c"), Path("/w"), {"CCACHE_BASEDIR": "/mine"}
    )


def test_cache_stats_parsers() -> None:
    text = "direct_cache_hit\t3\npreprocessed_cache_hit\t2\ncache_miss\t4\nother\tx\n"
    assert cache.parse_ccache_stats(text) == cache.Stats(5, 4)
    sc = '{"stats": {"cache_hits": {"counts": {"C/C++": 7}}, "cache_misses": {"counts": {"C/C++": 1, "CUDA": 1}}}}'
    assert cache.parse_sccache_stats(sc) == cache.Stats(7, 2)


def test_isolation_auto_is_off_only_when_backend_and_cmake_are_here() -> None:
    assert decisions.choose_isolation(None, backend_here=True, cmake_ok=True) is False
    assert decisions.choose_isolation(None, backend_here=False, cmake_ok=True) is True
    assert decisions.choose_isolation(None, backend_here=True, cmake_ok=False) is True
    assert decisions.choose_isolation(True, backend_here=True, cmake_ok=True) is True
    assert decisions.choose_isolation(False, backend_here=False, cmake_ok=False) is False


def test_launcher_is_defined_on_every_configure_so_switching_cache_takes_effect() -> None:
    ccache = cache.launcher_defines(cache.Launcher("ccache", "/usr/bin/ccache"), windows=False)
    assert ccache == {f"CMAKE_{lang}_COMPILER_LAUNCHER": "/usr/bin/ccache" for lang in ("C", "CXX", "CUDA")}
    none = cache.launcher_defines(cache.Launcher("none", None), windows=False)
    assert set(none.values()) == {""}
    cmd = decisions.root_wheel_command("py", Path("/s"), Path("/w"), "Release", isolation=True, defines=none)
    assert "cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=" in cmd
    legacy = decisions.legacy_configure_command(Path("/s"), Path("/b"), "Release", "Ninja", ccache)
    assert "-DCMAKE_C_COMPILER_LAUNCHER=/usr/bin/ccache" in legacy


def test_sccache_under_visual_studio_replaces_cl_through_msbuild() -> None:
    defines = cache.launcher_defines(cache.Launcher("sccache", "C:/tools/sccache.exe"), windows=True)
    assert defines["CMAKE_VS_GLOBALS"] == (
        "CLToolExe=sccache.exe;CLToolPath=C:\\tools;TrackFileAccess=false;UseMultiToolTask=true"
    )
    assert defines["CMAKE_MSVC_DEBUG_INFORMATION_FORMAT"] == "Embedded"
    assert "CMAKE_VS_GLOBALS" not in cache.launcher_defines(cache.Launcher("ccache", "/c"), windows=True)


def test_providers_to_download_while_building_are_the_declared_ones_the_last_validation_took() -> None:
    dependencies = ["apache-tvm-ffi", "flashinfer-python; sys_platform == 'linux'", "torch", "not a requirement!"]
    assert decisions.prefetch_requirements(dependencies, ["Apache_TVM_FFI"]) == ["apache-tvm-ffi"]
    assert decisions.prefetch_requirements(dependencies, ["flashinfer_python"]) == [
        "flashinfer-python; sys_platform == 'linux'"
    ]
    assert decisions.prefetch_requirements(dependencies, []) == []
    # the pyproject's spelling and the Requires-Dist it becomes are one key
    assert requirement_key("flashinfer-python; sys_platform == 'linux'") == requirement_key(
        'flashinfer-python ; sys_platform == "linux"'
    )
    assert requirement_key("Apache_TVM.FFI>=0.1") == requirement_key("apache-tvm-ffi >= 0.1") == "apache-tvm-ffi>=0.1"
    assert requirement_key("not a requirement!") is None
