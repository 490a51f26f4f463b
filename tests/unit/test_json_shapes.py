"""Every ``--json`` shape is pinned by a schema in tests/schemas/; the commands cheap to run here fit theirs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import jsonshapes
import pytest

from mlc_devops import cli, options
from mlc_devops import run as run_mod
from mlc_devops.commands import test as test_cmd
from mlc_devops.container import engine as docker_engine
from mlc_devops.container import image as docker_build
from mlc_devops.pipeline import JobReport, RunResult

SRC = Path(__file__).resolve().parents[2] / "src" / "mlc_devops"
REPO = SRC.parents[1]
SHA = "0123456789abcdef0123456789abcdef01234567"


def _ids_in_the_package() -> set[str]:
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        found |= set(re.findall(r"[\"'](mlc-devops/[a-z][a-z-]*/v\d+)[\"']", path.read_text(encoding="utf-8")))
    return found


def test_every_json_shape_of_the_package_is_pinned_and_no_pin_is_stale() -> None:
    assert _ids_in_the_package() == jsonshapes.pinned_ids()


@pytest.mark.parametrize("path", sorted(jsonshapes.SCHEMAS.glob("*.json")), ids=lambda p: p.name)
def test_each_schema_is_a_valid_schema_named_after_its_id(path: Path) -> None:
    schema_id = json.loads(path.read_text(encoding="utf-8"))["$id"]
    assert jsonshapes.schema_file(schema_id) == path
    jsonshapes.validator(schema_id)  # check_schema raises on an invalid schema
    consts = re.findall(r'"schema": \{"const": "([^"]+)"\}', json.dumps(json.loads(path.read_text())))
    assert consts and set(consts) == {schema_id}


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], code: int = 0) -> object:
    assert cli.main(argv) == code
    return jsonshapes.check_text(capsys.readouterr().out)


def test_a_pin_refuses_a_missing_field_an_extra_one_and_a_wrong_type(capsys: pytest.CaptureFixture[str]) -> None:
    payload = _run(["config", "--backend", "cublas", "--json"], capsys, code=2)
    assert isinstance(payload, dict)
    missing, extra, wrong = copy.deepcopy(payload), copy.deepcopy(payload), copy.deepcopy(payload)
    del missing["error"]["hint"]
    extra["error"]["traceback"] = "..."
    wrong["error"]["exit_code"] = "2"
    assert jsonshapes.problems(missing) == ["error: 'hint' is a required property"]
    assert jsonshapes.problems(extra) == ["error: Additional properties are not allowed ('traceback' was unexpected)"]
    assert jsonshapes.problems(wrong) == ["error/exit_code: '2' is not of type 'integer'"]


def test_config_both_shapes(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _run(["config", "--backend", "vulkan", "--json"], capsys)
    assert isinstance(plain, dict) and plain["backends"] == ["cpu", "vulkan"]
    shown = _run(["config", "--show", "--json"], capsys)
    assert isinstance(shown, dict) and set(shown["settings"]) == set(options.SETTINGS)


def test_image_tags_and_their_rules(capsys: pytest.CaptureFixture[str]) -> None:
    _run(["image", "tags", "--ref", "refs/heads/main", "--sha", SHA, "--json"], capsys)
    _run(["image", "tags", "--ref", "refs/heads/main", "--sha", SHA, "--show-rules", "--json"], capsys)


def test_image_engine_status(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(docker_engine, "engine_answers", lambda _env: "27.5.1")
    payload = _run(["image", "engine", "status", "--json"], capsys)
    assert isinstance(payload, dict) and payload["version"] == "27.5.1"


def test_image_engine_stop(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    stopped: list[str] = []
    monkeypatch.setattr(docker_engine, "stop_engine", lambda engine, _env: stopped.append(engine.host))
    payload = _run(["image", "engine", "stop", "--run-dir", "/r", "--json"], capsys)
    assert payload == {"schema": "mlc-devops/engine/v1", "docker_host": "unix:///r/docker.sock", "version": None}
    assert stopped == ["unix:///r/docker.sock"]


def test_image_build_dry_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLC_IMAGE_CA_CERTS", raising=False)
    argv = ["image", "build", "--context", str(REPO), "--dry-run", "--rust-source", "debian", "--tag", "x:1"]
    payload = _run([*argv, "--json"], capsys)
    assert isinstance(payload, dict)
    assert payload["tags"] == ["x:1"] and payload["build_args"]["RUST_SOURCE"] == "debian"
    assert payload["settings"]["rust_source"] == {"value": "debian", "origin": "flag"}
    assert payload["command"][:2] == ["docker", "build"] and payload["command"][-1] == str(REPO)
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == run_mod.format_command(payload["command"]) + "\n"  # the same build, in words


def test_image_base(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []

    def fake_run(args: list[str], **_kw: object) -> run_mod.Result:
        ran.append(args[0])
        return run_mod.Result(tuple(args), 0, "", 0.0)

    monkeypatch.setattr(run_mod, "require", lambda program, env=None, hint="": program)
    monkeypatch.setattr(run_mod, "run", fake_run)
    monkeypatch.setattr(docker_build, "image_exists", lambda tag, env, docker="docker": tag.endswith(":trixie"))
    there = _run(["image", "base", "--json"], capsys)
    assert there == {
        "schema": "mlc-devops/image-base/v1",
        "tag": "mlc-devops/base:trixie",
        "suite": "trixie",
        "made": False,
    }
    assert ran == []
    made = _run(["image", "base", "--suite", "bookworm", "--json"], capsys)
    assert made == {
        "schema": "mlc-devops/image-base/v1",
        "tag": "mlc-devops/base:bookworm",
        "suite": "bookworm",
        "made": True,
    }
    assert ran == ["mmdebstrap", "docker"]


def test_lint_list(capsys: pytest.CaptureFixture[str]) -> None:
    _run(["lint", "--list", "--json"], capsys)


def test_checksums_written_and_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.whl").write_bytes(b"wheel")
    _run(["checksums", "a.whl", "-o", "SHA256SUMS", "--json"], capsys)
    _run(["checksums", "--check", "SHA256SUMS", "--json"], capsys)


def test_keygen_and_sign(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    from mlc_devops.supply import provenance

    _run(["keygen", "-o", str(tmp_path / "k"), "--json"], capsys)
    statement = tmp_path / "s.intoto.jsonl"
    record = {"_type": provenance.STATEMENT_TYPE, "subject": [{"name": "a.whl", "digest": {"sha256": "0" * 64}}]}
    statement.write_text(json.dumps(record) + "\n", encoding="utf-8")
    signed = _run(["sign", str(statement), "--key", str(tmp_path / "k.key"), "-o", str(statement), "--json"], capsys)
    assert isinstance(signed, dict) and signed["envelopes"] == 1


def test_pipeline_run() -> None:
    job = JobReport("lint", result="success", seconds=3.0, steps=[{"id": "1", "result": "success", "step": "lint"}])
    result = RunResult(
        event="push",
        ref="refs/heads/main",
        rc=0,
        seconds=12.3,
        work=Path("/w"),
        jobs=[job, JobReport("release", result="skipped")],
        changes=["runs-on: gpu dropped"],
        not_runnable={"smoke-gpu": "runs on a self-hosted GPU runner"},
        release_dir=None,
        release_check="no release directory",
        log=Path("/w/act.log"),
    )
    jsonshapes.check(result.as_json())


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests"><testsuite name="pytest" errors="1" failures="0" skipped="2" tests="7" time="0.5">
<testcase classname="t" name="a" time="0.1"/></testsuite></testsuites>
"""


def test_test_counts_from_junit_and_its_result() -> None:
    counts = test_cmd.junit_counts(JUNIT)
    assert counts == {"tests": 7, "failures": 0, "errors": 1, "skipped": 2}
    assert test_cmd.junit_counts('<testsuite tests="3" failures="1"/>') == {
        "tests": 3,
        "failures": 1,
        "errors": 0,
        "skipped": 0,
    }
    payload = test_cmd.result_json(
        Path("/ws"), Path("dist/mlc_llm-0.1-py3-none-any.whl"), "tests/python", "unittest", "", Path("/j.xml"), counts
    )
    assert jsonshapes.check(payload)["counts"] == counts


def test_attest_and_verify(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    from unit.test_supply_helpers import make_wheel, write_report

    wheel = make_wheel(tmp_path / "dist")
    write_report(wheel)
    assert cli.main(["keygen", "-o", str(tmp_path / "k")]) == 0
    out = wheel.with_name(wheel.name + ".intoto.jsonl")
    attested = _run(["attest", str(wheel), "--key", str(tmp_path / "k.key"), "-o", str(out), "--json"], capsys)
    assert isinstance(attested, dict) and attested["signed"] is True
    _run(["verify", str(wheel), "--key", str(tmp_path / "k.pub"), "--json"], capsys)


def test_the_error_shape_knows_every_kind_of_error() -> None:
    from mlc_devops import errors

    kinds = {
        cls.kind for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, errors.MlcDevopsError)
    }
    schema = json.loads(jsonshapes.schema_file("mlc-devops/error/v1").read_text(encoding="utf-8"))
    assert set(schema["properties"]["error"]["properties"]["kind"]["enum"]) == kinds


def test_smoke_with_a_model_check() -> None:
    from mlc_devops import modelcheck

    outcome = modelcheck.Outcome(modelcheck.plan("tiny", "cuda"), phases={"compile": 12.34})
    smoke = {
        "schema": "mlc-devops/smoke/v1",
        "python": "3.11.7",
        "module": "site-packages/mlc_llm",
        "version": "0.1.0",
        "finder": {},
        "present": [],
        "from_dependencies": [],
        "libraries": [],
        "ok": True,
        "findings": [],
        "model": outcome.as_dict(),
    }
    jsonshapes.check(smoke)
