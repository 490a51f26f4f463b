"""Running the mlc_llm wheel's own build (root or legacy layout), its log streamed and its phases clocked."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Callable, NamedTuple

from mlc_devops import options, tools, workspace
from mlc_devops import run as run_mod
from mlc_devops.buildsteps.builddir import check_configured
from mlc_devops.buildsteps.decisions import (
    backend_defines,
    choose_generator,
    legacy_compile_command,
    legacy_configure_command,
    legacy_package_command,
    root_wheel_command,
    without_redirects,
)
from mlc_devops.ui import Console, PhaseClock, Progress

# scikit-build-core's progress banners, and the phase each one starts.
SKBUILD_MARKERS = {
    "*** Configuring CMake": "configure",
    "*** Building project with": "compile",
    "*** Installing project into wheel": "package",
    "*** Making wheel": "package",
}


# scikit-build-core's banners that say the compiles are over.
PACKAGING_MARKERS = ("*** Installing project into wheel", "*** Making wheel")


class OnMarker:
    """Calls ``callback`` once, at the first line that holds one of ``markers``."""

    def __init__(self, markers: Sequence[str], callback: Callable[[], None]) -> None:
        self.markers = markers
        self.callback: Callable[[], None] | None = callback

    def feed(self, line: str) -> None:
        if self.callback is not None and any(m in line for m in self.markers):
            callback, self.callback = self.callback, None
            callback()


def stream(console: Console, log: Any, extra: Sequence[Any] = ()) -> Any:
    progress = Progress(console)

    def on_line(line: str) -> None:
        progress.feed(line)
        for watcher in extra:
            watcher.feed(line)

    return on_line


class PipEnvironment(NamedTuple):
    """Who runs ``pip wheel``: ``python`` (the kept build environment's interpreter, or this one), whether
    pip makes its own isolated environment (``isolation``), and the kept environment's scripts folder
    (``scripts``), which goes first on PATH as pip's own isolation puts its environment's."""

    python: str
    isolation: bool
    scripts: Path | None = None


def pip_env(env: Mapping[str, str], chosen: PipEnvironment) -> dict[str, str]:
    """The environment ``pip wheel`` runs with: :func:`without_redirects`, and in a kept build environment
    isolated as pip isolates its own: its scripts first on PATH, no PYTHONPATH, no user site-packages. Pure."""
    out = without_redirects(env)
    if chosen.scripts is not None:
        out["PATH"] = os.pathsep.join([str(chosen.scripts), *([out["PATH"]] if out.get("PATH") else [])])
        out.pop("PYTHONPATH", None)
        out["PYTHONNOUSERSITE"] = "1"
    return out


def build_root(
    ws: workspace.Workspace,
    opts: options.BuildOptions,
    env: dict[str, str],
    wheelhouse: Path,
    console: Console,
    log: Any,
    pip_environment: Callable[[], PipEnvironment],
    *,
    defines: Mapping[str, str],
    floor: tuple[int, ...],
    compiled: Callable[[], None] | None = None,
) -> None:
    """The root layout: ``pip wheel`` in the environment ``pip_environment()`` gives, scikit-build-core's
    banners timed as phases; ``compiled()`` is called once when packaging begins (the compiles are over)."""
    chosen = pip_environment()
    python, isolation = chosen.python, chosen.isolation
    cmd = root_wheel_command(
        python,
        ws.root,
        wheelhouse,
        opts.config.build_type,
        isolation=isolation,
        defines={**defines, **backend_defines(opts.config)},
        cmake_floor=floor,
        build_dir=ws.build_dir,
    )
    console.say("==> prepare (pip and the isolated build environment)" if isolation else "==> prepare")
    clock = PhaseClock(console, SKBUILD_MARKERS, "prepare")
    try:
        run_mod.run(
            cmd,
            cwd=ws.root,
            env=pip_env(env, chosen),
            capture=False,
            log=log,
            on_line=stream(console, log, [clock, *([OnMarker(PACKAGING_MARKERS, compiled)] if compiled else [])]),
            what="pip wheel (scikit-build-core)",
        )
    finally:
        clock.finish()
    check_configured(ws, opts.config, env)


def build_legacy(
    ws: workspace.Workspace,
    opts: options.BuildOptions,
    env: dict[str, str],
    wheelhouse: Path,
    console: Console,
    log: Any,
    pip_environment: Callable[[], PipEnvironment],
    *,
    defines: Mapping[str, str],
    floor: tuple[int, ...],
    compiled: Callable[[], None] | None = None,
) -> None:
    """The legacy layout: configure and compile with CMake, then ``pip wheel python/`` in the environment
    ``pip_environment()`` gives, asked after the compile (python/setup.py reads the compiled libraries).
    ``compiled`` is not called: ``pip wheel python/`` writes build/ and egg-info into python/, so the
    checkout's state is asked after it."""
    from mlc_devops import tvmbuild  # noqa: PLC0415 - its CMAKE_ARGS reading; the module is TVM's build

    generator = choose_generator(windows=sys.platform.startswith("win"), ninja=run_mod.which("ninja", env) is not None)
    cmake = tools.cmake_program(floor, env)
    if cmake != "cmake":
        console.say(f"    cmake: {cmake} (the one on PATH is older than {workspace.version_text(floor)})")
    run_mod.run([cmake, "--version"], env=env, capture=False, log=log, what="cmake --version")  # into the log
    with console.phase("configure"):
        run_mod.run(
            [
                *legacy_configure_command(
                    ws.root,
                    ws.build_dir,
                    opts.config.build_type,
                    generator,
                    {**defines, **backend_defines(opts.config)},
                    cmake,
                ),
                # last, so that the user's -D wins, as scikit-build-core appends it in the root layout
                *tvmbuild.cmake_args(env),
            ],
            cwd=ws.root,
            env=env,
            capture=False,
            log=log,
            what="cmake configure",
        )
        check_configured(ws, opts.config, env)
    with console.phase("compile"):
        run_mod.run(
            legacy_compile_command(ws.build_dir, opts.jobs, opts.config.build_type, cmake),
            cwd=ws.root,
            env=env,
            capture=False,
            log=log,
            on_line=stream(console, log),
            what="cmake --build",
        )
    chosen = pip_environment()
    with console.phase("package"):
        run_mod.run(
            legacy_package_command(chosen.python, ws.python_dir, wheelhouse, isolation=chosen.isolation),
            cwd=ws.python_dir,
            env=pip_env(env, chosen) if chosen.scripts is not None else env,
            capture=False,
            log=log,
            what="pip wheel python/",
        )
