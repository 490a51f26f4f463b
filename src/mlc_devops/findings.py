"""Findings about a wheel that do not stop a build but must be seen: duplicated payloads, version drift.

Each was measured on upstream MLC-LLM 79d603f0 (2026-11-29): its wheel holds
libmlc_llm.so and libmlc_llm_module.so twice, byte-identical, under
``mlc_llm/`` and ``mlc_llm/lib/`` (half the native payload), and its
``mlc_llm.__version__`` is 0.1.dev0 while the wheel says 0.20.0.dev0. With
``--fail-on-findings`` they fail the build (exit 11). Pure functions.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.version import InvalidVersion, Version

DUPLICATE = "duplicate-payload"
VERSION_MISMATCH = "version-mismatch"
UNDECLARED_PAIRING = "undeclared-pairing"
OUTSIDE_SEARCH_PATH = "outside-search-path"
FOREIGN_RUNPATH = "foreign-runpath"


@dataclass(frozen=True)
class Finding:
    """One finding: its kind, a sentence for people, and data for the report and SBOM."""

    kind: str
    message: str
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, **dict(self.data)}


def human_size(size: int) -> str:
    """Bytes as people read them: ``12.3 MB`` (decimal units, as pip and PyPI show sizes)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns


def duplicates(files: Iterable[tuple[str, str, int]]) -> list[Finding]:
    """Identical payloads at two or more paths. ``files``: (archive path, sha256, size) of native libraries.

    The bytes wasted are the size times the extra copies.
    """
    groups: dict[tuple[str, int], list[str]] = {}
    for path, digest, size in files:
        groups.setdefault((digest, size), []).append(path)
    out = []
    for (digest, size), group in sorted(groups.items(), key=lambda item: sorted(item[1])):
        if len(group) < 2:
            continue
        paths = sorted(group)
        wasted = size * (len(paths) - 1)
        out.append(
            Finding(
                DUPLICATE,
                f"{posixpath.basename(paths[0])} is in the wheel {len(paths)} times, byte-identical "
                f"({', '.join(paths)}): {human_size(wasted)} wasted",
                {"paths": paths, "sha256": digest, "size": size, "wasted_bytes": wasted},
            )
        )
    return out


def version_mismatch(wheel_version: str, module_version: str | None, source: str) -> Finding | None:
    """A finding when the package's ``__version__`` is another version than the wheel's (PEP 440 equality).

    ``source`` says where ``module_version`` was read (``import`` or a file path).
    """
    if module_version is None:
        return None
    try:
        same = Version(wheel_version) == Version(module_version)
    except InvalidVersion:
        same = wheel_version == module_version
    if same:
        return None
    return Finding(
        VERSION_MISMATCH,
        f"the wheel is version {wheel_version}, but the package's __version__ is {module_version} (from {source})",
        {"wheel_version": wheel_version, "module_version": module_version, "source": source},
    )


def literal_version(text: str) -> str | None:
    """The string assigned to a module-level ``__version__`` in Python source ``text``, if a literal."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    for node in tree.body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        named = any(isinstance(t, ast.Name) and t.id == "__version__" for t in targets)
        if named and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def static_module_version(sources: Mapping[str, str], package: str) -> tuple[str, str] | None:
    """``__version__`` of ``package`` read from its files without importing it: (version, file).

    ``sources`` maps archive paths to text. ``__init__.py`` wins when it holds a
    literal; otherwise a module it imports ``__version__`` from
    (``from .libinfo import __version__``, upstream's form), otherwise None.
    """
    init = f"{package}/__init__.py"
    text = sources.get(init)
    if text is None:
        return None
    found = literal_version(text)
    if found is not None:
        return found, init
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        module: str | None = None
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            if any(alias.name == "__version__" for alias in node.names):
                module = node.module
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Attribute):
            value = node.value
            named = any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets)
            if named and value.attr == "__version__" and isinstance(value.value, ast.Name):
                module = value.value.id
        if module:
            path = f"{package}/{module.replace('.', '/')}.py"
            if path in sources and (found := literal_version(sources[path])) is not None:
                return found, path
    return None


def foreign_runpaths(search_paths: Mapping[str, Iterable[str]]) -> list[Finding]:
    """RUNPATH/RPATH entries that name no place inside the wheel (an absolute build-tree path).

    ``search_paths``: library path -> its entries as written. Measured on upstream
    34497eae's legacy wheel (2024): libmlc_llm_module.so carries the absolute path of
    the build machine's ``build/tvm``, which leaks that path and makes the loader
    look there on every user's machine.
    """
    out = []
    for library, entries in sorted(search_paths.items()):
        foreign = [e for e in entries if not e.startswith(("$ORIGIN", "${ORIGIN}", "@loader_path", "@rpath"))]
        if foreign:
            out.append(
                Finding(
                    FOREIGN_RUNPATH,
                    f"{library} has RUNPATH/RPATH entries outside the wheel ({', '.join(foreign)}): the build "
                    "machine's paths, searched on every user's machine",
                    {"library": library, "entries": foreign},
                )
            )
    return out


# manylinux2014's glibc: every maintained distribution has it, so a floor at or below it goes unsaid.
QUIET_GLIBC = (2, 17)


def glibc_note(floors: Mapping[str, tuple[int, ...]], platform_tags: Iterable[str]) -> str | None:
    """What glibc a wheel tagged plain ``linux_*`` needs, for people (the tag promises nothing). Pure.

    ``floors``: library path -> the newest GLIBC version it needs. Measured 2026-11-29: upstream's
    wheel built in an image on Debian trixie needs GLIBC_2.39 (pidfd_spawnp), so it does not load
    on Debian 12 (glibc 2.36), and its linux_x86_64 tag says nothing of it. A manylinux tag states
    its floor itself (auditwheel checked it): None then, without floors, and at or below 2.17.
    """
    plain = [t for t in platform_tags if t.rsplit("-", 1)[-1].startswith("linux_")]
    if not floors or not plain:
        return None
    newest = max(floors.values())
    if newest <= QUIET_GLIBC:
        return None
    libraries = sorted(p for p, v in floors.items() if v == newest)
    text = ".".join(str(v) for v in newest)
    return (
        f"the wheel needs glibc >= {text} ({', '.join(libraries)}), which its linux tag does not say: "
        "it does not load where glibc is older (build on an older base, or --repair for a manylinux tag)"
    )
