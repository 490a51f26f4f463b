from __future__ import annotations

from pathlib import Path

import pytest

from mlc_devops import options
from mlc_devops.errors import UsageError


def test_flag_beats_env_beats_preset_beats_default() -> None:
    env = {"MLC_BACKENDS": "rocm", "MLC_JOBS": "3"}
    r = options.resolve({"backends": ["vulkan"], "preset": "cuda"}, env, cores=8, memory=None)
    assert r.config.backends == {"cpu", "vulkan"}
    assert r.origins["backends"].origin == "flag"
    assert r.jobs == 3 and r.origins["jobs"].origin == "env MLC_JOBS"
    r = options.resolve({"preset": "cuda"}, env, cores=8, memory=None)
    assert r.config.backends == {"cpu", "rocm"}
    r = options.resolve({"preset": "cuda"}, {}, cores=8, memory=None)
    assert r.config.backends == {"cpu", "vulkan", "cuda", "cublas"}
    assert r.config.cuda_architectures == ("80", "90", "100", "120")
    assert r.origins["backends"].origin == "preset cuda"
    r = options.resolve({}, {}, cores=8, memory=None)
    assert r.config.backends == {"cpu"} and r.origins["backends"].origin == "default"


def test_preset_from_environment() -> None:
    r = options.resolve({}, {"MLC_PRESET": "vulkan"}, cores=1, memory=None)
    assert r.config.backends == {"cpu", "vulkan"}


def test_unknown_preset() -> None:
    with pytest.raises(UsageError, match="unknown preset"):
        options.resolve({"preset": "tpu"}, {}, cores=1, memory=None)


@pytest.mark.parametrize(
    ("cores", "memory", "expected"),
    [(16, 8 * options.GB, 4), (2, 24 * options.GB, 2), (8, None, 8), (4, 1 * options.GB, 1)],
)
def test_jobs_are_cores_capped_by_memory(cores: int, memory: int | None, expected: int) -> None:
    assert options.default_jobs(cores, memory) == expected


@pytest.mark.parametrize("jobs", ["0", "-2", "many"])
def test_bad_jobs(jobs: str) -> None:
    with pytest.raises(UsageError, match="--jobs"):
        options.resolve({"jobs": jobs}, {}, cores=1, memory=None)


def test_dist_defaults_under_source() -> None:
    r = options.resolve({"source": "/src/mlc"}, {}, cores=1, memory=None)
    assert r.dist_dir == Path("/src/mlc/dist")
    with pytest.raises(UsageError, match="no source"):
        _ = options.resolve({}, {}, cores=1, memory=None).dist_dir


def test_yes_no_values() -> None:
    assert options.resolve({}, {"MLC_REPAIR": "yes"}, cores=1, memory=None).repair is True
    with pytest.raises(UsageError, match="yes/no"):
        options.resolve({}, {"MLC_REPAIR": "maybe"}, cores=1, memory=None)
