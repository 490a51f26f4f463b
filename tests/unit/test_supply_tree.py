"""Dirty trees (issue 15, item 2): recorded by build, carried into SBOM and provenance, refused by attest and
release, failed by verify unless --allow-dirty."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonshapes
import pytest
from unit.test_supply_helpers import SOURCE_COMMIT, make_wheel, report_data, write_report

from mlc_devops.cli import main
from mlc_devops.errors import EXIT_DIRTY, DirtyTree
from mlc_devops.supply import provenance, release, sbom, tree
from mlc_devops.supply import report as report_mod
from mlc_devops.wheel import reader

# What `git status --porcelain=v1 -z --untracked-files=all` prints: a modification, a staged addition,
# a rename (its old path follows), an untracked file, and the tool's own outputs.
PORCELAIN = " M cpp/serve.cc\0A  cpp/new.h\0R  cpp/b.cc\0cpp/a.cc\0?? notes.txt\0?? build/config.cmake\0?? dist/x.whl\0"

DIRTY_TREE = {
    "state": "dirty",
    "repositories": [
        {
            "path": ".",
            "state": "dirty",
            "modified": ["cpp/serve.cc"],
            "untracked": [],
            "modified_count": 1,
            "untracked_count": 0,
        },
        {"path": "3rdparty/tvm", "state": "clean"},
        {"path": "3rdparty/tokenizers-cpp", "state": "clean"},
    ],
}
CLEAN_TREE = {"state": "clean", "repositories": [{"path": ".", "state": "clean"}]}


def test_parse_porcelain_keeps_renames_new_path_and_drops_ignored() -> None:
    modified, untracked = tree.parse_porcelain(PORCELAIN + "!! ignored.o\0")
    assert modified == ["cpp/serve.cc", "cpp/new.h", "cpp/b.cc"]
    assert untracked == ["notes.txt", "build/config.cmake", "dist/x.whl"]


def test_classify_leaves_out_the_tools_outputs() -> None:
    state = tree.classify(".", PORCELAIN, excluded=["build", "dist/"])
    assert state.state == "dirty"
    assert state.untracked == ("notes.txt",)
    assert state.modified_count == 3
    only_outputs = tree.classify(
        ".", "?? build/a\0?? dist/b.whl\0?? target/release/x\0", excluded=["build", "dist", "target"]
    )
    assert only_outputs.state == "clean"
    assert tree.classify("3rdparty/tvm", "").state == "clean"


def test_overall_state() -> None:
    clean, dirty = tree.TreeState(".", "clean"), tree.TreeState("3rdparty/tvm", "dirty", ("a",), (), 1, 0)
    unknown = tree.TreeState(".", "unknown", detail="not a git checkout")
    assert tree.overall([clean, dirty]) == "dirty"
    assert tree.overall([clean]) == "clean"
    assert tree.overall([unknown, clean]) == "unknown"
    assert tree.overall([]) == "unknown"


def test_relative_outputs(tmp_path: Path) -> None:
    repo = tmp_path / "ws"
    assert tree.relative_outputs(repo, [repo / "build", tmp_path / "elsewhere", repo]) == ["build"]


def test_report_reads_the_tree(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    rep = report_mod.parse(report_data(wheel, tree=DIRTY_TREE))
    assert rep.tree_state == "dirty"
    assert [t.path for t in rep.dirty] == ["."]
    assert report_mod.parse(report_data(wheel)).tree_state is None  # an older report: not recorded
    assert report_mod.parse(report_data(wheel, tree=CLEAN_TREE)).tree_state == "clean"


def _bom(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    wheel = make_wheel(tmp_path)
    rep = report_mod.parse(report_data(wheel, **overrides))
    when = datetime(2026, 11, 28, tzinfo=timezone.utc)
    text = sbom.to_json(sbom.wheel_bom(reader.read_wheel(wheel), rep, timestamp=when, tool_version="0.1.0"))
    sbom.validate_json(text)
    data: dict[str, Any] = json.loads(text)
    return data


def _props(component: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["name"], p["value"]) for p in component.get("properties", [])]


def test_sbom_records_a_dirty_tree(tmp_path: Path) -> None:
    bom = _bom(tmp_path, tree=DIRTY_TREE)
    refs = {c["bom-ref"]: c for c in bom["components"]}
    source = _props(refs["source:mlc-llm"])
    assert ("mlc-devops:source:tree", "dirty") in source
    assert ("mlc-devops:source:modified", "cpp/serve.cc") in source
    assert ("mlc-devops:source:tree", "clean") in _props(refs["submodule:3rdparty/tvm"])
    root = bom["metadata"]["component"]
    assert ("mlc-devops:build:tree", "dirty") in _props(root)
    assert "changes in no commit" in root["pedigree"]["notes"]
    assert root["pedigree"]["commits"][0]["uid"] == SOURCE_COMMIT


def test_sbom_of_a_clean_tree_says_clean(tmp_path: Path) -> None:
    root = _bom(tmp_path, tree=CLEAN_TREE)["metadata"]["component"]
    assert ("mlc-devops:build:tree", "clean") in _props(root)
    assert "notes" not in root["pedigree"]


def test_attest_refuses_a_dirty_build(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    rep = report_mod.parse(report_data(wheel, tree=DIRTY_TREE))
    with pytest.raises(DirtyTree, match=r"dirty tree \(\.: 1 modified \(cpp/serve\.cc\)\)"):
        provenance.attest([wheel], rep, {}, tool_version="0.1.0")
    stmt = provenance.attest([wheel], rep, {}, tool_version="0.1.0", allow_dirty=True)
    definition = stmt["predicate"]["buildDefinition"]
    assert definition["internalParameters"]["allowDirty"] is True
    source = definition["resolvedDependencies"][0]["annotations"]
    assert source["role"] == "source" and source["tree"] == "dirty"
    assert source["dirtyRepositories"][0]["modified"] == ["cpp/serve.cc"]
    assert provenance.tree_of(stmt) == "dirty"
    subs = {d["name"]: d["annotations"] for d in definition["resolvedDependencies"][1:] if "name" in d}
    assert subs["3rdparty/tvm"]["tree"] == "clean"


def test_clean_build_attests_without_allow_dirty(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    rep = report_mod.parse(report_data(wheel, tree=CLEAN_TREE))
    stmt = provenance.attest([wheel], rep, {}, tool_version="0.1.0", allow_dirty=True)
    assert "allowDirty" not in stmt["predicate"]["buildDefinition"]["internalParameters"]
    assert provenance.tree_of(stmt) == "clean"
    assert provenance.check_clean(stmt, "w", allow_dirty=False) == "clean"


def _signed(tmp_path: Path, *attest_args: str, **overrides: Any) -> tuple[Path, Path]:
    wheel = make_wheel(tmp_path / "dist")
    write_report(wheel, **overrides)
    keys = tmp_path / "keys" / "k"
    assert main(["keygen", "-o", str(keys)]) == 0
    out = wheel.with_name(wheel.name + ".intoto.jsonl")
    code = main(["attest", str(wheel), "--key", f"{keys}.key", "-o", str(out), *attest_args])
    assert code == 0
    return wheel, Path(f"{keys}.pub")


def test_cli_attest_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel = make_wheel(tmp_path)
    write_report(wheel, tree=DIRTY_TREE)
    assert main(["attest", str(wheel), "-o", str(tmp_path / "p.jsonl")]) == EXIT_DIRTY == 12
    assert "--allow-dirty" in capsys.readouterr().err
    assert not (tmp_path / "p.jsonl").exists()


def test_verify_fails_a_dirty_build_unless_allowed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel, public = _signed(tmp_path, "--allow-dirty", tree=DIRTY_TREE)
    capsys.readouterr()
    args = ["verify", str(wheel), "--key", str(public), "--source-commit", SOURCE_COMMIT]
    assert main(args) == EXIT_DIRTY
    err = capsys.readouterr().err
    assert "dirty tree" in err and "cpp/serve.cc" in err
    assert main([*args, "--allow-dirty"]) == 0
    captured = capsys.readouterr()
    assert "PLUS CHANGES IN NO COMMIT" in captured.out
    assert "warning:" in captured.err and "cpp/serve.cc" in captured.err
    assert main([*args, "--allow-dirty", "--json"]) == 0
    assert jsonshapes.check_text(capsys.readouterr().out)["verified"][0]["tree"] == "dirty"


def test_verify_a_clean_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheel, public = _signed(tmp_path, tree=CLEAN_TREE)
    capsys.readouterr()
    assert main(["verify", str(wheel), "--key", str(public), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verified"][0]["tree"] == "clean"


def test_release_refuses_a_dirty_build(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    wheel = make_wheel(dist)
    write_report(wheel, tree=DIRTY_TREE)
    version = wheel.name.split("-")[1]
    out = tmp_path / "rel"
    assert main(["release", str(dist), "--version", f"v{version}", "-o", str(out)]) == EXIT_DIRTY
    assert not out.exists()
    assert main(["release", str(dist), "--version", f"v{version}", "-o", str(out), "--allow-dirty"]) == 0
    stmt = json.loads((out / (wheel.name + ".intoto.jsonl")).read_text())
    assert stmt["predicate"]["buildDefinition"]["internalParameters"]["allowDirty"] is True


def test_release_reads_a_dirty_provenance_without_report(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    wheel = make_wheel(dist)
    rep = report_mod.parse(report_data(wheel, tree=DIRTY_TREE))
    stmt = provenance.attest([wheel], rep, {}, tool_version="0.1.0", allow_dirty=True)
    (dist / (wheel.name + ".intoto.jsonl")).write_text(json.dumps(stmt) + "\n")
    plan = release.plan("v" + wheel.name.split("-")[1], [p.name for p in dist.iterdir()])
    with pytest.raises(DirtyTree, match="dirty tree"):
        release.check_clean(plan, dist, {wheel.name: None}, allow_dirty=False)
    assert release.check_clean(plan, dist, {wheel.name: None}, allow_dirty=True) == [wheel.name]
