"""The pair (issue 14): the stand-in's TVM wheel built from its own 3rdparty/tvm beside the mlc_llm wheel.

Real cmake, pip and git. The root layout as current upstream builds its TVM
(scikit-build-core from 3rdparty/tvm/pyproject.toml), the legacy layout as the
2024 pin does (CMake, then python/setup.py, then the retag). The stand-in TVM has
no compiler, so no LLVM is asked for; what the real LLVM/CUDA build does is checked
by hand (docs/README.md).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonshapes
import pytest
from standin import copy_standin, git, make_git_workspace

pytestmark = pytest.mark.integration
Cli = Callable[..., "subprocess.CompletedProcess[str]"]
TVM_WHEEL = "mlc_standin_tvm-0.1.0-py3-none-linux_x86_64.whl"


def _report(wheel: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(wheel.with_name(wheel.name + ".build.json").read_text())
    return data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One root-layout pair from a git workspace whose 3rdparty folders are real submodules."""
    base = tmp_path_factory.mktemp("pair")
    ws = make_git_workspace(base)
    dist = base / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "mlc_devops", "build", str(ws), "--dist", str(dist), "--tvm", "source"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    (mlc,) = dist.glob("mlc_llm-*.whl")
    return {"ws": ws, "dist": dist, "mlc": mlc, "tvm": dist / TVM_WHEEL, "log": proc.stderr, "base": base}


def test_both_reports_name_each_other_with_true_digests(pair: dict[str, Any]) -> None:
    mlc, tvm = _report(pair["mlc"]), _report(pair["tvm"])
    tvm_commit = git("rev-parse", "HEAD", cwd=pair["ws"] / "3rdparty" / "tvm")
    assert mlc["pair"] == {
        "role": "tvm",
        "name": "mlc-standin-tvm",
        "version": "0.1.0",
        "filename": TVM_WHEEL,
        "sha256": _sha256(pair["tvm"]),
        "source": {"path": "3rdparty/tvm", "commit": tvm_commit},
        "origin": "built",
    }
    assert tvm["pair"] == {
        "role": "mlc_llm",
        "name": "mlc-llm",
        "version": "0.1.0.dev0",
        "filename": pair["mlc"].name,
        "sha256": _sha256(pair["mlc"]),
        "source": {"path": ".", "commit": git("rev-parse", "HEAD", cwd=pair["ws"])},
        "origin": "built",
    }
    assert jsonshapes.problems(mlc) == [] and jsonshapes.problems(tvm) == []  # tests/schemas/build-report.v1.json
    # the TVM wheel's report is of the TVM source: its layout, its commit, its own phases
    assert tvm["schema"] == mlc["schema"] == "mlc-devops/build-report/v1"
    assert tvm["layout"] == "root" and tvm["backends"] == ["cpu"]
    assert tvm["source"]["commit"] == tvm_commit and tvm["tree"]["state"] == "clean"
    assert tvm["wheel"]["sha256"] == _sha256(pair["tvm"])
    assert set(tvm["phases"]) == {"tvm prepare", "tvm configure", "tvm compile", "tvm package", "tvm validate"}
    assert not any(p.startswith("tvm ") for p in mlc["phases"])
    assert tvm["tvm"]["llvm"] is None and tvm["tvm"]["retag"] is None  # the stand-in has no USE_LLVM
    assert tvm["tvm"]["config_cmake"]["USE_CUDA"] == "OFF"
    assert tvm["validation"]["providers"][0]["name"] == "mlc-standin-tvm-ffi"
    assert "tvm: the source has no USE_LLVM (no compiler to build): built without LLVM" in pair["log"]
    with zipfile.ZipFile(pair["tvm"]) as archive:
        assert "tvm_standin/lib/libtvm_runtime.so" in archive.namelist()
    # the mlc_llm wheel does not declare the TVM wheel: the finding stays, and names the pair
    (finding,) = [f for f in mlc["validation"]["findings"] if f["kind"] == "undeclared-pairing"]
    assert finding["package"] == "mlc-standin-tvm" and finding["pair"] == TVM_WHEEL


def test_smoke_installs_the_pair_and_the_process_uses_its_runtime(pair: dict[str, Any], cli: Cli) -> None:
    proc = cli("smoke", str(pair["mlc"]), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"the TVM wheel of the pair: {TVM_WHEEL} (named by {pair['mlc'].name}.build.json, SHA-256 checked)" in (
        proc.stderr
    )
    data = json.loads(proc.stdout)
    # as upstream's mlc_llm with a TVM installed: the TVM wheel's libtvm_runtime, not the mlc_llm wheel's copy
    assert "tvm_standin/lib/libtvm_runtime.so" in data["from_dependencies"]
    assert data["present"] == ["mlc_llm/libmlc_llm.so"]


def test_sbom_and_attest_work_on_the_tvm_wheel(pair: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    bom = tmp_path / "tvm.cdx.json"
    assert cli("sbom", str(pair["tvm"]), "-o", str(bom), "--validate").returncode == 0
    refs = {c["bom-ref"] for c in json.loads(bom.read_text())["components"]}
    assert "file:tvm_standin/lib/libtvm_runtime.so" in refs
    statement = tmp_path / "tvm.intoto.jsonl"
    proc = cli("attest", str(pair["tvm"]), "-o", str(statement))
    assert proc.returncode == 0, proc.stderr
    subject = json.loads(statement.read_text().splitlines()[0])["subject"]
    assert subject == [{"name": TVM_WHEEL, "digest": {"sha256": _sha256(pair["tvm"])}}]


def test_a_prebuilt_tvm_from_a_folder_is_recorded_the_same_way(pair: dict[str, Any], cli: Cli, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    proc = cli("build", str(pair["ws"]), "--dist", str(dist), "--tvm", str(pair["dist"]))
    assert proc.returncode == 0, proc.stderr[-3000:]
    (mlc,) = dist.glob("mlc_llm-*.whl")
    entry = _report(mlc)["pair"]
    assert entry["origin"] == "prebuilt" and entry["from"] == str(pair["dist"])
    assert entry["sha256"] == _sha256(pair["tvm"]) == _sha256(dist / TVM_WHEEL)
    assert entry["source"]["commit"] == _report(pair["tvm"])["source"]["commit"]  # from the report that came with it
    assert not (dist / (TVM_WHEEL + ".build.json")).exists()  # no report of ours for a wheel we did not build


def test_legacy_pair_is_retagged_and_smokes(cli: Cli, tmp_path: Path, ffi_wheel: Path) -> None:
    ws = copy_standin(tmp_path / "legacy")
    (ws / "pyproject.toml").unlink()  # mlc-llm's legacy layout
    (ws / "3rdparty" / "tvm" / "pyproject.toml").unlink()  # and its TVM's: python/setup.py after a CMake build
    dist = tmp_path / "dist"
    proc = cli("build", str(ws), "--dist", str(dist), "--tvm", "source")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "tvm: the source has no tvm library (no compiler): building tvm_runtime only" in proc.stderr
    tvm = _report(dist / TVM_WHEEL)
    assert jsonshapes.problems(tvm) == []
    python = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    assert tvm["layout"] == "legacy" and tvm["tvm"]["targets"] == ["tvm_runtime"]
    assert tvm["tvm"]["retag"]["from"] == f"{python}-{python}-linux_x86_64"
    assert tvm["tvm"]["retag"]["to"] == "py3-none-linux_x86_64"
    assert tvm["wheel"]["tags"] == ["py3-none-linux_x86_64"]
    assert (ws / "build" / "mlc-devops-tvm" / "build" / "config.cmake").is_file()  # kept for the next run
    # The legacy mlc_llm wheel is retagged too: its setup.py declares has_ext_modules, as upstream's does.
    (mlc_wheel,) = dist.glob("mlc_llm-*.whl")
    assert mlc_wheel.name.endswith("-py3-none-linux_x86_64.whl")
    mlc = _report(mlc_wheel)
    assert jsonshapes.problems(mlc) == []
    assert mlc["retag"]["from"] == f"{python}-{python}-linux_x86_64"
    assert mlc["wheel"]["tags"] == ["py3-none-linux_x86_64"]
    assert mlc["pair"]["sha256"] == tvm["wheel"]["sha256"]
    smoke = cli("smoke", str(mlc_wheel), "--offline", "--with", str(ffi_wheel))
    assert smoke.returncode == 0, smoke.stderr[-3000:]
    assert f"the TVM wheel of the pair: {TVM_WHEEL}" in smoke.stderr
