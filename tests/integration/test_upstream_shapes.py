"""Upstream MLC-LLM's real shapes, on the stand-in: each failed the tool on upstream 79d603f0 (issue 11).

- every library NEEDs libtvm_ffi.so, shipped only by a dependency's wheel (apache-tvm-ffi there,
  mlc-standin-tvm-ffi here), with RUNPATH $ORIGIN only;
- a nested CMakeLists (tvm-ffi) asks for more CMake than the distribution's, while an examples/
  CMakeLists asks for even more and is never entered;
- libmlc_llm twice in the wheel, a package __version__ that is not the wheel's;
- an import the wheel does not declare (psutil), and a second copy of a runtime library aborting
  the process ("Global Function ... is already registered").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from standin import FFI_PROJECT

pytestmark = pytest.mark.integration
Cli = Callable[..., "subprocess.CompletedProcess[str]"]
FFI_CMAKELISTS = "3rdparty/tvm/3rdparty/tvm-ffi/CMakeLists.txt"


def report_of(dist: Path) -> dict[str, Any]:
    (wheel,) = dist.glob("*.whl")
    data: dict[str, Any] = json.loads(wheel.with_name(wheel.name + ".build.json").read_text())
    return data


def without_find_links(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "MLC_FIND_LINKS"}
    env.update(extra)
    return env


def test_libtvm_ffi_resolves_from_the_declared_dependency_and_findings_are_listed(
    plain_workspace: Path, cli: Cli, tmp_path: Path
) -> None:
    dist = tmp_path / "dist"
    proc = cli("build", str(plain_workspace), "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (
        "libtvm_ffi.so (needed by 5 libraries: mlc_llm/lib/libmlc_llm.so, mlc_llm/lib/libmlc_llm_module.so, "
        "mlc_llm/lib/libtvm_runtime.so, mlc_llm/libmlc_llm.so, mlc_llm/libmlc_llm_module.so) "
        "from mlc-standin-tvm-ffi 0.1.0"
    ) in proc.stderr
    assert "warning: finding: libmlc_llm.so is in the wheel 2 times, byte-identical" in proc.stderr
    assert "warning: finding: the wheel is version 0.1.0.dev0, but the package's __version__ is 0.0.1.dev0" in (
        proc.stderr
    )
    report = report_of(dist)
    kinds = {(r["library"], r["needed"]): r["kind"] for r in report["validation"]["resolution"]}
    assert kinds[("mlc_llm/lib/libtvm_runtime.so", "libtvm_ffi.so")] == "dependency"
    assert kinds[("mlc_llm/lib/libmlc_llm.so", "libtvm_runtime.so")] == "wheel"
    assert kinds[("mlc_llm/lib/libmlc_llm.so", "libc.so.6")] == "platform"
    assert report["validation"]["providers"] == [
        {"name": "mlc-standin-tvm-ffi", "version": "0.1.0", "declared": True, "libraries": ["libtvm_ffi.so"]}
    ]
    assert sorted(f["kind"] for f in report["validation"]["findings"]) == [
        "duplicate-payload",
        "duplicate-payload",
        "version-mismatch",
    ]
    # libmlc_llm_module registers what libmlc_llm registers: it was loaded alone, never beside it
    assert report["validation"]["loaded"] == [
        "mlc_llm/lib/libmlc_llm_module.so",
        "mlc_llm/lib/libtvm_runtime.so",
        "mlc_llm/libmlc_llm.so",
    ]
    # tvm-ffi's examples/ CMakeLists asks for 3.27 and is never entered: it sets no floor
    assert report["cmake_floor"] == {"version": "3.24", "file": "the project's baseline"}

    strict = tmp_path / "strict"
    failed = cli("build", str(plain_workspace), "--dist", str(strict), "--fail-on-findings")
    assert failed.returncode == 11, failed.stderr[-2000:]
    assert (
        failed.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "mlc-devops build: error: 3 finding(s) and --fail-on-findings: libmlc_llm.so is in the wheel 2 times"
        )
    )
    assert not strict.exists() or list(strict.iterdir()) == []


def test_a_library_nobody_provides_fails_validation_even_with_ld_library_path(
    plain_workspace: Path, cli: Cli, tmp_path: Path
) -> None:
    # libtvm_ffi.so sits in build/, where LD_LIBRARY_PATH points: users do not have that
    dist = tmp_path / "dist"
    env = without_find_links(LD_LIBRARY_PATH=str(plain_workspace / "build"))
    proc = cli("build", str(plain_workspace), "--dist", str(dist), env=env)
    assert proc.returncode == 5, proc.stderr[-3000:]
    assert "validating without LD_LIBRARY_PATH" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "mlc-devops build: error: libtvm_ffi.so (needed by mlc_llm/lib/libmlc_llm.so): not found; "
        "looked in the wheel along RUNPATH $ORIGIN"
    )
    assert "pass --with/--find-links with that package's wheel" in last
    assert "mlc-standin-tvm-ffi: not fetched" in proc.stderr
    assert not dist.exists() or list(dist.iterdir()) == []


def test_a_library_from_a_package_the_wheel_does_not_declare_is_an_undeclared_pairing(
    plain_workspace: Path, cli: Cli, tmp_path: Path, ffi_wheel: Path
) -> None:
    pyproject = plain_workspace / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('dependencies = ["tqdm", "mlc-standin-tvm-ffi"]', 'dependencies = ["tqdm"]')
    )
    dist = tmp_path / "dist"
    proc = cli("build", str(plain_workspace), "--dist", str(dist), "--with", str(ffi_wheel), env=without_find_links())
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "from mlc-standin-tvm-ffi 0.1.0, which the wheel's Requires-Dist does not declare (undeclared pairing)" in (
        proc.stderr
    )
    pairing = [f for f in report_of(dist)["validation"]["findings"] if f["kind"] == "undeclared-pairing"]
    assert pairing == [
        {
            "kind": "undeclared-pairing",
            "message": "the wheel's libraries need libtvm_ffi.so from mlc-standin-tvm-ffi 0.1.0, "
            "which its Requires-Dist does not declare",
            "package": "mlc-standin-tvm-ffi",
            "version": "0.1.0",
            "libraries": ["libtvm_ffi.so"],
        }
    ]


def _running_cmake() -> tuple[int, int]:
    out = subprocess.run(["cmake", "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)\.(\d+)", out)
    assert match
    return int(match.group(1)), int(match.group(2))


@pytest.mark.slow
def test_a_nested_floor_above_paths_cmake_is_met_by_fetching_one(
    plain_workspace: Path, cli: Cli, tmp_path: Path
) -> None:
    major, minor = _running_cmake()
    floor = f"{major}.{minor + 1}"
    nested = plain_workspace / FFI_CMAKELISTS
    nested.write_text(nested.read_text().replace("VERSION 3.18", f"VERSION {floor}"))
    assert (FFI_PROJECT / "examples" / "packaging" / "CMakeLists.txt").is_file()  # and its 3.27 stays ignored
    doctor = cli("doctor", "--source", str(plain_workspace), "--json")
    cmake_check = next(c for c in json.loads(doctor.stdout)["checks"] if c["name"] == "cmake")
    assert cmake_check["status"] == "warn"
    assert f"required by {FFI_CMAKELISTS}" in cmake_check["detail"]
    assert f"cmake>={floor} (cmake.version)" in cmake_check["detail"]

    blocked = cli("build", str(plain_workspace), "--no-build-isolation", "--dist", str(tmp_path / "no"))
    assert blocked.returncode == 3, blocked.stderr[-2000:]
    last = blocked.stderr.strip().splitlines()[-1]
    assert last.startswith(f"mlc-devops build: error: cmake: cmake {major}.{minor}")
    assert f"older than {floor}, required by {FFI_CMAKELISTS}: pip install 'cmake>={floor}'" in last

    dist = tmp_path / "dist"
    proc = cli("build", str(plain_workspace), "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "pip build isolation: on" in proc.stderr
    report = report_of(dist)
    assert report["cmake_floor"] == {"version": floor, "file": FFI_CMAKELISTS}
    used = tuple(int(p) for p in report["tool_versions"]["cmake"].split(".")[:2])
    assert used >= (major, minor + 1), report["tool_versions"]


def _rebuild_variant(ws: Path, cli: Cli, tmp_path: Path, edit: Callable[[Path], None]) -> Path:
    edit(ws)
    dist = tmp_path / "dist"
    proc = cli("build", str(ws), "--dist", str(dist))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = dist.glob("*.whl")
    return wheel


def test_an_undeclared_import_is_named_with_its_fix(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    def import_psutil(ws: Path) -> None:  # upstream imports psutil without declaring it
        init = ws / "python" / "mlc_llm" / "__init__.py"
        init.write_text(
            init.read_text().replace("from . import libinfo", "import psutil  # noqa: F401\nfrom . import libinfo", 1)
        )

    wheel = _rebuild_variant(plain_workspace, cli, tmp_path, import_psutil)
    proc = cli("smoke", str(wheel))
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert proc.stderr.strip().splitlines()[-1] == (
        "mlc-devops smoke: error: import mlc_llm needs psutil, an undeclared dependency: no Requires-Dist entry of "
        "the wheel covers it: add psutil to [project].dependencies, or pass --with psutil"
    )
    assert cli("smoke", str(wheel), "--with", "psutil").returncode == 0


def test_a_check_that_dies_is_reported_with_its_signal_and_last_lines(
    plain_workspace: Path, cli: Cli, tmp_path: Path
) -> None:
    def load_the_second_copy(ws: Path) -> None:  # as a second libtvm_runtime does when another is loaded
        base = ws / "python" / "mlc_llm" / "base.py"
        base.write_text(
            base.read_text()
            + "\n_SECOND = _cdll(os.path.join(os.path.dirname(__file__), 'lib', libinfo.lib_file_name('mlc_llm')))\n"
        )

    # validation imports the package as users do: the abort is reported, and nothing is published
    load_the_second_copy(plain_workspace)
    dist = tmp_path / "dist"
    built = cli("build", str(plain_workspace), "--dist", str(dist))
    assert built.returncode == 5, built.stderr[-2000:]
    assert "the load check of mlc_llm died with signal SIGABRT (6) before printing a result" in built.stderr
    assert "Global Function mlc.StandinVersion is already registered" in built.stderr
    assert not dist.exists() or list(dist.iterdir()) == []


def test_smoke_reports_a_crash_of_its_check(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    assert cli("build", str(plain_workspace), "--dist", str(dist)).returncode == 0
    (wheel,) = dist.glob("*.whl")
    # the same wheel, but its import now loads the second copy of libmlc_llm: the process aborts
    broken = tmp_path / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(broken, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "mlc_llm/base.py":
                data += b"\n_SECOND = _cdll(os.path.join(os.path.dirname(__file__), 'lib', 'libmlc_llm.so'))\n"
            dst.writestr(item, data)
    proc = cli("smoke", str(broken))
    assert proc.returncode == 1
    assert "the smoke check died with signal SIGABRT (6) before printing a result" in proc.stderr
    assert "Global Function mlc.StandinVersion is already registered" in proc.stderr
