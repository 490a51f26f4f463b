"""Issue 15, items 3-5 and 7, provoked for real: a build/ from a by-hand configure with another generator,
a moved checkout, an environment that redirects the build, and a Rust older than tokenizers needs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonshapes
import pytest
from standin import Cli, copy_standin

pytestmark = pytest.mark.integration


def _last_line(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _doctor_check(cli: Cli, ws: Path, name: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    proc = cli("doctor", str(ws), "--json", env=env)
    data = json.loads(proc.stdout)
    return proc.returncode, next(c for c in data["checks"] if c["name"] == name)


def _configure_by_hand(ws: Path, generator: str) -> None:
    """What upstream's docs do: cmake in build/, by hand."""
    subprocess.run(
        ["cmake", "-S", str(ws), "-B", str(ws / "build"), "-G", generator],
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("layout", ["root", "legacy"])
def test_build_dir_from_a_by_hand_makefiles_configure_is_started_afresh(
    layout: str,
    cli: Cli,
    tmp_path: Path,
) -> None:
    if shutil.which("ninja") is None:
        pytest.skip("needs ninja, so that the tool's generator differs from the by-hand one")
    ws = copy_standin(tmp_path / "ws")
    if layout == "legacy":
        (ws / "pyproject.toml").unlink()
    _configure_by_hand(ws, "Unix Makefiles")
    code, check = _doctor_check(cli, ws, "build cache")
    assert code == 0
    assert check["status"] == "warn"
    assert "configured with the 'Unix Makefiles' generator, and this build uses 'Ninja'" in check["detail"]
    proc = cli("build", str(ws), "--dist", str(tmp_path / "dist"))
    assert proc.returncode == 0, proc.stderr
    assert f"starting {ws / 'build'} afresh: removed CMakeCache.txt and CMakeFiles/" in proc.stderr
    assert "CMAKE_GENERATOR:INTERNAL=Ninja" in (ws / "build" / "CMakeCache.txt").read_text()
    assert _doctor_check(cli, ws, "build cache")[1]["status"] == "ok"


def test_moved_legacy_checkout_is_configured_afresh(cli: Cli, tmp_path: Path) -> None:
    host = copy_standin(tmp_path / "host")
    (host / "pyproject.toml").unlink()
    _configure_by_hand(host, "Ninja" if shutil.which("ninja") else "Unix Makefiles")
    moved = tmp_path / "workspace"
    host.rename(moved)  # as mounted at /workspace in the image
    code, check = _doctor_check(cli, moved, "build cache")
    assert code == 0
    assert check["status"] == "warn"
    assert f"configured for the source {host}, not {moved}" in check["detail"]
    proc = cli("build", str(moved), "--dist", str(tmp_path / "dist"))
    assert proc.returncode == 0, proc.stderr
    assert "afresh: removed CMakeCache.txt and CMakeFiles/" in proc.stderr
    assert f"CMAKE_HOME_DIRECTORY:INTERNAL={moved}" in (moved / "build" / "CMakeCache.txt").read_text()


def test_skbuild_build_dir_cannot_make_the_report_lie(cli: Cli, tmp_path: Path) -> None:
    ws = copy_standin(tmp_path / "ws")
    elsewhere = tmp_path / "elsewhere"
    env = {**os.environ, "SKBUILD_BUILD_DIR": str(elsewhere)}
    code, check = _doctor_check(cli, ws, "SKBUILD_BUILD_DIR", env=env)
    assert code == 0 and check["status"] == "warn"
    proc = cli("build", str(ws), "--backend", "opencl", "--dist", str(tmp_path / "dist"), "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "SKBUILD_BUILD_DIR" in proc.stderr
    assert jsonshapes.check_text(proc.stdout)["backends"] == ["cpu", "opencl"]
    log = (ws / "build" / "mlc-devops-build.log").read_text()
    assert "MLC-LLM stand-in: USE_OPENCL is ON" in log
    assert not elsewhere.exists()


def test_cmake_args_that_override_a_backend_fail_the_build(cli: Cli, tmp_path: Path) -> None:
    ws = copy_standin(tmp_path / "ws")
    env = {**os.environ, "CMAKE_ARGS": "-DUSE_OPENCL=OFF"}
    proc = cli("build", str(ws), "--backend", "opencl", "--dist", str(tmp_path / "dist"), env=env)
    assert proc.returncode == 4, proc.stderr
    assert _last_line(proc.stderr).endswith(
        "USE_OPENCL: asked ON, configured OFF (build/CMakeCache.txt): "
        "CMAKE_ARGS sets USE_OPENCL; unset it or drop USE_OPENCL from it"
    )
    assert "[warn] CMAKE_ARGS" in proc.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))


def _rust_shims(folder: Path, version: str) -> dict[str, str]:
    folder.mkdir()
    for name in ("rustc", "cargo"):
        shim = folder / name
        shim.write_text(f"#!/bin/sh\necho '{name} {version} (Debian bookworm)'\n")
        shim.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


def test_bookworms_rust_is_too_old_for_tokenizers(cli: Cli, tmp_path: Path) -> None:
    ws = copy_standin(tmp_path / "ws")
    env = _rust_shims(tmp_path / "shim", "1.63.0")
    code, check = _doctor_check(cli, ws, "rustc", env=env)
    assert code == 1
    assert check["status"] == "fail"
    assert check["detail"] == "rustc 1.63.0 is older than 1.82, which tokenizers 0.21 (Option::is_none_or) needs"
    assert check["fix"].startswith("rustup update")
    proc = cli("build", str(ws), "--dist", str(tmp_path / "dist"), env=env)
    assert proc.returncode == 3
    assert _last_line(proc.stderr).endswith(
        "cargo: cargo 1.63.0 is older than 1.82, which tokenizers 0.21 (Option::is_none_or) needs: " + check["fix"]
    )


def test_a_crates_rust_version_raises_the_floor(cli: Cli, tmp_path: Path) -> None:
    ws = copy_standin(tmp_path / "ws")
    cargo_toml = ws / "3rdparty" / "tokenizers-cpp" / "rust" / "Cargo.toml"
    cargo_toml.write_text(cargo_toml.read_text().replace('edition = "2021"', 'edition = "2021"\nrust-version = "1.85"'))
    env = _rust_shims(tmp_path / "shim", "1.84.0")
    code, check = _doctor_check(cli, ws, "cargo", env=env)
    assert code == 1
    assert check["detail"] == (
        "cargo 1.84.0 is older than 1.85, which rust-version in 3rdparty/tokenizers-cpp/rust/Cargo.toml needs"
    )
