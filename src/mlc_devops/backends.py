"""GPU backends and the config.cmake that selects them.

The non-interactive equivalent of upstream's ``cmake/gen_cmake_config.py``:
pure functions from a choice of backends to the text of config.cmake, and back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mlc_devops.errors import UsageError


@dataclass(frozen=True)
class Backend:
    name: str
    cmake_switch: str | None  # None: always built (cpu)
    parent: str | None = None
    description: str = ""


# Order is the order of the lines in config.cmake (upstream's prompt order).
BACKENDS: tuple[Backend, ...] = (
    Backend("cpu", None, description="CPU only (always built)"),
    Backend("cuda", "USE_CUDA", description="NVIDIA CUDA"),
    Backend("cutlass", "USE_CUTLASS", parent="cuda", description="CUTLASS kernels"),
    Backend("cublas", "USE_CUBLAS", parent="cuda", description="cuBLAS"),
    Backend("flashinfer", "USE_FLASHINFER", parent="cuda", description="FlashInfer kernels"),
    Backend("rocm", "USE_ROCM", description="AMD ROCm"),
    Backend("vulkan", "USE_VULKAN", description="Vulkan (SPIR-V)"),
    Backend("metal", "USE_METAL", description="Apple Metal"),
    Backend("opencl", "USE_OPENCL", description="OpenCL"),
    Backend("host-ptr", "USE_OPENCL_ENABLE_HOST_PTR", parent="opencl", description="OpenCL host pointers"),
)
BY_NAME: dict[str, Backend] = {b.name: b for b in BACKENDS}

BUILD_TYPES = ("Release", "RelWithDebInfo", "Debug", "MinSizeRel")
# The one build-type default (options.SETTINGS["build_type"] shows it): what upstream builds its wheel with,
# pyproject.toml's cmake.build-type = "Release", the `pip wheel` of ci/task/build_lib.sh. RelWithDebInfo is
# upstream's default only for a hand-run CMake (CMakeLists.txt with no CMAKE_BUILD_TYPE, and
# cmake/gen_cmake_config.py's prompts): a developer's tree, not a wheel, whose libraries debug info makes
# larger for auditwheel, the upload and every install.
DEFAULT_BUILD_TYPE = "Release"
DEFAULT_TVM_SOURCE_DIR = "3rdparty/tvm"

_ARCH = re.compile(r"^(?:\d{2,3}[af]?(?:-real|-virtual)?|all|all-major|native)$")


@dataclass(frozen=True)
class CMakeConfig:
    """Everything config.cmake expresses."""

    backends: frozenset[str] = frozenset({"cpu"})
    cuda_architectures: tuple[str, ...] = ()
    tvm_source_dir: str = DEFAULT_TVM_SOURCE_DIR
    build_type: str = DEFAULT_BUILD_TYPE
    extra: tuple[tuple[str, str], ...] = field(default=())


def _suggest(name: str) -> str:
    import difflib  # noqa: PLC0415

    close = difflib.get_close_matches(name, list(BY_NAME), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_backends(values: Iterable[str]) -> frozenset[str]:
    """Parse ``--backend`` values (repeated and/or comma-separated) and check parents."""
    chosen: set[str] = set()
    for value in values:
        for raw in value.split(","):
            name = raw.strip().lower()
            if not name:
                continue
            if name not in BY_NAME:
                raise UsageError(
                    f"unknown backend {raw.strip()!r}{_suggest(name)}",
                    hint="choose from " + ", ".join(BY_NAME),
                )
            chosen.add(name)
    chosen.add("cpu")  # the CPU runtime is always built
    for name in sorted(chosen):
        parent = BY_NAME[name].parent
        if parent is not None and parent not in chosen:
            raise UsageError(
                f"backend '{name}' needs its parent '{parent}'",
                hint=f"add --backend {parent} or drop {name}",
            )
    return frozenset(chosen)


def parse_cuda_architectures(value: str) -> tuple[str, ...]:
    """``"80;90"``, ``"80,90"`` or ``"90"`` to a tuple; every entry checked."""
    parts = [p.strip() for p in re.split(r"[;, ]+", value) if p.strip()]
    for part in parts:
        if not _ARCH.match(part):
            raise UsageError(
                f"invalid CUDA architecture {part!r}",
                hint="use numbers such as 80 or 90, optionally with -real or -virtual, or all, all-major, native",
            )
    return tuple(parts)


def make_config(
    backends: Iterable[str] = ("cpu",),
    *,
    cuda_architectures: Iterable[str] = (),
    tvm_source_dir: str = DEFAULT_TVM_SOURCE_DIR,
    build_type: str = DEFAULT_BUILD_TYPE,
) -> CMakeConfig:
    chosen = parse_backends(backends)
    archs = tuple(cuda_architectures)
    if archs and "cuda" not in chosen:
        raise UsageError("--cuda-arch was given without the cuda backend", hint="add --backend cuda")
    if build_type not in BUILD_TYPES:
        raise UsageError(f"unknown build type {build_type!r}", hint="choose from " + ", ".join(BUILD_TYPES))
    if not tvm_source_dir or "\n" in tvm_source_dir or "\x00" in tvm_source_dir:
        raise UsageError("TVM_SOURCE_DIR must be a single-line path")
    return CMakeConfig(chosen, archs, tvm_source_dir, build_type)


def cmake_quote(value: str) -> str:
    """Quote ``value`` as a CMake quoted argument: nothing in it is expanded."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace(";", "\\;")
    return f'"{escaped}"'


def cmake_unquote(token: str) -> str:
    if len(token) >= 2 and token[0] == '"' and token[-1] == '"':
        out = []
        body = token[1:-1]
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                out.append(body[i + 1])
                i += 2
                continue
            out.append(ch)
            i += 1
        return "".join(out)
    return token


HEADER = "# config.cmake written by mlc-devops (mlc-devops config); edit the command, not this file.\n"


def render(config: CMakeConfig) -> str:
    """The text of config.cmake for ``config``; deterministic for equal inputs."""
    lines = [HEADER.rstrip("\n")]
    lines.append(f"set(TVM_SOURCE_DIR {cmake_quote(config.tvm_source_dir)})")
    lines.append(f"set(CMAKE_BUILD_TYPE {config.build_type})")
    for backend in BACKENDS:
        if backend.cmake_switch is None:
            continue
        state = "ON" if backend.name in config.backends else "OFF"
        lines.append(f"set({backend.cmake_switch} {state})")
    if "cuda" in config.backends:
        lines.append("set(USE_THRUST ON)")
        if config.cuda_architectures:
            # Entries are validated architecture names; the ';' must stay a list separator.
            lines.append(f'set(CMAKE_CUDA_ARCHITECTURES "{";".join(config.cuda_architectures)}")')
    for key, value in config.extra:
        lines.append(f"set({key} {cmake_quote(value)})")
    return "\n".join(lines) + "\n"


_SET = re.compile(r'^\s*set\(\s*([A-Za-z_][A-Za-z0-9_]*)\s+("(?:[^"\\]|\\.)*"|[^\s)]+)\s*\)\s*$')


def parse(text: str) -> dict[str, str]:
    """Read the ``set(NAME value)`` lines of a config.cmake (comments ignored)."""
    values: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _SET.match(stripped)
        if not match:
            raise UsageError(f"config.cmake line {lineno} is not a simple set(NAME value): {stripped[:60]!r}")
        values[match.group(1)] = cmake_unquote(match.group(2))
    return values


def config_from_values(values: dict[str, str]) -> CMakeConfig:
    """Inverse of :func:`render` for the keys it writes."""
    chosen = {"cpu"}
    for backend in BACKENDS:
        if backend.cmake_switch and values.get(backend.cmake_switch, "OFF").upper() in ("ON", "1", "TRUE", "YES"):
            chosen.add(backend.name)
    archs_text = values.get("CMAKE_CUDA_ARCHITECTURES", "")
    archs = tuple(a for a in archs_text.split(";") if a)
    return CMakeConfig(
        frozenset(chosen),
        archs,
        values.get("TVM_SOURCE_DIR", DEFAULT_TVM_SOURCE_DIR),
        values.get("CMAKE_BUILD_TYPE", DEFAULT_BUILD_TYPE),
    )
