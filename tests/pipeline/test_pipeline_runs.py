"""Events through .github/workflows/ci.yml under act, offline, on the stand-in (docs/pipeline.md).

Push to main, a pull request and a v* tag, each the whole event; and two broken
copies of ci.yml that static checks pass and the run does not.

The test job inside act runs a small marked subset (PYTEST_ADDOPTS: the run's
--pytest-args); the image build reuses the engine's layer cache except on
tags, where ci.yml asks for a cold build.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from mlc_devops import pipeline

REPO = Path(__file__).resolve().parents[2]
SPEC_JOBS = ["lint", "test", "docker", "wheel-linux", "smoke-linux"]
MODEL_CHECK_CPU = "Tiny-model check on CPU (convert, compile, generate; greedy tokens against a NumPy reference)"
COSIGN_INSTALLER_PIN = "6f9f17788090df1f26f669e9d70d6ae9567deba6"


def run(
    event: str, work: Path, env: dict[str, str], *, workflow: Path | None = None, jobs: Sequence[str] = ()
) -> pipeline.RunResult:
    result = pipeline.run_pipeline(event, REPO, work, env, workflow=workflow, jobs=jobs)
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
    # The pair: the mlc_llm wheel alone in wheel-linux, its TVM wheel (built from the
    # stand-in's 3rdparty/tvm) in tvm-linux; smoke-linux installs both.
    assert jobs["wheel-linux"].artifacts_up == ["wheel-linux", "tvm-linux"]
    assert jobs["smoke-linux"].artifacts_down == ["wheel-linux", "tvm-linux"]
    pair_smoke = [s for s in jobs["smoke-linux"].steps if s["step"].startswith("Install the pair")]
    assert [s["result"] for s in pair_smoke] == ["success"], jobs["smoke-linux"].steps
    # The tiny-model check is off here (the stand-in has no model compiler), and said so by name.
    assert {"step": MODEL_CHECK_CPU, "if": "vars.MLC_MODEL_CHECK != 'off'"}.items() <= next(
        s for s in jobs["smoke-linux"].skipped_steps if s["step"] == MODEL_CHECK_CPU
    ).items()
    assert result.not_runnable_steps == [
        {
            "job": "smoke-linux",
            "step": MODEL_CHECK_CPU,
            "reason": pipeline.STEP_SWITCHES[0][2] + " (--var MLC_MODEL_CHECK=off)",
        }
    ]
    # Push-only steps ran: the signature and attestations, keyed with the test key.
    assert any("KEYED" in line for line in jobs["docker"].standin_lines)
    assert set(result.not_runnable) == {"wheel-windows", "smoke-windows", "wheel-cuda", "smoke-gpu"}


PUSH_ONLY = "github.event_name == 'push'"


def test_pull_request_builds_without_publishing(tmp_path: Path, engine_env: dict[str, str]) -> None:
    """A PR runs the Linux jobs; every push-only step is skipped, the image is built twice and pushed never.

    wheel-linux builds the image itself (nothing was pushed): `mlc-devops image build`
    with the base, Rust source, network and CA bundle from the run's MLC_IMAGE_*
    variables, on the layers the docker job's build left in the engine.
    """
    result = run("pull_request", tmp_path, engine_env)
    assert result.rc == 0, result.log
    assert result.ref == "refs/pull/1/merge"
    assert_ran_in_order(result, SPEC_JOBS)
    jobs = by_name(result)
    assert jobs["release"].result == "skipped", result.log
    assert jobs["release"].skipped_because == "startsWith(github.ref, 'refs/tags/v')"
    assert result.release_dir is None
    skipped = {(job, s["step"]): s["if"] for job in ("docker", "wheel-linux") for s in jobs[job].skipped_steps}
    assert skipped == {
        ("docker", "Log in to GHCR"): PUSH_ONLY,
        ("docker", f"sigstore/cosign-installer@{COSIGN_INSTALLER_PIN}"): PUSH_ONLY,
        ("docker", "Sign the image (cosign keyless)"): PUSH_ONLY,
        ("docker", "Attest the image's build provenance"): PUSH_ONLY,
        ("docker", "Attest the image's SBOM"): PUSH_ONLY,
        ("wheel-linux", "Log in to GHCR"): PUSH_ONLY,
        ("wheel-linux", "Attest the wheels' build provenance (mlc_llm and TVM)"): "github.event_name != 'pull_request'",
    }
    assert not any("KEYED" in line for job in jobs.values() for line in job.standin_lines)
    assert any("push=false" in line for line in jobs["docker"].standin_lines)
    assert not any("pushed " in line for line in jobs["docker"].standin_lines)
    local_build = [s for s in jobs["wheel-linux"].steps if s["step"].startswith("Build the image locally")]
    assert [s["result"] for s in local_build] == ["success"]
    image = jobs["docker"].outputs["image"]
    assert image.startswith(f"ghcr.io/{pipeline.REPOSITORY}:sha-")
    assert jobs["wheel-linux"].artifacts_up == ["wheel-linux", "tvm-linux"]
    assert jobs["smoke-linux"].artifacts_down == ["wheel-linux", "tvm-linux"]
    # Nothing reached the local registry that stands in for GHCR.
    assert not list((tmp_path / "registry").rglob("_manifests"))


def test_tag_runs_through_release(tmp_path: Path, engine_env: dict[str, str]) -> None:
    result = run("tag", tmp_path, engine_env)
    assert result.rc == 0, result.log
    assert_ran_in_order(result, [*SPEC_JOBS, "release"])
    assert result.release_dir is not None
    assert result.release_check.endswith("match SHA256SUMS"), result.release_check
    (wheel,) = result.release_dir.glob("mlc_llm-*.whl")
    assert (result.release_dir / (wheel.name + ".sigstore.json")).is_file()
    # The wheel is the one wheel-linux built in the image the docker job built, handed on as an artifact.
    jobs = by_name(result)
    assert jobs["docker"].outputs["image"].startswith(f"ghcr.io/{pipeline.REPOSITORY}:sha-")
    assert jobs["wheel-linux"].artifacts_up == ["wheel-linux", "tvm-linux"]
    assert "wheel-linux" in jobs["release"].artifacts_down
    assert "tvm-linux" not in jobs["release"].artifacts_down
    # release publishes the mlc_llm wheel alone, not its TVM pair.
    assert [w.name for w in result.release_dir.glob("*.whl")] == [wheel.name]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lines = [
        json.loads(ln) for f in result.release_dir.glob("*.intoto.jsonl") for ln in f.read_text().splitlines() if ln
    ]
    # A DSSE envelope carries the statement base64-encoded; a bare statement is itself.
    statements = [json.loads(base64.b64decode(x["payload"])) if "payload" in x else x for x in lines]
    subjects = [s for st in statements for s in st.get("subject", [])]
    assert {"name": wheel.name, "digest": {"sha256": digest}} in subjects, subjects
    with zipfile.ZipFile(wheel) as archive:
        assert any(n.endswith(".so") for n in archive.namelist())


UPLOAD_WHEEL_LINUX = """      - uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0
        with:
          name: wheel-linux
"""


def static_checks_pass(workflow_text: str, root: Path) -> None:
    """`mlc-devops lint`'s workflow checks (actionlint, zizmor, yamllint, the policy) pass on a copy of .github."""
    shutil.copytree(REPO / ".github", root / ".github")
    shutil.copy2(REPO / ".yamllint.yml", root / ".yamllint.yml")
    (root / ".github" / "workflows" / "ci.yml").write_text(workflow_text, encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlc_devops",
            "lint",
            "--root",
            str(root),
            "--only",
            "actionlint,zizmor,yamllint,pipeline",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_broken_workflow_fails_where_static_checks_pass(tmp_path: Path, engine_env: dict[str, str]) -> None:
    """A misspelled job output passes `mlc-devops lint`'s static checks, not the run."""
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    broken = text.replace("image: ${{ steps.sha-tag.outputs.tags }}", "image: ${{ steps.sha-tag.outputs.tag }}", 1)
    assert broken != text
    static_checks_pass(broken, tmp_path / "lint")
    workflow = tmp_path / "ci.yml"
    workflow.write_text(broken, encoding="utf-8")
    result = run("push", tmp_path / "run", engine_env, workflow=workflow, jobs=["smoke-linux"])
    assert result.rc != 0
    jobs = by_name(result)
    assert jobs["docker"].result == "success"
    assert jobs["docker"].outputs["image"] == ""
    assert jobs["wheel-linux"].result == "failure"


def test_a_missing_upload_fails_the_job_that_downloads(tmp_path: Path, engine_env: dict[str, str]) -> None:
    """wheel-linux without its upload passes the static checks; smoke-linux, which downloads it, fails."""
    text = (REPO / ".github" / "workflows" / "ci.yml").read_text(encoding="utf-8")
    start = text.index(UPLOAD_WHEEL_LINUX)
    end = text.index("if-no-files-found: error\n", start) + len("if-no-files-found: error\n")
    broken = text[:start] + text[end:]
    static_checks_pass(broken, tmp_path / "lint")
    workflow = tmp_path / "ci.yml"
    workflow.write_text(broken, encoding="utf-8")
    result = run("push", tmp_path / "run", engine_env, workflow=workflow, jobs=["smoke-linux"])
    assert result.rc != 0
    jobs = by_name(result)
    assert jobs["wheel-linux"].result == "success"
    # Only the wheel-linux upload was removed: the TVM wheel of the pair still goes up as tvm-linux.
    assert jobs["wheel-linux"].artifacts_up == ["tvm-linux"]
    assert jobs["smoke-linux"].result == "failure"
