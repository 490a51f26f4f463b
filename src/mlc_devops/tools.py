"""Versions of the programs a build uses: probed at the edge, parsed by pure functions."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from mlc_devops import run as run_mod

_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """The first dotted version number in ``text``: 'cmake version 3.25.1' -> (3, 25, 1)."""
    if not text:
        return None
    match = _VERSION.search(text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else None


def parse_nvcc_release(text: str | None) -> str | None:
    """'Cuda compilation tools, release 13.0, V13.0.48' -> '13.0'."""
    if not text:
        return None
    match = re.search(r"release\s+(\d+\.\d+)", text)
    return match.group(1) if match else None


def parse_nvcc_arches(text: str | None) -> tuple[str, ...]:
    """``nvcc --list-gpu-arch`` output (compute_75 ...) -> ('75', ...)."""
    if not text:
        return ()
    found = re.findall(r"compute_(\d+[a-z]?)", text)
    return tuple(dict.fromkeys(found))


def first_line(text: str | None) -> str | None:
    if not text:
        return None
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return None


VERSION_PROBES: dict[str, list[str]] = {
    "cmake": ["cmake", "--version"],
    "ninja": ["ninja", "--version"],
    "c++": ["c++", "--version"],
    "cc": ["cc", "--version"],
    "git": ["git", "--version"],
    "cargo": ["cargo", "--version"],
    "rustc": ["rustc", "--version"],
    "nvcc": ["nvcc", "--version"],
    "ccache": ["ccache", "--version"],
    "sccache": ["sccache", "--version"],
}


def probe(name: str, env: Mapping[str, str] | None = None) -> str | None:
    """The raw ``--version`` output of a tool, or None when absent or failing."""
    args = list(VERSION_PROBES[name])
    if name in ("cc", "c++") and env is not None:
        override = env.get("CC" if name == "cc" else "CXX")
        if override:
            args[0] = override
    found = run_mod.which(args[0], env)
    if found is None:
        return None
    if name == "cmake":
        args[0] = pypi_cmake_binary(found) or found
    return run_mod.output_of(args, env=env)


def pypi_cmake_binary(program: str) -> str | None:
    """The CMake binary behind PyPI's ``cmake`` console script at ``program``, or None where ``program`` is
    not one (a binary, another script, Windows' launcher .exe).

    PyPI's ``cmake`` package installs ``bin/cmake`` as a Python script (``from cmake import cmake``) that
    runs ``<site-packages>/cmake/data/bin/cmake`` with the same arguments; asking the binary its version
    gives the same answer without a Python start-up (0.15 s of CPU measured with cmake 4.4.5 on 2 cores,
    where preflight waited for it). Found beside the script as a virtual environment lays it out.
    """
    from pathlib import Path  # noqa: PLC0415

    script = Path(program)
    try:
        with open(script, "rb") as fh:
            head = fh.read(512)
    except OSError:
        return None
    if not head.startswith(b"#!") or b"from cmake import" not in head:
        return None
    found = [
        binary
        for binary in script.parent.parent.glob("lib/python*/site-packages/cmake/data/bin/cmake")
        if binary.is_file() and os.access(binary, os.X_OK)
    ]
    # one environment, one cmake: where several Pythons' site-packages hold one, the script's own is not
    # known without its interpreter, and the script itself is asked
    return str(found[0]) if len(found) == 1 else None


def describe(name: str, raw: str | None) -> str | None:
    if raw is None:
        return None
    if name == "nvcc":
        return parse_nvcc_release(raw)
    version = parse_version(first_line(raw))
    return ".".join(str(v) for v in version) if version else first_line(raw)


def versions(names: list[str], env: Mapping[str, str] | None = None) -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": ".".join(str(v) for v in sys.version_info[:3])}
    for name in names:
        out[name] = describe(name, probe(name, env))
    return out


class VersionProbes:
    """Each program's ``--version``, asked once per build and all at once.

    A build asks the same programs twice (preflight: cmake, cargo, rustc; the
    report: those and ninja, c++, the compiler caches), one process after the
    other: about 0.1 s of the tool's fixed cost on a 2-core machine (issue 12,
    goal 4, measured with cProfile on the scalable stand-in). :meth:`start` runs
    the probes in threads (each is a child process, so they overlap each other
    and the build); :meth:`raw` waits for one; :meth:`versions` for several.
    Nothing is kept between builds: a rustup proxy answers for the toolchain
    selected now, so only asking now is true.
    """

    def __init__(self, env: Mapping[str, str] | None = None, *, pool: ThreadPoolExecutor | None = None) -> None:
        """``pool`` runs the probes (the caller's, shut down by the caller); else one of their own."""
        self._env = env
        self._own = pool is None
        self._pool = pool if pool is not None else ThreadPoolExecutor(max_workers=8, thread_name_prefix="probe")
        self._futures: dict[str, Future[str | None]] = {}

    def start(self, names: Iterable[str]) -> None:
        """Begin probing ``names`` (keys of :data:`VERSION_PROBES`) that are not begun yet."""
        for name in names:
            if name not in self._futures:
                self._futures[name] = self._pool.submit(probe, name, self._env)

    def raw(self, name: str) -> str | None:
        """:func:`probe`'s answer for ``name``, waiting for it (begun now when it was not)."""
        self.start([name])
        return self._futures[name].result()

    def versions(self, names: Iterable[str]) -> dict[str, str | None]:
        """As :func:`versions`, from these probes."""
        out: dict[str, str | None] = {"python": ".".join(str(v) for v in sys.version_info[:3])}
        wanted = list(names)
        self.start(wanted)
        for name in wanted:
            out[name] = describe(name, self.raw(name))
        return out

    def close(self) -> None:
        """Stop the probes' own pool (not a caller's); those running finish on their own."""
        if self._own:
            self._pool.shutdown(wait=False, cancel_futures=True)


# The programs every build report names (with nvcc for CUDA builds, :func:`build_probes`).
REPORT_TOOLS = ("cmake", "ninja", "c++", "cargo", "rustc")


def build_probes(backends: Iterable[str]) -> list[str]:
    """The programs a build asks the version of at its start: :data:`REPORT_TOOLS`, and nvcc for ``cuda``. Pure."""
    return [*REPORT_TOOLS, *(["nvcc"] if "cuda" in backends else [])]


def environment_cmake() -> str | None:
    """The cmake that PyPI's ``cmake`` package put beside this interpreter, if any."""
    from pathlib import Path  # noqa: PLC0415

    folder = Path(sys.executable).parent
    for name in ("cmake", "cmake.exe"):
        candidate = folder / name
        if candidate.is_file():
            return str(candidate)
    return None


def environment_cmake_version(env: Mapping[str, str] | None = None) -> tuple[int, ...] | None:
    """Version of :func:`environment_cmake`, or None when there is none."""
    program = environment_cmake()
    if program is None:
        return None
    return parse_version(run_mod.output_of([pypi_cmake_binary(program) or program, "--version"], env=env))


def cmake_program(floor: tuple[int, ...], env: Mapping[str, str] | None = None) -> str:
    """The cmake a build runs: PATH's when it meets ``floor``, else this environment's when that does.

    Falls back to ``cmake`` (PATH's), whose failure preflight has already reported.
    """
    found = parse_version(probe("cmake", env))
    if found is not None and found >= floor:
        return "cmake"
    own = environment_cmake()
    if own is not None:
        version = environment_cmake_version(env)
        if version is not None and version >= floor:
            return own
    return "cmake"


# What a probe's answer depends on, of the environment: where programs are found, and the compilers chosen.
PROBE_VARIABLES = ("PATH", "CC", "CXX")
_early: tuple[dict[str, str | None], VersionProbes] | None = None


def begin_early(env: Mapping[str, str]) -> None:
    """Begin :data:`REPORT_TOOLS`' probes now, before the command's modules load; :func:`take_early`
    hands them to the build. ``cli.main`` calls this for ``build``: the probes then end before preflight
    asks for them, instead of 0.05 s after (issue 12, goal 4; measured on the scalable stand-in, 2 cores)."""
    global _early  # noqa: PLW0603 - one process, one command: handed over once
    discard_early()
    probes = VersionProbes(env)
    probes.start(REPORT_TOOLS)
    _early = ({k: env.get(k) for k in PROBE_VARIABLES}, probes)


def take_early(env: Mapping[str, str]) -> VersionProbes:
    """The probes :func:`begin_early` began, where ``env`` finds the same programs; else new ones."""
    global _early
    early, _early = _early, None
    if early is not None:
        if early[0] == {k: env.get(k) for k in PROBE_VARIABLES}:
            return early[1]
        early[1].close()
    return VersionProbes(env)


def discard_early() -> None:
    """Close the probes :func:`begin_early` began where no build took them (a usage error): those not yet
    begun are cancelled, and ``cli.main`` does not leave them to the interpreter's exit."""
    global _early
    early, _early = _early, None
    if early is not None:
        early[1].close()
