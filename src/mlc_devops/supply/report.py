"""Reading the build report (:class:`mlc_devops.report.BuildReport`) into the facts SBOMs and provenance use.

``<wheel filename>.build.json``, schema ``mlc-devops/build-report/v1``, read
through :meth:`mlc_devops.report.BuildReport.from_json`. Reading
is tolerant: fields that are absent or null are simply unknown. Every URL read
(the source's, each submodule's) comes out without credentials
(:func:`mlc_devops.urls.strip_credentials`), so no SBOM or provenance made from
a report can carry a token the report held; :attr:`ReportFacts.stripped` names
the fields that did.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlc_devops import report as written
from mlc_devops.errors import UsageError
from mlc_devops.report import SCHEMA, SUFFIX, mapping, report_path_for
from mlc_devops.supply import cargo
from mlc_devops.supply import tree as treestate
from mlc_devops.urls import strip_credentials

# SCHEMA, SUFFIX, mapping and report_path_for are mlc_devops.report's, named here for the reader's users.
__all__ = [
    "SCHEMA",
    "SUFFIX",
    "BaseImage",
    "Pair",
    "ReportFacts",
    "Source",
    "Submodule",
    "check_describes",
    "credentials_note",
    "dirty_summary",
    "facts",
    "find",
    "load",
    "mapping",
    "parse",
    "parse_time",
    "report_path_for",
]
_HEX = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Submodule:
    path: str
    url: str | None
    commit: str | None
    license: str | None = None


@dataclass(frozen=True)
class Source:
    uri: str | None
    commit: str | None
    ref: str | None = None
    commit_time: int | None = None


@dataclass(frozen=True)
class Pair:
    """The other wheel of the pair a report names: the TVM wheel in an mlc_llm wheel's report, and back.

    ``role``: what the other wheel is (``tvm`` or ``mlc_llm``); ``origin``: ``built`` (by the same
    run of the tool) or ``prebuilt`` (named with ``--tvm``; ``source_from`` says where from).
    """

    role: str
    name: str
    version: str | None
    filename: str
    sha256: str
    commit: str | None = None
    origin: str = "built"
    source_from: str | None = None


@dataclass(frozen=True)
class BaseImage:
    ref: str | None
    digest: str | None  # "sha256:<hex>"


@dataclass(frozen=True)
class ReportFacts:
    """What SBOMs, provenance and release take from a :class:`mlc_devops.report.BuildReport`: its facts checked
    (commit ids, digests) and its URLs without credentials."""

    tool_name: str
    tool_version: str | None
    layout: str | None
    backends: tuple[str, ...]
    cuda_architectures: tuple[str, ...]
    build_type: str | None
    source: Source
    submodules: tuple[Submodule, ...]
    tool_versions: Mapping[str, str | None]
    started: str | None
    finished: str | None
    wheel_filename: str | None
    wheel_sha256: str | None
    base_image: BaseImage | None = None
    invocation_id: str | None = None
    libraries: tuple[tuple[str, str], ...] = field(default=())
    # Fields whose URL held credentials, removed on reading: "source.uri", "submodules[3rdparty/tvm].url".
    stripped: tuple[str, ...] = ()
    # Validation's findings, (kind, message): duplicate payloads, version mismatch, undeclared pairing.
    findings: tuple[tuple[str, str], ...] = ()
    # The checkout's state when it was built: the top level ("."), then each submodule. Empty: not recorded.
    tree: tuple[treestate.TreeState, ...] = ()
    # The Cargo.lock files the build resolved, with their crates; manifests of linked crates without a lock.
    cargo_locks: tuple[cargo.Lock, ...] = ()
    cargo_missing: tuple[str, ...] = ()
    # The other wheel of the pair (TVM for mlc_llm, mlc_llm for TVM); None when built alone.
    pair: Pair | None = None

    @property
    def tree_state(self) -> treestate.State | None:
        """``clean``, ``dirty`` or ``unknown``; None when the report predates tree states."""
        return treestate.overall(self.tree) if self.tree else None

    @property
    def dirty(self) -> tuple[treestate.TreeState, ...]:
        """The repositories of the checkout that held changes in no commit."""
        return tuple(t for t in self.tree if t.dirty)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _url(value: Any, field_name: str, stripped: list[str]) -> str | None:
    text = _str(value)
    if text is None:
        return None
    clean = strip_credentials(text)
    if clean != text:
        stripped.append(field_name)
    return clean


def _commit(value: Any, where: str) -> str | None:
    text = _str(value)
    if text is None:
        return None
    text = text.lower()
    if not _HEX.match(text):
        raise UsageError(f"build report: {where} is not a git commit id: {value!r}")
    return text


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.replace(";", ",").split(",") if v.strip())
    if isinstance(value, Sequence):
        return tuple(str(v) for v in value)
    return (str(value),)


def _pair(value: Any, where: str) -> Pair | None:
    """The report's ``pair`` entry: ``{"role", "name", "version", "filename", "sha256", "source": {"commit"},
    "origin", "from"}``; None when absent; UsageError when it names no wheel or its digest is not SHA-256."""
    if value is None:
        return None
    entry = mapping(value)
    filename, digest = _str(entry.get("filename")), (_str(entry.get("sha256")) or "").lower()
    if not filename or not _SHA256.match(digest):
        raise UsageError(f"{where}: pair names no wheel file with a SHA-256 digest")
    return Pair(
        role=_str(entry.get("role")) or "tvm",
        name=_str(entry.get("name")) or filename.split("-", 1)[0],
        version=_str(entry.get("version")),
        filename=filename,
        sha256=digest,
        commit=_commit(mapping(entry.get("source")).get("commit"), "pair source commit"),
        origin=_str(entry.get("origin")) or "built",
        source_from=strip_credentials(text) if (text := _str(entry.get("from"))) else None,
    )


def parse(data: Any, *, where: str = "build report") -> ReportFacts:
    """Read the report's JSON (:meth:`mlc_devops.report.BuildReport.from_json`) into its :class:`ReportFacts`;
    UsageError if it is not one.

    URLs come out without credentials; ``stripped`` lists the fields that held some.
    """
    return facts(written.BuildReport.from_json(data, where=where), where=where)


def facts(report: written.BuildReport, *, where: str = "build report") -> ReportFacts:
    """The facts of ``report``, as :func:`parse` gives them; UsageError for a commit id or pair that is not one."""
    tool = report.tool
    source = report.source
    wheel = report.wheel
    commit_time = source.get("commit_time")
    submodules: list[Submodule] = []
    stripped: list[str] = []
    source_uri = _url(source.get("uri"), "source.uri", stripped)
    for index, entry in enumerate(report.submodules):
        if not isinstance(entry, Mapping) or not _str(entry.get("path")):
            raise UsageError(f"{where}: submodules[{index}] has no path")
        submodules.append(
            Submodule(
                path=str(entry["path"]),
                url=_url(entry.get("url"), f"submodules[{entry['path']}].url", stripped),
                commit=_commit(entry.get("commit"), f"submodule {entry['path']}"),
                license=_str(entry.get("license")),
            )
        )
    base = report.base_image
    base_image = None
    if isinstance(base, Mapping) and (base.get("ref") or base.get("digest")):
        base_image = BaseImage(_str(base.get("ref")), _str(base.get("digest")))
    versions = report.tool_versions
    libraries = tuple(
        (str(lib["path"]), str(lib["sha256"]))
        for lib in wheel.get("libraries") or []
        if isinstance(lib, Mapping) and lib.get("path") and lib.get("sha256")
    )
    found = tuple(
        (str(f["kind"]), str(f["message"]))
        for f in report.validation.get("findings") or []
        if isinstance(f, Mapping) and f.get("kind") and f.get("message")
    )
    tree_section = report.tree
    states = tuple(t for t in (treestate.from_json(r) for r in tree_section.get("repositories") or []) if t is not None)
    cargo_section = report.cargo
    return ReportFacts(
        pair=_pair(report.pair, where),
        tree=states,
        cargo_locks=cargo.read_report_locks(cargo_section.get("locks")),
        cargo_missing=_strings(cargo_section.get("missing")),
        findings=found,
        tool_name=_str(tool.get("name")) or "mlc-devops",
        tool_version=_str(tool.get("version")),
        layout=_str(report.layout),
        backends=_strings(report.backends),
        cuda_architectures=_strings(report.cuda_architectures),
        build_type=_str(report.build_type),
        source=Source(
            uri=source_uri,
            commit=_commit(source.get("commit"), "source commit"),
            ref=_str(source.get("ref")),
            commit_time=int(commit_time) if isinstance(commit_time, (int, float)) else None,
        ),
        submodules=tuple(submodules),
        tool_versions={str(k): _str(v) for k, v in versions.items()},
        started=_str(report.started),
        finished=_str(report.finished),
        wheel_filename=_str(wheel.get("filename")),
        wheel_sha256=_str(wheel.get("sha256")),
        base_image=base_image,
        invocation_id=_str(report.invocation_id),
        libraries=libraries,
        stripped=tuple(stripped),
    )


def load(path: Path) -> ReportFacts:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read build report {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"build report {path} is not JSON: {exc}") from None
    return parse(data, where=f"build report {path}")


def find(artifact: Path, explicit: Path | None) -> tuple[ReportFacts | None, Path | None]:
    """The report named by ``--report``, else ``<artifact>.build.json`` when present, else none."""
    if explicit is not None:
        return load(explicit), explicit
    candidate = report_path_for(artifact)
    if candidate.is_file():
        return load(candidate), candidate
    return None, None


def credentials_note(report: ReportFacts, where: str) -> str | None:
    """The one line that says a report's URLs were recorded without their credentials; None when none had any."""
    if not report.stripped:
        return None
    return f"{where} records URLs with credentials ({', '.join(report.stripped)}); recorded them without"


def dirty_summary(report: ReportFacts) -> str:
    """One line naming what was dirty: ``.: 1 modified (cpp/a.cc); 3rdparty/tvm: 2 untracked (x, y)``."""
    return "; ".join(t.summary() for t in report.dirty)


def check_describes(report: ReportFacts, filename: str, sha256: str, *, where: str) -> None:
    """UsageError when the report is about another wheel than the one in hand."""
    if report.wheel_sha256 and report.wheel_sha256.lower() != sha256.lower():
        raise UsageError(
            f"{where} describes a different wheel "
            f"({report.wheel_filename or '?'}, sha256 {report.wheel_sha256[:12]}...) "
            f"than {filename} (sha256 {sha256[:12]}...)",
            hint="rebuild, or pass the matching --report",
        )


def parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
