from __future__ import annotations

from pathlib import PurePosixPath, PureWindowsPath

import pytest

from mlc_devops import platforms
from mlc_devops.wheel import reader, validate


@pytest.mark.parametrize(
    ("sys_platform", "lib", "python"),
    [
        ("linux", "libmlc_llm.so", "bin/python"),
        ("win32", "mlc_llm.dll", "Scripts/python.exe"),
        ("darwin", "libmlc_llm.dylib", "bin/python"),
    ],
)
def test_library_names_and_venv_paths(sys_platform: str, lib: str, python: str) -> None:
    plat = platforms.platform_for(sys_platform)
    assert plat.shared_library("mlc_llm") == lib
    root = PureWindowsPath("C:/v") if sys_platform == "win32" else PurePosixPath("/v")
    assert plat.venv_python(root) == root / python


@pytest.mark.parametrize(
    ("name", "tag", "fits"),
    [
        ("linux", "manylinux_2_28_x86_64", True),
        ("linux", "linux_x86_64", True),
        ("linux", "win_amd64", False),
        ("windows", "win_amd64", True),
        ("windows", "linux_x86_64", False),
        ("macos", "macosx_11_0_arm64", True),
    ],
)
def test_wheel_platform_tags(name: str, tag: str, fits: bool) -> None:
    assert platforms.PLATFORMS[name].wheel_platform_fits(tag) is fits


@pytest.mark.parametrize(
    ("name", "members", "tag"),
    [
        ("linux", ["mlc_llm/lib/libmlc_llm.so", "mlc_llm/lib/libtvm_runtime.so"], "py3-none-linux_x86_64"),
        ("windows", ["mlc_llm/bin/mlc_llm.dll", "mlc_llm/bin/tvm_runtime.dll"], "py3-none-win_amd64"),
        ("macos", ["mlc_llm/lib/libmlc_llm.dylib", "mlc_llm/lib/libtvm_runtime.dylib"], "py3-none-macosx_11_0_arm64"),
    ],
)
def test_wheel_validation_per_platform(name: str, members: list[str], tag: str) -> None:
    plat = platforms.PLATFORMS[name]
    facts = reader.facts_from(f"mlc_llm-0.1-{tag}.whl", members)
    assert validate.problems(facts, plat, [tag]) == []
    assert validate.native_members(facts, plat) == members
    # which libraries it must hold comes from NEEDED resolution; at least one it must
    bare = reader.facts_from(f"mlc_llm-0.1-{tag}.whl", ["mlc_llm/__init__.py"])
    assert validate.problems(bare, plat, [tag]) == [
        f"mlc_llm-0.1-{tag}.whl holds no native library ({plat.shared_library('mlc_llm')} or any other)"
    ]


def test_wheel_for_another_platform_or_interpreter_is_rejected() -> None:
    facts = reader.facts_from("mlc_llm-0.1-py3-none-win_amd64.whl", ["libmlc_llm.so", "libtvm_runtime.so"])
    found = validate.problems(facts, platforms.LINUX, ["py3-none-linux_x86_64"])
    assert any("is supported by this interpreter" in p for p in found)
    assert any("is not a linux tag" in p for p in found)


def test_bad_wheel_name() -> None:
    from mlc_devops.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="not a valid wheel file name"):
        reader.facts_from("mlc_llm.whl", [])
