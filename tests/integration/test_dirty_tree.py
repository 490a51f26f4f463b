"""A build from a checkout with an uncommitted C++ edit (issue 15, items 2 and 10), with the real tool.

The edit reaches the wheel but no commit; build warns and records it, the SBOM
and provenance carry it, attest and release refuse it (exit 12) unless
--allow-dirty, and verify --source-commit HEAD fails it (exit 12) unless
--allow-dirty, which then says so. The same build's report and SBOM list the
stand-in's Rust crate from the Cargo.lock the build resolved.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlc_devops import cli as cli_mod

pytestmark = pytest.mark.integration

Cli = Callable[..., "subprocess.CompletedProcess[str]"]
LOCK = "3rdparty/tokenizers-cpp/rust/Cargo.lock"


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if "build" not in cli_mod.COMMANDS:
        pytest.skip("mlc-devops build is not part of this tree yet")
    from standin import build_wheel, git, make_git_workspace

    base = tmp_path_factory.mktemp("dirty")
    ws = make_git_workspace(base)
    git("remote", "add", "origin", "https://github.com/mlc-ai/mlc-llm", cwd=ws)
    source = sorted((ws / "cpp").glob("*.cc"))[0]
    source.write_text(source.read_text() + "\n// an edit in no commit\n")
    (ws / "3rdparty" / "tvm" / "scratch.txt").write_text("untracked in a submodule\n")
    dist = base / "dist"
    wheel, stderr = build_wheel(ws, dist)
    keys = base / "keys" / "k"
    assert subprocess.run([sys.executable, "-m", "mlc_devops", "keygen", "-o", str(keys)], check=False).returncode == 0
    return {
        "ws": ws,
        "dist": dist,
        "wheel": wheel,
        "stderr": stderr,
        "edited": source.relative_to(ws).as_posix(),
        "commit": git("rev-parse", "HEAD", cwd=ws),
        "key": Path(f"{keys}.key"),
        "pub": Path(f"{keys}.pub"),
    }


def test_build_warns_and_records_the_tree(dirty: dict[str, Any]) -> None:
    assert "changes in no commit" in dirty["stderr"] and dirty["edited"] in dirty["stderr"]
    report = json.loads(Path(str(dirty["wheel"]) + ".build.json").read_text())
    repos = {r["path"]: r for r in report["tree"]["repositories"]}
    assert report["tree"]["state"] == "dirty"
    assert repos["."]["modified"] == [dirty["edited"]]
    assert repos["."]["untracked"] == []  # build/ and the cargo target dir are the tool's own
    assert repos["3rdparty/tvm"]["untracked"] == ["scratch.txt"]
    assert repos["3rdparty/tokenizers-cpp"]["state"] == "clean"


def test_the_lock_the_build_resolved_is_recorded(dirty: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    report = json.loads(Path(str(dirty["wheel"]) + ".build.json").read_text())
    (lock,) = report["cargo"]["locks"]
    assert lock["path"] == LOCK
    assert lock["sha256"] == hashlib.sha256((dirty["ws"] / LOCK).read_bytes()).hexdigest()
    assert lock["packages"] == [{"name": "tokenizers-c", "version": "0.1.0"}]
    assert lock["libraries"] and all("libmlc_llm" in lib for lib in lock["libraries"])
    out = tmp_path / "w.cdx.json"
    assert cli("sbom", str(dirty["wheel"]), "-o", str(out), "--validate").returncode == 0
    bom = json.loads(out.read_text())
    refs = {c["bom-ref"]: c for c in bom["components"]}
    assert refs["cargo:tokenizers-c@0.1.0"]["purl"] == "pkg:cargo/tokenizers-c@0.1.0"
    edges = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    for lib in lock["libraries"]:
        assert edges[f"file:{lib}"] == ["cargo:tokenizers-c@0.1.0"]
    root_props = {p["name"]: p["value"] for p in bom["metadata"]["component"]["properties"]}
    assert root_props["mlc-devops:build:tree"] == "dirty"


def test_attest_and_verify_refuse_a_dirty_build(dirty: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    wheel, out = dirty["wheel"], tmp_path / "p.intoto.jsonl"
    refused = cli("attest", str(wheel), "--key", str(dirty["key"]), "-o", str(out))
    assert refused.returncode == 12, refused.stderr
    assert "dirty tree" in refused.stderr and not out.exists()
    allowed = cli("attest", str(wheel), "--key", str(dirty["key"]), "-o", str(out), "--allow-dirty")
    assert allowed.returncode == 0, allowed.stderr
    args = ("verify", str(wheel), "--provenance", str(out), "--key", str(dirty["pub"]))
    failed = cli(*args, "--source-commit", dirty["commit"])
    assert failed.returncode == 12, failed.stdout + failed.stderr
    assert "OK" not in failed.stdout and dirty["edited"] in failed.stderr
    loud = cli(*args, "--source-commit", dirty["commit"], "--allow-dirty")
    assert loud.returncode == 0, loud.stderr
    assert "PLUS CHANGES IN NO COMMIT" in loud.stdout and dirty["edited"] in loud.stderr
    stmt = json.loads(cli("attest", str(wheel), "--allow-dirty", "--predicate-only").stdout)
    deps = stmt["buildDefinition"]["resolvedDependencies"]
    assert any(d.get("name") == LOCK and d["annotations"]["role"] == "cargo-lock" for d in deps)


def test_release_refuses_a_dirty_build(dirty: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    version = dirty["wheel"].name.split("-")[1]
    out = tmp_path / "release"
    refused = cli("release", str(dirty["dist"]), "--version", f"v{version}", "-o", str(out))
    assert refused.returncode == 12, refused.stderr
    assert not out.exists()
    allowed = cli("release", str(dirty["dist"]), "--version", f"v{version}", "-o", str(out), "--allow-dirty")
    assert allowed.returncode == 0, allowed.stderr
    assert "--allow-dirty" in allowed.stderr
