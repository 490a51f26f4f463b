"""Preflight checks: every known way a build of MLC-LLM fails before it starts.

``doctor`` prints them all; ``build`` runs them and stops on the first that
blocks. Each check returns a :class:`Check` that says what it found and, when
something is wrong, the fix.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from mlc_devops import run as run_mod
from mlc_devops import tools, workspace
from mlc_devops.backends import CMakeConfig
from mlc_devops.workspace import Workspace

Status = Literal["ok", "warn", "fail", "skip"]

SPEC_CMAKE_FLOOR = (3, 24)
GIB = 1024**3
DISK_FAIL_BYTES = 2 * GIB
DISK_WARN_BYTES = 10 * GIB


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# --- pure verdicts ----------------------------------------------------------------


def verdict_python(version: tuple[int, ...]) -> Check:
    text = ".".join(str(v) for v in version[:3])
    if version < (3, 9):
        return Check("python", "fail", f"Python {text}", "use Python 3.9 or newer")
    return Check("python", "ok", f"Python {text}")


def verdict_cmake(
    found: tuple[int, ...] | None,
    floor: tuple[int, ...],
    floor_file: str,
    *,
    pip_can_provide: bool,
    env_cmake: tuple[int, ...] | None = None,
) -> Check:
    """Whether the build gets a CMake that meets the tree's floor. Pure.

    ``found``: cmake on PATH; ``env_cmake``: the cmake package in the tool's own
    environment (PyPI's ``cmake``), which scikit-build-core finds without
    isolation and the legacy build runs when PATH's is too old;
    ``pip_can_provide``: an isolated root build, where the tool passes the
    floor as scikit-build-core's ``cmake.version`` so that it fetches a CMake
    that meets it (it only fetches when the one it finds fails that setting).
    """
    need = workspace.version_text(floor)
    if found is not None and found >= floor:
        return Check("cmake", "ok", f"cmake {workspace.version_text(found)} (>= {need}, from {floor_file})")
    have = "not on PATH" if found is None else f"{workspace.version_text(found)} on PATH is older than {need}"
    if env_cmake is not None and env_cmake >= floor:
        return Check(
            "cmake",
            "ok",
            f"cmake {workspace.version_text(env_cmake)} from this environment's cmake package "
            f"(>= {need}, from {floor_file}; cmake {have})",
        )
    if pip_can_provide:
        return Check(
            "cmake",
            "warn",
            f"cmake {have}, required by {floor_file}; the isolated wheel build asks scikit-build-core for "
            f"cmake>={need} (cmake.version), which fetches it from PyPI",
            f"pip install 'cmake>={need}' for offline builds",
        )
    if found is None:
        return Check(
            "cmake",
            "fail",
            "cmake not found",
            f"install cmake >= {need} (pip install 'cmake>={need}' or your package manager)",
        )
    return Check(
        "cmake",
        "fail",
        f"cmake {have}, required by {floor_file}",
        f"pip install 'cmake>={need}' into the tool's environment (used when PATH's is older), "
        "or put a newer cmake on PATH",
    )


def verdict_generator(ninja: bool, make: bool, *, windows: bool) -> Check:
    if ninja:
        return Check("generator", "ok", "ninja")
    if make:
        return Check("generator", "ok", "make (ninja is faster: pip install ninja)")
    if windows:
        return Check("generator", "ok", "Visual Studio (CMake's default on Windows)")
    return Check("generator", "fail", "neither ninja nor make found", "install ninja (pip install ninja) or make")


def verdict_program(name: str, found: str | None, fix: str, *, blocking: bool = True) -> Check:
    if found:
        return Check(name, "ok", found)
    return Check(name, "fail" if blocking else "warn", f"{name} not found on PATH", fix)


def verdict_nvcc_arches(requested: tuple[str, ...], supported: tuple[str, ...], release: str | None) -> Check:
    label = f"nvcc {release}" if release else "nvcc"
    if not requested:
        return Check(
            "cuda-arch",
            "warn",
            f"{label}: no --cuda-arch given; CMake picks its default",
            "pass --cuda-arch, e.g. 90 for H100/H200",
        )
    if not supported:
        return Check("cuda-arch", "warn", f"{label} did not list its architectures; cannot check {';'.join(requested)}")
    bad = []
    for arch in requested:
        number = arch.split("-")[0]
        if number in ("all", "all-major", "native"):
            continue
        if number not in supported:
            bad.append(arch)
    if bad:
        return Check(
            "cuda-arch", "fail", f"{label} cannot target {', '.join(bad)}", "choose from " + " ".join(supported)
        )
    return Check("cuda-arch", "ok", f"{label} targets {';'.join(requested)}")


def verdict_submodules(states: list[workspace.SubmoduleState]) -> list[Check]:
    out = []
    for state in states:
        name = f"submodule {state.path}"
        if state.state == "ok":
            out.append(Check(name, "ok", f"at {state.commit[:12]}" if state.commit else "present"))
        elif state.state == "moved":
            out.append(
                Check(
                    name,
                    "warn",
                    f"at {state.commit[:12] if state.commit else '?'}, not the pinned commit",
                    f"git submodule update --init --recursive {state.path} (or commit the new pin)",
                )
            )
        elif state.state == "conflict":
            out.append(Check(name, "fail", "has merge conflicts", f"resolve the conflict in {state.path}"))
        else:
            out.append(
                Check(
                    name,
                    "fail",
                    f"{state.path} is {state.state.replace('_', ' ')}",
                    "git submodule update --init --recursive",
                )
            )
    return out


def verdict_tvm_source(root: Path, tvm_source_dir: str, exists: bool) -> Check:
    where = tvm_source_dir if not Path(tvm_source_dir).is_absolute() else str(tvm_source_dir)
    if exists:
        return Check("tvm source", "ok", f"{where}/CMakeLists.txt")
    return Check(
        "tvm source",
        "fail",
        f"{where} does not contain a CMakeLists.txt",
        "git submodule update --init --recursive, or pass --tvm-source-dir to a TVM checkout",
    )


def verdict_tvm_home(tvm_home: str | None, tvm_source_dir_set: bool) -> Check | None:
    if not tvm_home:
        return None
    if tvm_source_dir_set:
        return Check(
            "TVM_HOME",
            "warn",
            f"TVM_HOME={tvm_home} is set beside TVM_SOURCE_DIR; the build uses TVM_SOURCE_DIR",
            "unset TVM_HOME to avoid confusion",
        )
    return Check(
        "TVM_HOME",
        "warn",
        f"TVM_HOME={tvm_home} is set, but the build reads TVM_SOURCE_DIR",
        f"pass --tvm-source-dir {tvm_home} (or MLC_TVM_SOURCE_DIR) and unset TVM_HOME",
    )


def verdict_disk(free: int | None, where: str) -> Check:
    if free is None:
        return Check("disk", "warn", f"cannot read free space at {where}")
    gib = free / GIB
    if free < DISK_FAIL_BYTES:
        return Check(
            "disk", "fail", f"{gib:.1f} GiB free at {where}", "free at least 2 GiB (a full build takes about 5)"
        )
    if free < DISK_WARN_BYTES:
        return Check(
            "disk", "warn", f"{gib:.1f} GiB free at {where}", "a full MLC-LLM build with caches takes up to 10 GiB"
        )
    return Check("disk", "ok", f"{gib:.0f} GiB free at {where}")


# --- probes (the edge) ----------------------------------------------------------


def _first_existing(paths: list[Path]) -> Path | None:
    for path in paths:
        if path.exists():
            return path
    return None


def _writable(directory: Path) -> tuple[bool, str]:
    probe_dir = directory
    while not probe_dir.exists() and probe_dir != probe_dir.parent:
        probe_dir = probe_dir.parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe_dir, prefix=".mlc-devops-probe-"):
            pass
    except OSError as exc:
        return False, f"{probe_dir}: {exc.strerror or exc}"
    return True, str(directory)


def include_dirs(env: Mapping[str, str]) -> list[Path]:
    dirs = [Path("/usr/include"), Path("/usr/local/include")]
    sdk = env.get("VULKAN_SDK")
    if sdk:
        dirs.insert(0, Path(sdk) / "include")
        dirs.insert(0, Path(sdk) / "Include")
    return dirs


def cmake_floor_of(ws: Workspace | None) -> tuple[tuple[int, ...], str]:
    """The CMake version a build of ``ws`` needs and the file (relative to the checkout) that asks for it.

    The highest ``cmake_minimum_required`` among the files a configure can enter
    (:func:`workspace.cmake_floor`), never below the spec's 3.24.
    """
    floor: tuple[int, ...] = SPEC_CMAKE_FLOOR
    floor_file = "the project's baseline"
    if ws is not None:
        found_floor = workspace.cmake_floor(ws.root)
        if found_floor is not None and found_floor[0] > floor:
            floor, floor_file = found_floor[0], found_floor[1].relative_to(ws.root).as_posix()
    return floor, floor_file


def run_checks(
    ws: Workspace | None,
    config: CMakeConfig,
    env: Mapping[str, str],
    *,
    build_isolation: bool | None = None,
    tvm_source_dir_explicit: bool = False,
) -> list[Check]:
    windows = sys.platform.startswith("win")
    checks: list[Check] = [verdict_python(tuple(sys.version_info[:3]))]

    floor, floor_file = cmake_floor_of(ws)
    cmake_raw = tools.probe("cmake", env)
    # With isolation (or auto, which falls back to it), pip fetches a new enough cmake itself.
    pip_can_provide = ws is not None and ws.layout == "root" and build_isolation is not False
    checks.append(
        verdict_cmake(
            tools.parse_version(cmake_raw),
            floor,
            floor_file,
            pip_can_provide=pip_can_provide,
            env_cmake=tools.environment_cmake_version(env),
        )
    )
    checks.append(
        verdict_generator(
            run_mod.which("ninja", env) is not None, run_mod.which("make", env) is not None, windows=windows
        )
    )

    cc = env.get("CC") or next((c for c in ("cc", "gcc", "clang", "cl") if run_mod.which(c, env)), None)
    cxx = env.get("CXX") or next((c for c in ("c++", "g++", "clang++", "cl") if run_mod.which(c, env)), None)
    checks.append(
        verdict_program("C compiler", run_mod.which(cc, env) if cc else None, "install gcc or clang (build-essential)")
    )
    checks.append(
        verdict_program(
            "C++ compiler", run_mod.which(cxx, env) if cxx else None, "install g++ or clang++ (build-essential)"
        )
    )
    checks.append(verdict_program("git", run_mod.which("git", env), "install git"))
    rust_fix = "install Rust (rustup, or your distribution's cargo and rustc packages); tokenizers-cpp needs it"
    checks.append(verdict_program("cargo", run_mod.which("cargo", env), rust_fix))
    checks.append(verdict_program("rustc", run_mod.which("rustc", env), rust_fix))

    if "vulkan" in config.backends:
        checks.append(
            verdict_program(
                "glslangValidator", run_mod.which("glslangValidator", env), "install glslang-tools (or the Vulkan SDK)"
            )
        )
        checks.append(
            verdict_program("spirv-val", run_mod.which("spirv-val", env), "install spirv-tools (or the Vulkan SDK)")
        )
        incs = include_dirs(env)
        header = _first_existing([d / "vulkan" / "vulkan.h" for d in incs])
        checks.append(
            Check("vulkan headers", "ok", str(header))
            if header
            else Check(
                "vulkan headers", "fail", "vulkan/vulkan.h not found", "install libvulkan-dev (or the Vulkan SDK)"
            )
        )
        spirv = _first_existing([d / "spirv" / "unified1" / "spirv.hpp" for d in incs])
        checks.append(
            Check("spirv headers", "ok", str(spirv))
            if spirv
            else Check(
                "spirv headers",
                "fail",
                "spirv/unified1/spirv.hpp not found",
                "install spirv-headers (or the Vulkan SDK)",
            )
        )

    if "cuda" in config.backends:
        nvcc = run_mod.which("nvcc", env)
        checks.append(verdict_program("nvcc", nvcc, "install the CUDA toolkit and put its bin/ on PATH"))
        if nvcc:
            release = tools.parse_nvcc_release(run_mod.output_of(["nvcc", "--version"], env=env))
            supported = tools.parse_nvcc_arches(run_mod.output_of(["nvcc", "--list-gpu-arch"], env=env))
            checks.append(verdict_nvcc_arches(config.cuda_architectures, supported, release))

    if ws is not None:
        states = workspace.submodule_states(ws.root, env)
        checks.extend(verdict_submodules(states))
        tvm_dir = Path(config.tvm_source_dir)
        tvm_path = tvm_dir if tvm_dir.is_absolute() else ws.root / tvm_dir
        checks.append(verdict_tvm_source(ws.root, config.tvm_source_dir, (tvm_path / "CMakeLists.txt").is_file()))
        ok, where = _writable(ws.build_dir)
        checks.append(
            Check("build dir", "ok", f"{where} is writable")
            if ok
            else Check("build dir", "fail", f"cannot write {where}", "fix permissions or build from a writable copy")
        )
        try:
            target = ws.root
            free: int | None = shutil.disk_usage(target).free
        except OSError:
            free = None
        checks.append(verdict_disk(free, str(ws.root)))

    home = verdict_tvm_home(env.get("TVM_HOME"), tvm_source_dir_explicit)
    if home is not None:
        checks.append(home)
    return checks


def blocking(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == "fail"]


def symbol(status: Status) -> str:
    return {"ok": "ok  ", "warn": "warn", "fail": "FAIL", "skip": "skip"}[status]


def format_check(check: Check) -> str:
    line = f"[{symbol(check.status)}] {check.name}: {check.detail}"
    if check.fix and check.status in ("fail", "warn"):
        line += f"  -> fix: {check.fix}"
    return line


def environ_copy() -> dict[str, str]:
    return dict(os.environ)
