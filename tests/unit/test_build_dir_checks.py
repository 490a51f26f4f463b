"""Issue 15, items 3-5 and 7: an existing build/, what redirects the build, what CMake configured, the Rust floor."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlc_devops import checks
from mlc_devops.backends import make_config
from mlc_devops.buildsteps import builddir, decisions
from mlc_devops.errors import BuildFailed
from mlc_devops.workspace import Workspace

CACHE = """# This is the CMakeCache file.
# For build in directory: /src/ws/build
//Name of generator.
CMAKE_GENERATOR:INTERNAL=Unix Makefiles
CMAKE_HOME_DIRECTORY:INTERNAL=/src/ws
CMAKE_CACHEFILE_DIR:INTERNAL=/src/ws/build
//Build with Vulkan
USE_VULKAN:BOOL=OFF
USE_CUDA:UNINITIALIZED=ON
EMPTY:STRING=
"QUOTED NAME":STRING=a=b
NOTYPE=x
"""


def test_cache_parser_reads_names_values_and_skips_comments() -> None:
    entries = checks.parse_cmake_cache(CACHE)
    assert entries["CMAKE_GENERATOR"] == "Unix Makefiles"
    assert entries["CMAKE_HOME_DIRECTORY"] == "/src/ws"
    assert entries["USE_VULKAN"] == "OFF"
    assert entries["USE_CUDA"] == "ON"
    assert entries["EMPTY"] == ""
    assert entries["QUOTED NAME"] == "a=b"
    assert entries["NOTYPE"] == "x"
    assert not any(k.startswith(("#", "/")) for k in entries)


def test_cmake_truth_follows_cmakes_constants() -> None:
    assert all(checks.cmake_truth(v) for v in ("ON", "1", "TRUE", "yes", "Y", "2"))
    assert not any(checks.cmake_truth(v) for v in ("OFF", "0", "false", "NO", "N", "", "IGNORE", "X-NOTFOUND"))


def test_mismatch_names_the_switch_asked_and_configured() -> None:
    asked = checks.asked_switches(make_config(["vulkan"]))
    assert asked["USE_VULKAN"] == "ON" and asked["USE_CUDA"] == "OFF"
    wrong = checks.configured_mismatches(asked, checks.parse_cmake_cache(CACHE))
    assert [m.option for m in wrong] == ["USE_CUDA", "USE_VULKAN"]
    assert checks.mismatch_message(wrong[1]) == "USE_VULKAN: asked ON, configured OFF (build/CMakeCache.txt)"
    # absent switches and equal truth values are no mismatch
    assert checks.configured_mismatches({"USE_METAL": "OFF", "USE_X": "ON"}, {"USE_X": "1"}) == []


def test_likely_cause_names_the_variable_that_carries_the_switch() -> None:
    env = {"CMAKE_ARGS": "-DUSE_VULKAN=OFF", "SKBUILD_BUILD_DIR": "/elsewhere"}
    assert checks.likely_override("USE_VULKAN", env, "root").startswith("CMAKE_ARGS sets USE_VULKAN")
    assert checks.likely_override("USE_CUDA", env, "root").startswith("SKBUILD_BUILD_DIR moved the build")
    assert checks.likely_override("USE_VULKAN", env, "legacy").startswith("CMAKE_ARGS sets USE_VULKAN")
    assert "did not read build/config.cmake" in checks.likely_override("USE_CUDA", env, "legacy")
    assert "SKBUILD_BUILD_DIR" in checks.likely_override("", env, "root")


def test_expected_generator() -> None:
    assert checks.expected_generator({}, layout="legacy", windows=False, ninja=True) == "Ninja"
    assert checks.expected_generator({}, layout="root", windows=False, ninja=False) == "Unix Makefiles"
    env = {"CMAKE_GENERATOR": "Unix Makefiles"}
    assert checks.expected_generator(env, layout="root", windows=False, ninja=True) == "Unix Makefiles"
    assert checks.expected_generator(env, layout="legacy", windows=False, ninja=True) == "Ninja"  # -G wins
    assert checks.expected_generator({}, layout="legacy", windows=True, ninja=True) is None


def test_stale_cache_reasons(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    entries = {
        "CMAKE_GENERATOR": "Ninja",
        "CMAKE_HOME_DIRECTORY": str(root),
        "CMAKE_CACHEFILE_DIR": str(root / "build"),
    }
    same = {"root": root, "build_dir": root / "build"}
    assert checks.stale_cache_reason(entries, generator="Ninja", **same) is None
    assert checks.stale_cache_reason(entries, generator=None, **same) is None
    reason = checks.stale_cache_reason({**entries, "CMAKE_GENERATOR": "Unix Makefiles"}, generator="Ninja", **same)
    assert reason == "it was configured with the 'Unix Makefiles' generator, and this build uses 'Ninja'"
    moved = {**entries, "CMAKE_HOME_DIRECTORY": "/home/me/mlc-llm", "CMAKE_CACHEFILE_DIR": "/home/me/mlc-llm/build"}
    assert "for the source /home/me/mlc-llm" in (checks.stale_cache_reason(moved, generator="Ninja", **same) or "")
    only_dir = {**entries, "CMAKE_CACHEFILE_DIR": "/home/me/mlc-llm/build"}
    assert "written in /home/me/mlc-llm/build" in (checks.stale_cache_reason(only_dir, generator="Ninja", **same) or "")
    verdict = checks.verdict_build_cache(reason, root / "build")
    assert verdict.status == "warn" and "CMakeFiles/" in verdict.fix
    assert checks.verdict_build_cache(None, root / "build").status == "ok"


def test_environment_that_redirects_the_build_is_named() -> None:
    env = {
        "SKBUILD_BUILD_DIR": "/elsewhere",
        "CMAKE_ARGS": "-DUSE_VULKAN=OFF",
        "SKBUILD_CMAKE_DEFINE": "USE_CUDA=ON",
        "SKBUILD_CMAKE_BUILD_TYPE": "Debug",
        "CMAKE_GENERATOR": "Unix Makefiles",
    }
    root = {c.name: c for c in checks.verdict_build_environment(env, "root")}
    assert set(root) == {"SKBUILD_BUILD_DIR", "CMAKE_ARGS", "SKBUILD_CMAKE_DEFINE", "SKBUILD_*", "CMAKE_GENERATOR"}
    assert all(c.status == "warn" for c in root.values())
    assert "builds in build/" in root["SKBUILD_BUILD_DIR"].detail
    assert "SKBUILD_CMAKE_BUILD_TYPE" in root["SKBUILD_*"].detail
    legacy = {c.name: c for c in checks.verdict_build_environment(env, "legacy")}
    assert "SKBUILD_BUILD_DIR" not in legacy
    assert "appended to the legacy configure" in legacy["CMAKE_ARGS"].detail
    assert "does not read it" in legacy["SKBUILD_CMAKE_DEFINE"].detail
    assert checks.verdict_build_environment({}, "root") == []


def test_rust_floor_is_the_highest_declared_never_below_1_82() -> None:
    assert checks.rust_floor_from([]) == ((1, 82), checks.RUST_FLOOR_WHY)
    low = ("3rdparty/a/Cargo.toml", '[package]\nname = "a"\nrust-version = "1.80"\n')
    high = ("3rdparty/b/Cargo.toml", '[package]\nrust-version = "1.85.1"\n')
    assert checks.rust_floor_from([low]) == ((1, 82), checks.RUST_FLOOR_WHY)
    assert checks.rust_floor_from([low, high]) == ((1, 85, 1), "rust-version in 3rdparty/b/Cargo.toml")
    assert checks.rust_version_in('[dependencies]\nx = "1"\n') is None


def test_rust_floor_skips_target_dirs(tmp_path: Path) -> None:
    (tmp_path / "3rdparty" / "t" / "rust" / "target" / "dep").mkdir(parents=True)
    (tmp_path / "3rdparty" / "t" / "rust" / "Cargo.toml").write_text('rust-version = "1.83"\n')
    (tmp_path / "3rdparty" / "t" / "rust" / "target" / "dep" / "Cargo.toml").write_text('rust-version = "1.99"\n')
    ws = Workspace(tmp_path, "root", "mlc_llm", None, None)
    assert checks.rust_floor_of(ws) == ((1, 83), "rust-version in 3rdparty/t/rust/Cargo.toml")


def test_one_walk_gives_both_floors_as_two_did(tmp_path: Path) -> None:
    """floors_of walks once for the CMake and the Rust floor, and answers as cmake_floor_of and
    rust_floor_of do; a Cargo.toml that no build compiles (examples, tests, docs, cargo's target/,
    build/) sets no floor, nor does one outside 3rdparty."""
    (tmp_path / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.18)\n")
    ffi = tmp_path / "3rdparty" / "tvm-ffi"
    (ffi / "examples" / "rust").mkdir(parents=True)
    (ffi / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.26)\n")
    (ffi / "examples" / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.30)\n")
    (ffi / "examples" / "rust" / "Cargo.toml").write_text('rust-version = "1.99"\n')
    rust = tmp_path / "3rdparty" / "tokenizers-cpp" / "rust"
    (rust / "tests").mkdir(parents=True)
    (rust / "Cargo.toml").write_text('rust-version = "1.84"\n')
    (rust / "tests" / "Cargo.toml").write_text('rust-version = "1.98"\n')
    (tmp_path / "3rdparty" / "x" / "build").mkdir(parents=True)
    (tmp_path / "3rdparty" / "x" / "build" / "Cargo.toml").write_text('rust-version = "1.97"\n')
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "Cargo.toml").write_text('rust-version = "1.96"\n')
    ws = Workspace(tmp_path, "root", "mlc_llm", None, None)
    cmake_floor, rust_floor = checks.floors_of(ws)
    assert cmake_floor == ((3, 26), "3rdparty/tvm-ffi/CMakeLists.txt") == checks.cmake_floor_of(ws)
    assert rust_floor == ((1, 84), "rust-version in 3rdparty/tokenizers-cpp/rust/Cargo.toml")
    assert checks.rust_floor_of(ws) == rust_floor
    assert checks.floors_of(None) == (checks.cmake_floor_of(None), (checks.RUST_FLOOR, checks.RUST_FLOOR_WHY))


def test_old_rust_fails_with_the_fix() -> None:
    old = checks.verdict_rust("rustc", "/usr/bin/rustc", (1, 63, 0), (1, 82), checks.RUST_FLOOR_WHY)
    assert old.status == "fail"
    assert old.detail == "rustc 1.63.0 is older than 1.82, which tokenizers 0.21 (Option::is_none_or) needs"
    assert old.fix.startswith("rustup update")
    assert checks.verdict_rust("cargo", "/x/cargo", (1, 85, 0), (1, 82), "w").status == "ok"
    assert checks.verdict_rust("cargo", None, None, (1, 82), "w").status == "fail"
    assert checks.verdict_rust("cargo", "/x/cargo", None, (1, 82), "w").status == "ok"


def test_root_command_passes_the_build_dir_and_redirects_are_dropped() -> None:
    cmd = decisions.root_wheel_command(
        "py", Path("/ws"), Path("/ws/build/wh"), "Release", isolation=True, build_dir=Path("/ws/build")
    )
    assert cmd[cmd.index("build-dir=/ws/build") - 1] == "--config-settings"
    assert decisions.without_redirects({"SKBUILD_BUILD_DIR": "/x", "PATH": "/bin"}) == {"PATH": "/bin"}
    assert decisions.backend_defines(make_config(["opencl"]))["USE_OPENCL"] == "ON"


def test_start_afresh_removes_cmakes_state_only(tmp_path: Path) -> None:
    (tmp_path / "CMakeFiles" / "x").mkdir(parents=True)
    (tmp_path / "CMakeCache.txt").write_text(CACHE)
    (tmp_path / "config.cmake").write_text("set(USE_CUDA OFF)\n")
    assert builddir.start_afresh(tmp_path) == ["CMakeCache.txt", "CMakeFiles/"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.cmake"]
    assert builddir.start_afresh(tmp_path) == []


def test_check_configured_fails_on_a_switch_that_differs(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, "root", "mlc_llm", None, None)
    with pytest.raises(BuildFailed, match=r"no CMakeCache\.txt"):
        builddir.check_configured(ws, make_config(["vulkan"]), {})
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "CMakeCache.txt").write_text("USE_VULKAN:BOOL=OFF\n")
    with pytest.raises(BuildFailed) as info:
        builddir.check_configured(ws, make_config(["vulkan"]), {"SKBUILD_BUILD_DIR": "/x"})
    assert info.value.exit_code == 4
    assert info.value.one_line().startswith("USE_VULKAN: asked ON, configured OFF (build/CMakeCache.txt): ")
    builddir.check_configured(ws, make_config(["cpu"]), {})  # OFF asked, OFF configured
