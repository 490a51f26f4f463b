"""The pair (issue 14): where the TVM wheel comes from, which wheel of a folder, the reports' pair entries."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mlc_devops import options, tvmbuild, workspace
from mlc_devops.commands import smoke
from mlc_devops.errors import CheckFailed, PrerequisiteMissing, UsageError
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


# --- the TVM build's decisions -------------------------------------------------------------

# The shape of TVM's CMake at mlc-llm 34497eae's pin (mlc-ai/relax 31175052), abridged.
TVM_2024_CMAKE = """
tvm_option(USE_CUDA "Build with CUDA" OFF)
tvm_option(USE_LLVM "Build with LLVM, can be set to specific llvm-config path" OFF)
tvm_option(USE_VULKAN "Build with Vulkan" OFF)
tvm_option(USE_THRUST "Build with Thrust" OFF)
tvm_option(USE_CCACHE "Use ccache if found when invoking compiler" AUTO)
tvm_option(USE_BLAS "The blas library to be linked" none)
  add_library(tvm SHARED $<TARGET_OBJECTS:tvm_objs>)
  add_library(tvm_runtime SHARED $<TARGET_OBJECTS:tvm_runtime_objs>)
  add_library(tvm_allvisible SHARED $<TARGET_OBJECTS:tvm_objs>)
"""
STANDIN_CMAKE = """
option(USE_CUDA "Build with CUDA" OFF)
option(USE_VULKAN "Build with Vulkan" OFF)
add_library(tvm_runtime SHARED ${TVM_RUNTIME_SRCS})
"""


def _plan(cmake: str, *, layout: workspace.Layout = "legacy", cuda: bool = False, **kw: Any) -> tvmbuild.Plan:
    source = tvmbuild.Source(Path("/c/3rdparty/tvm"), "3rdparty/tvm", layout, "tvm", None, cmake)
    llvm = kw.pop("llvm_config", "/usr/bin/llvm-config" if tvmbuild.mentions(cmake, "USE_LLVM") else None)
    root = kw.pop("cuda_root", "/usr/local/cuda-13.0" if cuda else None)
    return tvmbuild.Plan(
        source=source,
        work=Path("/c/build") / tvmbuild.WORK_DIR,
        build_type="Release",
        llvm_config=llvm,
        llvm_version=None,
        cuda=cuda,
        cuda_root=root,
        cuda_architectures=("90",) if cuda else (),
        cuda_driver=kw.pop("cuda_driver", None),
        switches=tvmbuild.switches(cmake, llvm_config=llvm, cuda=cuda, cuda_root=root),
        targets=tvmbuild.legacy_targets(cmake),
    )


def test_config_cmake_for_the_2024_pin_with_cuda() -> None:
    plan = _plan(TVM_2024_CMAKE, cuda=True)
    assert tvmbuild.render_config(plan).splitlines()[1:] == [
        "set(CMAKE_BUILD_TYPE Release)",
        'set(USE_LLVM "/usr/bin/llvm-config")',
        'set(USE_CUDA "/usr/local/cuda-13.0")',
        'set(USE_THRUST "OFF")',
        'set(USE_VULKAN "OFF")',
        'set(USE_BLAS "none")',
        'set(USE_CCACHE "OFF")',
        'set(CMAKE_CUDA_ARCHITECTURES "90")',
    ]
    assert tvmbuild.defines(plan) == {
        "USE_LLVM": "/usr/bin/llvm-config",
        "USE_CUDA": "/usr/local/cuda-13.0",
        "CMAKE_CUDA_ARCHITECTURES": "90",
    }
    assert plan.targets == ("tvm", "tvm_runtime")  # tvm_allvisible is not built
    assert plan.backends == ("cpu", "cuda")


def test_the_stand_in_gets_no_llvm_and_only_its_runtime() -> None:
    plan = _plan(STANDIN_CMAKE)
    assert plan.llvm_config is None
    assert plan.switches == (("USE_CUDA", "OFF"), ("USE_VULKAN", "OFF"))
    assert plan.targets == ("tvm_runtime",)
    root = _plan(STANDIN_CMAKE + "option(TVM_BUILD_PYTHON_MODULE x OFF)\n", layout="root", cuda=True, cuda_root=None)
    assert tvmbuild.defines(root) == {
        "USE_CUDA": "ON",
        "CMAKE_CUDA_ARCHITECTURES": "90",
        "TVM_BUILD_PYTHON_MODULE": "ON",
    }


def test_mentions_takes_whole_words() -> None:
    assert tvmbuild.mentions("if(USE_LLVM)", "USE_LLVM")
    assert not tvmbuild.mentions("if(USE_LLVM_STATIC)", "USE_LLVM")
    assert not tvmbuild.mentions("set(MY_USE_LLVM 1)", "USE_LLVM")


def test_setup_py_name() -> None:
    text = 'from setuptools import setup\nExtension("tvm._ffi.x", [])\nsetup(\n    name="tvm",\n    version=v,\n)\n'
    assert tvmbuild.setup_py_name(text) == "tvm"
    assert tvmbuild.setup_py_name("setup(name=NAME)") is None


def test_llvm_config_on_path_else_the_highest_versioned() -> None:
    versioned = {"llvm-config-9": "/a/llvm-config-9", "llvm-config-15": "/a/llvm-config-15", "llvm-config-14": "/b/x"}
    assert tvmbuild.pick_llvm_config("/usr/bin/llvm-config", versioned) == "/usr/bin/llvm-config"
    assert tvmbuild.pick_llvm_config(None, versioned) == "/a/llvm-config-15"
    assert tvmbuild.pick_llvm_config(None, {}) is None


def _programs(folder: Path, *names: str) -> dict[str, str]:
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text("#!/bin/sh\n")
        (folder / name).chmod(0o755)
    return {"PATH": str(folder)}


def _source(cmake: str) -> tvmbuild.Source:
    return tvmbuild.Source(Path("/c/3rdparty/tvm"), "3rdparty/tvm", "legacy", "tvm", None, cmake)


def test_find_llvm_config(tmp_path: Path) -> None:
    env = _programs(tmp_path / "bin", "llvm-config-14", "llvm-config-16", "clang")
    assert tvmbuild.find_llvm_config(None, env, _source(TVM_2024_CMAKE)) == str(tmp_path / "bin" / "llvm-config-16")
    assert tvmbuild.find_llvm_config(None, env, _source(STANDIN_CMAKE)) is None  # no USE_LLVM: no compiler
    assert tvmbuild.find_llvm_config("llvm-config-14", env, _source(TVM_2024_CMAKE)) == str(
        tmp_path / "bin" / "llvm-config-14"
    )
    with pytest.raises(UsageError, match="--llvm-config /nowhere/llvm-config: no such program"):
        tvmbuild.find_llvm_config("/nowhere/llvm-config", env, _source(TVM_2024_CMAKE))


def test_no_llvm_config_names_debians_package(tmp_path: Path) -> None:
    env = _programs(tmp_path / "bin", "clang")
    with pytest.raises(PrerequisiteMissing) as caught:
        tvmbuild.find_llvm_config(None, env, _source(TVM_2024_CMAKE))
    assert caught.value.exit_code == 3
    assert "builds its compiler with LLVM (USE_LLVM), and no llvm-config is on PATH" in caught.value.message
    assert "llvm-N-dev for LLVM N (e.g. llvm-15-dev)" in (caught.value.hint or "")
    assert "--llvm-config PATH (env MLC_LLVM_CONFIG)" in (caught.value.hint or "")


def test_cuda_toolkit_and_its_driver_stub() -> None:
    dryrun = "#$ _NVVM_BRANCH_=nvvm\n#$ TOP=/usr/local/cuda-13.0/bin/..\n#$ NVVMIR_LIBRARY_DIR=x\n"
    assert tvmbuild.nvcc_top(dryrun) == "/usr/local/cuda-13.0"
    assert tvmbuild.cuda_root({}, "/usr/local/cuda-13.0") == "/usr/local/cuda-13.0"
    assert tvmbuild.cuda_root({"CUDA_HOME": "/opt/cuda"}, "/usr/local/cuda-13.0") == "/opt/cuda"
    stub, line = tvmbuild.driver_library("/opt/cuda", True, [])
    assert (
        stub == "/opt/cuda/lib64/stubs/libcuda.so" and "a machine without a GPU driver links against the stub" in line
    )
    assert tvmbuild.driver_library("/opt/cuda", True, ["-DCUDA_CUDA_LIBRARY:FILEPATH=/x/libcuda.so"]) == (
        None,
        "CUDA_CUDA_LIBRARY: from CMAKE_ARGS",
    )
    assert tvmbuild.driver_library("/opt/cuda", True, [], reads=False) == (
        None,
        "CUDA_CUDA_LIBRARY: not read by this TVM source's CMake",
    )
    none, line = tvmbuild.driver_library("/opt/cuda", False, [])
    assert none is None and "CMAKE_ARGS=-DCUDA_CUDA_LIBRARY=<a libcuda.so stub>" in line


def test_cmake_args_split_as_a_shell_would() -> None:
    args = tvmbuild.cmake_args({"CMAKE_ARGS": "-DCUDA_CUDA_LIBRARY=/a b/libcuda.so -D CUDA_NVRTC_LIBRARY=/x -G Ninja"})
    assert args == ["-DCUDA_CUDA_LIBRARY=/a", "b/libcuda.so", "-D", "CUDA_NVRTC_LIBRARY=/x", "-G", "Ninja"]
    assert tvmbuild.defined_names(args) == {"CUDA_CUDA_LIBRARY", "CUDA_NVRTC_LIBRARY"}
    with pytest.raises(UsageError, match="CMAKE_ARGS cannot be split"):
        tvmbuild.cmake_args({"CMAKE_ARGS": "-DX='unclosed"})


def test_backends_the_tvm_wheel_lacks() -> None:
    assert tvmbuild.missing_backends(["cpu", "cuda", "cublas", "vulkan"], ("cpu", "cuda")) == ["vulkan"]
    assert tvmbuild.missing_backends(["cpu"], ("cpu",)) == []


# --- retagging the legacy wheel -----------------------------------------------------------------


def test_py3_name_and_extension_modules() -> None:
    assert (
        tvmbuild.py3_name("tvm-0.15.dev183-cp311-cp311-linux_x86_64.whl") == "tvm-0.15.dev183-py3-none-linux_x86_64.whl"
    )
    assert tvmbuild.py3_name("tvm-0.15-1-cp39-cp39-linux_x86_64.whl") == "tvm-0.15-1-py3-none-linux_x86_64.whl"
    assert tvmbuild.py3_name("tvm-0.15-py3-none-linux_x86_64.whl") is None
    members = ["tvm/libtvm.so", "tvm/_ffi/_cy3/core.cpython-311-x86_64-linux-gnu.so", "x/y.abi3.so", "z.pyd"]
    assert tvmbuild.extension_modules(members) == sorted(members[1:])
    assert tvmbuild.extension_modules(["tvm/libtvm.so", "tvm/libtvm_runtime.so"]) == []


def _legacy_wheel(folder: Path, *, extension: bool = False) -> Path:
    wheel_text = (
        b"Wheel-Version: 1.0\nGenerator: setuptools (84.2.1)\nRoot-Is-Purelib: false\nTag: cp311-cp311-linux_x86_64\n\n"
    )
    files = {"tvm/__init__.py": b"", "tvm/libtvm.so": b"\x7fELF", "tvm-0.15.dist-info/WHEEL": wheel_text}
    if extension:
        files["tvm/_ffi/_cy3/core.cpython-311-x86_64-linux-gnu.so"] = b"\x7fELF"
    record = "".join(f"{n},sha256=x,{len(d)}\n" for n, d in files.items()) + "tvm-0.15.dist-info/RECORD,,\n"
    return _wheel(
        folder, "tvm-0.15-cp311-cp311-linux_x86_64.whl", {**files, "tvm-0.15.dist-info/RECORD": record.encode()}
    )


def test_retag_a_wheel_without_extension_modules(tmp_path: Path) -> None:
    done = tvmbuild.retag(_legacy_wheel(tmp_path), tmp_path / "out")
    assert done is not None
    wheel, entry = done
    assert wheel.name == "tvm-0.15-py3-none-linux_x86_64.whl"
    assert entry == {
        "from": "cp311-cp311-linux_x86_64",
        "to": "py3-none-linux_x86_64",
        "reason": "no Python extension module in the wheel (its libraries are loaded with ctypes)",
    }
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read("tvm-0.15.dist-info/WHEEL")
        assert text.decode().rstrip().splitlines()[-1] == "Tag: py3-none-linux_x86_64"
        assert "Tag: cp311" not in text.decode() and "Root-Is-Purelib: false" in text.decode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(text).digest()).rstrip(b"=").decode()
        record = archive.read("tvm-0.15.dist-info/RECORD").decode()
        assert f"tvm-0.15.dist-info/WHEEL,sha256={digest},{len(text)}" in record.splitlines()
        assert archive.read("tvm/libtvm.so") == b"\x7fELF"


def test_a_wheel_with_an_extension_module_keeps_its_tag(tmp_path: Path) -> None:
    assert tvmbuild.retag(_legacy_wheel(tmp_path, extension=True), tmp_path / "out") is None


# --- the pair in findings and reports ----------------------------------------------------------------


def test_the_undeclared_pairing_of_the_pairs_tvm_names_the_pair() -> None:
    found = [
        {
            "kind": "undeclared-pairing",
            "message": "the wheel's libraries need libtvm.so from tvm 0.15",
            "package": "tvm",
        },
        {"kind": "undeclared-pairing", "message": "... from psutil", "package": "psutil"},
    ]
    named = tvmbuild.name_pair(found, "tvm-0.15-py3-none-linux_x86_64.whl")
    assert named[0]["message"].endswith(
        "; it is the TVM wheel of the pair (tvm-0.15-py3-none-linux_x86_64.whl), which the build report names "
        "and smoke installs beside it"
    )
    assert named[0]["pair"] == "tvm-0.15-py3-none-linux_x86_64.whl"
    assert named[1] == found[1]


def test_pair_entry_names_the_other_wheel_from_its_report() -> None:
    from mlc_devops.buildsteps import reporting

    other = {
        "wheel": {"filename": "mlc_standin_tvm-0.1.0-py3-none-linux_x86_64.whl", "sha256": "cd" * 32},
        "source": {"commit": "b" * 40},
    }
    entry = reporting.pair_entry(other, "tvm", "3rdparty/tvm")
    assert entry == {
        "role": "tvm",
        "name": "mlc-standin-tvm",
        "version": "0.1.0",
        "filename": "mlc_standin_tvm-0.1.0-py3-none-linux_x86_64.whl",
        "sha256": "cd" * 32,
        "source": {"path": "3rdparty/tvm", "commit": "b" * 40},
        "origin": "built",
    }
    assert report.parse(_report(entry)).pair is not None


def test_a_library_that_needs_the_missing_gpu_driver_is_noted_not_failed() -> None:
    from mlc_devops.wheel import validate

    assert validate.missing_driver("libcuda.so.1: cannot open shared object file: No such file or directory") == (
        "libcuda.so.1"
    )
    assert validate.missing_driver("tvm/libtvm_runtime.so: libcuda.so.1: cannot open shared object file") == (
        "libcuda.so.1"
    )
    assert validate.missing_driver("libLLVM-14.so.1: cannot open shared object file: No such file") is None
    result = {
        "failed": [
            {"path": "tvm/libtvm.so", "error": "libcuda.so.1: cannot open shared object file: No such file"},
            {"path": "tvm/libtvm_runtime.so", "error": "libLLVM-14.so.1: cannot open shared object file"},
        ]
    }
    failures, notes = validate.interpret_load(result, [], "tvm")
    assert failures == ["libtvm_runtime.so does not load: libLLVM-14.so.1: cannot open shared object file"]
    assert notes == [
        "tvm/libtvm.so: not loaded here: it needs libcuda.so.1, which the GPU driver provides and this machine "
        "does not have (`mlc-devops smoke --gpu` on a machine with the driver loads it)"
    ]
    imported = {
        "import": {"ok": False, "oserror": True, "error": "OSError: libcuda.so.1: cannot open shared object file"}
    }
    failures, notes = validate.interpret_load(imported, [], "tvm")
    assert failures == [] and notes[0].startswith(
        "import tvm: not checked here: it loads a library that needs libcuda.so.1"
    )
    provider = {"providers": {"tvm": "OSError: libcuda.so.1: cannot open shared object file: No such file"}}
    failures, notes = validate.interpret_load(provider, [], "mlc_llm")
    assert failures == [] and notes[0].startswith("import tvm: not checked here: it needs libcuda.so.1")
