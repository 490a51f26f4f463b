"""The pair (issue 14): where the TVM wheel comes from, which wheel of a folder, the reports' pair entries."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mlc_devops import options, tvmbuild
from mlc_devops.commands import smoke
from mlc_devops.errors import CheckFailed, UsageError
from mlc_devops.supply import report
from mlc_devops.ui import Console

PLATFORM = "linux_x86_64"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, options.TvmChoice("none")),
        ("", options.TvmChoice("none")),
        ("none", options.TvmChoice("none")),
        ("source", options.TvmChoice("source")),
        ("SOURCE", options.TvmChoice("source")),
        ("./source", options.TvmChoice("directory", "./source")),
        (
            "dist/tvm-0.16-py3-none-linux_x86_64.whl",
            options.TvmChoice("wheel", "dist/tvm-0.16-py3-none-linux_x86_64.whl"),
        ),
        ("wheels", options.TvmChoice("directory", "wheels")),
        ("https://mlc.ai/wheels", options.TvmChoice("index", "https://mlc.ai/wheels", None)),
        (
            "https://mlc.ai/wheels#mlc-ai-nightly-cpu",
            options.TvmChoice("index", "https://mlc.ai/wheels", "mlc-ai-nightly-cpu"),
        ),
        ("file:///srv/simple#name=tvm", options.TvmChoice("index", "file:///srv/simple", "tvm")),
    ],
)
def test_tvm_choice_by_its_form(text: str | None, expected: options.TvmChoice) -> None:
    assert options.parse_tvm(text) == expected


@pytest.mark.parametrize("text", ["ftp://host/wheels", "https://host/simple#not a name"])
def test_tvm_choice_refuses_what_it_cannot_fetch(text: str) -> None:
    with pytest.raises(UsageError, match="--tvm"):
        options.parse_tvm(text)


def test_tvm_and_llvm_config_resolve_flag_then_env() -> None:
    r = options.resolve({}, {"MLC_TVM": "source", "MLC_LLVM_CONFIG": "/usr/bin/llvm-config-15"}, cores=1, memory=None)
    assert r.tvm == options.TvmChoice("source") and r.origins["tvm"].origin == "env MLC_TVM"
    assert r.llvm_config == "/usr/bin/llvm-config-15"
    r = options.resolve({"tvm": "w.whl"}, {"MLC_TVM": "source"}, cores=1, memory=None)
    assert r.tvm == options.TvmChoice("wheel", "w.whl")
    assert options.resolve({}, {}, cores=1, memory=None).tvm == options.TvmChoice("none")


def test_tvm_source_dir_reads_upstreams_variable_after_the_tools() -> None:
    r = options.resolve({}, {"TVM_SOURCE_DIR": "/src/tvm"}, cores=1, memory=None)
    assert r.config.tvm_source_dir == "/src/tvm" and r.origins["tvm_source_dir"].origin == "env TVM_SOURCE_DIR"
    r = options.resolve({}, {"TVM_SOURCE_DIR": "/src/tvm", "MLC_TVM_SOURCE_DIR": "x/tvm"}, cores=1, memory=None)
    assert r.config.tvm_source_dir == "x/tvm"


def test_smoke_tvm_takes_files_and_folders_only() -> None:
    assert options.resolve_smoke_tvm("a.whl", {}) == options.TvmChoice("wheel", "a.whl")
    assert options.resolve_smoke_tvm(None, {"MLC_TVM": "source"}) == options.TvmChoice("none")
    assert options.resolve_smoke_tvm(None, {"MLC_TVM": "https://x/simple"}) == options.TvmChoice("none")
    with pytest.raises(UsageError, match="not an index"):
        options.resolve_smoke_tvm("https://x/simple", {})


def test_choose_wheel_takes_the_newest_of_one_project() -> None:
    found = [
        ("tvm-0.15.dev0-py3-none-linux_x86_64.whl", "tvm", "0.15.dev0"),
        ("tvm-0.16.dev183-py3-none-linux_x86_64.whl", "tvm", "0.16.dev183"),
    ]
    assert tvmbuild.choose_wheel(found, "dist") == "tvm-0.16.dev183-py3-none-linux_x86_64.whl"
    with pytest.raises(UsageError, match="holds no TVM wheel"):
        tvmbuild.choose_wheel([], "dist")
    with pytest.raises(UsageError, match=r"TVM wheels of 2 projects \(apache-tvm, tvm\)"):
        tvmbuild.choose_wheel([*found, ("apache_tvm-0.27-py3-none-linux_x86_64.whl", "apache-tvm", "0.27")], "dist")


def test_ships_tvm_by_library_name() -> None:
    assert tvmbuild.ships_tvm(["tvm/libtvm.so", "tvm/__init__.py"])
    assert tvmbuild.ships_tvm(["tvm_standin/lib/libtvm_runtime.so"])
    assert not tvmbuild.ships_tvm(["tvm_ffi/lib/libtvm_ffi.so"])


def _wheel(folder: Path, filename: str, members: dict[str, bytes]) -> Path:
    path = folder / filename
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_pick_wheel_leaves_out_the_mlc_llm_wheel_and_the_ffi(tmp_path: Path) -> None:
    _wheel(tmp_path, f"mlc_llm-0.1.0-py3-none-{PLATFORM}.whl", {"mlc_llm/lib/libtvm_runtime.so": b""})
    _wheel(tmp_path, f"mlc_standin_tvm_ffi-0.1.0-py3-none-{PLATFORM}.whl", {"tvm_ffi_standin/lib/libtvm_ffi.so": b""})
    tvm = _wheel(tmp_path, f"mlc_standin_tvm-0.1.0-py3-none-{PLATFORM}.whl", {"tvm_standin/lib/libtvm_runtime.so": b""})
    assert tvmbuild.pick_wheel(tmp_path, exclude="mlc_llm") == tvm
    with pytest.raises(UsageError, match="2 projects"):
        tvmbuild.pick_wheel(tmp_path)


TVM_FILE = "tvm-0.15.dev183-py3-none-linux_x86_64.whl"
PAIR: dict[str, Any] = {
    "role": "tvm",
    "name": "tvm",
    "version": "0.15.dev183",
    "filename": TVM_FILE,
    "sha256": "ab" * 32,
    "source": {"path": "3rdparty/tvm", "commit": "31175052dbeeb1c6c4e3fb870024e19872534a7d"},
    "origin": "built",
}


def _report(pair: Any) -> dict[str, Any]:
    return {"schema": report.SCHEMA, "wheel": {"filename": "mlc_llm-0.1-py3-none-any.whl"}, "pair": pair}


def test_report_reads_the_pair() -> None:
    parsed = report.parse(_report(PAIR)).pair
    assert parsed == report.Pair(
        role="tvm",
        name="tvm",
        version="0.15.dev183",
        filename=TVM_FILE,
        sha256="ab" * 32,
        commit="31175052dbeeb1c6c4e3fb870024e19872534a7d",
    )
    assert report.parse(_report(None)).pair is None
    with pytest.raises(UsageError, match="pair names no wheel file with a SHA-256 digest"):
        report.parse(_report({**PAIR, "sha256": "md5:0"}))
    prebuilt = report.parse(_report({**PAIR, "origin": "prebuilt", "from": "https://u:secret@host/simple"})).pair
    assert prebuilt is not None and prebuilt.source_from == "https://host/simple"


def _smoke_setup(tmp_path: Path, *, tamper: bool = False) -> tuple[Path, Path]:
    tvm = _wheel(tmp_path, f"tvm-0.15.dev183-py3-none-{PLATFORM}.whl", {"tvm/libtvm.so": b"ELF"})
    wheel = _wheel(tmp_path, f"mlc_llm-0.1-py3-none-{PLATFORM}.whl", {"mlc_llm/__init__.py": b""})
    digest = hashlib.sha256(tvm.read_bytes()).hexdigest()
    pair = {**PAIR, "filename": tvm.name, "sha256": ("00" * 32) if tamper else digest}
    report.report_path_for(wheel).write_text(json.dumps(_report(pair)))
    return wheel, tvm


def test_smoke_installs_the_pair_the_report_names(tmp_path: Path) -> None:
    wheel, tvm = _smoke_setup(tmp_path)
    quiet = Console(quiet=True)
    assert smoke.pair_packages(wheel, options.TvmChoice(), quiet) == [str(tvm.resolve())]
    explicit = _wheel(tmp_path, f"other-1-py3-none-{PLATFORM}.whl", {"tvm/libtvm.so": b""})
    assert smoke.pair_packages(wheel, options.TvmChoice("wheel", str(explicit)), quiet) == [str(explicit.resolve())]
    tvm.unlink()
    with pytest.raises(UsageError, match="which is not beside it"):
        smoke.pair_packages(wheel, options.TvmChoice(), quiet)


def test_smoke_refuses_a_pair_whose_digest_is_not_the_reports(tmp_path: Path) -> None:
    wheel, _ = _smoke_setup(tmp_path, tamper=True)
    with pytest.raises(
        CheckFailed, match=r"but mlc_llm-0\.1-py3-none-linux_x86_64\.whl\.build\.json pairs the wheel with"
    ):
        smoke.pair_packages(wheel, options.TvmChoice(), Console(quiet=True))


def test_smoke_without_a_report_installs_no_pair(tmp_path: Path) -> None:
    wheel = _wheel(tmp_path, f"mlc_llm-0.1-py3-none-{PLATFORM}.whl", {"mlc_llm/__init__.py": b""})
    assert smoke.pair_packages(wheel, options.TvmChoice(), Console(quiet=True)) == []
