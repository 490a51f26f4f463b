"""A real Docker engine, a base image from Debian packages and the image, once per session.

The engine: DOCKER_HOST when set, else the one `mlc-devops image engine start`
runs, else the system's; with none answering, this session starts its own
(root and dockerd needed) and stops it at the end. Without an engine every
test here is skipped with the reason -- or fails, when MLC_REQUIRE_DOCKER=1
(CI sets it: there an engine must run).

The image is built the way CI builds it offline: FROM a trixie base made by
mmdebstrap (Python 3.13, like python:3.13-slim), Debian's Rust, the host's CA
bundle (this network re-signs TLS), the classic builder, host networking.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import jsonshapes
import pytest

from mlc_devops.container import engine as docker_engine
from mlc_devops.errors import MlcDevopsError

REPO = Path(__file__).resolve().parents[2]
IMAGE = "mlc-llm-dev:ci-test"
BASE = "mlc-devops/base:trixie"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.container)
            item.add_marker(pytest.mark.slow)


@dataclass
class Docker:
    """The docker client bound to one engine."""

    env: dict[str, str]
    version: str
    started_here: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    image: str = IMAGE
    base: str = BASE
    repo: Path = REPO

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 600, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            ["docker", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"docker {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        return proc

    def run(
        self,
        *args: str,
        mounts: Sequence[str] = (),
        env: Sequence[str] = (),
        check: bool = True,
        timeout: float = 600,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """``docker run --rm --network host [-v ...] [-e K=V ...] IMAGE ARGS``."""
        volumes = [part for m in mounts for part in ("--volume", m)]
        variables = [part for e in env for part in ("--env", e)]
        command = ("run", "--rm", "--network", "host", *volumes, *variables, self.image, *args)
        return self(*command, check=check, timeout=timeout, input=input)

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """The real mlc-devops, in a child process, talking to this engine."""
        return cli(*args, env=self.env, timeout=timeout)

    def image_build_args(self, context: Path = REPO, tag: str = IMAGE, builder: str = "classic") -> list[str]:
        return image_build_args(context, tag, builder)


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("MLC_REQUIRE_DOCKER") == "1":
        pytest.fail(f"MLC_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


def cli(*args: str, env: dict[str, str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """The real mlc-devops, in a child process."""
    return subprocess.run(
        [sys.executable, "-m", "mlc_devops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def docker() -> Iterator[Docker]:
    base_env = dict(os.environ)
    if shutil.which("docker") is None:
        _unavailable("no docker client on PATH (apt-get install docker.io)")
    candidates: list[dict[str, str]] = []
    if base_env.get("DOCKER_HOST"):
        candidates.append(base_env)
    else:
        candidates.append(docker_engine.engine_env(docker_engine.Engine.from_env(base_env), base_env))
        candidates.append(base_env)
    for env in candidates:
        version = docker_engine.engine_answers(env)
        if version is not None:
            yield Docker(env, version)
            return
    if base_env.get("DOCKER_HOST"):
        _unavailable(f"no Docker engine answers at DOCKER_HOST={base_env['DOCKER_HOST']}")
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        _unavailable("no Docker engine answers, and this session cannot start one (needs root and dockerd)")
    engine = docker_engine.Engine.from_env(base_env)
    try:
        version = docker_engine.start_engine(engine, base_env)
    except MlcDevopsError as exc:
        _unavailable(f"no Docker engine: {exc.one_line()}")
    try:
        yield Docker(docker_engine.engine_env(engine, base_env), version, started_here=True)
    finally:
        docker_engine.stop_engine(engine, base_env)


def ca_bundle() -> Path | None:
    for candidate in (os.environ.get("SSL_CERT_FILE", ""), "/etc/ssl/certs/ca-certificates.crt"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def image_build_args(context: Path = REPO, tag: str = IMAGE, builder: str = "classic") -> list[str]:
    """`mlc-devops image build` as these tests (and CI) run it, offline from registries."""
    args = [
        "image", "build", "--context", str(context), "--tag", tag, "--base-image", BASE,
        "--rust-source", "debian", "--network", "host", "--builder", builder, "--json",
        "--revision", "0" * 40,
    ]  # fmt: skip
    bundle = ca_bundle()
    if bundle is not None:
        args += ["--ca-cert", str(bundle)]
    return args


@pytest.fixture(scope="session")
def base_image(docker: Docker) -> str:
    if shutil.which("mmdebstrap") is None and docker("image", "inspect", BASE, check=False).returncode != 0:
        _unavailable("mmdebstrap is not installed (apt-get install mmdebstrap): cannot make the base image")
    proc = cli("image", "base", "--suite", "trixie", "--tag", BASE, env=docker.env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return BASE


@pytest.fixture(scope="session")
def image(docker: Docker, base_image: str) -> str:  # noqa: ARG001 - the image is built FROM the base
    proc = cli(*image_build_args(), env=docker.env)
    if proc.returncode != 0:
        pytest.fail(f"image build failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    report = jsonshapes.check_text(proc.stdout)
    docker.timings["image_build_seconds"] = report["seconds"]
    return IMAGE
