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

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from mlc_devops.errors import UsageError

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
