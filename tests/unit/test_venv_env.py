"""Clean environments leave out what makes checks pass for reasons outside the wheel (issue 15, item 6)."""

from __future__ import annotations

from pathlib import Path

from mlc_devops.wheel import venv


def test_library_and_module_redirections_are_removed_and_named() -> None:
    env = {
        "PATH": "/usr/bin",
        "LD_LIBRARY_PATH": "/src/mlc-llm/build",
        "LD_PRELOAD": "/tmp/libshim.so",
        "PYTHONPATH": "/src/mlc-llm/python",
        "PYTHONHOME": "/opt/py",
        "DYLD_LIBRARY_PATH": "/src/build",
        "DYLD_INSERT_LIBRARIES": "/tmp/x.dylib",
        "HOME": "/root",
    }
    assert venv.leaky_variables(env) == [
        "DYLD_INSERT_LIBRARIES",
        "DYLD_LIBRARY_PATH",
        "LD_LIBRARY_PATH",
        "LD_PRELOAD",
        "PYTHONHOME",
        "PYTHONPATH",
    ]
    clean = venv.clean_env(env)
    assert set(clean) == {"PATH", "HOME", "PYTHONNOUSERSITE", "PYTHONDONTWRITEBYTECODE"}
    assert venv.leaky_variables({"PATH": "/usr/bin"}) == []


def test_an_environment_without_pip_is_served_by_this_pip(tmp_path: Path) -> None:
    bare = tmp_path / "bin" / "python"
    bare.parent.mkdir()
    bare.touch()
    assert venv.pip_for(bare)[-2:] == ["--python", str(bare)]
    (bare.parent / "pip").touch()
    assert venv.pip_for(bare) == [str(bare), "-m", "pip"]


def test_inherited_site_packages_come_after_the_environments_own_and_leave_it_out() -> None:
    from mlc_devops.wheel import venv as venv_mod

    text = venv_mod.inherit_lines(["/opt/torch/.venv/lib/python3.12/site-packages", "/new/lib/site-packages"],
                                  "/new/lib/site-packages")  # fmt: skip
    assert text == "import site; site.addsitedir('/opt/torch/.venv/lib/python3.12/site-packages')\n"
