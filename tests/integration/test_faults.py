"""The catalogue of docs/errors.md, each way a build goes wrong provoked for real."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from standin import Cli, copy_standin, env_without, git

pytestmark = pytest.mark.integration


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


@contextlib.contextmanager
def tmpfs(path: Path, *options: str) -> Iterator[Path]:
    """A small tmpfs mounted at ``path`` (root only); skips the test where mounting is not allowed."""
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join(("size=8m", *options))
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_path_that_is_not_a_directory(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    proc = cli("build", str(tmp_path / "file"))
    assert proc.returncode == 2
    assert _last_line(proc.stderr).endswith("is not a directory: pass the path of an MLC-LLM checkout")


def test_directory_that_is_not_a_checkout(cli: Cli, tmp_path: Path) -> None:
    proc = cli("build", str(tmp_path))
    assert proc.returncode == 2
    assert "is not an MLC-LLM checkout (no CMakeLists.txt)" in _last_line(proc.stderr)


def test_partly_initialised_submodules(git_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    clone = tmp_path / "partial"
    git("clone", "-q", str(git_workspace), str(clone), cwd=tmp_path)
    git("submodule", "update", "--init", "3rdparty/tvm", cwd=clone)
    proc = cli("doctor", str(clone), "--json")
    data = json.loads(proc.stdout)
    states = {c["name"]: c["status"] for c in data["checks"]}
    assert proc.returncode == 1
    assert states["submodule 3rdparty/tvm"] == "ok"
    assert states["submodule 3rdparty/tokenizers-cpp"] == "fail"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "tpu"], "unknown backend 'tpu'"),
        (["--backend", "vulkan;rm -rf /"], "unknown backend 'vulkan;rm -rf /'"),
        (["--backend", "cutlass"], "backend 'cutlass' needs its parent 'cuda'"),
        (["--backend", "cuda", "--cuda-arch", "90$(reboot)"], "invalid CUDA architecture '90$(reboot)'"),
    ],
)
def test_bad_backend_values_are_usage_errors(cli: Cli, plain_workspace: Path, args: list[str], message: str) -> None:
    proc = cli("build", str(plain_workspace), *args)
    assert proc.returncode == 2
    assert message in _last_line(proc.stderr)
    assert not (plain_workspace / "build").exists()


@pytest.mark.parametrize("program", ["cmake", "c++"])
def test_cmake_or_compiler_missing(plain_workspace: Path, cli: Cli, tmp_path: Path, program: str) -> None:
    hidden = ("cmake",) if program == "cmake" else ("c++", "g++", "clang++", "cl")
    env = env_without(hidden, tmp_path / "path")
    proc = cli("build", str(plain_workspace), "--no-build-isolation", env=env)
    assert proc.returncode == 3
    name = "cmake" if program == "cmake" else "C++ compiler"
    assert _last_line(proc.stderr).startswith(f"mlc-devops build: error: {name}: ")


def test_config_cmake_at_the_root_is_overridden_and_said(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    (plain_workspace / "config.cmake").write_text("set(USE_VULKAN ON)\n")
    proc = cli("build", str(plain_workspace), "--dist", str(tmp_path / "dist"))
    assert proc.returncode == 0, proc.stderr
    assert "config.cmake is ignored: CMakeLists.txt includes build/config.cmake first" in proc.stderr
    assert "set(USE_VULKAN OFF)" in (plain_workspace / "build" / "config.cmake").read_text()


def test_unparseable_pyproject(plain_workspace: Path, cli: Cli) -> None:
    (plain_workspace / "pyproject.toml").write_text("[tool.scikit-build\nwheel.py-api = ")
    proc = cli("build", str(plain_workspace))
    assert proc.returncode == 2
    assert "pyproject.toml cannot be parsed" in _last_line(proc.stderr)


def test_unparseable_cmakelists_is_a_build_failure_with_cmakes_words(
    plain_workspace: Path, cli: Cli, tmp_path: Path
) -> None:
    cml = plain_workspace / "CMakeLists.txt"
    cml.write_text(cml.read_text() + "\nif(\n")
    proc = cli("build", str(plain_workspace), "--dist", str(tmp_path / "dist"))
    assert proc.returncode == 4
    assert "CMake Error" in proc.stderr
    assert "pip wheel (scikit-build-core) failed" in _last_line(proc.stderr)
    assert not list((tmp_path / "dist").glob("*"))


def test_workspace_path_with_spaces_and_non_ascii(tmp_path: Path, cli: Cli) -> None:
    ws = copy_standin(tmp_path / "my work é 世界" / "mini llm")
    proc = cli("build", str(ws), "--no-build-isolation")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(list((ws / "dist").glob("*.whl"))) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_read_only_dist(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro") as dist:
        proc = cli("build", str(plain_workspace), "--dist", str(dist))
    assert proc.returncode == 3
    assert "is not writable: Read-only file system" in _last_line(proc.stderr)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_read_only_workspace(cli: Cli, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro") as mount:
        copy_standin(mount / "ws")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        proc = cli("build", str(mount / "ws"), "--dist", str(tmp_path / "dist"))
    assert proc.returncode == 3
    assert "build dir: cannot write" in _last_line(proc.stderr)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_disk_for_the_workspace_is_caught_before_compiling(cli: Cli, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small") as mount:
        ws = copy_standin(mount / "ws")
        proc = cli("build", str(ws), "--dist", str(tmp_path / "dist"))
    assert proc.returncode == 3
    assert "disk: 0.0 GiB free" in _last_line(proc.stderr)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a tmpfs needs root")
def test_full_dist_leaves_nothing_half_written(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full") as dist:
        filler = dist / "filler"
        subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1k", "count=8192"], capture_output=True, check=False)
        proc = cli("build", str(plain_workspace), "--dist", str(dist))
        left = sorted(p.name for p in dist.iterdir())
    assert proc.returncode == 3, proc.stderr
    assert "No space left on device" in _last_line(proc.stderr)
    assert left == ["filler"]


def test_second_build_in_one_workspace_refuses_or_waits(plain_workspace: Path, cli: Cli, tmp_path: Path) -> None:
    build_dir = plain_workspace / "build"
    build_dir.mkdir()
    fd = os.open(build_dir / ".mlc-devops.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, b"4242")
    try:
        proc = cli("build", str(plain_workspace), "--dist", str(tmp_path / "dist"))
        assert proc.returncode == 10
        assert _last_line(proc.stderr) == (
            f"mlc-devops build: error: another mlc-devops build is running in {plain_workspace.resolve()} (pid 4242): "
            "wait for it to finish, or pass --wait to queue behind it"
        )
        releaser = threading.Timer(2.0, lambda: fcntl.flock(fd, fcntl.LOCK_UN))
        releaser.start()
        started = time.monotonic()
        proc = cli("build", str(plain_workspace), "--dist", str(tmp_path / "dist"), "--wait")
        assert proc.returncode == 0, proc.stderr
        assert "waiting for the build running in" in proc.stderr
        assert time.monotonic() - started >= 2.0
    finally:
        os.close(fd)
