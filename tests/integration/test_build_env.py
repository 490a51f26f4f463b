"""An isolated build keeps its build environment: made once, reused, so a rebuild is a true no-op."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonshapes
import pytest
from standin import Cli, make_git_workspace

pytestmark = pytest.mark.integration


def _build(cli: Cli, ws: Path, dist: Path, env: dict[str, str], *extra: str, cwd: Path | None = None) -> dict[str, Any]:
    proc = cli(
        "build", "--source", str(ws), "--dist", str(dist), "--build-isolation", "--json", *extra, env=env, cwd=cwd
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads(proc.stdout)
    jsonshapes.check_text(Path(report["report"]).read_text())
    report["stderr"] = proc.stderr
    return report


def _name(project: str) -> str:
    return project.lower().replace("_", "-")


def test_the_kept_environment_is_made_once_and_a_rebuild_configures_nothing(tmp_path: Path, cli: Cli) -> None:
    ws = make_git_workspace(tmp_path)
    envs = tmp_path / "envs"
    env = {**os.environ, "MLC_BUILD_ENV": str(envs)}
    # the flag wins over the variable; a relative folder is the caller's, not the checkout's
    first = _build(cli, ws, tmp_path / "dist", {**env, "MLC_BUILD_ENV": "fresh"}, "--build-env", "envs", cwd=tmp_path)
    made = first["build_environment"]
    assert made["kind"] == "kept" and made["created"] is True
    assert Path(made["path"]) == envs / made["key"]
    assert "scikit-build-core" in {_name(p) for p in made["packages"]}
    assert made["requires"][0].startswith("scikit-build-core")
    assert f"making the build environment {made['path']}" in first["stderr"]
    assert first["build_isolation"] is True
    # pip ran in it, without pip's own isolation
    log = (ws / "build" / "mlc-devops-build.log").read_text()
    (pip_line,) = [ln for ln in log.splitlines() if ln.startswith(f"$ {made['path']}/bin/python -m pip wheel ")]
    assert "--no-build-isolation" in pip_line
    assert "--config-settings" in pip_line and " -C " not in pip_line  # ensurepip's pip may predate -C
    assert first["compiler_cache"]["compile_steps"] > 0

    second = _build(cli, ws, tmp_path / "dist", env)
    again = second["build_environment"]
    assert again["created"] is False
    assert {k: again[k] for k in ("path", "key", "made_at", "packages")} == {
        k: made[k] for k in ("path", "key", "made_at", "packages")
    }
    assert "making the build environment" not in second["stderr"]
    # the same environment path: scikit-build-core keeps the configure, nothing is compiled
    assert second["compiler_cache"]["compile_steps"] == 0, second["compiler_cache"]
    assert second["wheel"]["sha256"] == first["wheel"]["sha256"]
    assert [p.name for p in envs.iterdir() if p.is_dir()] == [made["key"]]

    # pip's own isolation, a new temporary environment, makes scikit-build-core configure afresh
    fresh = _build(cli, ws, tmp_path / "dist", env, "--build-env", "fresh")
    assert fresh["build_environment"] == {"kind": "temporary"}
    assert fresh["compiler_cache"]["compile_steps"] > 0


def test_a_build_requirement_that_cannot_be_had_leaves_no_environment(tmp_path: Path, cli: Cli) -> None:
    ws = make_git_workspace(tmp_path)
    pyproject = ws / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('requires = ["', 'requires = ["mlc-devops-test-no-such-project==0", "', 1)
    )
    assert "mlc-devops-test-no-such-project" in pyproject.read_text()
    envs = tmp_path / "envs"
    env = {**os.environ, "MLC_BUILD_ENV": str(envs)}
    proc = cli("build", "--source", str(ws), "--dist", str(tmp_path / "dist"), "--build-isolation", env=env)
    assert proc.returncode == 4, proc.stderr[-3000:]
    # pip found everything but the bogus project (scikit-build-core comes from the same index)
    assert "No matching distribution found for mlc-devops-test-no-such-project==0" in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("mlc-devops build: error: pip install (build requirements) failed with exit code 1")
    assert "check [build-system] requires in" in proc.stderr
    assert not [p for p in envs.iterdir() if p.is_dir()], "a half-made environment was left"
    assert not (tmp_path / "dist").exists() or not list((tmp_path / "dist").glob("*.whl"))
