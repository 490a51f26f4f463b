"""The image SBOM: parsing what the image holds, and the CycloneDX that results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonshapes
import pytest

from mlc_devops import run as run_mod
from mlc_devops.cli import main
from mlc_devops.errors import UsageError, ValidationFailed
from mlc_devops.supply import image, sbom

DPKG_STATUS = """\
Package: bash
Status: install ok installed
Priority: required
Architecture: amd64
Multi-Arch: foreign
Version: 5.2.15-2+b7
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.
 .
 Continuation lines are not fields: Version: 0

Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.15-1~deb12u1)
Version: 3.0.15-1~deb12u1

Package: removed-thing
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0

Package: cmake
Status: install ok installed
Architecture: amd64
Version: 3.25.1-1
"""

OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n'
RUSTC = """rustc 1.78.0 (9b00956e5 2024-04-29)
binary: rustc
commit-hash: 9b00956e56009bab2aa15d7bff10916599e3d6d6
commit-date: 2024-04-29
host: x86_64-unknown-linux-gnu
release: 1.78.0
LLVM version: 17.0.6
"""
DIGEST = "sha256:" + "ab" * 32
INSPECT = [
    {
        "Id": "sha256:" + "cd" * 32,
        "RepoDigests": [f"ghcr.io/mlc-ai/mlc-llm-dev@{DIGEST}"],
        "Architecture": "amd64",
        "Config": {"Labels": {"org.opencontainers.image.source": "https://github.com/mlc-ai/mlc-llm", "other": "x"}},
    }
]
PROBE = {
    "os_release": OS_RELEASE,
    "dpkg_status": DPKG_STATUS,
    "python_version": "3.13.1",
    "python": [
        {"name": "pip", "version": "24.3.1", "license": "MIT", "location": "/usr/local/lib/python3.13/site-packages"},
        {"name": "pytest", "version": "8.3.4", "license": None, "location": "/usr/local/lib/python3.13/site-packages"},
        {"name": None, "version": "1"},
    ],
    "rustc": RUSTC,
    "cargo": "cargo 1.78.0 (54d8815d0 2024-03-26)\n",
}


def test_parse_dpkg_status_keeps_installed_packages() -> None:
    packages = image.parse_dpkg_status(DPKG_STATUS)
    assert [(p.name, p.version, p.source) for p in packages] == [
        ("bash", "5.2.15-2+b7", None),
        ("cmake", "3.25.1-1", None),
        ("libssl3", "3.0.15-1~deb12u1", "openssl"),
    ]


def test_parse_rust_and_os() -> None:
    rustc = image.parse_rustc(RUSTC)
    assert rustc is not None
    assert (rustc.name, rustc.version, rustc.details["host"]) == ("rustc", "1.78.0", "x86_64-unknown-linux-gnu")
    cargo = image.parse_cargo("cargo 1.78.0 (54d8815d0 2024-03-26)")
    assert cargo is not None and cargo.version == "1.78.0"
    assert image.parse_rustc(None) is None and image.parse_cargo("") is None
    assert image.parse_os_release(OS_RELEASE)["VERSION_ID"] == "12"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("mlc-llm-dev", ("mlc-llm-dev", None, None)),
        ("mlc-llm-dev:sha-abc", ("mlc-llm-dev", "sha-abc", None)),
        ("127.0.0.1:5000/mlc/dev:v1", ("127.0.0.1:5000/mlc/dev", "v1", None)),
        (f"ghcr.io/a/b@{DIGEST}", ("ghcr.io/a/b", None, DIGEST)),
    ],
)
def test_split_reference(ref: str, expected: tuple[str, str | None, str | None]) -> None:
    assert image.split_reference(ref) == expected


def _facts(ref: str = "ghcr.io/mlc-ai/mlc-llm-dev:sha-abc") -> image.ImageFacts:
    return image.facts_from(ref, INSPECT[0], PROBE)


def test_facts_take_the_digest_from_repo_digests() -> None:
    facts = _facts()
    assert facts.manifest_digest == DIGEST
    assert facts.oci_labels == {"source": "https://github.com/mlc-ai/mlc-llm"}
    assert [p.name for p in facts.python_packages] == ["pip", "pytest"]
    assert [t.name for t in facts.rust_toolchain] == ["rustc", "cargo"]


def test_image_bom_validates_and_lists_everything() -> None:
    bom = sbom.image_bom(_facts(), timestamp=datetime(2026, 1, 1, tzinfo=timezone.utc), tool_version="0.1.0")
    text = sbom.to_json(bom)
    sbom.validate_json(text)
    data = json.loads(text)
    root = data["metadata"]["component"]
    assert root["type"] == "container"
    assert root["purl"] == f"pkg:oci/mlc-llm-dev@{DIGEST}?repository_url=ghcr.io/mlc-ai/mlc-llm-dev&tag=sha-abc"
    purls = {c.get("purl") for c in data["components"]}
    assert "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12" in purls
    assert "pkg:pypi/pip@24.3.1" in purls
    assert "pkg:generic/rust-lang/rustc@1.78.0" in purls
    types = {c["name"]: c["type"] for c in data["components"]}
    assert types["debian"] == "operating-system"
    deps = {d["ref"]: d.get("dependsOn", []) for d in data["dependencies"]}
    assert len(deps[root["bom-ref"]]) == len(data["components"])


class FakeDocker:
    def __init__(self, *, inspect_rc: int = 0, probe_rc: int = 0, probe_out: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.inspect_rc, self.probe_rc = inspect_rc, probe_rc
        self.probe_out = probe_out if probe_out is not None else "warning: noise\n" + json.dumps(PROBE) + "\n"

    def __call__(self, args: Sequence[str], **_kwargs: Any) -> run_mod.Result:
        self.calls.append(list(args))
        if args[1:3] == ["image", "inspect"]:
            return run_mod.Result(
                tuple(args), self.inspect_rc, json.dumps(INSPECT) if self.inspect_rc == 0 else "No such image", 0.1
            )
        return run_mod.Result(tuple(args), self.probe_rc, self.probe_out, 0.1)


def test_collect_runs_the_probe_without_network() -> None:
    fake = FakeDocker()
    facts = image.collect("mlc-llm-dev:latest", {}, runner=fake)
    probe_call = fake.calls[1]
    assert probe_call[:7] == ["docker", "run", "--rm", "--network", "none", "--entrypoint", "python3"]
    assert len(facts.debian_packages) == 3


def test_collect_errors() -> None:
    with pytest.raises(UsageError, match="cannot find the image"):
        image.collect("nope", {}, runner=FakeDocker(inspect_rc=1))
    with pytest.raises(ValidationFailed, match="probe failed"):
        image.collect("img", {}, runner=FakeDocker(probe_rc=127))
    with pytest.raises(ValidationFailed, match="no JSON"):
        image.collect("img", {}, runner=FakeDocker(probe_out="nothing"))
    with pytest.raises(UsageError, match="not an image reference"):
        image.collect("--privileged", {}, runner=FakeDocker())


def test_cli_image_sbom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(run_mod, "run", FakeDocker())
    out = tmp_path / "image.cdx.json"
    assert main(["sbom", "--image", "mlc-llm-dev:latest", "-o", str(out), "--validate", "--json"]) == 0
    summary = jsonshapes.check_text(capsys.readouterr().out)
    assert summary["debian_packages"] == 3
    assert summary["rust"] == ["rustc 1.78.0", "cargo 1.78.0"]
    assert json.loads(out.read_text())["metadata"]["component"]["type"] == "container"
