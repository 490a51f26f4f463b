from __future__ import annotations

from pathlib import Path

import pytest

from mlc_devops import workspace
from mlc_devops.errors import UsageError


@pytest.mark.parametrize(
    ("root", "skbuild", "setup", "requested", "expected"),
    [
        (True, True, True, "auto", "root"),
        (True, False, True, "auto", "legacy"),
        (False, False, True, "auto", "legacy"),
        (False, False, False, "auto", None),
        (True, True, True, "legacy", "legacy"),
        (False, False, True, "root", None),
    ],
)
def test_choose_layout(root: bool, skbuild: bool, setup: bool, requested: str, expected: str | None) -> None:
    assert (
        workspace.choose_layout(
            has_root_pyproject=root, root_uses_scikit_build=skbuild, has_python_setup=setup, requested=requested
        )
        == expected
    )


def test_gitmodules_parse() -> None:
    text = (
        '[submodule "3rdparty/tvm"]\n\tpath = 3rdparty/tvm\n\turl = https://github.com/mlc-ai/relax.git\n'
        '[submodule "tok"]\n\tpath = 3rdparty/tokenizers-cpp\n\turl = ../tok\n'
    )
    mods = workspace.parse_gitmodules(text)
    assert [m.path for m in mods] == ["3rdparty/tvm", "3rdparty/tokenizers-cpp"]
    assert mods[0].url.endswith("relax.git")


def test_submodule_status_parse_and_classify() -> None:
    sha = "a" * 40
    text = f"-{sha} 3rdparty/tvm\n+{sha} 3rdparty/xgrammar (v0.1-2-gabc)\n {sha} 3rdparty/stb (heads/main)\nU{sha} 3rdparty/argparse\n"
    status = workspace.parse_submodule_status(text)
    assert status["3rdparty/tvm"] == ("-", sha)
    assert status["3rdparty/xgrammar"][0] == "+"
    assert workspace.classify_submodule("t", prefix="-", commit=sha, has_files=False).state == "uninitialised"
    assert workspace.classify_submodule("t", prefix="+", commit=sha, has_files=True).state == "moved"
    assert workspace.classify_submodule("t", prefix=" ", commit=sha, has_files=True).state == "ok"
    assert workspace.classify_submodule("t", prefix="U", commit=sha, has_files=True).state == "conflict"
    assert workspace.classify_submodule("t", prefix=" ", commit=sha, has_files=False).state == "empty"
    assert workspace.classify_submodule("t", prefix=None, commit=None, has_files=False).state == "uninitialised"


def test_cmake_floor_is_the_highest_minimum() -> None:
    pairs = [
        (Path("CMakeLists.txt"), "cmake_minimum_required(VERSION 3.18)"),
        (Path("3rdparty/tvm/ffi/CMakeLists.txt"), "CMAKE_MINIMUM_REQUIRED( VERSION 3.28...3.31 )"),
        (Path("x/CMakeLists.txt"), "project(x)"),
    ]
    best = workspace.highest_minimum(pairs)
    assert best == ((3, 28), Path("3rdparty/tvm/ffi/CMakeLists.txt"))
    assert workspace.minimum_cmake_in("nothing") is None


def test_detect_rejects_what_is_not_a_checkout(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no MLC-LLM source given"):
        workspace.detect(None)
    with pytest.raises(UsageError, match="does not exist"):
        workspace.detect(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is not a directory"):
        workspace.detect(tmp_path / "file")
    with pytest.raises(UsageError, match=r"no CMakeLists\.txt"):
        workspace.detect(tmp_path)
    (tmp_path / "CMakeLists.txt").write_text("project(x)")
    with pytest.raises(UsageError, match=r"neither a scikit-build"):
        workspace.detect(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.scikit-build\nbroken")
    with pytest.raises(UsageError, match="cannot be parsed"):
        workspace.detect(tmp_path)


def test_detect_reads_the_build_dir_from_pyproject(tmp_path: Path) -> None:
    (tmp_path / "CMakeLists.txt").write_text("project(x)")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname="mlc_llm"\nversion="1.0"\n[tool.scikit-build]\nbuild-dir="out"\n'
    )
    ws = workspace.detect(tmp_path)
    assert ws.layout == "root" and ws.build_dir == tmp_path.resolve() / "out" and ws.project_version == "1.0"


def test_build_requirements_and_whether_they_are_here(tmp_path: Path) -> None:
    (tmp_path / "CMakeLists.txt").write_text("project(x)")
    (tmp_path / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["scikit-build-core>=0.10"]\n[tool.scikit-build]\n'
    )
    ws = workspace.detect(tmp_path)
    assert workspace.build_requirements(ws) == ["scikit-build-core>=0.10"]
    (tmp_path / "pyproject.toml").unlink()
    (tmp_path / "python").mkdir()
    (tmp_path / "python" / "setup.py").write_text("")
    assert workspace.build_requirements(workspace.detect(tmp_path)) == list(workspace.LEGACY_BUILD_REQUIRES)
    assert workspace.requirements_met(["packaging>=20"]) is True
    assert workspace.requirements_met(["packaging>=999"]) is False
    assert workspace.requirements_met(["no-such-package-here"]) is False
    assert workspace.requirements_met(["no-such-package-here; python_version < '3'"]) is True


def test_cmake_floor_ignores_what_no_configure_enters(tmp_path: Path) -> None:
    # upstream 79d603f0's shape: 3.26 in tvm-ffi (entered), 3.27 in tvm-ffi/examples (never entered)
    ffi = tmp_path / "3rdparty" / "tvm" / "3rdparty" / "tvm-ffi"
    (ffi / "examples" / "packaging").mkdir(parents=True)
    (tmp_path / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.18)\n")
    (ffi / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.26)\n")
    (ffi / "examples" / "packaging" / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.27)\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "CMakeLists.txt").write_text("cmake_minimum_required(VERSION 3.30)\n")
    floor = workspace.cmake_floor(tmp_path)
    assert floor is not None
    assert floor[0] == (3, 26)
    assert floor[1] == ffi / "CMakeLists.txt"


def test_gitlinks_from_ls_files_stage() -> None:
    a, b, c = "a" * 40, "b" * 40, "c" * 40
    text = "\0".join(
        [
            f"100644 {a} 0\tREADME.md",
            f"160000 {a} 0\t3rdparty/tvm",
            f"160000 {a} 1\t3rdparty/xgrammar",
            f"160000 {b} 2\t3rdparty/xgrammar",
            f"160000 {c} 3\t3rdparty/xgrammar",
            "",
        ]
    )
    links = workspace.parse_gitlinks(text)
    assert links == {"3rdparty/tvm": (a, False), "3rdparty/xgrammar": (b, True)}


def test_submodule_status_entry_is_what_git_prints() -> None:
    pin, other = "a" * 40, "b" * 40
    assert workspace.submodule_status_entry(pin, conflicted=True, checked_out=True, head=pin) == ("U", "0" * 40)
    assert workspace.submodule_status_entry(pin, conflicted=False, checked_out=False, head=None) == ("-", pin)
    assert workspace.submodule_status_entry(pin, conflicted=False, checked_out=True, head=pin) == (" ", pin)
    assert workspace.submodule_status_entry(pin, conflicted=False, checked_out=True, head=other) == ("+", other)
    assert workspace.submodule_status_entry(pin, conflicted=False, checked_out=True, head=None) == ("+", pin)
