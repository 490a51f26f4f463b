from __future__ import annotations

import pytest

from mlc_devops import checks
from mlc_devops.workspace import SubmoduleState


def test_cmake_too_old_fails_for_legacy_and_warns_when_pip_can_fetch() -> None:
    failed = checks.verdict_cmake((3, 25, 1), (3, 28), "3rdparty/tvm/ffi/CMakeLists.txt", pip_can_provide=False)
    assert failed.status == "fail"
    assert "3.25.1 on PATH is older than 3.28, required by 3rdparty/tvm/ffi/CMakeLists.txt" in failed.detail
    assert "cmake>=3.28" in failed.fix
    warned = checks.verdict_cmake((3, 25), (3, 28), "x", pip_can_provide=True)
    assert warned.status == "warn"
    assert "cmake>=3.28 (cmake.version)" in warned.detail
    assert checks.verdict_cmake((3, 30), (3, 28), "x", pip_can_provide=False).status == "ok"
    assert checks.verdict_cmake(None, (3, 24), "x", pip_can_provide=False).status == "fail"


def test_cmake_from_the_tools_environment_meets_the_floor_when_paths_does_not() -> None:
    # Debian 12's 3.25 on PATH, PyPI's cmake 3.31 beside the interpreter: scikit-build-core and the
    # legacy build use the latter, so nothing needs fetching and nothing blocks.
    verdict = checks.verdict_cmake(
        (3, 25, 1), (3, 26), "3rdparty/tvm/3rdparty/tvm-ffi/CMakeLists.txt", pip_can_provide=False, env_cmake=(3, 31, 6)
    )
    assert verdict.status == "ok"
    assert "cmake 3.31.6 from this environment's cmake package" in verdict.detail
    assert "3.25.1 on PATH is older than 3.26" in verdict.detail
    too_old = checks.verdict_cmake((3, 25), (3, 26), "x", pip_can_provide=False, env_cmake=(3, 25, 2))
    assert too_old.status == "fail"


def test_generator() -> None:
    assert checks.verdict_generator(False, False, windows=False).status == "fail"
    assert checks.verdict_generator(False, True, windows=False).status == "ok"
    assert checks.verdict_generator(False, False, windows=True).detail.startswith("Visual Studio")


def test_nvcc_architectures_are_checked_against_nvccs_own_list() -> None:
    supported = ("75", "80", "90", "100")
    bad = checks.verdict_nvcc_arches(("35", "90"), supported, "13.0")
    assert bad.status == "fail" and "cannot target 35" in bad.detail and bad.fix == "choose from 75 80 90 100"
    assert checks.verdict_nvcc_arches(("80-real", "90"), supported, "13.0").status == "ok"
    assert checks.verdict_nvcc_arches((), supported, "13.0").status == "warn"


def test_submodule_verdicts() -> None:
    states = [
        SubmoduleState("3rdparty/tvm", None, "uninitialised"),
        SubmoduleState("3rdparty/x", "b" * 40, "moved"),
        SubmoduleState("3rdparty/y", "c" * 40, "ok"),
    ]
    got = checks.verdict_submodules(states)
    assert [c.status for c in got] == ["fail", "warn", "ok"]
    assert got[0].fix == "git submodule update --init --recursive"


def test_tvm_source_missing_says_upstreams_message() -> None:
    check = checks.verdict_tvm_source("3rdparty/tvm", exists=False)
    assert check.status == "fail" and "3rdparty/tvm does not contain a CMakeLists.txt" in check.detail


def test_tvm_home() -> None:
    assert checks.verdict_tvm_home(None, False) is None
    check = checks.verdict_tvm_home("/opt/tvm", False)
    assert check is not None and "--tvm-source-dir /opt/tvm" in check.fix


@pytest.mark.parametrize(
    ("free", "status"), [(1 * checks.GIB, "fail"), (5 * checks.GIB, "warn"), (50 * checks.GIB, "ok"), (None, "warn")]
)
def test_disk(free: int | None, status: str) -> None:
    assert checks.verdict_disk(free, "/w").status == status


def test_format_check_shows_fix_only_on_problems() -> None:
    assert "fix" not in checks.format_check(checks.Check("git", "ok", "/usr/bin/git", "install git"))
    assert (
        checks.format_check(checks.Check("git", "fail", "git not found", "install git"))
        == "[FAIL] git: git not found  -> fix: install git"
    )
