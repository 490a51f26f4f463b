"""The kept build environment's decisions: its spec and key, the option, the hook's answer, pruning."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from mlc_devops import buildenv, options
from mlc_devops.errors import BuildFailed

SKBUILD = {"build-system": {"requires": ["scikit-build-core>=0.10.0"], "build-backend": "scikit_build_core.build"}}


def _spec(pyproject: dict[str, Any] | None = SKBUILD, **changes: object) -> buildenv.Spec:
    base: dict[str, Any] = {
        "settings": {"cmake.version": ">=3.24"},
        "found": {"cmake": "3.25.1", "ninja": "1.11.1"},
        "env": {"PATH": "/usr/bin"},
        "interpreter": "/opt/venv/bin/python",
        "python": "3.11.2 (main)",
    }
    base.update(changes)
    return buildenv.spec_for(pyproject, **base)


def test_spec_reads_the_build_system_table() -> None:
    spec = _spec({"build-system": {**SKBUILD["build-system"], "backend-path": ["_build"]}})
    assert spec.requires == ("scikit-build-core>=0.10.0",)
    assert spec.backend == "scikit_build_core.build"
    assert spec.backend_path == ("_build",)


@pytest.mark.parametrize("pyproject", [None, {}, {"build-system": {"requires": "setuptools"}}, {"tool": {"x": 1}}])
def test_without_a_build_system_the_spec_is_pips_fallback(pyproject: dict[str, Any] | None) -> None:
    spec = _spec(pyproject)
    assert spec.requires == buildenv.DEFAULT_REQUIRES
    assert spec.backend == "setuptools.build_meta:__legacy__"


def test_the_key_is_stable_and_sixteen_hex_digits() -> None:
    key = _spec().key()
    assert key == _spec().key()
    assert re.fullmatch("[0-9a-f]{16}", key)
    # dictionary order does not matter
    assert _spec(found={"ninja": "1.11.1", "cmake": "3.25.1"}).key() == key


@pytest.mark.parametrize(
    "change",
    [
        {"pyproject": {"build-system": {**SKBUILD["build-system"], "requires": ["scikit-build-core>=0.11"]}}},
        {"pyproject": {"build-system": {**SKBUILD["build-system"], "backend-path": ["_build"]}}},
        {"pyproject": {"build-system": {**SKBUILD["build-system"], "build-backend": "other.backend"}}},
        {"pyproject": {**SKBUILD, "tool": {"scikit-build": {"ninja": {"version": ">=1.11"}}}}},
        {"env": {"PATH": "/usr/bin", "SKBUILD_CMAKE_VERSION": ">=3.30"}},
        {"pip_config": {"/etc/pip.conf": "a" * 64}},
        {"settings": {"cmake.version": ">=3.26"}},
        {"found": {"cmake": "3.31.0", "ninja": "1.11.1"}},
        {"found": {"cmake": "3.25.1", "ninja": None}},
        {"interpreter": "/usr/bin/python3"},
        {"python": "3.12.0 (main)"},
        {"env": {"PATH": "/usr/bin", "PIP_INDEX_URL": "https://mirror.example/simple"}},
        {"env": {"PATH": "/usr/bin", "PIP_FIND_LINKS": "/wheels"}},
    ],
)
def test_every_input_changes_the_key(change: dict[str, Any]) -> None:
    pyproject = change.pop("pyproject", SKBUILD)
    assert _spec(pyproject, **change).key() != _spec().key()


def test_variables_other_than_pips_leave_the_key_alone() -> None:
    assert _spec(env={"PATH": "/other", "HOME": "/root", "CCACHE_DIR": "/c"}).key() == _spec().key()
    # another table of [tool] is not the backend's
    assert _spec({**SKBUILD, "tool": {"ruff": {"line-length": 99}}}).key() == _spec().key()


def test_pips_settings_are_kept_as_a_digest_not_their_text() -> None:
    spec = _spec(env={"PIP_INDEX_URL": "https://user:s3cret@mirror.example/simple"})
    assert "s3cret" not in json.dumps(spec.__dict__, default=str)
    assert len(spec.pip) == 64
    assert buildenv.pip_digest({"PATH": "/usr/bin"}) == ""


def test_the_hooks_answer_is_read_after_whatever_the_backend_printed() -> None:
    out = f"configuring...\n{buildenv.ANSWER}[]\nnoise\n{buildenv.ANSWER}" + json.dumps(["cmake>=3.26", "ninja>=1.5"])
    assert buildenv.parse_answer(out) == ["cmake>=3.26", "ninja>=1.5"]
    with pytest.raises(BuildFailed, match="gave no answer"):
        buildenv.parse_answer("Traceback (most recent call last):\n  ...\n")


@pytest.mark.parametrize(
    ("value", "origin", "expected"),
    [
        (None, "default", Path("/home/u/.cache/mlc-devops/build-env")),
        ("kept", "flag", Path("/home/u/.cache/mlc-devops/build-env")),
        ("fresh", "flag", None),
        ("off", "env MLC_BUILD_ENV", None),
        ("/srv/envs", "env MLC_BUILD_ENV", Path("/srv/envs")),
    ],
)
def test_the_option_resolves_to_a_folder_or_none(value: str | None, origin: str, expected: Path | None) -> None:
    resolved = options.Resolved(value, origin)
    assert options.resolve_build_env(resolved, {"HOME": "/home/u"}, "linux") == expected


def test_the_option_goes_flag_then_environment_then_default() -> None:
    env = {"HOME": "/home/u", "MLC_BUILD_ENV": "fresh"}
    assert options.resolve({}, env).build_env is None
    assert options.resolve({"build_env": "/x"}, env).build_env == Path("/x")
    assert options.resolve({}, {"HOME": "/home/u"}).build_env == Path("/home/u/.cache/mlc-devops/build-env")
    assert options.resolve({}, {}).build_env is None  # no user cache directory: pip's own


def _complete(parent: Path, name: str, mtime: float) -> Path:
    path = parent / name
    path.mkdir()
    (path / buildenv.MARKER).write_text("{}")
    os.utime(path / buildenv.MARKER, (mtime, mtime))
    return path


def test_prune_keeps_the_most_recently_used_and_leaves_incomplete_ones(tmp_path: Path) -> None:
    old = _complete(tmp_path, "a" * 16, 1_000)
    kept = [_complete(tmp_path, c * 16, 2_000 + i) for i, c in enumerate("bcd")]
    making = tmp_path / ("e" * 16)
    making.mkdir()  # no marker: being made by another build
    removed = buildenv.prune(tmp_path, keep=3)
    assert removed == [old]
    assert not old.exists()
    assert all(p.is_dir() for p in kept) and making.is_dir()


def test_unmet_requirements_are_named() -> None:
    packages = {"scikit_build_core": "1.1.2", "cmake": "3.25.1"}
    assert buildenv.unmet(["scikit-build-core>=0.10.0", "cmake>=3.24"], packages) == []
    assert buildenv.unmet(["cmake>=3.26", "ninja", "pathspec; python_version < '3'"], packages) == [
        "cmake>=3.26",
        "ninja",
    ]
    assert buildenv.unmet(["not a requirement !"], packages) == ["not a requirement !"]


def test_prune_leaves_an_environment_a_build_holds_and_every_lock_file(tmp_path: Path) -> None:
    from mlc_devops import lock

    old = _complete(tmp_path, "a" * 16, 1_000)
    older = _complete(tmp_path, "b" * 16, 500)
    newest = _complete(tmp_path, "c" * 16, 3_000)
    held = lock.share(lock.hold(tmp_path / f"{old.name}.lock"))  # a build is using it
    try:
        removed = buildenv.prune(tmp_path, keep=1)
    finally:
        lock.release(held)
    assert removed == [older]
    assert old.is_dir() and newest.is_dir() and not older.exists()
    assert (tmp_path / f"{older.name}.lock").exists(), "a lock file is never removed"
    assert buildenv.prune(tmp_path, keep=1) == [old]  # released: it goes


def test_an_environment_that_lost_what_its_marker_lists_is_not_reused(tmp_path: Path) -> None:
    import sys

    env = tmp_path / ("d" * 16)
    python = env / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    site = buildenv.site_packages(env)
    (site / "scikit_build_core-1.1.2.dist-info").mkdir(parents=True)
    (env / buildenv.MARKER).write_text(
        json.dumps({"format": buildenv.FORMAT, "packages": {"scikit_build_core": "1.1.2"}, "requires": []})
    )
    kept = buildenv._reuse(env, "d" * 16)
    assert kept is not None and kept.created is False
    (site / "scikit_build_core-1.1.2.dist-info").rmdir()  # a removal that stopped half-way
    assert buildenv._reuse(env, "d" * 16) is None


def test_pip_runs_in_the_kept_environment_as_in_pips_own() -> None:
    from mlc_devops.buildsteps import native

    env = {"PATH": "/usr/bin", "PYTHONPATH": "/elsewhere", "SKBUILD_BUILD_DIR": "/x", "HOME": "/h"}
    kept = native.pip_env(env, native.PipEnvironment("/e/bin/python", False, Path("/e/bin")))
    assert kept == {"PATH": "/e/bin" + os.pathsep + "/usr/bin", "PYTHONNOUSERSITE": "1", "HOME": "/h"}
    assert native.pip_env(env, native.PipEnvironment("/usr/bin/python3", True)) == {
        "PATH": "/usr/bin",
        "PYTHONPATH": "/elsewhere",
        "HOME": "/h",
    }
