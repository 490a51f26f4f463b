"""The supply chain on a real wheel: build the stand-in, then sbom, attest, keygen, sign, verify, release.

Every command runs as a real process; SHA256SUMS is checked by coreutils' own
``sha256sum -c``. Skipped only where ``mlc-devops build`` does not exist.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonshapes
import pytest

pytestmark = pytest.mark.integration

ORIGIN = "https://github.com/mlc-ai/mlc-llm"
Cli = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from standin import build_wheel, git, make_git_workspace

    base = tmp_path_factory.mktemp("supply")
    ws = make_git_workspace(base)
    git("remote", "add", "origin", ORIGIN, cwd=ws)  # as a clone of upstream has
    dist = base / "dist"
    wheel, _ = build_wheel(ws, dist)
    return {"base": base, "ws": ws, "dist": dist, "wheel": wheel, "commit": git("rev-parse", "HEAD", cwd=ws)}


@pytest.fixture(scope="module")
def keys(built: dict[str, Any]) -> tuple[Path, Path]:
    prefix = built["base"] / "keys" / "release"
    proc = subprocess.run(
        [sys.executable, "-m", "mlc_devops", "keygen", "-o", str(prefix)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    return Path(f"{prefix}.key"), Path(f"{prefix}.pub")


def test_sbom_of_the_real_wheel(built: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    wheel: Path = built["wheel"]
    out = tmp_path / "wheel.cdx.json"
    proc = cli("sbom", str(wheel), "-o", str(out), "--validate", "--json")
    assert proc.returncode == 0, proc.stderr
    jsonshapes.check_text(proc.stdout)
    bom = json.loads(out.read_text())
    refs = {c["bom-ref"]: c for c in bom["components"]}
    with zipfile.ZipFile(wheel) as archive:
        native = sorted(n for n in archive.namelist() if n.endswith(".so"))
    assert native, "the stand-in's wheel holds native libraries"
    for name in native:
        assert refs[f"file:{name}"]["hashes"][0]["alg"] == "SHA-256"
    source = refs["source:mlc-llm"]
    assert source["version"] == built["commit"]
    assert source["purl"] == f"pkg:github/mlc-ai/mlc-llm@{built['commit']}"
    submodules = [r for r in refs if r.startswith("submodule:")]
    assert sorted(submodules) == ["submodule:3rdparty/tokenizers-cpp", "submodule:3rdparty/tvm"]
    for ref in submodules:
        assert len(refs[ref]["version"]) == 40
    # A clean checkout is recorded as clean: build/ and cargo's target/ are the tool's own outputs.
    root_props = {p["name"]: p["value"] for p in bom["metadata"]["component"]["properties"]}
    assert root_props["mlc-devops:build:tree"] == "clean"
    assert refs["cargo:tokenizers-c@0.1.0"]["purl"] == "pkg:cargo/tokenizers-c@0.1.0"


def test_attest_sign_verify_and_every_tampering(
    built: dict[str, Any], keys: tuple[Path, Path], cli: Cli, tmp_path: Path
) -> None:
    private, public = keys
    wheel = tmp_path / built["wheel"].name
    shutil.copyfile(built["wheel"], wheel)
    statement = tmp_path / "statement.intoto.jsonl"
    proc = cli("attest", str(wheel), "--report", str(built["wheel"]) + ".build.json", "-o", str(statement))
    assert proc.returncode == 0, proc.stderr
    signed = tmp_path / (wheel.name + ".intoto.jsonl")
    assert cli("sign", str(statement), "--key", str(private), "-o", str(signed)).returncode == 0

    ok = cli("verify", str(wheel), "--key", str(public), "--source-commit", built["commit"])
    assert ok.returncode == 0, ok.stderr

    stmt = json.loads(statement.read_text())
    deps = stmt["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert deps[0]["digest"]["gitCommit"] == built["commit"]
    roles = {d["annotations"]["role"]: d for d in deps}
    assert {d["name"] for d in deps if d["annotations"]["role"] == "submodule"} == {
        "3rdparty/tvm",
        "3rdparty/tokenizers-cpp",
    }
    assert roles["source"]["annotations"]["tree"] == "clean"
    lock = built["ws"] / "3rdparty/tokenizers-cpp/rust/Cargo.lock"
    assert roles["cargo-lock"]["name"] == "3rdparty/tokenizers-cpp/rust/Cargo.lock"
    assert roles["cargo-lock"]["digest"]["sha256"] == hashlib.sha256(lock.read_bytes()).hexdigest()
    assert roles["cargo-crate"]["uri"] == "pkg:cargo/tokenizers-c@0.1.0"
    assert stmt["predicate"]["runDetails"]["metadata"]["startedOn"].endswith("Z")

    wrong_commit = cli("verify", str(wheel), "--key", str(public), "--source-commit", "0" * 40)
    assert wrong_commit.returncode == 9, wrong_commit.stderr

    envelope = json.loads(signed.read_text())
    payload = json.loads(base64.b64decode(envelope["payload"]))
    payload["predicate"]["buildDefinition"]["externalParameters"]["backends"] = ["cuda"]
    forged = tmp_path / "forged.intoto.jsonl"
    forged.write_text(json.dumps({**envelope, "payload": base64.b64encode(json.dumps(payload).encode()).decode()}))
    assert cli("verify", str(wheel), "--key", str(public), "--provenance", str(forged)).returncode == 7

    with open(wheel, "ab") as fh:
        fh.write(b"\0")
    assert cli("verify", str(wheel), "--key", str(public), "--provenance", str(signed)).returncode == 6


def test_release_directory_passes_sha256sum_c(
    built: dict[str, Any], keys: tuple[Path, Path], cli: Cli, tmp_path: Path
) -> None:
    private, public = keys
    version = built["wheel"].name.split("-")[1]
    out = tmp_path / "release"
    wrong = cli("release", str(built["dist"]), "--version", "v99.0.0", "-o", str(out))
    assert wrong.returncode == 2 and "does not match" in wrong.stderr
    proc = cli(
        "release", str(built["dist"]), "--version", f"v{version}", "-o", str(out), "--key", str(private), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    jsonshapes.check_text(proc.stdout)
    names = sorted(p.name for p in out.iterdir())
    wheel = built["wheel"].name
    assert names == sorted(["SHA256SUMS", wheel, wheel + ".cdx.json", wheel + ".intoto.jsonl"])
    if shutil.which("sha256sum"):
        check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count(": OK") == 3
    assert (
        cli("verify", str(out / wheel), "--key", str(public), "--source-commit", built["commit"][:12]).returncode == 0
    )
    assert cli("checksums", "--check", str(out / "SHA256SUMS")).returncode == 0


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="coreutils sha256sum is not installed")
def test_sha256sum_reads_escaped_names(tmp_path: Path, cli: Cli) -> None:
    for name in ("plain.whl", "back\\slash.txt", "new\nline.txt"):
        (tmp_path / name).write_bytes(name.encode())
    files = [str(tmp_path / n) for n in ("plain.whl", "back\\slash.txt", "new\nline.txt")]
    assert cli("checksums", *files, "-o", str(tmp_path / "SHA256SUMS")).returncode == 0
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    ours = subprocess.run(["sha256sum", *sorted(files)], cwd=tmp_path, capture_output=True, text=True, check=True)
    listed = (tmp_path / "SHA256SUMS").read_text()
    for line in ours.stdout.splitlines():
        digest = line.lstrip("\\").split()[0]
        assert digest in listed


def test_image_probe_runs_on_a_real_system() -> None:
    """The probe that `sbom --image` runs inside an image, run here with this host's python3."""
    from mlc_devops.supply import image, sbom

    python3 = shutil.which("python3") or sys.executable
    proc = subprocess.run([python3, "-c", image.PROBE], capture_output=True, text=True, timeout=120, check=True)
    probe = json.loads(proc.stdout.strip().splitlines()[-1])
    facts = image.facts_from("local/host:now", {"Id": "sha256:" + "0" * 64}, probe)
    assert facts.python_packages, "a Python with no distributions at all"
    if Path("/var/lib/dpkg/status").is_file():
        assert any(p.name == "dpkg" for p in facts.debian_packages)
    text = sbom.to_json(sbom.image_bom(facts, timestamp=sbom.timestamp_for(None, {}), tool_version="0.1.0"))
    sbom.validate_json(text)
