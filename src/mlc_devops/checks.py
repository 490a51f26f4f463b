"""Preflight checks: every known way a build of MLC-LLM fails before it starts.

``doctor`` prints them all; ``build`` runs them and stops on the first that
blocks. Each check returns a :class:`Check` that says what it found and, when
something is wrong, the fix.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
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


def verdict_tvm_source(tvm_source_dir: str, exists: bool) -> Check:
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
    return _cmake_floor(ws, workspace.cmake_floor(ws.root) if ws is not None else None)


def _cmake_floor(ws: Workspace | None, found_floor: tuple[tuple[int, ...], Path] | None) -> tuple[tuple[int, ...], str]:
    floor: tuple[int, ...] = SPEC_CMAKE_FLOOR
    floor_file = "the project's baseline"
    if ws is not None and found_floor is not None and found_floor[0] > floor:
        floor, floor_file = found_floor[0], found_floor[1].relative_to(ws.root).as_posix()
    return floor, floor_file


Floor = tuple[tuple[int, ...], str]


def floors_of(ws: Workspace | None) -> tuple[Floor, Floor]:
    """(:func:`cmake_floor_of`, :func:`rust_floor_of`) of ``ws``, from one walk of the checkout
    (:func:`workspace.floor_files`); each ``(version, the file or reason that sets it)``."""
    if ws is None:
        return cmake_floor_of(None), rust_floor_of(None)
    cmakelists, cargo_tomls = workspace.floor_files(ws.root)
    return _cmake_floor(ws, workspace.cmake_floor_in(cmakelists)), _rust_floor(ws, cargo_tomls)


def environment_cmake_version(path_cmake_output: str | None, env: Mapping[str, str]) -> tuple[int, ...] | None:
    """The version of the cmake beside this interpreter, or None; PATH's answer when it is the same file
    (a virtual environment's bin/ first on PATH: asked once, not twice)."""
    program = tools.environment_cmake()
    if program is None:
        return None
    on_path = run_mod.which("cmake", env)
    if on_path is not None and Path(on_path).samefile(program):
        return tools.parse_version(path_cmake_output)
    return tools.environment_cmake_version(env)


def run_checks(
    ws: Workspace | None,
    config: CMakeConfig,
    env: Mapping[str, str],
    *,
    build_isolation: bool | None = None,
    tvm_source_dir_explicit: bool = False,
    probes: tools.VersionProbes | None = None,
    cmake_floor: tuple[tuple[int, ...], str] | None = None,
    rust_floor: tuple[tuple[int, ...], str] | None = None,
) -> list[Check]:
    """Every preflight check for a build of ``ws`` with ``config``, in order.

    ``probes`` answers the ``--version`` questions when given (a build shares
    one with its report, so each program is asked once); else each is asked here.
    ``cmake_floor`` and ``rust_floor``: :func:`cmake_floor_of` and :func:`rust_floor_of` ``ws``, when the
    caller has them (:func:`floors_of` walks the checkout once for both); else each is read here.
    """
    windows = sys.platform.startswith("win")

    def version_output(name: str) -> str | None:
        return probes.raw(name) if probes is not None else tools.probe(name, env)

    checks: list[Check] = [verdict_python(tuple(sys.version_info[:3]))]

    floor, floor_file = cmake_floor if cmake_floor is not None else cmake_floor_of(ws)
    cmake_raw = version_output("cmake")
    # With isolation (or auto, which falls back to it), pip fetches a new enough cmake itself.
    pip_can_provide = ws is not None and ws.layout == "root" and build_isolation is not False
    checks.append(
        verdict_cmake(
            tools.parse_version(cmake_raw),
            floor,
            floor_file,
            pip_can_provide=pip_can_provide,
            env_cmake=environment_cmake_version(cmake_raw, env),
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
    rust_need, rust_why = rust_floor if rust_floor is not None else rust_floor_of(ws)
    for rust_tool in ("cargo", "rustc"):
        rust_path = run_mod.which(rust_tool, env)
        rust_version = tools.parse_version(version_output(rust_tool)) if rust_path else None
        checks.append(verdict_rust(rust_tool, rust_path, rust_version, rust_need, rust_why))

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
        checks.append(verdict_tvm_source(config.tvm_source_dir, (tvm_path / "CMakeLists.txt").is_file()))
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
        checks.append(verdict_build_cache(stale_build_cache(ws, env, build_isolation=build_isolation), ws.build_dir))
    checks.extend(verdict_build_environment(env, ws.layout if ws is not None else None))

    home = verdict_tvm_home(env.get("TVM_HOME"), tvm_source_dir_explicit)
    if home is not None:
        checks.append(home)
    return checks


def read_build_cache(build_dir: Path) -> dict[str, str] | None:
    """The entries of ``build_dir``/CMakeCache.txt (:func:`parse_cmake_cache`), or None when there is none."""
    try:
        text = (build_dir / CACHE_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return parse_cmake_cache(text)


def stale_build_cache(ws: Workspace, env: Mapping[str, str], *, build_isolation: bool | None) -> str | None:
    """Why build/CMakeCache.txt cannot be reused (:func:`stale_cache_reason`), or None (also when absent).

    Facts: the cache file; ninja on PATH (or, for an isolated root build, from PyPI) for the generator.
    """
    cache = read_build_cache(ws.build_dir)
    if cache is None:
        return None
    ninja = run_mod.which("ninja", env) is not None or (ws.layout == "root" and build_isolation is not False)
    generator = expected_generator(env, layout=ws.layout, windows=sys.platform.startswith("win"), ninja=ninja)
    return stale_cache_reason(cache, root=ws.root, build_dir=ws.build_dir, generator=generator)


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


# --- an existing build/ and what redirects the build (issue 15, items 3-5) ------------------

CACHE_FILE = "CMakeCache.txt"
_CACHE_LINE = re.compile(r"^([^#/\s][^:=]*?)(?::([A-Za-z_]+))?=(.*)$")
_CMAKE_FALSE = frozenset({"", "0", "OFF", "NO", "FALSE", "N", "IGNORE", "NOTFOUND"})

# Environment variables that redirect or override a build, and what each does to it. CMAKE_ARGS is
# scikit-build-core's, and the legacy configure appends it too (mlc-devops, as scikit-build-core does).
SKBUILD_ONLY = ("SKBUILD_CMAKE_ARGS", "SKBUILD_CMAKE_DEFINE", "CMAKE_ARGS")
BOTH_LAYOUTS = ("CMAKE_ARGS",)


@dataclass(frozen=True)
class Mismatch:
    """One USE_* switch whose configured value is not the one the tool's config asked for."""

    option: str
    asked: str
    configured: str


def parse_cmake_cache(text: str) -> dict[str, str]:
    """The entries of a CMakeCache.txt: ``{"CMAKE_GENERATOR": "Ninja", "USE_VULKAN": "ON", ...}``. Pure.

    Lines are ``NAME:TYPE=VALUE`` (the type may be absent); comments (``#``, ``//``)
    and blank lines are skipped; a quoted name (``"A B":STRING=x``) keeps its text.
    """
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        if line.startswith('"'):
            end = line.find('"', 1)
            if end < 0:
                continue
            name, rest = line[1:end], line[end + 1 :]
            _, sep, value = rest.partition("=")
            if sep:
                out[name] = value
            continue
        match = _CACHE_LINE.match(line)
        if match:
            out[match.group(1)] = match.group(3)
    return out


def cmake_truth(value: str) -> bool:
    """CMake's ``if(<constant>)`` for a cache value: ON/1/TRUE/YES/Y and numbers other than 0 are true. Pure."""
    upper = value.strip().upper()
    return not (upper in _CMAKE_FALSE or upper.endswith("-NOTFOUND"))


def asked_switches(config: CMakeConfig) -> dict[str, str]:
    """The ``USE_*`` switches the tool's config.cmake sets for ``config``: ``{"USE_VULKAN": "ON", ...}``. Pure.

    Source: :func:`mlc_devops.backends.render`, so this follows whatever config.cmake says.
    """
    from mlc_devops import backends  # noqa: PLC0415

    return {k: v for k, v in backends.parse(backends.render(config)).items() if k.startswith("USE_")}


def configured_mismatches(asked: Mapping[str, str], cache: Mapping[str, str]) -> list[Mismatch]:
    """Each asked switch whose CMakeCache.txt entry has the other truth value, in ``asked``'s order. Pure.

    A switch absent from the cache is not a mismatch (the tree may define no cache entry for it).
    """
    out = []
    for option, value in asked.items():
        configured = cache.get(option)
        if configured is not None and cmake_truth(configured) != cmake_truth(value):
            out.append(Mismatch(option, value, configured))
    return out


def likely_override(option: str, env: Mapping[str, str], layout: str) -> str:
    """The likeliest reason ``option`` was configured otherwise than asked, in words. Pure.

    Looks for ``option`` in the variables that pass arguments to CMake (``SKBUILD_CMAKE_ARGS``,
    ``SKBUILD_CMAKE_DEFINE``: read by scikit-build-core, so the root layout only; ``CMAKE_ARGS``:
    both layouts), then at ``SKBUILD_BUILD_DIR``.
    """
    for name in SKBUILD_ONLY if layout == "root" else BOTH_LAYOUTS:
        if option and option in env.get(name, ""):
            return f"{name} sets {option}; unset it or drop {option} from it"
    if layout == "root" and env.get("SKBUILD_BUILD_DIR"):
        return "SKBUILD_BUILD_DIR moved the build away from build/config.cmake; unset it"
    return "the configure did not read build/config.cmake or something overrode it; see the log"


def mismatch_message(mismatch: Mismatch) -> str:
    """One line: ``USE_VULKAN: asked ON, configured OFF (build/CMakeCache.txt)``. Pure."""
    return f"{mismatch.option}: asked {mismatch.asked}, configured {mismatch.configured} (build/{CACHE_FILE})"


def expected_generator(env: Mapping[str, str], *, layout: str, windows: bool, ninja: bool) -> str | None:
    """The CMake generator the next configure of build/ uses, or None where CMake picks (Windows). Pure.

    The legacy build passes ``-G`` (Ninja when ninja is found, else Unix Makefiles);
    scikit-build-core honours ``CMAKE_GENERATOR`` and otherwise picks Ninja (fetching
    it from PyPI when it has to), falling back to make. ``ninja``: whether ninja can be had.
    """
    if layout == "root" and env.get("CMAKE_GENERATOR"):
        return env["CMAKE_GENERATOR"]
    if windows:
        return env.get("CMAKE_GENERATOR") or None
    return "Ninja" if ninja else "Unix Makefiles"


def _same_path(a: str, b: Path) -> bool:
    try:
        return Path(a).resolve() == b.resolve()
    except (OSError, RuntimeError):
        return Path(a) == b


def stale_cache_reason(cache: Mapping[str, str], *, root: Path, build_dir: Path, generator: str | None) -> str | None:
    """Why an existing CMakeCache.txt cannot be reused by this build, in one phrase, or None. Pure but for
    resolving paths.

    Compares the cache's ``CMAKE_GENERATOR`` with ``generator`` (None: not compared),
    ``CMAKE_HOME_DIRECTORY`` with the checkout and ``CMAKE_CACHEFILE_DIR`` with build/ —
    what makes CMake stop with "Does not match the generator used previously" or
    "CMakeCache.txt directory ... is different".
    """
    cached_gen = cache.get("CMAKE_GENERATOR")
    if generator is not None and cached_gen and cached_gen != generator:
        return f"it was configured with the {cached_gen!r} generator, and this build uses {generator!r}"
    home = cache.get("CMAKE_HOME_DIRECTORY")
    if home and not _same_path(home, root):
        return f"it was configured for the source {home}, not {root} (a moved or mounted checkout)"
    cache_dir = cache.get("CMAKE_CACHEFILE_DIR")
    if cache_dir and not _same_path(cache_dir, build_dir):
        return f"it was written in {cache_dir}, not {build_dir} (a moved or mounted checkout)"
    return None


def verdict_build_cache(reason: str | None, build_dir: Path) -> Check:
    """The doctor line for an existing build/CMakeCache.txt: ok, or a warning saying the build starts afresh."""
    if reason is None:
        return Check("build cache", "ok", f"{build_dir / CACHE_FILE} can be reused (or is absent)")
    return Check(
        "build cache",
        "warn",
        f"{build_dir / CACHE_FILE} is stale: {reason}",
        f"mlc-devops build removes {CACHE_FILE} and CMakeFiles/ from {build_dir} and configures afresh "
        "(the compiler cache keeps the compiled objects)",
    )


def verdict_build_environment(env: Mapping[str, str], layout: str | None) -> list[Check]:
    """A warning for each environment variable that redirects or overrides the build. Pure.

    Sources: scikit-build-core reads ``SKBUILD_*`` (which win over the tool's ``-C``
    settings) and ``CMAKE_ARGS``; CMake reads ``CMAKE_GENERATOR``. The tool builds in
    build/ regardless (``SKBUILD_BUILD_DIR`` is dropped), and after configure compares
    the USE_* switches in CMakeCache.txt with what it asked, so an override fails the build.
    """
    out = []
    build_dir = env.get("SKBUILD_BUILD_DIR")
    if build_dir and layout != "legacy":
        out.append(
            Check(
                "SKBUILD_BUILD_DIR",
                "warn",
                f"SKBUILD_BUILD_DIR={build_dir} is set; mlc-devops builds in build/ (where it writes "
                "config.cmake) and drops it",
                "unset SKBUILD_BUILD_DIR",
            )
        )
    for name in SKBUILD_ONLY:
        value = env.get(name)
        if not value:
            continue
        if layout == "legacy" and name not in BOTH_LAYOUTS:
            out.append(Check(name, "warn", f"{name} is set, but the legacy build does not read it", f"unset {name}"))
        elif layout == "legacy":
            out.append(
                Check(
                    name,
                    "warn",
                    f"{name}={value} is appended to the legacy configure (as scikit-build-core appends it) and can "
                    "override the backends; the build fails if a USE_* ends up other than asked",
                    f"unset {name}, or pass the setting through mlc-devops's options",
                )
            )
        else:
            out.append(
                Check(
                    name,
                    "warn",
                    f"{name}={value} reaches CMake through scikit-build-core and can override the backends; "
                    "the build fails if a USE_* ends up other than asked",
                    f"unset {name}, or pass the setting through mlc-devops's options",
                )
            )
    others = sorted(
        k
        for k in env
        if k.startswith("SKBUILD_") and k not in ("SKBUILD_BUILD_DIR", *SKBUILD_ONLY) and env[k] and layout != "legacy"
    )
    if others:
        out.append(
            Check(
                "SKBUILD_*",
                "warn",
                f"{', '.join(others)} override scikit-build-core settings that mlc-devops passes",
                f"unset {' '.join(others)}",
            )
        )
    generator = env.get("CMAKE_GENERATOR")
    if generator:
        used = "the build uses it" if layout != "legacy" else "the legacy build passes -G instead"
        out.append(Check("CMAKE_GENERATOR", "warn", f"CMAKE_GENERATOR={generator} is set; {used}"))
    return out


# --- the Rust floor (issue 15, item 7) ----------------------------------------------------

# tokenizers 0.21 (tokenizers-cpp takes the newest, having no Cargo.lock) calls Option::is_none_or,
# stable in Rust 1.82; docker/Dockerfile's RUST_MINIMUM checks the same floor.
RUST_FLOOR = (1, 82)
RUST_FLOOR_WHY = "tokenizers 0.21 (Option::is_none_or)"
_RUST_VERSION = re.compile(r'^\s*rust-version\s*=\s*"(\d+(?:\.\d+){0,2})"', re.MULTILINE)


def rust_version_in(text: str) -> tuple[int, ...] | None:
    """The ``rust-version = "1.80"`` of a Cargo.toml, or None. Pure."""
    match = _RUST_VERSION.search(text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def rust_floor_from(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[int, ...], str]:
    """The Rust a build needs: the highest ``rust-version`` among ``(name, Cargo.toml text)`` pairs, never
    below :data:`RUST_FLOOR`; returns ``(version, why)``. Pure."""
    best: tuple[tuple[int, ...], str] = (RUST_FLOOR, RUST_FLOOR_WHY)
    for name, text in pairs:
        version = rust_version_in(text)
        if version is not None and version > best[0]:
            best = (version, f"rust-version in {name}")
    return best


def rust_floor_of(ws: Workspace | None) -> tuple[tuple[int, ...], str]:
    """:func:`rust_floor_from` over the checkout's 3rdparty/**/Cargo.toml (:func:`workspace.floor_files`:
    cargo's target/ folders, .git and the examples, tests and docs no build compiles left out; read here)."""
    if ws is None:
        return RUST_FLOOR, RUST_FLOOR_WHY
    return _rust_floor(ws, workspace.floor_files(ws.root)[1])


def _rust_floor(ws: Workspace, cargo_tomls: Iterable[Path]) -> tuple[tuple[int, ...], str]:
    return rust_floor_from(
        (p.relative_to(ws.root).as_posix(), p.read_text(encoding="utf-8", errors="replace")) for p in cargo_tomls
    )


def verdict_rust(
    name: str, found: str | None, version: tuple[int, ...] | None, floor: tuple[int, ...], why: str
) -> Check:
    """``cargo``/``rustc``: present and at least ``floor`` (as the image's RUST_MINIMUM check). Pure.

    ``found``: the program's path; ``version``: from its ``--version`` (None: unreadable, not judged).
    """
    need = workspace.version_text(floor)
    if not found:
        return Check(
            name,
            "fail",
            f"{name} not found on PATH",
            f"install Rust >= {need} (rustup, or your distribution's cargo and rustc packages); "
            "tokenizers-cpp needs it",
        )
    if version is None:
        return Check(name, "ok", f"{found} (version unreadable; needs >= {need})")
    have = workspace.version_text(version)
    if version < floor:
        return Check(
            name,
            "fail",
            f"{name} {have} is older than {need}, which {why} needs",
            f"rustup update (or install Rust >= {need}: rustup, or a newer distribution package such as "
            "Debian trixie's 1.85)",
        )
    return Check(name, "ok", f"{name} {have} at {found} (>= {need}, for {why})")
