"""Rust crates compiled into the wheel: the Cargo.lock files the build resolved, and what they list.

MLC-LLM's libmlc_llm links tokenizers-cpp's Rust static library
(``3rdparty/tokenizers-cpp/rust``, ``crate-type = ["staticlib"]``), which
compiles some 75 crates (tokenizers, onig with its C source, serde, rayon,
regex, ...). Upstream does not commit that Cargo.lock (tokenizers-cpp's
.gitignore names it): cargo writes it during the build, at the root of the
crate's workspace, next to its Cargo.toml. cargo never writes a lock under its
target directory (``CARGO_TARGET_DIR`` moves only the build outputs), so the
lock is looked for beside each manifest and in the folders above it.

Decisions (which crates a lock lists, which libraries of the wheel hold them)
are pure functions over text; :func:`find_locks` reads the tree at the edge.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlc_devops import workspace
from mlc_devops.errors import UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as tomllib

LOCK_NAME = "Cargo.lock"
MANIFEST_NAME = "Cargo.toml"
# Crate types whose objects end up inside a native library the C++ side links.
LINKED_CRATE_TYPES = frozenset({"staticlib", "cdylib"})
# Folders no manifest of the build lives in: outputs, caches, and what a configure never enters.
SKIP_DIRS = frozenset({".git", "build", "dist", "target", "node_modules", "__pycache__", ".venv", ".ccache"})
# What no build of MLC-LLM enters: the same folders the CMake floor leaves out, and cargo's benches.
# Measured on upstream 34497eae: TVM's apps/wasm-standalone holds a Cargo.toml no build compiles.
NOT_BUILT_DIRS = workspace.NOT_CONFIGURED_DIRS | {"benches"}
# A wheel's native library that links the Rust static library, by name (see :func:`holders`).
HOLDER_NAME = re.compile(r"(^|/)(lib)?mlc_llm[^/]*\.(so(\.[0-9.]+)?|dylib|dll|pyd)$")


@dataclass(frozen=True)
class Crate:
    """One ``[[package]]`` of a Cargo.lock."""

    name: str
    version: str
    source: str | None = None  # "registry+https://github.com/rust-lang/crates.io-index", "git+...", None: a path
    checksum: str | None = None  # SHA-256 of the .crate file, for registry packages

    @property
    def purl(self) -> str:
        """``pkg:cargo/name@version`` (the purl spec's cargo type: crates.io's name, no namespace)."""
        return f"pkg:cargo/{self.name}@{self.version}"

    @property
    def origin(self) -> str:
        """``registry``, ``git``, ``path`` (no source: a crate of the workspace itself) or ``sparse``."""
        if self.source is None:
            return "path"
        return self.source.split("+", 1)[0]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.source:
            out["source"] = self.source
        if self.checksum:
            out["checksum"] = self.checksum
        return out


@dataclass(frozen=True)
class Lock:
    """A Cargo.lock the build resolved: where (relative to the checkout), its SHA-256, its crates."""

    path: str
    sha256: str
    crates: tuple[Crate, ...]
    manifest: str | None = None  # the staticlib crate's Cargo.toml it serves
    libraries: tuple[str, ...] = field(default=())  # the wheel's libraries its crates are compiled into

    def as_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "sha256": self.sha256,
            "manifest": self.manifest,
            "libraries": list(self.libraries),
            "packages": [c.as_json() for c in self.crates],
        }


SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


def sha256_or_none(value: object) -> str | None:
    """A lock's checksum when it is a SHA-256 (64 hex digits, lower-cased), else None. Pure.

    A crate vendored from Debian's librust-*-dev packages carries ``"package": "Could not get crate
    checksum"`` in its .cargo-checksum.json, and cargo copies that into Cargo.lock as the checksum
    (25 of 75 packages in upstream's tokenizers-cpp lock when built offline from such a vendor
    folder, measured 2026-12-07); an SBOM that gave it as a hash would be false.
    """
    if isinstance(value, str) and SHA256_HEX.match(value):
        return value.lower()
    return None


def parse_lock(text: str, *, where: str = LOCK_NAME) -> tuple[Crate, ...]:
    """The ``[[package]]`` entries of a Cargo.lock (format versions 1 to 4), sorted by name and version.

    Version 1 locks keep checksums in a ``[metadata]`` table
    (``"checksum NAME VERSION (SOURCE)" = "HEX"``); they are read too. A checksum that is not a
    SHA-256 is left out (:func:`sha256_or_none`).
    UsageError when the text is not TOML or a package lacks a name or version.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where} cannot be parsed: {exc}") from None
    legacy: dict[tuple[str, str], str] = {}
    for key, value in (data.get("metadata") or {}).items():
        match = re.match(r"^checksum (\S+) (\S+) \((.+)\)$", str(key))
        if match and isinstance(value, str) and value != "<none>":
            legacy[(match.group(1), match.group(2))] = value
    crates = []
    for index, entry in enumerate(data.get("package") or []):
        if not isinstance(entry, Mapping) or not entry.get("name") or not entry.get("version"):
            raise UsageError(f"{where}: package {index + 1} has no name or version")
        name, version = str(entry["name"]), str(entry["version"])
        source = str(entry["source"]) if entry.get("source") else None
        checksum = sha256_or_none(entry.get("checksum") or legacy.get((name, version)))
        crates.append(Crate(name, version, source, checksum))
    return tuple(sorted(set(crates), key=lambda c: (c.name, c.version, c.source or "")))


def linked_crate(manifest_text: str) -> bool:
    """Whether a Cargo.toml builds a library that C or C++ links (``crate-type`` staticlib or cdylib)."""
    try:
        data = tomllib.loads(manifest_text)
    except tomllib.TOMLDecodeError:
        return False
    lib = data.get("lib")
    kinds = lib.get("crate-type") if isinstance(lib, Mapping) else None
    return isinstance(kinds, list) and bool(LINKED_CRATE_TYPES & {str(k) for k in kinds})


def holders(libraries: Iterable[str]) -> tuple[str, ...]:
    """The wheel's libraries that hold the Rust crates: those whose file name has ``mlc_llm``.

    A fact of the build's CMake, not of the binaries: upstream's
    ``target_link_libraries(mlc_llm ... tokenizers_cpp)`` (and mlc_llm_module,
    made of the same objects) links the Rust static library into them and into
    nothing else of the wheel; libtvm_runtime and libtvm_ffi hold no Rust. It
    is not read from the binaries: linked with ``--exclude-libs,ALL`` and
    hidden visibility, libmlc_llm exports no Rust symbol to look for.
    """
    return tuple(sorted(lib for lib in libraries if HOLDER_NAME.search(lib)))


def lock_for(manifest: Path, root: Path) -> Path | None:
    """The Cargo.lock cargo uses for ``manifest``: beside it, or at a workspace root above it, within ``root``."""
    folder = manifest.parent
    while True:
        candidate = folder / LOCK_NAME
        if candidate.is_file():
            return candidate
        if folder == root or root not in folder.parents:
            return None
        folder = folder.parent


def linked_manifests(root: Path) -> list[Path]:
    """Cargo.toml files under ``root`` that build a staticlib or cdylib, outside outputs, tests and examples."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and d.lower() not in NOT_BUILT_DIRS)
        if MANIFEST_NAME in filenames:
            path = Path(dirpath) / MANIFEST_NAME
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            if linked_crate(text):
                found.append(path)
    return found


def find_locks(root: Path, libraries: Sequence[str]) -> tuple[list[Lock], list[str]]:
    """The locks of the checkout's linked Rust crates, read after the build; and manifests without one.

    Returns ``(locks, missing)``: each :class:`Lock` with its path relative to
    ``root``, SHA-256 and crates, and the wheel ``libraries`` that hold them
    (:func:`holders`); ``missing`` lists the relative paths of linked manifests
    for which no lock exists (their crates cannot be listed). UsageError when
    a lock cannot be parsed.
    """
    locks, missing = read_locks(root)
    return held_by(locks, libraries), missing


def held_by(locks: Iterable[Lock], libraries: Sequence[str]) -> list[Lock]:
    """``locks`` with the wheel ``libraries`` that hold their crates (:func:`holders`). Pure."""
    holding = holders(libraries)
    return [replace(lock, libraries=holding) for lock in locks]


def read_locks(root: Path) -> tuple[list[Lock], list[str]]:
    """:func:`find_locks` before the wheel is known (its :attr:`Lock.libraries` empty): what a build asks
    once cargo is done, while pip packages (upstream's walk for them: 0.04 s; issue 12, goal 4)."""
    locks: dict[Path, Lock] = {}
    missing = []
    for manifest in linked_manifests(root):
        lock = lock_for(manifest, root)
        if lock is None:
            missing.append(manifest.relative_to(root).as_posix())
            continue
        if lock in locks:
            continue
        data = lock.read_bytes()
        rel = lock.relative_to(root).as_posix()
        locks[lock] = Lock(
            path=rel,
            sha256=hashlib.sha256(data).hexdigest(),
            crates=parse_lock(data.decode("utf-8", errors="replace"), where=rel),
            manifest=manifest.relative_to(root).as_posix(),
        )
    return [locks[k] for k in sorted(locks)], sorted(missing)


def read_report_locks(value: Any) -> tuple[Lock, ...]:
    """The ``cargo.locks`` of a build report's JSON as :class:`Lock` objects (entries without path skipped)."""
    out = []
    for entry in value or []:
        if not isinstance(entry, Mapping) or not entry.get("path") or not entry.get("sha256"):
            continue
        crates = tuple(
            Crate(
                str(p["name"]),
                str(p["version"]),
                str(p["source"]) if p.get("source") else None,
                sha256_or_none(p.get("checksum")),  # reports written before the check may hold Debian's placeholder
            )
            for p in entry.get("packages") or []
            if isinstance(p, Mapping) and p.get("name") and p.get("version")
        )
        out.append(
            Lock(
                path=str(entry["path"]),
                sha256=str(entry["sha256"]).lower(),
                crates=crates,
                manifest=str(entry["manifest"]) if entry.get("manifest") else None,
                libraries=tuple(str(x) for x in entry.get("libraries") or []),
            )
        )
    return tuple(out)
