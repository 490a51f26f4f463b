"""The local run's preparation of ci.yml and its stand-ins, without act (mlc_devops.pipeline)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from mlc_devops import act_standin, pipeline
from mlc_devops.commands import pipeline as pipeline_command

REPO = Path(__file__).resolve().parents[2]
CI = REPO / ".github" / "workflows" / "ci.yml"
ACTIONS = REPO / ".github" / "actions"


@pytest.fixture(scope="module")
def prepared() -> pipeline.Prepared:
    return pipeline.prepare_workflow(CI.read_text(encoding="utf-8"))


def test_self_reference_becomes_a_local_action(prepared: pipeline.Prepared) -> None:
    assert "$/" in CI.read_text(encoding="utf-8")
    assert "$/" not in prepared.text
    assert "uses: ./.github/actions/setup-build-env" in prepared.text
    assert any("$/" in change for change in prepared.changes)


def test_not_runnable_jobs_by_name(prepared: pipeline.Prepared) -> None:
    assert set(prepared.not_runnable) == {"wheel-windows", "smoke-windows", "wheel-cuda", "smoke-gpu"}
    assert set(prepared.jobs) == {"lint", "test", "docker", "wheel-linux", "smoke-linux", "release"}


def test_release_loses_only_the_windows_need_and_download(prepared: pipeline.Prepared) -> None:
    release = prepared.jobs["release"]
    assert release["needs"] == ["smoke-linux"]
    skipped = [s for s in release["steps"] if s.get("if") == "${{ false }}"]
    assert [s["with"]["name"] for s in skipped] == ["wheel-windows"]


def test_the_model_check_is_named_not_runnable_here(prepared: pipeline.Prepared) -> None:
    """The smoke jobs' tiny-model check is switched off by MLC_MODEL_CHECK=off and reported by name, with why."""
    (step,) = prepared.not_runnable_steps
    assert step["job"] == "smoke-linux" and step["step"].startswith("Tiny-model check on CPU")
    assert "no model compiler" in step["reason"] and "MLC_MODEL_CHECK=off" in step["reason"]
    condition = next(s["if"] for s in prepared.jobs["smoke-linux"]["steps"] if s.get("name") == step["step"])
    assert condition == "vars.MLC_MODEL_CHECK != 'off'"
    # the pair's own smoke is not switched off
    pair = next(
        s for s in prepared.jobs["smoke-linux"]["steps"] if str(s.get("name", "")).startswith("Install the pair")
    )
    assert "if" not in pair


def test_every_job_starts_on_a_fresh_workspace(prepared: pipeline.Prepared) -> None:
    """act skips the checkout of the bound workspace, which all jobs share: a git clean follows each checkout."""
    for name, job in prepared.jobs.items():
        steps = job["steps"]
        index = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/checkout@"))
        assert steps[index + 1] == pipeline.FRESH_WORKSPACE, name
        assert steps.count(pipeline.FRESH_WORKSPACE) == 1, name
    assert any("git -c safe.directory='*' clean -ffdxq" in change for change in prepared.changes)


def test_every_pinned_action_has_a_stand_in() -> None:
    texts = [CI.read_text(encoding="utf-8"), *(p.read_text(encoding="utf-8") for p in ACTIONS.rglob("action.yml"))]
    pins = pipeline.pinned_actions(texts)
    assert {name for name, _ in pins} == set(pipeline.STANDINS)
    flags = pipeline.local_repository_flags(pins, REPO / "act" / "actions")
    for value in flags[1::2]:
        assert Path(value.split("=", 1)[1], "action.yml").is_file(), value


def test_stand_ins_take_every_input_and_give_every_output_the_workflow_uses() -> None:
    docs = [
        yaml.safe_load(CI.read_text(encoding="utf-8")),
        *(yaml.safe_load(p.read_text()) for p in ACTIONS.rglob("action.yml")),
    ]
    steps = [s for d in docs for j in (d.get("jobs") or {}).values() for s in j.get("steps", [])]
    steps += [s for d in docs for s in (d.get("runs") or {}).get("steps", [])]
    by_id: dict[str, str] = {}
    for step in steps:
        uses = str(step.get("uses", ""))
        name = uses.split("@", maxsplit=1)[0]
        if name not in pipeline.STANDINS:
            continue
        standin = yaml.safe_load((REPO / "act" / "actions" / pipeline.STANDINS[name] / "action.yml").read_text())
        assert set(step.get("with") or {}) <= set(standin["inputs"]), (name, step.get("with"))
        if "id" in step:
            by_id[step["id"]] = pipeline.STANDINS[name]
    used = re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)", CI.read_text(encoding="utf-8"))
    for step_id, output in used:
        if step_id in by_id:
            standin = yaml.safe_load((REPO / "act" / "actions" / by_id[step_id] / "action.yml").read_text())
            assert output in standin["outputs"], (step_id, output)


def test_local_ref_points_registries_at_the_local_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACT_REGISTRY", "127.0.0.1:5999")
    assert act_standin.local_ref("ghcr.io/o/r:sha-1") == "127.0.0.1:5999/o/r:sha-1"
    assert act_standin.local_ref("ghcr.io/o/r@sha256:ab") == "127.0.0.1:5999/o/r@sha256:ab"


def test_upload_root_is_the_common_folder(tmp_path: Path) -> None:
    (tmp_path / "dist").mkdir()
    for name in ("a.whl", "a.whl.cdx.json"):
        (tmp_path / "dist" / name).write_text("x")
    files = act_standin.find_files(["dist/*.whl", "dist/*.cdx.json", "dist/*.none"], tmp_path)
    assert sorted(f.name for f in files) == ["a.whl", "a.whl.cdx.json"]
    assert act_standin.upload_root(files) == tmp_path / "dist"


def test_parse_log_reads_results_outputs_and_artifacts() -> None:
    lines = [
        '{"jobID":"docker","time":"2026-01-01T00:00:00Z","msg":"start"}',
        '{"jobID":"docker","stepID":["sha-tag"],"command":"set-output","name":"tags","arg":"ghcr.io/o/r:sha-1"}',
        '{"jobID":"docker","raw_output":true,"msg":"[act stand-in] upload-artifact: image-sbom (1 files)"}',
        '{"jobID":"docker","stage":"Main","stepResult":"success","msg":"  ok  Success - Main Build [1s]"}',
        '{"jobID":"docker","time":"2026-01-01T00:01:00Z","jobResult":"success","msg":"done"}',
    ]
    jobs = {"docker": {"outputs": {"image": "${{ steps.sha-tag.outputs.tags }}"}}}
    report = pipeline.parse_log(lines, jobs)["docker"]
    assert report.result == "success"
    assert report.outputs == {"image": "ghcr.io/o/r:sha-1"}
    assert report.artifacts_up == ["image-sbom"]
    assert report.seconds == 60


SKIP_LOG = [
    '{"jobID":"docker","time":"2026-01-01T00:00:00Z","msg":"start"}',
    '{"jobID":"docker","stage":"Main","stepID":["4"],"stepResult":"skipped",'
    "\"msg\":\"Skipping step 'Attest the image's SBOM' due to 'github.event_name == 'push''\"}",
    '{"jobID":"docker","stage":"Main","stepID":["5"],"stepResult":"success","msg":"  ok  Success - Main Build [1s]"}',
    '{"jobID":"docker","time":"2026-01-01T00:01:00Z","jobResult":"success","msg":"done"}',
    '{"jobID":"release","time":"2026-01-01T00:02:00Z","jobResult":"skipped",'
    "\"msg\":\"Skipping job 'release' due to 'startsWith(github.ref, 'refs/tags/v')'\"}",
]


def test_parse_log_says_which_if_skipped_a_step_and_a_job() -> None:
    reports = pipeline.parse_log(SKIP_LOG, {})
    docker, release = reports["docker"], reports["release"]
    assert docker.skipped_steps == [
        {"id": "['4']", "result": "skipped", "step": "Attest the image's SBOM", "if": "github.event_name == 'push'"}
    ]
    assert [s["step"] for s in docker.steps] == ["Attest the image's SBOM", "Build"]
    assert docker.skipped_because == ""
    assert (release.result, release.skipped_because) == ("skipped", "startsWith(github.ref, 'refs/tags/v')")


def test_the_report_names_what_ran_and_what_each_if_skipped(tmp_path: Path) -> None:
    reports = pipeline.parse_log(SKIP_LOG, {})
    result = pipeline.RunResult(
        event="pull_request",
        ref="refs/pull/1/merge",
        rc=0,
        seconds=1.0,
        work=tmp_path,
        jobs=[reports["docker"], reports["release"]],
        changes=[],
        not_runnable={"wheel-windows": "runs-on windows-2022: no runner image for it here"},
        release_dir=None,
        release_check="no release directory",
        log=tmp_path / "act.log",
    )
    text = "\n".join(pipeline_command.report_lines(result))
    assert "skipped step \"Attest the image's SBOM\" (if: github.event_name == 'push')" in text
    assert "release        skipped       0 s  (if: startsWith(github.ref, 'refs/tags/v'))" in text
    assert "ran: docker; skipped by their if: release" in text
    assert "wheel-windows  not runnable here" in text
    assert result.as_json()["jobs"][1]["skipped_because"].startswith("startsWith(")
