"""The TVM wheel of the pair: built from the checkout's own TVM source with its compiler, or a prebuilt one named.

An MLC-LLM checkout compiles models only with the TVM of its own 3rdparty/tvm pin
(issue 14: PyPI's apache-tvm imports but cannot compile), so ``build --tvm source``
builds that TVM into a wheel beside the mlc_llm wheel, as the TVM source at hand
builds itself:

- root layout (current upstream, ``3rdparty/tvm/pyproject.toml`` with
  scikit-build-core): ``pip wheel`` of that folder, the switches as config
  settings (``-C cmake.define.USE_LLVM=...``);
- legacy layout (``python/setup.py``, mlc-llm 34497eae's pin): a CMake build of
  the ``tvm`` and ``tvm_runtime`` targets with a generated config.cmake, then
  ``pip wheel python/`` (its setup.py) with ``TVM_LIBRARY_PATH`` naming that
  build; the wheel, tagged cpXY-cpXY by setup.py though it holds no extension
  module, is retagged ``py3-none-<platform>``.

Decisions (switches, the llvm-config, the CUDA driver library, targets, tags) are
pure functions over text and facts; finding programs, reading trees and rewriting
wheels are at the edges.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import os
import re
import shlex
import shutil
import sys
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from mlc_devops import backends, options, workspace
from mlc_devops import run as run_mod
from mlc_devops.errors import BuildFailed, PrerequisiteMissing, UsageError
from mlc_devops.report import report_path_for
from mlc_devops.ui import Console, PhaseClock, Progress

WORK_DIR = "mlc-devops-tvm"  # under the checkout's build directory; CMake's build/ in it is kept between runs
LLVM_SWITCH = "USE_LLVM"
CUDA_DRIVER_VARIABLE = "CUDA_CUDA_LIBRARY"  # TVM's cmake/utils/FindCUDA.cmake
LEGACY_TARGETS = ("tvm", "tvm_runtime")

# TVM's optional parts, switched off: the list of the hand-written config.cmake of the 2024 pair's
# CUDA build (mlc-llm 34497eae, TVM mlc-ai/relax 31175052), so the tool's build compiles what it did.
# USE_CCACHE: the tool sets the compiler launcher itself; USE_ALTERNATIVE_LINKER: the system linker;
# USE_LIBBACKTRACE: no autotools build of libbacktrace. The core (RPC, graph executor, profiler,
# sort, threads, RTTI) keeps TVM's defaults.
OPTIONAL_OFF: tuple[tuple[str, str], ...] = (
    ("USE_NCCL", "OFF"),
    ("USE_CUTLASS", "OFF"),
    ("USE_FLASHINFER", "OFF"),
    ("USE_CUBLAS", "OFF"),
    ("USE_CUDNN", "OFF"),
    ("USE_THRUST", "OFF"),
    ("USE_CURAND", "OFF"),
    ("USE_ROCM", "OFF"),
    ("USE_RCCL", "OFF"),
    ("USE_OPENCL", "OFF"),
    ("USE_VULKAN", "OFF"),
    ("USE_METAL", "OFF"),
    ("USE_HEXAGON", "OFF"),
    ("USE_MLIR", "OFF"),
    ("USE_MICRO", "OFF"),
    ("USE_BLAS", "none"),
    ("USE_MKL", "OFF"),
    ("USE_DNNL", "OFF"),
    ("USE_OPENMP", "none"),
    ("USE_LIBTORCH", "OFF"),
    ("USE_MSC", "OFF"),
    ("USE_RUST_EXT", "OFF"),
    ("USE_CPP_RPC", "OFF"),
    ("USE_LIBBACKTRACE", "OFF"),
    ("BACKTRACE_ON_SEGFAULT", "OFF"),
    ("USE_GTEST", "OFF"),
    ("USE_CCACHE", "OFF"),
    ("USE_ALTERNATIVE_LINKER", "OFF"),
    ("USE_PAPI", "OFF"),
    ("BUILD_STATIC_RUNTIME", "OFF"),
    ("SUMMARIZE", "OFF"),
)

# The TVM libraries: a wheel shipping one of these is a TVM wheel (apache-tvm, mlc-ai-nightly, a legacy tvm).
TVM_LIBRARY_NAMES = frozenset(
    f"{prefix}{name}{suffix}"
    for name in ("tvm", "tvm_runtime")
    for prefix, suffix in (("lib", ".so"), ("lib", ".dylib"), ("", ".dll"), ("lib", ".dll"))
)
# Python extension modules (PEP 3149 names, the stable ABI, Windows): a wheel with none needs no cpXY tag.
EXTENSION_PATTERNS = ("*.cpython-*.so", "*.abi3.so", "*.pyd", "*.cpython-*.dylib")


# --- which TVM wheel ------------------------------------------------------------------


def ships_tvm(members: Iterable[str]) -> bool:
    """Whether a wheel's files hold a TVM library (:data:`TVM_LIBRARY_NAMES`). Pure."""
    return any(PurePosixPath(m).name in TVM_LIBRARY_NAMES for m in members)


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(text))
    except InvalidVersion:
        return (0, text)


def choose_wheel(candidates: Sequence[tuple[str, str, str]], folder: str) -> str:
    """The TVM wheel to take from a folder: ``candidates`` are ``(filename, project, version)`` of the wheels
    in it that install here and ship a TVM library; the newest version of the one project. Pure.

    UsageError when there is none, or when they belong to several projects (name the file then).
    """
    if not candidates:
        raise UsageError(
            f"{folder} holds no TVM wheel that installs here (one shipping libtvm or libtvm_runtime)",
            hint="pass the wheel file, or a folder that holds it",
        )
    projects = sorted({str(canonicalize_name(c[1])) for c in candidates})
    if len(projects) > 1:
        raise UsageError(
            f"{folder} holds TVM wheels of {len(projects)} projects ({', '.join(projects)})",
            hint="pass --tvm with the wheel file you mean",
        )
    return max(candidates, key=lambda c: (_version_key(c[2]), c[0]))[0]


def installs_here(filename: str) -> bool:
    """Whether a wheel's tags fit this interpreter (packaging's ``sys_tags``)."""
    from packaging.tags import sys_tags  # noqa: PLC0415

    try:
        tags = parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return False
    return not tags.isdisjoint(set(sys_tags()))


def pick_wheel(folder: Path, *, exclude: str | None = None) -> Path:
    """The TVM wheel in ``folder`` (:func:`choose_wheel`), leaving out the project ``exclude`` (the mlc_llm
    wheel beside it in a dist/ folder, which ships a libtvm_runtime of its own in the stand-in)."""
    if not folder.is_dir():
        raise UsageError(f"--tvm {folder}: no such folder of wheels", hint="pass source, a wheel file or a folder")
    skip = str(canonicalize_name(exclude)) if exclude else None
    found: list[tuple[str, str, str]] = []
    for path in sorted(folder.glob("*.whl")):
        try:
            name, version, _, _ = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        if str(name) == skip or not installs_here(path.name):
            continue
        with zipfile.ZipFile(path) as archive:
            if ships_tvm(archive.namelist()):
                found.append((path.name, str(name), str(version)))
    return folder / choose_wheel(found, str(folder))


def wheel_project(filename: str) -> tuple[str, str]:
    """(canonical project name, version) from a wheel's file name. Pure."""
    name, version, _, _ = parse_wheel_filename(filename)
    return str(name), str(version)


# --- the TVM source ---------------------------------------------------------------------

LEGACY_DESCRIPTION = (
    "cmake build of tvm and tvm_runtime with a generated config.cmake, then pip wheel python/ (setup.py)"
)
ROOT_DESCRIPTION = "pyproject.toml with scikit-build-core (pip wheel of the TVM folder)"


def cmake_texts(root: Path) -> str:
    """TVM's CMakeLists.txt and its cmake/ folder, joined: where its USE_* switches are declared."""
    parts = []
    files = [root / "CMakeLists.txt", *sorted((root / "cmake").rglob("*.cmake"))] if (root / "cmake").is_dir() else []
    for path in files or [root / "CMakeLists.txt"]:
        try:
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return "\n".join(parts)


def mentions(text: str, name: str) -> bool:
    """Whether CMake ``text`` names the variable ``name`` as a whole word. Pure."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def legacy_targets(cmakelists: str) -> tuple[str, ...]:
    """Which of TVM's ``tvm`` (the compiler) and ``tvm_runtime`` libraries the CMakeLists defines. Pure.

    The 2024 pin defines both; the stand-in only the runtime (it has no compiler).
    """
    found = set(re.findall(r"add_library\(\s*(tvm|tvm_runtime)\s", cmakelists))
    return tuple(t for t in LEGACY_TARGETS if t in found)


def setup_py_name(text: str) -> str | None:
    """The ``name=`` given to ``setup(...)`` in a setup.py, when a literal. Pure."""
    call = text.find("setup(")
    match = re.search(r"""\bname\s*=\s*["']([A-Za-z0-9._-]+)["']""", text[call:] if call >= 0 else text)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Source:
    """The TVM source of the checkout: where, its layout, its project name and what its CMake knows."""

    root: Path
    relative: str  # as the checkout names it (3rdparty/tvm), or the absolute path when outside
    layout: workspace.Layout
    project: str
    pyproject: Mapping[str, Any] | None
    cmake: str  # CMakeLists.txt and cmake/*.cmake

    @property
    def python_dir(self) -> Path:
        return self.root / "python"


def read_source(checkout: Path, tvm_source_dir: str) -> Source:
    """The TVM source at ``tvm_source_dir`` (relative to ``checkout``, or absolute) and its layout, detected as
    the checkout's is (:func:`workspace.choose_layout`): a scikit-build pyproject.toml, else python/setup.py.

    Raises UsageError when the folder has no CMakeLists.txt or neither packaging.
    """
    root = (checkout / tvm_source_dir).resolve()
    try:
        relative = root.relative_to(checkout).as_posix()
    except ValueError:
        relative = str(root)
    if not (root / "CMakeLists.txt").is_file():
        raise UsageError(
            f"no TVM source at {relative} (no CMakeLists.txt) to build the TVM wheel of the pair from",
            hint="git submodule update --init --recursive, or pass --tvm-source-dir",
        )
    pyproject = workspace.load_pyproject(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else None
    layout = workspace.choose_layout(
        has_root_pyproject=pyproject is not None,
        root_uses_scikit_build=bool(pyproject and "scikit-build" in pyproject.get("tool", {})),
        has_python_setup=(root / "python" / "setup.py").is_file(),
    )
    if layout is None:
        raise UsageError(
            f"the TVM source at {relative} has neither a scikit-build pyproject.toml nor python/setup.py",
            hint="check the submodule, or name a prebuilt TVM wheel with --tvm",
        )
    if layout == "root":
        project = str((pyproject or {}).get("project", {}).get("name") or "tvm")
    else:
        project = setup_py_name((root / "python" / "setup.py").read_text(encoding="utf-8", errors="replace")) or "tvm"
    return Source(root, relative, layout, project, pyproject, cmake_texts(root))


# --- the compiler: LLVM ------------------------------------------------------------------

_VERSIONED_LLVM = re.compile(r"^llvm-config-(\d+)(?:\.(\d+))?$")


def pick_llvm_config(on_path: str | None, versioned: Mapping[str, str]) -> str | None:
    """``llvm-config`` on PATH, else the highest ``llvm-config-N`` (``versioned``: file name to path). Pure."""
    if on_path:
        return on_path
    ranked = []
    for name, path in versioned.items():
        match = _VERSIONED_LLVM.match(name)
        if match:
            ranked.append(((int(match.group(1)), int(match.group(2) or 0)), path))
    return max(ranked)[1] if ranked else None


def versioned_llvm_configs(env: Mapping[str, str]) -> dict[str, str]:
    """Every ``llvm-config-N`` on PATH (Debian's llvm-N packages put them in /usr/bin), first on PATH wins."""
    found: dict[str, str] = {}
    for folder in env.get("PATH", "").split(os.pathsep):
        try:
            entries = sorted(os.listdir(folder)) if folder else []
        except OSError:
            continue
        for name in entries:
            path = Path(folder) / name
            if _VERSIONED_LLVM.match(name) and name not in found and os.access(path, os.X_OK):
                found[name] = str(path)
    return found


LLVM_PACKAGE_HINT = (
    "install Debian's LLVM with its llvm-config: apt-get install llvm-dev (the distribution's default LLVM) or "
    "llvm-N-dev for LLVM N (e.g. llvm-15-dev); or pass --llvm-config PATH (env MLC_LLVM_CONFIG)"
)


def find_llvm_config(explicit: str | None, env: Mapping[str, str], source: Source) -> str | None:
    """The llvm-config TVM's compiler is built with (USE_LLVM), or None when the source has no USE_LLVM.

    ``explicit`` (``--llvm-config``, ``MLC_LLVM_CONFIG``): a path or a program on PATH. Default:
    ``llvm-config`` on PATH, else the highest ``llvm-config-N``. Raises UsageError for an explicit one
    that does not exist, PrerequisiteMissing (exit 3) naming Debian's llvm-N-dev when none is found.
    """
    if not mentions(source.cmake, LLVM_SWITCH):
        return None
    if explicit:
        found = explicit if os.sep in explicit and os.access(explicit, os.X_OK) else run_mod.which(explicit, env)
        if found is None:
            raise UsageError(f"--llvm-config {explicit}: no such program", hint="pass the path of an llvm-config")
        return found
    chosen = pick_llvm_config(run_mod.which("llvm-config", env), versioned_llvm_configs(env))
    if chosen is None:
        raise PrerequisiteMissing(
            f"the TVM source at {source.relative} builds its compiler with LLVM ({LLVM_SWITCH}), and no "
            "llvm-config is on PATH (neither llvm-config nor llvm-config-N)",
            hint=LLVM_PACKAGE_HINT,
        )
    return chosen


# --- CUDA ----------------------------------------------------------------------------------

STUB_PATH = ("lib64", "stubs", "libcuda.so")


def nvcc_top(dryrun: str) -> str | None:
    """The toolkit nvcc belongs to, from ``nvcc --dryrun``'s ``#$ TOP=...`` line (a wrapper script or a
    symlink on PATH says nothing of it). Pure but for normalising the path."""
    match = re.search(r"^#\$ TOP=(.+)$", dryrun, re.MULTILINE)
    return os.path.normpath(match.group(1).strip()) if match else None


def cuda_root(env: Mapping[str, str], top: str | None) -> str | None:
    """The CUDA toolkit: ``CUDA_HOME``, else ``CUDA_PATH``, else where nvcc says it lives. Pure."""
    return env.get("CUDA_HOME") or env.get("CUDA_PATH") or top


def cmake_args(env: Mapping[str, str]) -> list[str]:
    """``CMAKE_ARGS`` split as a shell would (scikit-build-core reads the same variable). Pure."""
    try:
        return shlex.split(env.get("CMAKE_ARGS", ""))
    except ValueError as exc:
        raise UsageError(f"CMAKE_ARGS cannot be split: {exc}", hint="check its quotes") from None


def defined_names(args: Sequence[str]) -> set[str]:
    """The variables that ``-DNAME=...`` / ``-DNAME:TYPE=...`` / ``-D NAME=...`` arguments define. Pure."""
    names = set()
    for index, arg in enumerate(args):
        text = arg[2:] if arg.startswith("-D") else ""
        if arg == "-D" and index + 1 < len(args):
            text = args[index + 1]
        if text:
            names.add(text.split("=", 1)[0].split(":", 1)[0])
    return names


def driver_library(
    root: str | None, stub_exists: bool, user_args: Sequence[str], *, reads: bool = True
) -> tuple[str | None, str]:
    """``CUDA_CUDA_LIBRARY`` for TVM's CMake and the log line that says why. Pure.

    The toolkit's ``lib64/stubs/libcuda.so`` (SONAME libcuda.so.1, which the GPU driver provides
    at run time) when the toolkit has it and ``CMAKE_ARGS`` does not set it: a machine without a
    GPU driver has no libcuda to link against. None: CMake finds it, ``CMAKE_ARGS`` names it, or
    the TVM source does not read the variable (``reads``: the stand-in links the static runtime).
    """
    if not reads:
        return None, f"{CUDA_DRIVER_VARIABLE}: not read by this TVM source's CMake"
    if CUDA_DRIVER_VARIABLE in defined_names(user_args):
        return None, f"{CUDA_DRIVER_VARIABLE}: from CMAKE_ARGS"
    if root is not None and stub_exists:
        stub = str(Path(root, *STUB_PATH))
        return stub, (
            f"{CUDA_DRIVER_VARIABLE}: the toolkit's stub {stub} (a machine without a GPU driver links against "
            "the stub; the driver's libcuda.so.1 is loaded at run time)"
        )
    where = f"{root}/{'/'.join(STUB_PATH)}" if root else "a CUDA toolkit"
    return None, (
        f"{CUDA_DRIVER_VARIABLE}: left to TVM's CMake (no {where}); without a GPU driver pass "
        f"CMAKE_ARGS=-D{CUDA_DRIVER_VARIABLE}=<a libcuda.so stub>"
    )


# --- what the build is given ------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Everything the TVM build does, decided before it starts."""

    source: Source
    work: Path  # <checkout build dir>/mlc-devops-tvm
    build_type: str
    llvm_config: str | None
    llvm_version: str | None
    cuda: bool
    cuda_root: str | None
    cuda_architectures: tuple[str, ...]
    cuda_driver: str | None
    switches: tuple[tuple[str, str], ...]  # (name, value) into config.cmake, in order
    targets: tuple[str, ...]  # legacy: the CMake targets built
    user_args: tuple[str, ...] = ()  # CMAKE_ARGS, appended to the legacy configure
    notes: tuple[str, ...] = field(default=())

    @property
    def build_dir(self) -> Path:
        """CMake's build folder, kept between runs so that a re-run is incremental."""
        return self.work / "build"

    @property
    def wheelhouse(self) -> Path:
        return self.work / "wheelhouse"

    @property
    def backends(self) -> tuple[str, ...]:
        return ("cpu", "cuda") if self.cuda else ("cpu",)


def switches(cmake: str, *, llvm_config: str | None, cuda: bool, cuda_root: str | None) -> tuple[tuple[str, str], ...]:
    """The USE_* values of TVM's config.cmake, only those its CMake knows. Pure.

    USE_LLVM is the llvm-config (None: the source has no USE_LLVM, or none is wanted); USE_CUDA is
    the toolkit's folder when known (TVM's FindCUDA takes a path; ``ON`` would look for nvcc's
    folder, which a wrapper script on PATH misleads), ``ON`` without it, ``OFF`` without cuda;
    :data:`OPTIONAL_OFF` for the rest.
    """
    out: list[tuple[str, str]] = []
    if llvm_config is not None:
        out.append((LLVM_SWITCH, llvm_config))
    if mentions(cmake, "USE_CUDA"):
        out.append(("USE_CUDA", (cuda_root or "ON") if cuda else "OFF"))
    out += [(name, value) for name, value in OPTIONAL_OFF if mentions(cmake, name)]
    return tuple(out)


HEADER = "# config.cmake for TVM, written by mlc-devops build --tvm source; edit the command, not this file.\n"


def render_config(plan: Plan) -> str:
    """config.cmake for TVM's build folder (TVM's CMakeLists includes ``${CMAKE_BINARY_DIR}/config.cmake``). Pure."""
    lines = [HEADER.rstrip("\n"), f"set(CMAKE_BUILD_TYPE {plan.build_type})"]
    lines += [f"set({name} {backends.cmake_quote(value)})" for name, value in plan.switches]
    if plan.cuda and plan.cuda_architectures:
        lines.append(f'set(CMAKE_CUDA_ARCHITECTURES "{";".join(plan.cuda_architectures)}")')
    return "\n".join(lines) + "\n"


def defines(plan: Plan) -> dict[str, str]:
    """The same choices as ``-D`` definitions, so CMakeCache.txt records them; for the root layout the only
    way in (``-C cmake.define.X``). The OFF list stays in config.cmake alone. Pure."""
    out = {name: value for name, value in plan.switches if name in (LLVM_SWITCH, "USE_CUDA")}
    if plan.cuda and plan.cuda_architectures:
        out["CMAKE_CUDA_ARCHITECTURES"] = ";".join(plan.cuda_architectures)
    if plan.cuda_driver is not None:
        out[CUDA_DRIVER_VARIABLE] = plan.cuda_driver
    if plan.source.layout == "root" and mentions(plan.source.cmake, "TVM_BUILD_PYTHON_MODULE"):
        out["TVM_BUILD_PYTHON_MODULE"] = "ON"
    return out


def missing_backends(mlc_backends: Iterable[str], tvm_backends: Iterable[str]) -> list[str]:
    """The GPU backends the mlc_llm wheel is built with that the TVM wheel is not (code generation for
    them is off in it: only LLVM for the CPU and CUDA are built). Pure."""
    covered = set(tvm_backends)
    return sorted(b for b in mlc_backends if backends.BY_NAME[b].parent is None and b not in covered)


# --- the wheel's tags ---------------------------------------------------------------------------


def extension_modules(members: Iterable[str]) -> list[str]:
    """The Python extension modules among a wheel's files (:data:`EXTENSION_PATTERNS`). Pure."""
    return sorted(m for m in members if any(fnmatch.fnmatch(PurePosixPath(m).name, p) for p in EXTENSION_PATTERNS))


def py3_name(filename: str) -> str | None:
    """The file name with the tag ``py3-none-<platform>`` for a wheel tagged for one CPython
    (``tvm-0.15.dev183-cp311-cp311-linux_x86_64.whl``); None when it already is ``py3-none``. Pure."""
    stem = filename[: -len(".whl")]
    parts = stem.split("-")
    if len(parts) not in (5, 6):
        raise UsageError(f"{filename} is not a wheel file name")
    python, abi = parts[-3], parts[-2]
    if python == "py3" and abi == "none":
        return None
    return "-".join([*parts[:-3], "py3", "none", parts[-1]]) + ".whl"


def retagged_wheel_text(text: str, platforms: Sequence[str]) -> str:
    """The dist-info WHEEL file with its ``Tag:`` lines replaced by ``py3-none-<platform>``. Pure."""
    kept = [line for line in text.splitlines() if not line.startswith("Tag:")]
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join([*kept, *(f"Tag: py3-none-{p}" for p in platforms)]) + "\n\n"


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")


def retag(wheel: Path, out_dir: Path) -> tuple[Path, dict[str, Any]] | None:
    """Retag a wheel that holds no extension module ``py3-none-<platform>``, into ``out_dir``.

    TVM's legacy setup.py declares ``has_ext_modules`` so its wheel is tagged for the building
    CPython, although its libraries are loaded with ctypes and any Python 3 can use them.
    Returns the new wheel and the report's ``retag`` entry (``from``, ``to``, ``reason``), or None
    when the wheel holds an extension module (Cython's, built when Cython is installed) or
    already is ``py3-none``. The WHEEL file and its RECORD line are rewritten; other files are
    copied as they are.
    """
    new_name = py3_name(wheel.name)
    if new_name is None:
        return None
    with zipfile.ZipFile(wheel) as src:
        members = src.namelist()
        if extension_modules(members):
            return None
        wheel_file = next((m for m in members if re.fullmatch(r"[^/]+\.dist-info/WHEEL", m)), None)
        record_file = next((m for m in members if re.fullmatch(r"[^/]+\.dist-info/RECORD", m)), None)
        if wheel_file is None or record_file is None:
            raise BuildFailed(f"{wheel.name} has no dist-info WHEEL or RECORD file")
        platforms = sorted(set(wheel.name[: -len(".whl")].split("-")[-1].split(".")))
        new_wheel = retagged_wheel_text(src.read(wheel_file).decode("utf-8"), platforms).encode("utf-8")
        record = [
            f"{wheel_file},{_record_hash(new_wheel)},{len(new_wheel)}" if line.startswith(wheel_file + ",") else line
            for line in src.read(record_file).decode("utf-8").splitlines()
        ]
        out_dir.mkdir(parents=True, exist_ok=True)
        target = out_dir / new_name
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                if info.filename == wheel_file:
                    dst.writestr(info, new_wheel)
                elif info.filename == record_file:
                    dst.writestr(info, ("\n".join(record) + "\n").encode("utf-8"))
                else:
                    dst.writestr(info, src.read(info))
    old_tag = "-".join(wheel.name[: -len(".whl")].split("-")[-3:])
    new_tag = "-".join(new_name[: -len(".whl")].split("-")[-3:])
    return target, {
        "from": old_tag,
        "to": new_tag,
        "reason": "no Python extension module in the wheel (its libraries are loaded with ctypes)",
    }


# --- the edges: deciding with the machine's facts, building, fetching ------------------------


def _tvm_workspace(source: Source) -> workspace.Workspace:
    return workspace.Workspace(source.root, source.layout, source.project, None, source.pyproject)


def plan(checkout: Path, build_dir: Path, opts: options.BuildOptions, env: Mapping[str, str], console: Console) -> Plan:
    """What ``build --tvm source`` will do for this checkout, said as it is decided (preflight).

    Facts: the TVM source's files (:func:`read_source`), the llvm-config (:func:`find_llvm_config`) and
    its ``--version``, nvcc's ``--dryrun`` for the toolkit, the toolkit's stub, ``CMAKE_ARGS``.
    """
    from mlc_devops import tools  # noqa: PLC0415

    source = read_source(checkout, opts.config.tvm_source_dir)
    description = ROOT_DESCRIPTION if source.layout == "root" else LEGACY_DESCRIPTION
    console.say(f"    tvm: {source.relative}, {source.layout} layout: {description}")
    llvm = find_llvm_config(opts.llvm_config, env, source)
    llvm_version = None
    if llvm is None:
        console.say(f"    tvm: the source has no {LLVM_SWITCH} (no compiler to build): built without LLVM")
        if opts.llvm_config:
            console.warn(f"--llvm-config {opts.llvm_config} is not used: the TVM source has no {LLVM_SWITCH}")
    else:
        raw = run_mod.output_of([llvm, "--version"], env=env)
        if raw is None:
            raise PrerequisiteMissing(f"{llvm} --version failed", hint=LLVM_PACKAGE_HINT)
        llvm_version = tools.first_line(raw)
        console.say(f"    tvm compiler: LLVM {llvm_version} ({llvm})")
    cuda = "cuda" in opts.config.backends
    user = cmake_args(env)
    root = driver = None
    notes: list[str] = []
    if cuda:
        dryrun = run_mod.run(
            ["nvcc", "--dryrun", "-x", "cu", "-c", os.devnull, "-o", os.devnull], env=env, check=False
        ).output
        root = cuda_root(env, nvcc_top(dryrun))
        driver, line = driver_library(
            root,
            root is not None and Path(root, *STUB_PATH).is_file(),
            user,
            reads=mentions(source.cmake, CUDA_DRIVER_VARIABLE),
        )
        archs = ";".join(opts.config.cuda_architectures) or "CMake's default"
        console.say(f"    tvm cuda: toolkit {root or 'not found'}, architectures {archs}")
        notes.append(line)
        console.say(f"    {line}")
    if user:
        console.say(f"    tvm: CMAKE_ARGS {' '.join(user)}")
    targets: tuple[str, ...] = ()
    if source.layout == "legacy":
        targets = legacy_targets((source.root / "CMakeLists.txt").read_text(encoding="utf-8", errors="replace"))
        if not targets:
            raise UsageError(f"the TVM source at {source.relative} defines neither the tvm nor the tvm_runtime library")
        if "tvm" not in targets:
            console.say("    tvm: the source has no tvm library (no compiler): building tvm_runtime only")
    return Plan(
        source=source,
        work=build_dir / WORK_DIR,
        build_type=opts.config.build_type,
        llvm_config=llvm,
        llvm_version=llvm_version,
        cuda=cuda,
        cuda_root=root,
        cuda_architectures=opts.config.cuda_architectures if cuda else (),
        cuda_driver=driver,
        switches=switches(source.cmake, llvm_config=llvm, cuda=cuda, cuda_root=root),
        targets=targets,
        user_args=tuple(user),
        notes=tuple(notes),
    )


@dataclass
class Built:
    """The TVM wheel a run produced, and what the report says of how."""

    wheel: Path
    isolation: bool
    cmake_floor: tuple[tuple[int, ...], str]
    retag: dict[str, Any] | None = None


def build(
    tvm: Plan,
    opts: options.BuildOptions,
    env: dict[str, str],
    launcher_defines: Mapping[str, str],
    console: Console,
    log: Any,
) -> Built:
    """Configure, compile and package the TVM wheel into ``tvm.wheelhouse``; retag it when it holds no
    extension module. ``env`` is the build's environment (launchers, jobs). Raises BuildFailed (exit 4)."""
    from mlc_devops import checks, fsutil, tools  # noqa: PLC0415
    from mlc_devops.buildsteps import builddir, decisions, native  # noqa: PLC0415

    tvm_ws = _tvm_workspace(tvm.source)
    floor = checks.cmake_floor_of(tvm_ws)
    cmake_ok = (
        run_mod.which("cmake", env) is not None and (tools.parse_version(tools.probe("cmake", env)) or ()) >= floor[0]
    )
    isolation = decisions.choose_isolation(
        opts.build_isolation,
        backend_here=workspace.requirements_met(workspace.build_requirements(tvm_ws)),
        cmake_ok=tvm.source.layout == "legacy" or cmake_ok,
    )
    console.say(f"    tvm: pip build isolation {'on' if isolation else 'off'}")
    shutil.rmtree(tvm.wheelhouse, ignore_errors=True)
    tvm.wheelhouse.mkdir(parents=True)
    fsutil.ensure_dir(tvm.build_dir, "TVM build directory")
    cache = checks.read_build_cache(tvm.build_dir)
    if cache is not None:
        reason = checks.stale_cache_reason(cache, root=tvm.source.root, build_dir=tvm.build_dir, generator=None)
        if reason is not None:
            removed = builddir.start_afresh(tvm.build_dir)
            console.say(f"    tvm: starting {tvm.build_dir} afresh ({reason}): removed {' and '.join(removed)}")
    fsutil.write_text_atomic(tvm.build_dir / "config.cmake", render_config(tvm))
    console.say(f"    wrote {tvm.build_dir / 'config.cmake'}")
    given = {**launcher_defines, **defines(tvm)}
    if tvm.source.layout == "root":
        cmd = decisions.root_wheel_command(
            sys.executable,
            tvm.source.root,
            tvm.wheelhouse,
            tvm.build_type,
            isolation=isolation,
            defines=given,
            cmake_floor=floor[0],
            build_dir=tvm.build_dir,
        )
        console.say("==> tvm prepare")
        clock = PhaseClock(console, {k: f"tvm {v}" for k, v in native.SKBUILD_MARKERS.items()}, "tvm prepare")
        try:
            run_mod.run(
                cmd,
                cwd=tvm.source.root,
                env=decisions.without_redirects(env),
                capture=False,
                log=log,
                on_line=_feed(Progress(console), clock),
                what="pip wheel of the TVM source (scikit-build-core)",
            )
        finally:
            clock.finish()
    else:
        _build_legacy(tvm, opts, env, given, isolation, floor[0], console, log)
    wheels = sorted(tvm.wheelhouse.glob("*.whl"))
    if len(wheels) != 1:
        raise BuildFailed(f"expected one TVM wheel from the build, found {len(wheels)}")
    built = Built(wheels[0], isolation, floor)
    retagged = retag(wheels[0], tvm.wheelhouse / "retagged")
    if retagged is not None:
        built.wheel, built.retag = retagged
        console.say(f"    tvm: retagged {retagged[1]['from']} -> {retagged[1]['to']}: {retagged[1]['reason']}")
    return built


def _feed(*watchers: Any) -> Any:
    def on_line(line: str) -> None:
        for watcher in watchers:
            watcher.feed(line)

    return on_line


def _build_legacy(
    tvm: Plan,
    opts: options.BuildOptions,
    env: dict[str, str],
    given: Mapping[str, str],
    isolation: bool,
    floor: tuple[int, ...],
    console: Console,
    log: Any,
) -> None:
    from mlc_devops import tools  # noqa: PLC0415
    from mlc_devops.buildsteps import decisions  # noqa: PLC0415

    windows = sys.platform.startswith("win")
    generator = decisions.choose_generator(windows=windows, ninja=run_mod.which("ninja", env) is not None)
    cmake = tools.cmake_program(floor, env)
    with console.phase("tvm configure"):
        configure = decisions.legacy_configure_command(
            tvm.source.root, tvm.build_dir, tvm.build_type, generator, given, cmake
        )
        run_mod.run(
            [*configure, *tvm.user_args],  # CMAKE_ARGS last, so that the user's -D wins, as with scikit-build-core
            cwd=tvm.source.root,
            env=env,
            capture=False,
            log=log,
            what="cmake configure of the TVM source",
        )
    with console.phase("tvm compile"):
        run_mod.run(
            [
                *decisions.legacy_compile_command(tvm.build_dir, opts.jobs, tvm.build_type, cmake),
                "--target",
                *tvm.targets,
            ],
            cwd=tvm.source.root,
            env=env,
            capture=False,
            log=log,
            on_line=_feed(Progress(console)),
            what=f"cmake --build of TVM's {' and '.join(tvm.targets)}",
        )
    libraries = tvm.build_dir / tvm.build_type if windows else tvm.build_dir
    with console.phase("tvm package"):
        run_mod.run(
            decisions.legacy_package_command(
                sys.executable, tvm.source.python_dir, tvm.wheelhouse, isolation=isolation
            ),
            cwd=tvm.source.python_dir,
            env={**env, "TVM_LIBRARY_PATH": str(libraries)},
            capture=False,
            log=log,
            what="pip wheel of TVM's python/ (setup.py), TVM_LIBRARY_PATH=" + str(libraries),
        )


def fetch_prebuilt(
    choice: options.TvmChoice, dest: Path, env: Mapping[str, str], *, exclude: str, project: str | None
) -> Path:
    """The prebuilt TVM wheel ``--tvm`` names, copied or downloaded into ``dest``.

    A wheel file; the TVM wheel of a folder (:func:`pick_wheel`, leaving out ``exclude``, the
    mlc_llm project); or ``pip download --no-deps --only-binary=:all:`` of ``choice.project``
    (else ``project``, the TVM source's own name) from the index. UsageError when the file or
    folder is missing; BuildFailed when pip cannot fetch it.
    """
    from mlc_devops import depwheels  # noqa: PLC0415

    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if choice.kind == "wheel":
        path = Path(choice.value or "")
        if not path.is_file():
            raise UsageError(f"--tvm {path}: no such wheel file")
    elif choice.kind == "directory":
        path = pick_wheel(Path(choice.value or ""), exclude=exclude)
    else:
        requirement = choice.project or project or "tvm"
        run_mod.run(
            depwheels.download_command(requirement, dest, find_links=(), offline=False, index_url=choice.value),
            env=env,
            what=f"pip download of {requirement} from {choice.value}",
        )
        wheels = sorted(dest.glob("*.whl"))
        if len(wheels) != 1:
            raise BuildFailed(f"pip download of {requirement} from {choice.value} gave {len(wheels)} wheels, not one")
        return wheels[0]
    shutil.copy2(path, dest / path.name)
    beside = report_path_for(path)  # its own build report, for the source commit
    if beside.is_file():
        shutil.copy2(beside, dest / beside.name)
    return dest / path.name


def name_pair(found: Sequence[Mapping[str, Any]], tvm_filename: str) -> list[dict[str, Any]]:
    """Validation's findings, with the undeclared pairing of the pair's own TVM wheel naming it as such. Pure.

    The finding stays (the mlc_llm wheel still does not declare TVM, so pip installs it alone),
    but says that the pair's report names the wheel and ``smoke`` installs both.
    """
    project = wheel_project(tvm_filename)[0]
    out = []
    for item in found:
        entry = dict(item)
        if (
            entry.get("kind") == "undeclared-pairing"
            and str(canonicalize_name(str(entry.get("package", "")))) == project
        ):
            entry["message"] = (
                f"{entry['message']}; it is the TVM wheel of the pair ({tvm_filename}), which the build report "
                "names and smoke installs beside it"
            )
            entry["pair"] = tvm_filename
        out.append(entry)
    return out
