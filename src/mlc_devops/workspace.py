"""What kind of MLC-LLM checkout we face: layout, submodules, CMake floor, commits.

Decisions (which layout, which submodule state, which CMake floor) are pure
functions over text; reading files and asking git are at the edges.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlc_devops import run as run_mod
from mlc_devops.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

Layout = Literal["root", "legacy"]

LAYOUT_DESCRIPTIONS: dict[str, str] = {
    "root": "root pyproject.toml with scikit-build-core (pip wheel at the repository root)",
    "legacy": "cmake + build, then pip wheel python/ (python/setup.py)",
}

SKIP_DIRS = frozenset({".git", "build", "dist", "node_modules", "__pycache__", "target", ".venv", ".ccache"})
# Folders whose CMakeLists no configure of MLC-LLM enters: examples, tests, docs and apps of
# the project and its submodules. Measured on upstream 79d603f0 (2026-11-29): the tree's highest
# floor, 3.27, sits in 3rdparty/tvm/3rdparty/tvm-ffi/examples/; the build's real floor is 3.26.
NOT_CONFIGURED_DIRS = frozenset(
    {"examples", "example", "tests", "test", "docs", "doc", "apps", "tutorials", "benchmarks", "web", "jvm"}
)


@dataclass(frozen=True)
class Submodule:
    name: str
    path: str
    url: str = ""


@dataclass(frozen=True)
class SubmoduleState:
    path: str
    commit: str | None
    state: Literal["ok", "uninitialised", "empty", "moved", "conflict"]
    detail: str = ""


@dataclass(frozen=True)
class Workspace:
    root: Path
    layout: Layout
    project_name: str
    project_version: str | None
    pyproject: Mapping[str, Any] | None

    @property
    def build_dir(self) -> Path:
        if self.pyproject is not None:
            configured = self.pyproject.get("tool", {}).get("scikit-build", {}).get("build-dir")
            if isinstance(configured, str) and configured and "{" not in configured:
                return self.root / configured
        return self.root / "build"

    @property
    def python_dir(self) -> Path:
        return self.root / "python"


def choose_layout(
    *, has_root_pyproject: bool, root_uses_scikit_build: bool, has_python_setup: bool, requested: str = "auto"
) -> Layout | None:
    """The layout for these facts, or None when neither layout fits."""
    if requested == "root":
        return "root" if has_root_pyproject else None
    if requested == "legacy":
        return "legacy" if has_python_setup else None
    if has_root_pyproject and root_uses_scikit_build:
        return "root"
    if has_python_setup:
        return "legacy"
    return None


def load_pyproject(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} cannot be parsed: {exc}", hint="fix the TOML syntax") from None


def detect(source: Path | None, requested_layout: str = "auto") -> Workspace:
    """Check that ``source`` is an MLC-LLM checkout and say which layout it has."""
    if source is None:
        raise UsageError(
            "no MLC-LLM source given",
            hint="pass --source DIR (in the container, mount the checkout at /workspace)",
        )
    if not source.exists():
        raise UsageError(f"source {source} does not exist", hint="pass the path of an MLC-LLM checkout")
    if not source.is_dir():
        raise UsageError(f"source {source} is not a directory", hint="pass the path of an MLC-LLM checkout")
    root = source.resolve()
    cmakelists = root / "CMakeLists.txt"
    pyproject_path = root / "pyproject.toml"
    setup_py = root / "python" / "setup.py"
    if not cmakelists.is_file():
        raise UsageError(
            f"{root} is not an MLC-LLM checkout (no CMakeLists.txt)",
            hint="pass the repository root of mlc-ai/mlc-llm",
        )
    pyproject = load_pyproject(pyproject_path) if pyproject_path.is_file() else None
    uses_skbuild = bool(pyproject and "scikit-build" in pyproject.get("tool", {}))
    layout = choose_layout(
        has_root_pyproject=pyproject is not None,
        root_uses_scikit_build=uses_skbuild,
        has_python_setup=setup_py.is_file(),
        requested=requested_layout,
    )
    if layout is None:
        if requested_layout != "auto":
            raise UsageError(
                f"{root} does not have the {requested_layout} layout",
                hint="drop --layout to detect it, or check the checkout",
            )
        raise UsageError(
            f"{root} is not an MLC-LLM checkout (neither a scikit-build pyproject.toml nor python/setup.py)",
            hint="pass the repository root of mlc-ai/mlc-llm",
        )
    project = (pyproject or {}).get("project", {}) if layout == "root" else {}
    name = str(project.get("name", "mlc_llm"))
    version = project.get("version")
    return Workspace(root, layout, name, str(version) if version else None, pyproject)


# --- submodules -----------------------------------------------------------------


def parse_gitmodules(text: str) -> list[Submodule]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        raise UsageError(f".gitmodules cannot be parsed: {exc}") from None
    out = []
    for section in parser.sections():
        match = re.match(r'submodule\s+"(.+)"', section)
        if not match or not parser.has_option(section, "path"):
            continue
        out.append(Submodule(match.group(1), parser.get(section, "path"), parser.get(section, "url", fallback="")))
    return out


def parse_submodule_status(text: str) -> dict[str, tuple[str, str]]:
    """``git submodule status`` lines to {path: (prefix, commit)}; prefix is one of ' ', '-', '+', 'U'."""
    out: dict[str, tuple[str, str]] = {}
    for line in text.splitlines():
        if len(line) < 42:
            continue
        prefix, commit, rest = line[0], line[1:41], line[42:]
        path = rest.rsplit(" (", 1)[0] if rest.endswith(")") else rest
        out[path.strip()] = (prefix, commit)
    return out


NO_COMMIT = "0" * 40
GITLINK_MODE = "160000"


def parse_gitlinks(text: str) -> dict[str, tuple[str, bool]]:
    """``git ls-files --stage -z`` output to ``{path: (commit, conflicted)}`` for the gitlinks alone. Pure.

    A gitlink is an index entry of mode 160000: a submodule's pinned commit. An
    entry at a stage other than 0 is a merge conflict; the commit is then ours
    (stage 2) where there is one.
    """
    out: dict[str, tuple[str, bool]] = {}
    for record in text.split("\0"):
        meta, _, path = record.partition("\t")
        fields = meta.split()
        if len(fields) != 3 or fields[0] != GITLINK_MODE or not path:
            continue
        _mode, commit, stage = fields
        before = out.get(path)
        if before is None:
            out[path] = (commit, stage != "0")
        else:
            out[path] = (commit if stage == "2" else before[0], True)
    return out


def submodule_status_entry(pinned: str, *, conflicted: bool, checked_out: bool, head: str | None) -> tuple[str, str]:
    """``(prefix, commit)`` as a ``git submodule status`` line gives it, from what git's index and the
    submodule say. Pure.

    ``U`` conflicted (no commit); ``-`` not checked out (the pinned commit); `` ``
    at its pin; ``+`` at another commit (that commit), or a HEAD that cannot be
    read (the pinned commit). Source: git's builtin/submodule--helper.c
    (status_submodule), git 2.39.
    """
    if conflicted:
        return "U", NO_COMMIT
    if not checked_out:
        return "-", pinned
    if head is None:
        return "+", pinned
    return (" " if head == pinned else "+"), head


def submodule_status(
    root: Path, env: Mapping[str, str] | None = None, *, recursive: bool = False
) -> dict[str, tuple[str, str]]:
    """``{path: (prefix, commit)}`` of ``root``'s submodules, as :func:`parse_submodule_status` reads
    ``git submodule status [--recursive]``; nested paths are relative to ``root``.

    Asked as ``git ls-files --stage`` (the pinned commits) and ``git rev-parse HEAD``
    in each checked-out submodule, four at a time, because ``git submodule status``
    also runs ``git describe`` up to four times a submodule for a name that nothing
    here reads: on upstream's checkout (mlc-llm 79d603f0, 18 submodules) it took
    0.17 s, 0.33 s recursive, and 0.6 s beside a build (measured 2026-12-07, 2
    cores). A submodule counts as checked out when its ``.git`` exists (git's own
    ``-`` also covers one checked out but never ``git submodule init``-ed). Only
    the paths .gitmodules names are answered, as git does. Empty when ``root`` is
    not a git checkout, git is missing, or ``git ls-files`` fails.
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    out: dict[str, tuple[str, str]] = {}
    if run_mod.which("git", env) is None:
        return out
    level: list[tuple[Path, str]] = [(root, "")]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="submodule") as pool:
        while level:
            found: list[tuple[Path, str, str, bool]] = []  # (repository, path from root, pinned, conflicted)
            for repo, prefix in level:
                gitmodules = repo / ".gitmodules"
                if not is_git_checkout(repo) or not gitmodules.is_file():
                    continue
                named = {m.path for m in parse_gitmodules(gitmodules.read_text(encoding="utf-8", errors="replace"))}
                result = run_mod.run(["git", "ls-files", "--stage", "-z"], cwd=repo, env=git_env(env), check=False)
                if result.returncode != 0:
                    continue
                for path, (pinned, conflicted) in sorted(parse_gitlinks(result.output).items()):
                    if path in named:
                        found.append((repo / path, prefix + path, pinned, conflicted))
            heads = list(pool.map(lambda item: _head(item[0], env) if is_git_checkout(item[0]) else None, found))
            level = []
            for (sub, path, pinned, conflicted), head in zip(found, heads):
                out[path] = submodule_status_entry(
                    pinned, conflicted=conflicted, checked_out=is_git_checkout(sub), head=head
                )
                if recursive and out[path][0] in (" ", "+"):
                    level.append((sub, path + "/"))
    return out


def _head(repo: Path, env: Mapping[str, str] | None) -> str | None:
    result = run_mod.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=repo, env=git_env(env), check=False)
    commit = result.output.strip()
    return commit if result.returncode == 0 and len(commit) == len(NO_COMMIT) else None


def classify_submodule(path: str, *, prefix: str | None, commit: str | None, has_files: bool) -> SubmoduleState:
    if prefix == "U":
        return SubmoduleState(path, commit, "conflict", "has merge conflicts")
    if prefix == "-" or (prefix is None and not has_files):
        return SubmoduleState(path, None, "uninitialised", "not checked out")
    if not has_files:
        return SubmoduleState(path, commit, "empty", "checked out but empty")
    if prefix == "+":
        return SubmoduleState(path, commit, "moved", "checked out at another commit than the one pinned")
    return SubmoduleState(path, commit, "ok")


def _has_files(path: Path) -> bool:
    try:
        return any(entry.name != ".git" for entry in path.iterdir())
    except OSError:
        return False


def git_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    base = dict(env if env is not None else os.environ)
    base.setdefault("GIT_TERMINAL_PROMPT", "0")
    return base


def is_git_checkout(root: Path) -> bool:
    return (root / ".git").exists()


def submodule_states(root: Path, env: Mapping[str, str] | None = None) -> list[SubmoduleState]:
    gitmodules = root / ".gitmodules"
    if not gitmodules.is_file():
        return []
    modules = parse_gitmodules(gitmodules.read_text(encoding="utf-8", errors="replace"))
    status = submodule_status(root, env)
    states = []
    for module in modules:
        prefix, commit = status.get(module.path, (None, None))
        states.append(
            classify_submodule(module.path, prefix=prefix, commit=commit, has_files=_has_files(root / module.path))
        )
    return states


def git_commit(path: Path, env: Mapping[str, str] | None = None) -> str | None:
    if run_mod.which("git", env) is None or not (path / ".git").exists():
        return None
    result = run_mod.run(["git", "rev-parse", "HEAD"], cwd=path, env=git_env(env), check=False)
    return result.output.strip() if result.returncode == 0 else None


def git_commit_time(path: Path, env: Mapping[str, str] | None = None) -> int | None:
    if run_mod.which("git", env) is None or not (path / ".git").exists():
        return None
    result = run_mod.run(["git", "log", "-1", "--format=%ct"], cwd=path, env=git_env(env), check=False)
    text = result.output.strip()
    return int(text) if result.returncode == 0 and text.isdigit() else None


def git_remote_url(path: Path, env: Mapping[str, str] | None = None) -> str | None:
    if run_mod.which("git", env) is None or not (path / ".git").exists():
        return None
    result = run_mod.run(["git", "remote", "get-url", "origin"], cwd=path, env=git_env(env), check=False)
    return result.output.strip() if result.returncode == 0 and result.output.strip() else None


# --- the CMake floor ------------------------------------------------------------

_MIN_REQUIRED = re.compile(r"cmake_minimum_required\s*\(\s*VERSION\s+([0-9]+(?:\.[0-9]+)*)", re.IGNORECASE)


def minimum_cmake_in(text: str) -> tuple[int, ...] | None:
    versions = [tuple(int(p) for p in m.group(1).split(".")) for m in _MIN_REQUIRED.finditer(text)]
    return max(versions) if versions else None


def floor_files(root: Path) -> tuple[list[Path], list[Path]]:
    """``(CMakeLists.txt files, Cargo.toml files)`` that set the build's CMake and Rust floors, in one walk.

    The CMakeLists.txt files are those a configure of ``root`` can enter: all but those in
    :data:`SKIP_DIRS` and :data:`NOT_CONFIGURED_DIRS`; the Cargo.toml files are those under
    ``root``/3rdparty in the same folders (cargo's target/ and the examples, tests and docs that no
    build compiles left out). One walk instead of two: upstream 79d603f0's 2,300 folders took 0.03 and
    0.05 s apart, and preflight waited for both (issue 12, goal 4).
    """
    cmakelists: list[Path] = []
    cargo_tomls: list[Path] = []
    third = str(root / "3rdparty")
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d.lower() not in NOT_CONFIGURED_DIRS)
        if "CMakeLists.txt" in filenames:
            cmakelists.append(Path(dirpath) / "CMakeLists.txt")
        if "Cargo.toml" in filenames and (dirpath == third or dirpath.startswith(third + os.sep)):
            cargo_tomls.append(Path(dirpath) / "Cargo.toml")
    return cmakelists, cargo_tomls


def highest_minimum(pairs: Iterable[tuple[Path, str]]) -> tuple[tuple[int, ...], Path] | None:
    best: tuple[tuple[int, ...], Path] | None = None
    for path, text in pairs:
        version = minimum_cmake_in(text)
        if version is not None and (best is None or version > best[0]):
            best = (version, path)
    return best


def cmake_floor(root: Path) -> tuple[tuple[int, ...], Path] | None:
    """The highest ``cmake_minimum_required`` among the files a configure can enter, and that file.

    Returns ``((major, minor[, patch]), path)`` or None when no CMakeLists.txt declares one.
    """
    return cmake_floor_in(floor_files(root)[0])


def cmake_floor_in(files: Iterable[Path]) -> tuple[tuple[int, ...], Path] | None:
    """:func:`cmake_floor` over these CMakeLists.txt files (read here)."""
    return highest_minimum((path, path.read_text(encoding="utf-8", errors="replace")) for path in files)


def version_text(version: tuple[int, ...]) -> str:
    return ".".join(str(v) for v in version)


# --- the build backend --------------------------------------------------------------

# pip's assumption for a project without [build-system] (PEP 517's legacy fallback).
LEGACY_BUILD_REQUIRES = ("setuptools>=40.8.0", "wheel")


def project_dependencies(ws: Workspace) -> list[str]:
    """The root pyproject's static ``[project].dependencies`` (PEP 621), as written; empty for the
    legacy layout (setup.py computes them) or when the field is dynamic or absent."""
    if ws.layout != "root" or ws.pyproject is None:
        return []
    project = ws.pyproject.get("project", {})
    dependencies = project.get("dependencies")
    if "dependencies" in (project.get("dynamic") or []) or not isinstance(dependencies, list):
        return []
    return [d for d in dependencies if isinstance(d, str)]


def build_requirements(ws: Workspace) -> list[str]:
    """What pip would install into an isolated build environment for this layout."""
    if ws.layout == "root":
        pyproject = ws.pyproject or {}
    else:
        path = ws.python_dir / "pyproject.toml"
        pyproject = load_pyproject(path) if path.is_file() else {}
    requires = pyproject.get("build-system", {}).get("requires")
    if isinstance(requires, list) and all(isinstance(r, str) for r in requires):
        return list(requires)
    return list(LEGACY_BUILD_REQUIRES)


def requirements_met(requirements: Iterable[str]) -> bool:
    """Whether this interpreter already has every requirement (markers honoured)."""
    from importlib import metadata  # noqa: PLC0415

    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            return False
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            installed = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            return False
        if installed not in req.specifier:
            return False
    return True
