"""VersionProbes: each program's --version asked once per build, the probes overlapping (real processes)."""

from __future__ import annotations

import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mlc_devops import backends, checks, tools

pytestmark = pytest.mark.integration

SLEEP_S = 0.4


def fake_program(folder: Path, name: str, version_line: str, calls: Path, sleep_s: float = 0.0) -> None:
    script = folder / name
    script.write_text(
        "#!/bin/sh\n"
        f'echo "{name} $*" >> "{calls}"\n' + (f"sleep {sleep_s}\n" if sleep_s else "") + f'echo "{version_line}"\n',
        encoding="utf-8",
    )
    script.chmod(0o755)


def programs_env(tmp_path: Path, sleep_s: float = 0.0) -> tuple[dict[str, str], Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    fake_program(bin_dir, "cmake", "cmake version 3.31.6", calls, sleep_s)
    fake_program(bin_dir, "ninja", "1.12.1", calls, sleep_s)
    fake_program(bin_dir, "cargo", "cargo 1.95.0 (f2d3ce0bd 2026-03-21)", calls, sleep_s)
    fake_program(bin_dir, "rustc", "rustc 1.95.0 (59807616e 2026-04-14)", calls, sleep_s)
    # sh and sleep from the system, nothing else of it (no ccache, no c++)
    system = tmp_path / "system"
    system.mkdir()
    for tool in ("sh", "sleep"):
        found = shutil.which(tool)
        assert found is not None
        (system / tool).symlink_to(found)
    return {"PATH": os.pathsep.join([str(bin_dir), str(system)]), "HOME": str(tmp_path)}, calls


def test_preflight_and_the_report_ask_each_program_once(tmp_path: Path) -> None:
    env, calls = programs_env(tmp_path)
    probes = tools.VersionProbes(env)
    try:
        results = checks.run_checks(None, backends.CMakeConfig(backends=frozenset({"cpu"})), env, probes=probes)
        report = probes.versions(["cmake", "ninja", "cargo", "rustc"])
    finally:
        probes.close()
    asked = sorted(calls.read_text(encoding="utf-8").splitlines())
    assert asked == ["cargo --version", "cmake --version", "ninja --version", "rustc --version"]
    assert report["cmake"] == "3.31.6"
    assert report["rustc"] == "1.95.0"
    assert report["ninja"] == "1.12.1"
    cmake_check = next(c for c in results if c.name == "cmake")
    assert "3.31.6" in cmake_check.detail


def test_probes_overlap_and_answer_as_one_at_a_time_does(tmp_path: Path) -> None:
    env, _calls = programs_env(tmp_path, sleep_s=SLEEP_S)
    names = ["cmake", "ninja", "cargo", "rustc"]
    probes = tools.VersionProbes(env)
    started = time.monotonic()
    try:
        probes.start(names)
        together = probes.versions(names)
    finally:
        probes.close()
    overlapped = time.monotonic() - started
    started = time.monotonic()
    one_by_one = tools.versions(names, env)
    sequential = time.monotonic() - started
    assert together == one_by_one
    assert sequential >= len(names) * SLEEP_S
    # four probes of 0.4 s each: one at a time 1.6 s or more, overlapping about 0.4 s
    assert overlapped < 2 * SLEEP_S, f"probes did not overlap: {overlapped:.2f} s for {len(names)}"


def test_a_missing_program_is_none_and_a_callers_pool_is_left_open(tmp_path: Path) -> None:
    env, _calls = programs_env(tmp_path)
    with ThreadPoolExecutor(max_workers=2) as pool:
        probes = tools.VersionProbes(env, pool=pool)
        assert probes.versions(["ccache", "cmake"])["ccache"] is None
        probes.close()
        assert pool.submit(lambda: 7).result() == 7  # close() leaves the caller's pool to the caller


def test_probes_begun_early_are_handed_over_once_and_only_for_the_same_programs(tmp_path: Path) -> None:
    """cli.main begins a build's probes before its modules load; the build takes them where its
    environment finds the same programs, and asks afresh where it does not (another PATH)."""
    env, calls = programs_env(tmp_path)
    tools.begin_early(env)
    probes = tools.take_early({**env, "MLC_VERBOSITY": "quiet"})  # what the build adds changes nothing asked
    try:
        assert probes.versions(tools.REPORT_TOOLS)["rustc"] == "1.95.0"
    finally:
        probes.close()
    assert sorted(calls.read_text(encoding="utf-8").splitlines()) == sorted(
        f"{name} --version" for name in tools.REPORT_TOOLS if name != "c++"
    )  # the report's programs, each once, begun before anyone asked (no c++ on this PATH)
    assert tools.take_early(env) is not probes  # handed over once
    tools.begin_early(env)
    other = {**env, "PATH": str(tmp_path / "system")}
    fresh = tools.take_early(other)
    try:
        assert fresh.raw("cmake") is None  # asked on the build's own PATH, where there is none
    finally:
        fresh.close()


def test_pypis_cmake_script_is_asked_through_its_binary(tmp_path: Path) -> None:
    """PyPI's cmake installs bin/cmake as a Python script that runs site-packages/cmake/data/bin/cmake; the
    probe asks that binary (no Python start-up), and gets what the script would have answered."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "cmake"
    # the script as pip writes it; its interpreter here has no cmake package, so running it would fail
    script.write_text(
        f"#!{sys.executable}\nimport sys\nfrom cmake import cmake\nif __name__ == '__main__':\n    sys.exit(cmake())\n"
    )
    script.chmod(0o755)
    data_bin = venv / "lib" / "python3.11" / "site-packages" / "cmake" / "data" / "bin"
    data_bin.mkdir(parents=True)
    calls = tmp_path / "calls.txt"
    fake_program(data_bin, "cmake", "cmake version 4.4.5", calls)
    env = {"PATH": os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"])}
    assert tools.pypi_cmake_binary(str(script)) == str(data_bin / "cmake")
    assert tools.parse_version(tools.probe("cmake", env)) == (4, 4, 5)
    assert calls.read_text(encoding="utf-8").splitlines() == ["cmake --version"]
    assert tools.pypi_cmake_binary(str(data_bin / "cmake")) is None  # a program that is not the script
    assert tools.pypi_cmake_binary(str(tmp_path / "absent")) is None


def test_a_build_command_line_that_fails_leaves_no_probes_behind() -> None:
    """cli.main begins the probes before it reads the command line; a usage error closes them."""
    from mlc_devops import cli

    assert cli.main(["build", "--jobs"]) == 2  # argparse: --jobs needs a value
    assert tools._early is None  # closed, not left to the next build or the interpreter's exit


def test_pypis_cmake_in_two_pythons_is_not_guessed(tmp_path: Path) -> None:
    """Two Pythons' site-packages with a cmake each: which one the script runs is its interpreter's
    business, so the script itself is asked."""
    venv = tmp_path / "prefix"
    (venv / "bin").mkdir(parents=True)
    script = venv / "bin" / "cmake"
    script.write_text("#!/usr/bin/python3\nimport sys\nfrom cmake import cmake\n")
    script.chmod(0o755)
    for version in ("3.10", "3.12"):
        data_bin = venv / "lib" / f"python{version}" / "site-packages" / "cmake" / "data" / "bin"
        data_bin.mkdir(parents=True)
        fake_program(data_bin, "cmake", f"cmake version {version}", tmp_path / "calls.txt")
    assert tools.pypi_cmake_binary(str(script)) is None
