"""workspace.submodule_status answers as `git submodule status [--recursive]` does, without its git describe runs."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from standin import git

from mlc_devops import workspace
from mlc_devops.supply import tree

pytestmark = pytest.mark.integration


def repo(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    git("init", "-q", cwd=path)
    for name, text in files.items():
        (path / name).write_text(text, encoding="utf-8")
    git("add", "-A", cwd=path)
    git("commit", "-q", "-m", f"{path.name} 1", cwd=path)
    git("tag", "v1", cwd=path)  # something for git describe to name
    return path


def two_level_checkout(tmp_path: Path) -> Path:
    """top with submodules at their pin (with one nested), moved to a later commit, and never checked out."""
    origins = tmp_path / "origins"
    nested = repo(origins / "nested", {"n.txt": "n"})
    at_pin = repo(origins / "at-pin", {"a.txt": "a"})
    git("submodule", "add", "-q", str(nested), "deps/nested", cwd=at_pin)
    git("commit", "-q", "-m", "nested", cwd=at_pin)
    moved = repo(origins / "moved", {"m.txt": "m"})
    absent = repo(origins / "absent", {"x.txt": "x"})
    top = repo(tmp_path / "top", {"README": "top"})
    for origin, path in ((at_pin, "3rdparty/at-pin"), (moved, "3rdparty/moved"), (absent, "3rdparty/absent")):
        git("submodule", "add", "-q", str(origin), path, cwd=top)
    git("commit", "-q", "-m", "submodules", cwd=top)
    git("submodule", "update", "-q", "--init", "--recursive", cwd=top)
    # moved: a new commit checked out in the submodule, not recorded in top
    (top / "3rdparty/moved/m.txt").write_text("m2", encoding="utf-8")
    git("commit", "-q", "-am", "m2", cwd=top / "3rdparty/moved")
    # absent: deinitialised, its folder empty
    git("submodule", "deinit", "-q", "-f", "3rdparty/absent", cwd=top)
    return top


def logging_git(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An environment whose git logs each command line before running the real one."""
    real = shutil.which("git")
    assert real is not None
    folder = tmp_path / "logging-bin"
    folder.mkdir()
    log = tmp_path / "git-calls.txt"
    wrapper = folder / "git"
    wrapper.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real}" "$@"\n', encoding="utf-8")
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}, log


@pytest.mark.parametrize("recursive", [False, True], ids=["top", "recursive"])
def test_the_same_answer_as_git_submodule_status(tmp_path: Path, recursive: bool) -> None:
    top = two_level_checkout(tmp_path)
    said = git("submodule", "status", *(["--recursive"] if recursive else []), cwd=top)
    expected = workspace.parse_submodule_status(said + "\n")
    env, log = logging_git(tmp_path)
    answered = workspace.submodule_status(top, env, recursive=recursive)
    assert answered == expected
    assert answered["3rdparty/at-pin"][0] == " "
    assert answered["3rdparty/moved"][0] == "+"
    assert answered["3rdparty/absent"][0] == "-"
    assert ("3rdparty/at-pin/deps/nested" in answered) is recursive
    calls = log.read_text(encoding="utf-8").splitlines()
    assert not [c for c in calls if "describe" in c or c.startswith("submodule")], calls


def test_states_and_tree_paths_come_from_it(tmp_path: Path) -> None:
    top = two_level_checkout(tmp_path)
    states = {s.path: s.state for s in workspace.submodule_states(top)}
    assert states == {"3rdparty/at-pin": "ok", "3rdparty/moved": "moved", "3rdparty/absent": "uninitialised"}
    assert tree.submodule_paths(top, dict(os.environ)) == [
        "3rdparty/at-pin",
        "3rdparty/at-pin/deps/nested",
        "3rdparty/moved",
    ]


def test_not_a_checkout_has_no_submodules(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".gitmodules").write_text('[submodule "x"]\n\tpath = x\n\turl = ../x\n', encoding="utf-8")
    assert workspace.submodule_status(plain, recursive=True) == {}
