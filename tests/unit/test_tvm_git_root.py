"""The TVM source's git facts: its own repository, or the checkout's for a folder the checkout tracks."""

from __future__ import annotations

from pathlib import Path

from mlc_devops.buildsteps.sourceinfo import tvm_git_root


def test_a_submodule_or_clone_has_its_own_git(tmp_path: Path) -> None:
    tvm = tmp_path / "3rdparty" / "tvm"
    tvm.mkdir(parents=True)
    (tvm / ".git").write_text("gitdir: ../../.git/modules/3rdparty/tvm\n")  # a submodule's .git is a file
    assert tvm_git_root(tmp_path, tvm) == tvm


def test_a_folder_the_checkout_tracks_takes_the_checkouts(tmp_path: Path) -> None:
    """The stand-in's 3rdparty/tvm (and the act run's copy of it): no .git of its own."""
    tvm = tmp_path / "3rdparty" / "tvm"
    tvm.mkdir(parents=True)
    assert tvm_git_root(tmp_path, tvm) == tmp_path


def test_a_folder_outside_the_checkout_stays_its_own(tmp_path: Path) -> None:
    checkout, tvm = tmp_path / "mlc-llm", tmp_path / "tvm"
    checkout.mkdir()
    tvm.mkdir()
    assert tvm_git_root(checkout, tvm) == tvm
