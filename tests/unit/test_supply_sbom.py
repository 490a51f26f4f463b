"""The wheel SBOM: CycloneDX JSON that validates, and says what the issue asks of it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonshapes
import pytest
from unit.test_supply_helpers import LIB_BYTES, SOURCE_COMMIT, TVM_COMMIT, make_wheel, report_data, write_report

from mlc_devops.cli import main
from mlc_devops.errors import UsageError, ValidationFailed
from mlc_devops.supply import report as report_mod
from mlc_devops.supply import sbom
from mlc_devops.wheel import reader

WHEN = datetime(2026, 11, 28, 16, 1, tzinfo=timezone.utc)


def _bom(tmp_path: Path, *, with_report: bool = True, **report_overrides: Any) -> dict[str, Any]:
    wheel_path = make_wheel(tmp_path)
    info = reader.read_wheel(wheel_path)
    rep = report_mod.parse(report_data(wheel_path, **report_overrides)) if with_report else None
    text = sbom.to_json(sbom.wheel_bom(info, rep, timestamp=WHEN, tool_version="0.1.0"))
    sbom.validate_json(text)
    data: dict[str, Any] = json.loads(text)
    return data


def _components(bom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["bom-ref"]: c for c in bom["components"]}


def test_validates_against_cyclonedx_1_6(tmp_path: Path) -> None:
    bom = _bom(tmp_path)
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.6"
    assert bom["serialNumber"].startswith("urn:uuid:")


@pytest.mark.parametrize("version", sbom.SPEC_VERSIONS)
def test_every_offered_spec_version_validates(tmp_path: Path, version: str) -> None:
    from cyclonedx.schema import SchemaVersion

    wheel_path = make_wheel(tmp_path)
    rep = report_mod.parse(report_data(wheel_path))
    bom = sbom.wheel_bom(reader.read_wheel(wheel_path), rep, timestamp=WHEN, tool_version="0.1.0")
    if not hasattr(SchemaVersion, "V1_" + version.split(".")[1]):  # an older cyclonedx-python-lib
        with pytest.raises(UsageError, match="cannot write"):
            sbom.to_json(bom, version)
        return
    text = sbom.to_json(bom, version)
    sbom.validate_json(text, version)
    assert json.loads(text)["specVersion"] == version


def test_the_wheel_is_the_described_component(tmp_path: Path) -> None:
    bom = _bom(tmp_path)
    root = bom["metadata"]["component"]
    wheel = tmp_path / "mlc_llm-0.1.0.dev0-py3-none-linux_x86_64.whl"
    assert root["name"] == "mlc_llm"
    assert root["version"] == "0.1.0.dev0"
    assert root["purl"] == f"pkg:pypi/mlc-llm@0.1.0.dev0?file_name={wheel.name}"
    assert root["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(wheel.read_bytes()).hexdigest()}]
    assert root["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert {"name": "mlc-devops:wheel:tag", "value": "py3-none-linux_x86_64"} in root["properties"]
    assert root["pedigree"]["commits"] == [{"uid": SOURCE_COMMIT}]
    assert bom["metadata"]["tools"]["components"][0]["name"] == "mlc-devops"
    assert bom["metadata"]["timestamp"].startswith("2026-11-28T16:01:00")


def test_every_native_library_with_its_sha256(tmp_path: Path) -> None:
    comps = _components(_bom(tmp_path))
    lib = comps["file:mlc_llm/lib/libmlc_llm.so"]
    assert lib["type"] == "file"
    assert lib["hashes"] == [{"alg": "SHA-256", "content": hashlib.sha256(LIB_BYTES).hexdigest()}]
    assert "file:mlc_llm/lib/libtvm_runtime.so" in comps


def test_python_dependencies_from_metadata(tmp_path: Path) -> None:
    comps = _components(_bom(tmp_path))
    assert comps["requires:tqdm"]["purl"] == "pkg:pypi/tqdm@4.66.1"
    assert comps["requires:tqdm"]["version"] == "4.66.1"
    assert comps["requires:fastapi"]["purl"] == "pkg:pypi/fastapi"
    assert comps["requires:fastapi"]["scope"] == "required"
    assert comps["requires:pytest"]["scope"] == "optional"
    props = comps["requires:shortuuid"]["properties"]
    assert {"name": "mlc-devops:python:requirement", "value": "shortuuid>=1.0"} in props


def test_source_and_submodules_at_their_commits_with_licenses(tmp_path: Path) -> None:
    comps = _components(_bom(tmp_path))
    source = comps["source:mlc-llm"]
    assert source["purl"] == f"pkg:github/mlc-ai/mlc-llm@{SOURCE_COMMIT}"
    assert source["version"] == SOURCE_COMMIT
    assert source["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    assert source["externalReferences"] == [{"type": "vcs", "url": "https://github.com/mlc-ai/mlc-llm"}]
    tvm = comps["submodule:3rdparty/tvm"]
    assert tvm["purl"] == f"pkg:github/mlc-ai/relax@{TVM_COMMIT}"
    assert tvm["pedigree"]["commits"][0]["uid"] == TVM_COMMIT
    assert {"name": "mlc-devops:source:path", "value": "3rdparty/tvm"} in tvm["properties"]
    stb = comps["submodule:3rdparty/stb"]
    assert stb["licenses"] == [{"expression": "MIT OR Unlicense"}]
    assert {"name": "mlc-devops:source:commit", "value": "unknown"} in stb["properties"]


def test_dependency_graph(tmp_path: Path) -> None:
    bom = _bom(tmp_path)
    deps = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    root = bom["metadata"]["component"]["bom-ref"]
    assert {"file:mlc_llm/lib/libmlc_llm.so", "requires:tqdm", "source:mlc-llm"} <= deps[root]
    assert deps["source:mlc-llm"] == {
        "submodule:3rdparty/tvm",
        "submodule:3rdparty/tokenizers-cpp",
        "submodule:3rdparty/stb",
    }


def test_without_report_no_source_components(tmp_path: Path) -> None:
    comps = _components(_bom(tmp_path, with_report=False))
    assert not [r for r in comps if r.startswith(("source:", "submodule:"))]
    assert "file:mlc_llm/lib/libmlc_llm.so" in comps


def test_report_license_and_non_github_source(tmp_path: Path) -> None:
    bom = _bom(
        tmp_path,
        uri="ssh://git@git.example.com/forks/mlc-llm.git",
        submodules=[
            {
                "path": "3rdparty/private",
                "url": "git@git.example.com:x/private.git",
                "commit": TVM_COMMIT,
                "license": "LicenseRef-Internal",
            }
        ],
    )
    comps = _components(bom)
    source = comps["source:mlc-llm"]
    assert source["purl"].startswith(f"pkg:generic/mlc-llm@{SOURCE_COMMIT}?vcs_url=")
    assert source["externalReferences"][0]["url"] == "https://git.example.com/forks/mlc-llm"
    private = comps["submodule:3rdparty/private"]
    assert private["licenses"] == [{"license": {"name": "LicenseRef-Internal"}}]


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    first = _bom(tmp_path / "a")
    second = _bom(tmp_path / "b")
    assert first == second


@pytest.mark.parametrize(
    ("url", "name", "web", "github"),
    [
        (
            "git+https://github.com/mlc-ai/mlc-llm",
            "mlc-llm",
            "https://github.com/mlc-ai/mlc-llm",
            ("mlc-ai", "mlc-llm"),
        ),
        ("https://github.com/mlc-ai/relax.git", "relax", "https://github.com/mlc-ai/relax", ("mlc-ai", "relax")),
        (
            "git@github.com:chanijjani/oxigraph.git",
            "oxigraph",
            "https://github.com/chanijjani/oxigraph",
            ("chanijjani", "oxigraph"),
        ),
        ("https://gitlab.com/a/b/c.git", "c", "https://gitlab.com/a/b/c", None),
        ("/srv/git/tvm", "tvm", "/srv/git/tvm", None),
    ],
)
def test_repo_ref(url: str, name: str, web: str, github: tuple[str, str] | None) -> None:
    ref = sbom.repo_ref(url, None, "fallback")
    assert (ref.name, ref.url, ref.github) == (name, web, github)


def test_license_values() -> None:
    from cyclonedx.model.license import DisjunctiveLicense

    assert [str(x) for x in sbom._licenses("apache-2.0")] == [str(x) for x in sbom._licenses("Apache-2.0")]
    named = sbom._licenses("Apache 2.0")[0]
    assert isinstance(named, DisjunctiveLicense)
    assert named.name == "Apache 2.0"
    assert sbom._licenses("line one\nline two") == []
    assert sbom._licenses(None) == []


def test_license_table_by_repo_or_path() -> None:
    assert sbom.license_for(sbom.repo_ref("https://github.com/google/googletest.git", None, "x")) == "BSD-3-Clause"
    assert sbom.license_for(sbom.repo_ref(None, None, "unknown"), "3rdparty/argparse") == "MIT"
    assert sbom.license_for(sbom.repo_ref(None, None, "unknown"), "3rdparty/mystery") is None


def test_timestamp_sources() -> None:
    assert sbom.timestamp_for(None, {"SOURCE_DATE_EPOCH": "1700000000"}) == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc
    )
    now = datetime(2030, 1, 1, 0, 0, 0, 5, tzinfo=timezone.utc)
    assert sbom.timestamp_for(None, {}, now) == now.replace(microsecond=0)
    with pytest.raises(UsageError):
        sbom.timestamp_for(None, {"SOURCE_DATE_EPOCH": "yesterday"})


def test_unknown_spec_version() -> None:
    with pytest.raises(UsageError, match="unsupported CycloneDX version"):
        sbom._schema_version("1.2")


def test_validation_catches_a_broken_sbom() -> None:
    with pytest.raises(ValidationFailed):
        sbom.validate_json(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": 3}]}))


# --- the command --------------------------------------------------------------------------


def test_cli_uses_the_report_beside_the_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path)
    write_report(wheel)
    out = tmp_path / "out" / "x.cdx.json"
    assert main(["sbom", str(wheel), "-o", str(out), "--validate", "--json"]) == 0
    summary = jsonshapes.check_text(capsys.readouterr().out)
    assert summary["libraries"] == 2
    assert summary["report"].endswith(".build.json")
    bom = json.loads(out.read_text())
    assert "source:mlc-llm" in _components(bom)


def test_cli_without_report_prints_a_note(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path)
    assert main(["sbom", str(wheel)]) == 0
    captured = capsys.readouterr()
    assert "no build report" in captured.err
    assert json.loads(captured.out)["bomFormat"] == "CycloneDX"


def test_cli_refuses_a_report_about_another_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path)
    other = make_wheel(tmp_path / "other", requires=())
    report = write_report(other)
    assert main(["sbom", str(wheel), "--report", str(report)]) == 2
    assert "describes a different wheel" in capsys.readouterr().err


def test_cli_refuses_a_tampered_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path, tamper_record=True)
    assert main(["sbom", str(wheel)]) == 5
    assert "RECORD" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["sbom"], ["sbom", "x.whl", "--image", "img"], ["sbom", "nothing-here-0.1-py3-none-any.whl"]],
)
def test_cli_usage_errors(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2


def test_missing_extra_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    wheel = make_wheel(tmp_path)
    monkeypatch.setitem(sys.modules, "cyclonedx.model", None)
    assert main(["sbom", str(wheel)]) == 3
    assert "pip install 'mlc-devops[supply-chain]'" in capsys.readouterr().err


def test_validation_findings_are_properties_of_the_wheel(tmp_path: Path) -> None:
    finding = {
        "kind": "duplicate-payload",
        "message": "libmlc_llm.so is in the wheel 2 times, byte-identical (a, b): 12.0 MB wasted",
        "wasted_bytes": 12_000_000,
    }
    bom = _bom(tmp_path, validation={"findings": [finding]})
    root = bom["metadata"]["component"]
    assert {"name": "mlc-devops:finding:duplicate-payload", "value": finding["message"]} in root["properties"]
    clean = _bom(tmp_path / "clean")
    assert not [p for p in clean["metadata"]["component"]["properties"] if ":finding:" in p["name"]]
