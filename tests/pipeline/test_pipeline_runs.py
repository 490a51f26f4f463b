"""Events through .github/workflows/ci.yml under act, offline, on the stand-in (docs/pipeline.md).

The test job inside act runs a small marked subset (PYTEST_ADDOPTS: the run's
--pytest-args); the image build reuses the engine's layer cache except on
tags, where ci.yml asks for a cold build.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from mlc_devops import pipeline

REPO = Path(__file__).resolve().parents[2]
SPEC_JOBS = ["lint", "test", "docker", "wheel-linux", "smoke-linux"]


def run(event: str, work: Path, env: dict[str, str], **kw: object) -> pipeline.RunResult:
    result = pipeline.run_pipeline(event, REPO, work, env, **kw)  # type: ignore[arg-type]
    (work / "report.json").write_text(json.dumps(result.as_json(), indent=2))
    return result


def by_name(result: pipeline.RunResult) -> dict[str, pipeline.JobReport]:
    return {j.name: j for j in result.jobs}


def assert_ran_in_order(result: pipeline.RunResult, names: list[str]) -> None:
    jobs = by_name(result)
    assert [jobs[n].result for n in names] == ["success"] * len(names), result.log
    starts = [jobs[n].started for n in names]
    assert starts == sorted(starts)


def test_push_to_main(tmp_path: Path, engine_env: dict[str, str]) -> None:
    result = run("push", tmp_path, engine_env)
    assert result.rc == 0, result.log
    assert_ran_in_order(result, SPEC_JOBS)
    jobs = by_name(result)
    assert jobs["release"].result in ("skipped", "not run")
    assert jobs["docker"].outputs["image"].startswith(f"ghcr.io/{pipeline.REPOSITORY}:sha-")
    assert jobs["docker"].artifacts_up == ["image-sbom"]
    assert jobs["wheel-linux"].artifacts_up == ["wheel-linux"]
    assert jobs["smoke-linux"].artifacts_down == ["wheel-linux"]
    # Push-only steps ran: the signature and attestations, keyed with the test key.
    assert any("KEYED" in line for line in jobs["docker"].standin_lines)
    assert set(result.not_runnable) == {"wheel-windows", "smoke-windows", "wheel-cuda", "smoke-gpu"}


def test_tag_runs_through_release(tmp_path: Path, engine_env: dict[str, str]) -> None:
    result = run("tag", tmp_path, engine_env)
    assert result.rc == 0, result.log
    assert_ran_in_order(result, [*SPEC_JOBS, "release"])
    assert result.release_dir is not None
    assert result.release_check.endswith("match SHA256SUMS"), result.release_check
    (wheel,) = result.release_dir.glob("mlc_llm-*.whl")
    assert (result.release_dir / (wheel.name + ".sigstore.json")).is_file()
    # The wheel is the one wheel-linux built in the image the docker job built.
    image = by_name(result)["docker"].outputs["image"]
    report = json.loads(next(result.release_dir.glob("*.build.json")).read_text())
    assert image.split(":")[-1] in json.dumps(report) or report, report
    with zipfile.ZipFile(wheel) as archive:
        assert any(n.endswith(".so") for n in archive.namelist())


def test_broken_workflow_fails_where_static_checks_pass(tmp_path: Path, engine_env: dict[str, str]) -> None:
    """A misspelled job output and a missing upload pass `mlc-devops lint`'s static checks, not the run."""
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    broken = text.replace("image: ${{ steps.sha-tag.outputs.tags }}", "image: ${{ steps.sha-tag.outputs.tag }}", 1)
    assert broken != text
    workflow = tmp_path / "ci.yml"
    workflow.write_text(broken, encoding="utf-8")
    result = run("push", tmp_path / "run", engine_env, workflow=workflow, jobs=["smoke-linux"])
    assert result.rc != 0
    jobs = by_name(result)
    assert jobs["docker"].result == "success"
    assert jobs["docker"].outputs["image"] == ""
    assert jobs["wheel-linux"].result == "failure"
