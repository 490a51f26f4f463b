"""Read a wheel without installing it: file name and tags, METADATA, RECORD, and the libraries inside.

The one reader of wheels: validation, smoke, the providers' wheels (depwheels),
SBOMs, provenance and releases use it, and so may anything else that needs to
know what a wheel holds. It reads at two depths: :func:`inspect`, the file name
and the archive's listing alone (nothing is decompressed: validation checks the
tags, and looks for a result it can reuse, before reading more), and
:func:`read_wheel`, everything with the native libraries' digests. Beside them,
what validation reads of particular members: the Requires-Dist alone
(:func:`declared_requirements`), the ELF libraries' dynamic sections
(:func:`elf_libraries`) and the package's top-level sources (:func:`python_sources`).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from mlc_devops import elf, fsutil, platforms
from mlc_devops.errors import UsageError, ValidationFailed
from mlc_devops.wheel import resolution

# Python extension modules on Windows are DLLs by another name.
NATIVE_EXTRA_SUFFIXES = (".pyd",)
CHUNK = 1 << 20


@dataclass(frozen=True)
class NativeLibrary:
    """A shared library inside the wheel: its path in the archive, digest and size."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Dependency:
    """One ``Requires-Dist`` line of the wheel's METADATA."""

    requirement: str
    name: str  # canonical (PEP 503) name
    specifier: str
    extras: tuple[str, ...]
    marker: str | None

    @property
    def optional(self) -> bool:
        """Needed only when the wheel is installed with one of its extras."""
        return self.marker is not None and "extra" in self.marker

    @property
    def pinned_version(self) -> str | None:
        """The version when the specifier pins exactly one (``==1.2`` or ``===1.2``)."""
        parts = [p.strip() for p in self.specifier.split(",") if p.strip()]
        if len(parts) != 1:
            return None
        spec = parts[0]
        for op in ("===", "=="):
            if spec.startswith(op):
                value = spec[len(op) :].strip()
                return value if value and "*" not in value else None
        return None


@dataclass(frozen=True)
class WheelInfo:
    filename: str
    name: str  # as METADATA spells it
    canonical_name: str
    version: str
    build_tag: str | None
    tags: tuple[str, ...]
    sha256: str
    size: int
    metadata_version: str
    summary: str | None
    license: str | None
    license_expression: str | None
    requires_python: str | None
    classifiers: tuple[str, ...]
    project_urls: tuple[tuple[str, str], ...]
    requires_dist: tuple[Dependency, ...]
    libraries: tuple[NativeLibrary, ...]
    # Archive members whose RECORD digest differs from their content.
    record_mismatches: tuple[str, ...]
    # Every archive member, as the archive lists them.
    members: tuple[str, ...]

    @property
    def platform_tags(self) -> tuple[str, ...]:
        return tuple(sorted({t.rsplit("-", 1)[-1] for t in self.tags}))


@dataclass(frozen=True)
class WheelFacts:
    """What the file name and the archive's listing say (:func:`inspect`); ``name`` is the canonical name."""

    filename: str
    name: str
    version: str
    tags: frozenset[str]
    members: tuple[str, ...]


def facts_from(filename: str, members: Iterable[str]) -> WheelFacts:
    """The facts of a wheel named ``filename`` that holds ``members``; ValidationFailed if no wheel's name. Pure."""
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise ValidationFailed(f"{filename} is not a valid wheel file name: {exc}") from None
    return WheelFacts(filename, str(name), str(version), frozenset(str(t) for t in tags), tuple(members))


def inspect(path: Path) -> WheelFacts:
    """The file name's facts and the archive's listing, nothing decompressed; ValidationFailed if no wheel."""
    if not path.is_file():
        raise ValidationFailed(f"wheel {path} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.namelist()
    except zipfile.BadZipFile:
        raise ValidationFailed(f"{path.name} is not a valid zip archive") from None
    return facts_from(path.name, members)


def is_native(path: str) -> bool:
    """Whether an archive member is a native library (.so, .so.N, .dll, .dylib, .pyd)."""
    return platforms.is_native_library_name(path) or PurePosixPath(path).name.endswith(NATIVE_EXTRA_SUFFIXES)


def parse_filename(filename: str) -> tuple[str, Version, str | None, tuple[str, ...]]:
    """Name, version, build tag and sorted tags of a wheel file name; UsageError if not one."""
    try:
        name, version, build, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise UsageError(f"{filename} is not a wheel file name: {exc}") from None
    build_tag = "".join(str(p) for p in build) if build else None
    return str(name), version, build_tag, tuple(sorted(str(t) for t in tags))


def parse_metadata(text: str) -> Message:
    """The METADATA file (RFC 822 headers, then the description)."""
    return HeaderParser().parsestr(text)


def parse_dependency(line: str) -> Dependency:
    try:
        req = Requirement(line)
    except InvalidRequirement as exc:
        raise ValidationFailed(f"the wheel's METADATA has an invalid Requires-Dist {line!r}: {exc}") from None
    return Dependency(
        requirement=line.strip(),
        name=str(canonicalize_name(req.name)),
        specifier=str(req.specifier),
        extras=tuple(sorted(req.extras)),
        marker=str(req.marker) if req.marker is not None else None,
    )


def parse_record(text: str) -> dict[str, tuple[str, str]]:
    """RECORD rows: path -> (algorithm, digest) for rows that carry a hash."""
    out: dict[str, tuple[str, str]] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2 or not row[1]:
            continue
        algorithm, _, digest = row[1].partition("=")
        if digest:
            out[row[0]] = (algorithm, digest)
    return out


def record_digest(hexdigest: str) -> str:
    """A hex SHA-256 the way RECORD writes it: urlsafe base64 without padding."""
    return base64.urlsafe_b64encode(bytes.fromhex(hexdigest)).rstrip(b"=").decode("ascii")


def _find_dist_info(names: Iterable[str], canonical: str) -> str:
    candidates = sorted(
        {n.split("/", 1)[0] for n in names if n.count("/") == 1 and n.split("/", 1)[0].endswith(".dist-info")}
    )
    matching = [c for c in candidates if canonicalize_name(c[: -len(".dist-info")].rsplit("-", 1)[0]) == canonical]
    if matching:
        return matching[0]
    if len(candidates) == 1:
        return candidates[0]
    raise ValidationFailed(
        f"cannot find the .dist-info directory of {canonical} in the wheel (found: {', '.join(candidates) or 'none'})"
    )


def _member_digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    digest = hashlib.sha256()
    with archive.open(info) as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _project_urls(message: Message) -> tuple[tuple[str, str], ...]:
    urls: list[tuple[str, str]] = []
    for value in message.get_all("Project-URL") or []:
        label, _, url = str(value).partition(",")
        if url.strip():
            urls.append((label.strip(), url.strip()))
    home = message.get("Home-page")
    if home and str(home).strip() and str(home).strip() != "UNKNOWN":
        urls.append(("Homepage", str(home).strip()))
    return tuple(urls)


def _header(message: Message, name: str) -> str | None:
    value = message.get(name)
    if value is None:
        return None
    text = str(value).strip()
    return text if text and text != "UNKNOWN" else None


def read_wheel(path: Path) -> WheelInfo:
    """Inspect the wheel at ``path``: UsageError if no wheel, ValidationFailed if inconsistent."""
    return _read_wheel(path, None)


def read_wheel_and_libraries(path: Path, members: Iterable[str]) -> tuple[WheelInfo, list[resolution.Library]]:
    """:func:`read_wheel` and :func:`elf_libraries` of ``members`` in one pass: each library is decompressed
    once for its digest and its dynamic section (upstream's 24 MB wheel: 0.32 s instead of 0.64 s, measured
    2026-12-07 on mlc-llm 79d603f0)."""
    members = list(members)
    wanted = set(members)
    found: dict[str, resolution.Library | None] = {}

    def on_library(member: str, data: bytes) -> None:
        if member in wanted:
            found[member] = _elf_library(path, member, data)

    info = _read_wheel(path, on_library)
    rest = [m for m in members if m not in found]  # a member read_wheel does not take for a native library
    if rest:
        with zipfile.ZipFile(path) as archive:
            for member in rest:
                found[member] = _elf_library(path, member, archive.read(member))
    return info, [lib for lib in (found[m] for m in members) if lib is not None]


def _read_wheel(path: Path, on_library: Callable[[str, bytes], None] | None) -> WheelInfo:
    if not path.is_file():
        raise UsageError(f"no wheel at {path}", hint="give the path of a .whl file")
    name, version, build_tag, tags = parse_filename(path.name)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UsageError(f"{path} is not a wheel (not a readable zip archive: {exc})") from None
    with archive:
        names = archive.namelist()
        dist_info = _find_dist_info(names, name)
        try:
            metadata_text = archive.read(f"{dist_info}/METADATA").decode("utf-8")
        except KeyError:
            raise ValidationFailed(f"{path.name} has no {dist_info}/METADATA") from None
        try:
            record_text = archive.read(f"{dist_info}/RECORD").decode("utf-8")
        except KeyError:
            record_text = ""
        message = parse_metadata(metadata_text)
        meta_name = _header(message, "Name")
        meta_version = _header(message, "Version")
        if meta_name is None or meta_version is None:
            raise ValidationFailed(f"{path.name}: METADATA lacks Name or Version")
        if canonicalize_name(meta_name) != name:
            raise ValidationFailed(f"{path.name}: METADATA names the project {meta_name!r}, the file name {name!r}")
        try:
            same_version = Version(meta_version) == version
        except InvalidVersion:
            same_version = False
        if not same_version:
            raise ValidationFailed(f"{path.name}: METADATA says version {meta_version}, the file name {version}")
        record = parse_record(record_text)
        libraries: list[NativeLibrary] = []
        mismatches: list[str] = []
        for info in archive.infolist():
            if info.is_dir() or not is_native(info.filename):
                continue
            if on_library is None:
                hexdigest = _member_digest(archive, info)
            else:
                data = archive.read(info)
                hexdigest = hashlib.sha256(data).hexdigest()
                on_library(info.filename, data)
            libraries.append(NativeLibrary(info.filename, hexdigest, info.file_size))
            recorded = record.get(info.filename)
            if recorded is not None and recorded[0] == "sha256" and recorded[1] != record_digest(hexdigest):
                mismatches.append(info.filename)
    requires = tuple(parse_dependency(str(v)) for v in message.get_all("Requires-Dist") or [])
    return WheelInfo(
        filename=path.name,
        name=meta_name,
        canonical_name=name,
        version=str(version),
        build_tag=build_tag,
        tags=tags,
        sha256=fsutil.sha256_file(path),
        size=path.stat().st_size,
        metadata_version=_header(message, "Metadata-Version") or "",
        summary=_header(message, "Summary"),
        license=_header(message, "License"),
        license_expression=_header(message, "License-Expression"),
        requires_python=_header(message, "Requires-Python"),
        classifiers=tuple(str(c) for c in message.get_all("Classifier") or []),
        project_urls=_project_urls(message),
        requires_dist=requires,
        libraries=tuple(sorted(libraries, key=lambda lib: lib.path)),
        record_mismatches=tuple(sorted(mismatches)),
        members=tuple(names),
    )


def as_dict(info: WheelInfo) -> Mapping[str, object]:
    """A JSON-ready view, for ``--json`` output."""
    return {
        "filename": info.filename,
        "name": info.name,
        "version": info.version,
        "tags": list(info.tags),
        "sha256": info.sha256,
        "size": info.size,
        "requires_dist": [d.requirement for d in info.requires_dist],
        "libraries": [{"path": lib.path, "sha256": lib.sha256, "size": lib.size} for lib in info.libraries],
    }


# --- what validation reads of particular members ---------------------------------------------------------


def declared_requirements(wheel: Path) -> tuple[Dependency, ...]:
    """The wheel's Requires-Dist from its METADATA alone (no library is read); empty when unreadable, which
    the validation itself then reports."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            dist_info = {n.split("/", 1)[0] for n in names if n.count("/") == 1 and n.endswith(".dist-info/METADATA")}
            if len(dist_info) != 1:
                return ()
            text = archive.read(f"{dist_info.pop()}/METADATA").decode("utf-8")
        message = parse_metadata(text)
        return tuple(parse_dependency(str(v)) for v in message.get_all("Requires-Dist") or [])
    except (OSError, zipfile.BadZipFile, UnicodeDecodeError, ValidationFailed):
        return ()


def top_level(wheel: Path, members: Sequence[str]) -> tuple[str | None, str | None]:
    """The first ``.dist-info`` folder among ``members`` and the text of its ``top_level.txt`` (None where
    there is none): the import names a setuptools wheel declares."""
    with zipfile.ZipFile(wheel) as archive:
        dist_info = next((m.split("/", 1)[0] for m in members if m.split("/", 1)[0].endswith(".dist-info")), None)
        try:
            text = archive.read(f"{dist_info}/top_level.txt").decode("utf-8") if dist_info else None
        except KeyError:
            text = None
    return dist_info, text


def elf_libraries(wheel: Path, members: Iterable[str]) -> list[resolution.Library]:
    """Dynamic facts of each ELF library among ``members`` of ``wheel``; others are skipped (PE, Mach-O)."""
    out = []
    with zipfile.ZipFile(wheel) as archive:
        for member in members:
            library = _elf_library(wheel, member, archive.read(member))
            if library is not None:
                out.append(library)
    return out


def _elf_library(wheel: Path, member: str, data: bytes) -> resolution.Library | None:
    try:
        info = elf.read_dynamic(data)
    except ValueError as exc:
        raise ValidationFailed(f"{member} in {wheel.name} is {exc}") from None
    if info is None:
        return None
    return resolution.Library(member, info.soname, info.needed, info.search_path, elf.glibc_floor(info.version_needs))


def python_sources(wheel: Path, package: str) -> dict[str, str]:
    """Text of the package's top-level ``.py`` files in the wheel (to read ``__version__`` without importing)."""
    out = {}
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            if member.startswith(f"{package}/") and member.endswith(".py") and member.count("/") == 1:
                out[member] = archive.read(member).decode("utf-8", errors="replace")
    return out


def package_name(members: Iterable[str], project: str) -> str:
    """The import package of the wheel: the top-level folder named like the project, else the first one."""
    heads = sorted(
        {m.split("/", 1)[0] for m in members if "/" in m and not m.split("/", 1)[0].endswith((".dist-info", ".data"))}
    )
    wanted = project.replace("-", "_").lower()
    return next((h for h in heads if h.lower() == wanted), heads[0] if heads else wanted)
