"""The build's pure decisions: the commands it runs, isolation, generator, nvcc threads, environment, stale wheels."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlc_devops import backends, checks, options, workspace

CONFIG_SETTINGS = "--config-settings"


def root_wheel_command(
    python: str,
    source: Path,
    wheelhouse: Path,
    build_type: str,
    *,
    isolation: bool,
    defines: Mapping[str, str] | None = None,
    cmake_floor: tuple[int, ...] | None = None,
    build_dir: Path | None = None,
) -> list[str]:
    """``pip wheel`` at the root, as upstream's CI runs it, plus the tool's settings.

    The settings go as ``--config-settings`` (pip 22.1), not ``-C`` (pip 23.1): the kept build
    environment's pip comes from the interpreter's ensurepip, 23.0.1 on Debian 12's Python 3.11.

    ``build_dir`` becomes scikit-build-core's ``build-dir``, so that CMake configures
    where the tool wrote config.cmake whatever the project or the environment says
    (``SKBUILD_BUILD_DIR`` would still win over it: :func:`without_redirects` drops it).

    ``cmake_floor`` becomes scikit-build-core's ``cmake.version``: it uses a CMake
    that meets it and, in an isolated build, fetches one from PyPI when the one
    it finds is older (upstream's pyproject sets none, so by default it checks
    only the root CMakeLists' 3.18 and runs Debian 12's 3.25 into tvm-ffi's 3.26).
    """
    cmd = [
        python,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "-w",
        str(wheelhouse),
        "-v",
        # CMake 4 from PyPI refuses submodules that ask for a minimum below 3.5 (msgpack in tokenizers-cpp).
        CONFIG_SETTINGS,
        "cmake.define.CMAKE_POLICY_VERSION_MINIMUM=3.5",
        CONFIG_SETTINGS,
        f"cmake.build-type={build_type}",
    ]
    if cmake_floor is not None:
        cmd += [CONFIG_SETTINGS, f"cmake.version=>={workspace.version_text(cmake_floor)}"]
    if build_dir is not None:
        cmd += [CONFIG_SETTINGS, f"build-dir={build_dir}"]
    for key, value in sorted((defines or {}).items()):
        cmd += [CONFIG_SETTINGS, f"cmake.define.{key}={value}"]
    if not isolation:
        cmd.append("--no-build-isolation")
    cmd.append(str(source))
    return cmd


# Variables that move the build away from build/, where config.cmake is: dropped from the build's environment.
REDIRECTS = ("SKBUILD_BUILD_DIR",)


def without_redirects(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without :data:`REDIRECTS` (scikit-build-core's SKBUILD_* settings win over ``-C``). Pure."""
    return {k: v for k, v in env.items() if k not in REDIRECTS}


def backend_defines(config: backends.CMakeConfig) -> dict[str, str]:
    """The USE_* switches of config.cmake, passed again as ``-D`` so CMakeCache.txt records them. Pure.

    A stale entry from an earlier configure (which config.cmake's plain ``set`` would
    shadow) is overwritten, so the cache says what CMake was given; anything that still
    changes one (CMAKE_ARGS) shows up in :func:`check_configured`.
    """
    return checks.asked_switches(config)


def legacy_configure_command(
    source: Path,
    build_dir: Path,
    build_type: str,
    generator: str | None,
    defines: Mapping[str, str] | None = None,
    cmake: str = "cmake",
) -> list[str]:
    cmd = [
        cmake,
        "-S",
        str(source),
        "-B",
        str(build_dir),
        f"-DCMAKE_BUILD_TYPE={build_type}",
        "-DCMAKE_POLICY_VERSION_MINIMUM=3.5",
    ]
    cmd += [f"-D{key}={value}" for key, value in sorted((defines or {}).items())]
    if generator:
        cmd[1:1] = ["-G", generator]
    return cmd


def legacy_compile_command(build_dir: Path, jobs: int, build_type: str, cmake: str = "cmake") -> list[str]:
    return [cmake, "--build", str(build_dir), "--parallel", str(jobs), "--config", build_type]


def legacy_package_command(python: str, python_dir: Path, wheelhouse: Path, *, isolation: bool) -> list[str]:
    cmd = [python, "-m", "pip", "wheel", "--no-deps", "-w", str(wheelhouse), "-v"]
    if not isolation:
        cmd.append("--no-build-isolation")
    cmd.append(str(python_dir))
    return cmd


def choose_isolation(requested: bool | None, *, backend_here: bool, cmake_ok: bool) -> bool:
    """pip build isolation. Asked for: as asked. Auto: off when the build backend is importable here and
    the cmake on PATH meets the tree's floor (an isolated build reconfigures from scratch every time,
    since its temporary environment changes), on otherwise (pip then fetches what is missing)."""
    if requested is not None:
        return requested
    return not (backend_here and cmake_ok)


def choose_generator(*, windows: bool, ninja: bool) -> str | None:
    if windows:
        return None  # CMake's default there: the newest Visual Studio
    return "Ninja" if ninja else "Unix Makefiles"


# CUDA architecture names that stand for several architectures.
_MANY_ARCHS = {"all": 8, "all-major": 4, "native": 1}


def nvcc_threads(jobs: int, capacity: int, archs: Sequence[str]) -> int:
    """nvcc's --threads (one per architecture at most) so that jobs x threads stays within what the
    machine holds (``capacity``: cores capped by memory, the default --jobs)."""
    wanted = sum(_MANY_ARCHS.get(a, 1) for a in archs) or 1
    return max(1, min(wanted, capacity // max(1, jobs)))


def build_environment(
    base: Mapping[str, str],
    *,
    jobs: int,
    launcher_vars: Mapping[str, str],
    source_date_epoch: int | None,
    cuda_threads: int | None,
) -> dict[str, str]:
    env = dict(base)
    env["CMAKE_BUILD_PARALLEL_LEVEL"] = str(jobs)
    env.update(launcher_vars)
    if source_date_epoch is not None and options.resolve_one("source_date_epoch", env).origin == "default":
        env["SOURCE_DATE_EPOCH"] = str(source_date_epoch)  # the commit's time, unless the caller chose one
    if cuda_threads is not None:
        extra = f"--threads {cuda_threads}"
        env["CUDAFLAGS"] = f"{env['CUDAFLAGS']} {extra}" if env.get("CUDAFLAGS") else extra
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def stale_wheels(existing: Sequence[str], project: str, new_name: str) -> list[str]:
    """Wheels of the same project in dist/ that are not the one being written."""
    from packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: PLC0415

    out = []
    for name in existing:
        try:
            other = parse_wheel_filename(name)[0]
        except ValueError:
            continue
        if canonicalize_name(other) == canonicalize_name(project) and name != new_name:
            out.append(name)
    return sorted(out)


_SKBUILD_CMAKE = re.compile(r"scikit-build-core \S+ using CMake (\d+(?:\.\d+)+)")
_CMAKE_VERSION_LINE = re.compile(r"^cmake version (\d+(?:\.\d+)+)", re.MULTILINE)


def cmake_used(log: str) -> dict[str, str]:
    """The CMake the build really ran, from its log: ``{"cmake": "3.31.10"}``, or empty when the log does not say.

    scikit-build-core prints ``*** scikit-build-core X using CMake Y (wheel)``;
    that CMake can differ from PATH's (fetched from PyPI to meet the floor).
    """
    match = _SKBUILD_CMAKE.search(log) or _CMAKE_VERSION_LINE.search(log)
    return {"cmake": match.group(1)} if match else {}


def prefetch_requirements(dependencies: Sequence[str], providers: Sequence[str]) -> list[str]:
    """The declared ``dependencies`` (requirement strings) whose project is one of ``providers`` (the
    providers the last validation of this project took, by name): what a build downloads while it
    compiles, for validation to find ready. Unparsable entries are left out. Pure."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415
    from packaging.utils import canonicalize_name  # noqa: PLC0415

    wanted = {canonicalize_name(name) for name in providers}
    out = []
    for text in dependencies:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(requirement.name) in wanted:
            out.append(text)
    return out
