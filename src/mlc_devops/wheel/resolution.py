"""Resolve every NEEDED entry of a wheel's libraries: the wheel, its dependencies, the platform.

What a wheel must contain is what its own libraries need and nobody else
provides. Each NEEDED entry of each ELF library in the wheel is looked up, in
order, in:

1. the wheel's own files along the library's RUNPATH (or RPATH) with
   ``$ORIGIN`` expanded (ld.so(8)); a file of that name elsewhere in the wheel
   is reported as outside the search path;
2. the native libraries shipped by the wheels of its declared Requires-Dist
   (upstream MLC-LLM's libtvm_ffi.so comes from apache-tvm-ffi);
3. packages the wheel does not declare but that were given for pairing
   (``--with``, ``--find-links``): an undeclared pairing (a legacy MLC-LLM
   wheel's libtvm_runtime.so from a TVM wheel);
4. the libraries the manylinux policy allows (auditwheel's policy file), the
   dynamic loader, and GPU driver libraries that the user's system provides
   (upstream's ci/task/build_lib.sh excludes them from repair).

Everything here is pure; reading wheels and fetching dependencies happen elsewhere.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Provided by the user's system, never by a wheel: GPU drivers and runtimes (upstream's
# ci/task/build_lib.sh passes these to auditwheel --exclude).
SYSTEM_PROVIDED = (
    "libvulkan.so.1",
    "libcuda.so.1",
    "libcudart.so.*",
    "libnvrtc.so.*",
    "libcublas.so.*",
    "libcublasLt.so.*",
    "libamdhip64.so.*",
    "libhsa-runtime64.so.*",
    "librocm_smi64.so.*",
    "librccl.so.*",
    "libOpenCL.so.1",
)
# The dynamic loader itself: a NEEDED entry in some libraries, part of every glibc system.
LOADERS = ("ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "ld64.so.2")

WHEEL = "wheel"
WHEEL_ELSEWHERE = "wheel-elsewhere"
DEPENDENCY = "dependency"
UNDECLARED = "undeclared"
PLATFORM = "platform"
SYSTEM = "system"
UNRESOLVED = "unresolved"


@dataclass(frozen=True)
class Library:
    """An ELF library inside a wheel: its archive path and dynamic facts."""

    path: str  # archive member, POSIX
    soname: str | None
    needed: tuple[str, ...]
    search_path: tuple[str, ...]  # RUNPATH, else RPATH, as written
    glibc: tuple[int, ...] | None = None  # the newest GLIBC_x.y it needs of libc.so.6


@dataclass(frozen=True)
class Provider:
    """A package whose wheel ships native libraries: name, version, whether the wheel declares it."""

    name: str  # canonical
    version: str
    declared: bool
    libraries: Mapping[str, str] = field(default_factory=dict)  # file name -> archive path
    modules: tuple[str, ...] = ()  # top-level import names, to load the libraries as users do


@dataclass(frozen=True)
class Resolution:
    """Where one NEEDED entry of one library was found (``kind``), or where it was looked for."""

    library: str
    needed: str
    kind: str
    where: str
    looked: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"library": self.library, "needed": self.needed, "kind": self.kind, "where": self.where}
        if self.looked:
            out["looked"] = list(self.looked)
        return out

    def sentence(self) -> str:
        """One line for people: ``libtvm_ffi.so (needed by mlc_llm/lib/libmlc_llm.so) from apache-tvm-ffi 0.1.15``."""
        head = f"{self.needed} (needed by {self.library})"
        if self.kind == WHEEL:
            return f"{head}: in the wheel at {self.where}"
        if self.kind == WHEEL_ELSEWHERE:
            return (
                f"{head}: in the wheel at {self.where}, outside the library's search path; "
                "it loads only after that file is loaded"
            )
        if self.kind == DEPENDENCY:
            return f"{head} from {self.where}"
        if self.kind == UNDECLARED:
            return f"{head} from {self.where}, which the wheel's Requires-Dist does not declare (undeclared pairing)"
        if self.kind in (PLATFORM, SYSTEM):
            return f"{head}: {self.where}"
        return f"{head}: not found; looked in {'; '.join(self.looked)}"


def expand_search_path(entries: Iterable[str], library_path: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Directories inside the wheel that ``entries`` name, and the entries that point outside it.

    ``$ORIGIN``/``${ORIGIN}`` is the library's own directory; other entries
    (absolute paths, ``$LIB``) cannot name a file of the wheel.
    """
    origin = posixpath.dirname(library_path)
    inside: list[str] = []
    outside: list[str] = []
    for entry in entries:
        if entry.startswith(("$ORIGIN", "${ORIGIN}")):
            rest = entry.split("}", 1)[1] if entry.startswith("${") else entry[len("$ORIGIN") :]
            inside.append(posixpath.normpath(posixpath.join(origin, rest.lstrip("/"))) if rest else origin)
        else:
            outside.append(entry)
    return tuple("" if d == "." else d for d in inside), tuple(outside)


def _matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def resolve(
    libraries: Sequence[Library],
    members: Iterable[str],
    providers: Sequence[Provider],
    platform_allowed: frozenset[str],
    policy_name: str,
) -> list[Resolution]:
    """Resolve each NEEDED entry of each library; one :class:`Resolution` per (library, entry).

    ``members`` are all archive paths of the wheel. Sorted by library, then NEEDED order.
    """
    by_name: dict[str, list[str]] = {}
    for member in members:
        by_name.setdefault(posixpath.basename(member), []).append(member)
    sonames = {lib.soname: lib.path for lib in libraries if lib.soname}
    out: list[Resolution] = []
    for lib in sorted(libraries, key=lambda item: item.path):
        dirs, outside = expand_search_path(lib.search_path, lib.path)
        for needed in lib.needed:
            on_path = [posixpath.join(d, needed) if d else needed for d in dirs]
            hit = next((p for p in on_path if p in by_name.get(needed, [])), None)
            if hit is not None:
                out.append(Resolution(lib.path, needed, WHEEL, hit))
                continue
            if needed in platform_allowed:
                out.append(Resolution(lib.path, needed, PLATFORM, f"allowed by the {policy_name} policy"))
                continue
            if needed in LOADERS:
                out.append(Resolution(lib.path, needed, PLATFORM, "the dynamic loader"))
                continue
            if _matches_any(needed, SYSTEM_PROVIDED):
                out.append(Resolution(lib.path, needed, SYSTEM, "a GPU driver library of the user's system"))
                continue
            provider = next((p for p in providers if p.declared and needed in p.libraries), None)
            if provider is None:
                provider = next((p for p in providers if not p.declared and needed in p.libraries), None)
            if provider is not None:
                kind = DEPENDENCY if provider.declared else UNDECLARED
                out.append(Resolution(lib.path, needed, kind, f"{provider.name} {provider.version}"))
                continue
            elsewhere = by_name.get(needed) or ([sonames[needed]] if needed in sonames else [])
            if elsewhere:
                out.append(Resolution(lib.path, needed, WHEEL_ELSEWHERE, sorted(elsewhere)[0]))
                continue
            looked = [
                "the wheel along "
                + (("RUNPATH " + ":".join(lib.search_path)) if lib.search_path else "no RUNPATH or RPATH")
                + (f" (entries outside the wheel ignored: {', '.join(outside)})" if outside else ""),
                "the wheels of its dependencies: "
                + (", ".join(f"{p.name} {p.version}" for p in providers) if providers else "none fetched"),
                f"the {policy_name} policy and the system's GPU driver libraries",
            ]
            out.append(Resolution(lib.path, needed, UNRESOLVED, "", tuple(looked)))
    return out


def unresolved_names(resolutions: Iterable[Resolution]) -> list[str]:
    """The NEEDED names that nothing provides, sorted, without repeats."""
    return sorted({r.needed for r in resolutions if r.kind == UNRESOLVED})


def policy_libraries(policies: Sequence[Mapping[str, Any]], platform_tags: Iterable[str]) -> tuple[str, frozenset[str]]:
    """The policy that applies to a wheel's platform tags, and the libraries it allows.

    ``policies`` is auditwheel's ``policy/manylinux-policy.json`` (a list of
    ``{"name", "aliases", "lib_whitelist", ...}``). A ``manylinux_X_Y`` tag (or
    alias) picks that policy; a plain ``linux_*`` tag, which promises nothing,
    gets the newest (most permissive) one, since that is what the wheel can at
    best claim after repair.
    """
    wanted = {t.split("_x86_64")[0].split("_aarch64")[0].split("_i686")[0] for t in platform_tags}
    named = [p for p in policies if p.get("lib_whitelist")]
    for policy in named:
        names = {policy["name"], *policy.get("aliases", [])}
        if names & wanted:
            return str(policy["name"]), frozenset(policy["lib_whitelist"])
    newest = max(named, key=lambda p: _policy_key(str(p["name"])), default=None)
    if newest is None:
        return "manylinux", frozenset()
    return str(newest["name"]), frozenset(newest["lib_whitelist"])


def _policy_key(name: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", name)) or (0,)


def load_policies() -> list[dict[str, Any]] | None:
    """auditwheel's manylinux policies, or None when auditwheel is not installed (not on Linux)."""
    try:
        from importlib.resources import files  # noqa: PLC0415

        text = files("auditwheel.policy").joinpath("manylinux-policy.json").read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError, OSError):
        return None
    data = json.loads(text)
    return data if isinstance(data, list) else None


def library_tokens(name: str) -> frozenset[str]:
    """Words of a library's file name: ``libtvm_ffi.so.1`` -> {tvm, ffi}."""
    stem = name.split(".so", maxsplit=1)[0].split(".dll", maxsplit=1)[0].split(".dylib", maxsplit=1)[0]
    stem = stem[3:] if stem.startswith("lib") else stem
    return frozenset(t for t in re.split(r"[^a-z0-9]+", stem.lower()) if t)


def rank_requirements(names: Sequence[str], missing: Iterable[str]) -> list[str]:
    """Requirement names worth fetching to find ``missing`` libraries, best first.

    A requirement is worth it when its name shares a word with a missing
    library's name (apache-tvm-ffi for libtvm_ffi.so); the others (torch,
    transformers, ...) are not fetched: upstream's full set is gigabytes.
    """
    wanted = [library_tokens(m) for m in missing]
    scored = []
    for index, name in enumerate(names):
        tokens = frozenset(t for t in re.split(r"[^a-z0-9]+", name.lower()) if t)
        score = max((len(tokens & w) for w in wanted), default=0)
        if score:
            scored.append((-score, index, name))
    return [name for _s, _i, name in sorted(scored)]


def summary_lines(
    resolutions: Iterable[Resolution], kinds: Iterable[str] = (DEPENDENCY, UNDECLARED, WHEEL_ELSEWHERE)
) -> list[str]:
    """One line per (NEEDED name, kind, where) among ``kinds``, naming how many libraries need it. Pure.

    ``libtvm_ffi.so (needed by 6 libraries) from apache-tvm-ffi 0.1.15.post2``; a
    single library is named: ``(needed by mlc_llm/libmlc_llm.so)``.
    """
    wanted = set(kinds)
    groups: dict[tuple[str, str, str], list[str]] = {}
    for item in resolutions:
        if item.kind in wanted:
            groups.setdefault((item.needed, item.kind, item.where), []).append(item.library)
    out = []
    for (needed, kind, where), libraries in groups.items():
        label = libraries[0] if len(libraries) == 1 else f"{len(libraries)} libraries: {', '.join(sorted(libraries))}"
        out.append(Resolution(label, needed, kind, where).sentence())
    return out
