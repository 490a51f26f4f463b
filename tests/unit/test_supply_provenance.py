"""The in-toto Statement v1 / SLSA Provenance v1 that attest writes (pure parts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from unit.test_supply_helpers import SOURCE_COMMIT, TOKENIZERS_COMMIT, TVM_COMMIT, make_wheel, report_data, write_report

from mlc_devops.cli import main
from mlc_devops.errors import DigestMismatch, SourceMismatch, SubjectNotFound, UsageError
from mlc_devops.supply import provenance
from mlc_devops.supply import report as report_mod

GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "octo/mlc-llm",
    "GITHUB_RUN_ID": "42",
    "GITHUB_RUN_ATTEMPT": "2",
    "GITHUB_WORKFLOW_REF": "octo/mlc-llm/.github/workflows/ci.yml@refs/tags/v0.1.0",
}


def _statement(tmp_path: Path, env: dict[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
    wheel = make_wheel(tmp_path)
    rep = report_mod.parse(report_data(wheel))
    return provenance.attest([wheel], rep, env or {}, tool_version="0.1.0", **kwargs)


def test_statement_and_predicate_types(tmp_path: Path) -> None:
    stmt = _statement(tmp_path)
    assert stmt["_type"] == "https://in-toto.io/Statement/v1"
    assert stmt["predicateType"] == "https://slsa.dev/provenance/v1"
    assert stmt["subject"][0]["name"] == "mlc_llm-0.1.0.dev0-py3-none-linux_x86_64.whl"
    assert len(stmt["subject"][0]["digest"]["sha256"]) == 64


def test_build_definition(tmp_path: Path) -> None:
    definition = _statement(tmp_path)["predicate"]["buildDefinition"]
    assert definition["buildType"] == provenance.BUILD_TYPE
    external = definition["externalParameters"]
    assert external["source"] == {"uri": "git+https://github.com/mlc-ai/mlc-llm", "ref": SOURCE_COMMIT}
    assert external["backends"] == ["cpu", "vulkan"]
    assert external["layout"] == "root"
    assert external["cmakeBuildType"] == "Release"
    internal = definition["internalParameters"]
    assert internal["toolVersions"]["cmake"] == "3.25.1"
    assert "nvcc" not in internal["toolVersions"]  # null: not used
    deps = definition["resolvedDependencies"]
    assert deps[0] == {
        "uri": f"git+https://github.com/mlc-ai/mlc-llm@{SOURCE_COMMIT}",
        "digest": {"gitCommit": SOURCE_COMMIT},
        "annotations": {"role": "source"},
    }
    assert deps[1]["name"] == "3rdparty/tvm" and deps[1]["digest"] == {"gitCommit": TVM_COMMIT}
    assert deps[1]["uri"] == "git+https://github.com/mlc-ai/relax.git"
    assert deps[2]["digest"] == {"gitCommit": TOKENIZERS_COMMIT}
    assert "digest" not in deps[3]  # stb: commit unknown


def test_run_details_locally(tmp_path: Path) -> None:
    details = _statement(tmp_path, invocation_id="local-1")["predicate"]["runDetails"]
    assert details["builder"] == {"id": provenance.LOCAL_BUILDER_ID, "version": {"mlc-devops": "0.1.0"}}
    assert details["metadata"] == {
        "invocationId": "local-1",
        "startedOn": "2026-11-28T16:00:00Z",
        "finishedOn": "2026-11-28T16:01:00Z",
    }


def test_run_details_on_github_actions(tmp_path: Path) -> None:
    details = _statement(tmp_path, env=GITHUB_ENV)["predicate"]["runDetails"]
    assert details["builder"]["id"] == "https://github.com/octo/mlc-llm/.github/workflows/ci.yml@refs/tags/v0.1.0"
    assert details["metadata"]["invocationId"] == "https://github.com/octo/mlc-llm/actions/runs/42/attempts/2"


def test_new_invocation_ids_are_unique(tmp_path: Path) -> None:
    first = _statement(tmp_path / "a")["predicate"]["runDetails"]["metadata"]["invocationId"]
    second = _statement(tmp_path / "b")["predicate"]["runDetails"]["metadata"]["invocationId"]
    assert first.startswith("urn:uuid:") and first != second


def test_base_image_and_byproducts(tmp_path: Path) -> None:
    sbom_file = tmp_path / "x.cdx.json"
    sbom_file.write_text("{}")
    digest = "sha256:" + "ef" * 32
    stmt = _statement(
        tmp_path,
        base_image=provenance.parse_base_image(f"127.0.0.1:5000/base/trixie:py313@{digest}"),
        byproducts=[sbom_file],
        byproduct_media_type="application/vnd.cyclonedx+json",
    )
    deps = stmt["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert deps[-1] == {
        "uri": "pkg:docker/base/trixie@py313?repository_url=127.0.0.1:5000",
        "digest": {"sha256": "ef" * 32},
        "annotations": {"role": "base-image"},
    }
    (byproduct,) = stmt["predicate"]["runDetails"]["byproducts"]
    assert byproduct["name"] == "x.cdx.json" and byproduct["mediaType"] == "application/vnd.cyclonedx+json"


@pytest.mark.parametrize(
    ("ref", "uri"),
    [
        ("python:3.13-slim-bookworm", "pkg:docker/python@3.13-slim-bookworm"),
        ("ghcr.io/mlc-ai/base:1", "pkg:docker/mlc-ai/base@1?repository_url=ghcr.io"),
        ("localhost/x", "pkg:docker/x?repository_url=localhost"),
    ],
)
def test_image_uri(ref: str, uri: str) -> None:
    assert provenance.image_uri(ref) == uri


def test_base_image_flag_errors() -> None:
    assert provenance.parse_base_image("sha256:" + "a" * 64).ref is None
    with pytest.raises(UsageError, match="digest must be"):
        provenance.parse_base_image("debian@sha256:short")


def test_without_report_flags_are_needed(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    with pytest.raises(UsageError, match="no build report and no --source-uri"):
        provenance.attest([wheel], None, {}, tool_version="0.1.0")
    stmt = provenance.attest(
        [wheel],
        None,
        {},
        tool_version="0.1.0",
        source_uri="https://github.com/mlc-ai/mlc-llm",
        source_commit=SOURCE_COMMIT.upper(),
        source_ref="refs/tags/v0.1.0",
    )
    external = stmt["predicate"]["buildDefinition"]["externalParameters"]
    assert external == {"source": {"uri": "git+https://github.com/mlc-ai/mlc-llm", "ref": "refs/tags/v0.1.0"}}
    assert provenance.source_commit_of(stmt) == SOURCE_COMMIT


def test_report_without_uri(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    rep = report_mod.parse(report_data(wheel, uri=None))
    with pytest.raises(UsageError, match="records no source URI"):
        provenance.attest([wheel], rep, {}, tool_version="0.1.0")


def test_report_about_another_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    other = make_wheel(tmp_path / "o", requires=())
    rep = report_mod.parse(report_data(other))
    with pytest.raises(UsageError, match="none of the artifacts"):
        provenance.attest([wheel], rep, {}, tool_version="0.1.0")


def test_bad_inputs(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    with pytest.raises(UsageError, match="full git commit"):
        provenance.source_spec(None, uri="https://x/y", commit="abc123")
    with pytest.raises(UsageError, match="no artifact"):
        provenance.subject_for(tmp_path / "missing.whl")
    with pytest.raises(UsageError, match="share a file name"):
        provenance.attest([wheel, wheel], report_mod.parse(report_data(wheel)), {}, tool_version="0.1.0")


# --- decisions of verify ------------------------------------------------------------------


def _stmt(*subjects: tuple[str, str]) -> dict[str, Any]:
    return {"_type": provenance.STATEMENT_TYPE, "subject": [{"name": n, "digest": {"sha256": d}} for n, d in subjects]}


def test_match_subject() -> None:
    stmt = _stmt(("a.whl", "11" * 32), ("b.whl", "22" * 32))
    assert provenance.match_subject([stmt], "b.whl", {"sha256": "22" * 32})[1]["name"] == "b.whl"
    with pytest.raises(DigestMismatch, match=r"a\.whl has sha256"):
        provenance.match_subject([stmt], "a.whl", {"sha256": "33" * 32})
    with pytest.raises(SubjectNotFound, match=r"attests these bytes as 'a\.whl'"):
        provenance.match_subject([stmt], "renamed.whl", {"sha256": "11" * 32})
    with pytest.raises(SubjectNotFound, match=r"no subject of the provenance names c\.whl"):
        provenance.match_subject([stmt], "c.whl", {"sha256": "44" * 32})


def test_match_subject_with_other_algorithms() -> None:
    stmt = {"_type": provenance.STATEMENT_TYPE, "subject": [{"name": "a", "digest": {"sha512": "ab" * 64, "md5": "x"}}]}
    assert provenance.needed_algorithms([stmt]) == ["sha256", "sha512"]
    assert provenance.match_subject([stmt], "a", {"sha256": "00" * 32, "sha512": "ab" * 64})
    only_md5 = {"_type": provenance.STATEMENT_TYPE, "subject": [{"name": "a", "digest": {"md5": "x"}}]}
    with pytest.raises(DigestMismatch, match="no digest this tool accepts"):
        provenance.match_subject([only_md5], "a", {"sha256": "00" * 32})


def test_check_source(tmp_path: Path) -> None:
    stmt = _statement(tmp_path)
    assert provenance.check_source(stmt, SOURCE_COMMIT) == SOURCE_COMMIT
    assert provenance.check_source(stmt, SOURCE_COMMIT[:7].upper()) == SOURCE_COMMIT
    with pytest.raises(SourceMismatch, match=f"commit {SOURCE_COMMIT}, not {TVM_COMMIT}"):
        provenance.check_source(stmt, TVM_COMMIT)
    with pytest.raises(SourceMismatch, match="not"):
        provenance.check_source(stmt, SOURCE_COMMIT[:39] + "f")
    with pytest.raises(UsageError):
        provenance.check_source(stmt, "abc")
    with pytest.raises(SourceMismatch, match="records no source commit"):
        provenance.check_source(_stmt(("a", "00" * 32)), SOURCE_COMMIT)


def test_parse_records_json_or_json_lines() -> None:
    assert provenance.parse_records('{"a": 1}', where="x") == [{"a": 1}]
    assert provenance.parse_records('{"a": 1}\n\n{"b": 2}\n', where="x") == [{"a": 1}, {"b": 2}]
    assert provenance.parse_records('[{"a": 1}]', where="x") == [{"a": 1}]
    with pytest.raises(UsageError, match="line 2"):
        provenance.parse_records('{"a": 1}\nnope\n', where="x")
    with pytest.raises(UsageError, match="empty"):
        provenance.parse_records("  ", where="x")


# --- the command --------------------------------------------------------------------------


def test_cli_attest_with_the_report_beside_the_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    write_report(wheel)
    out = tmp_path / "p.intoto.jsonl"
    assert main(["attest", str(wheel), "-o", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["predicateType"] == provenance.PREDICATE_TYPE


def test_cli_attest_predicate_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path)
    write_report(wheel)
    assert main(["attest", str(wheel), "--predicate-only"]) == 0
    predicate = json.loads(capsys.readouterr().out)
    assert set(predicate) == {"buildDefinition", "runDetails"}


def test_cli_attest_without_report_or_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path)
    assert main(["attest", str(wheel)]) == 2
    assert "--source-uri" in capsys.readouterr().err
