"""Assemble a release directory: wheels, SBOMs, provenance, signatures, SHA256SUMS.

:func:`plan` decides from file names alone (pure): which wheels, that their
version is the tag's, which SBOM and provenance to reuse from DIST and which to
make, which cosign files ride along. :func:`assemble` carries the plan out in a
staging directory beside OUT and renames it into place, so OUT is either the
whole release or untouched.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from mlc_devops import fsutil
from mlc_devops.errors import DirtyTree, UsageError
from mlc_devops.supply import checksums, dsse, provenance, report, sbom
from mlc_devops.wheel import reader

# Files that CI jobs leave beside a wheel and that belong in the release with
# it: our SBOM and provenance, and cosign's bundles, signatures and certificates.
SBOM_SUFFIX = sbom.SUFFIX
PROVENANCE_SUFFIX = provenance.SUFFIX
# ".intoto.sigstore.json": the provenance signed keyless by `cosign attest-blob --bundle` (release job).
COMPANION_SUFFIXES = (
    ".sigstore.json",
    ".intoto.sigstore.json",
    ".sigstore",
    ".bundle",
    ".sig",
    ".pem",
    ".crt",
    ".cert",
)


@dataclass(frozen=True)
class WheelPlan:
    wheel: str
    version: str
    report: str | None  # build report in DIST
    sbom: str
    sbom_from_dist: bool  # reuse DIST's SBOM, else generate
    provenance: str
    provenance_from_dist: bool
    companions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReleasePlan:
    tag: str
    version: str
    wheels: tuple[WheelPlan, ...]
    extras: tuple[str, ...] = ()  # --include files, by base name

    @property
    def files(self) -> tuple[str, ...]:
        """Every file of the release except SHA256SUMS, sorted."""
        names: list[str] = list(self.extras)
        for w in self.wheels:
            names += [w.wheel, w.sbom, w.provenance, *w.companions]
        return tuple(sorted(names))


@dataclass(frozen=True)
class ReleaseResult:
    out: Path
    version: str
    files: Mapping[str, str] = field(default_factory=dict)  # name -> sha256
    signed: bool = False
    notes: tuple[str, ...] = ()


def parse_tag(tag: str) -> Version:
    """``v1.2.3`` (or ``1.2.3``, any PEP 440 version) -> Version; UsageError otherwise."""
    text = tag.strip()
    body = text[1:] if text[:1] in ("v", "V") else text
    try:
        return Version(body)
    except InvalidVersion:
        raise UsageError(f"--version {tag!r} is not a version", hint="give the release tag, e.g. v0.20.0") from None


def version_matches(tag: Version, wheel: Version) -> bool:
    """Equal versions; a wheel's local label (+cu128) is allowed when the tag has none."""
    if tag == wheel:
        return True
    return tag.local is None and wheel.local is not None and Version(wheel.public) == tag


def check_versions(tag: str, wheels: Sequence[tuple[str, str]]) -> Version:
    """UsageError unless every wheel (file name, version) has the tag's version."""
    wanted = parse_tag(tag)
    wrong = [(name, version) for name, version in wheels if not version_matches(wanted, Version(version))]
    if wrong:
        listed = ", ".join(f"{name} is {version}" for name, version in wrong)
        raise UsageError(
            f"the wheels' version does not match --version {tag} ({wanted}): {listed}",
            hint="tag the commit the wheels were built from, or rebuild them at this version",
        )
    return wanted


def plan(tag: str, dist_names: Sequence[str], *, extras: Sequence[str] = ()) -> ReleasePlan:
    """Decide the release from the names of the files in DIST (and of --include files)."""
    present = set(dist_names)
    wheels = sorted(n for n in present if n.endswith(".whl"))
    if not wheels:
        raise UsageError("no wheels (*.whl) in the distribution directory")
    parsed = [(w, str(reader.parse_filename(w)[1])) for w in wheels]
    check_versions(tag, parsed)
    plans: list[WheelPlan] = []
    lacking: list[str] = []
    for name, version in parsed:
        report_name = name + report.SUFFIX
        has_report = report_name in present
        sbom_name = name + SBOM_SUFFIX
        prov_name = name + PROVENANCE_SUFFIX
        if prov_name not in present and not has_report:
            lacking.append(name)
        companions = tuple(sorted(name + s for s in COMPANION_SUFFIXES if name + s in present))
        plans.append(
            WheelPlan(
                wheel=name,
                version=version,
                report=report_name if has_report else None,
                sbom=sbom_name,
                sbom_from_dist=sbom_name in present,
                provenance=prov_name,
                provenance_from_dist=prov_name in present,
                companions=companions,
            )
        )
    if lacking:
        raise UsageError(
            f"no provenance and no build report for {', '.join(lacking)}",
            hint=f"keep <wheel>{report.SUFFIX} from mlc-devops build beside each wheel, "
            "or attest it first "
            f"(<wheel>{PROVENANCE_SUFFIX})",
        )
    result = ReleasePlan(tag=tag, version=str(parse_tag(tag)), wheels=tuple(plans), extras=tuple(sorted(extras)))
    names = list(result.files)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates or checksums.FILENAME in names:
        raise UsageError(f"two release files would share a name: {', '.join(duplicates or [checksums.FILENAME])}")
    return result


def _provenance_line(existing: Path, key: dsse.PrivateKey | None) -> tuple[str, bool]:
    """DIST's provenance, signed if it is a bare statement and a key is given. (text, signed)"""
    records = provenance.load_records(existing)
    lines: list[str] = []
    signed = True
    for record in records:
        if dsse.is_envelope(record):
            lines.append(dsse.dumps_line(record))
        elif provenance.is_statement(record):
            lines.append(provenance.signed_line(record, key))
            signed = signed and key is not None
        else:
            raise UsageError(f"{existing} holds something that is neither a statement nor a DSSE envelope")
    return "".join(lines), signed


def _statements_in(path: Path) -> list[dict[str, Any]]:
    """The statements of a provenance file, envelopes opened without checking signatures (for refusals only)."""
    found = []
    for record in provenance.load_records(path):
        if provenance.is_statement(record):
            found.append(dict(record))
        elif dsse.is_envelope(record):
            found.append(provenance.statement_of(dsse.decode(record)))
    return found


def check_clean(
    release: ReleasePlan, dist: Path, reports: Mapping[str, report.ReportFacts | None], *, allow_dirty: bool
) -> list[str]:
    """DirtyTree for the first wheel built from a dirty tree, unless ``allow_dirty``; the dirty wheels' names.

    The build report says it; a wheel without one is judged by the provenance
    DIST holds for it (the source's ``tree`` annotation).
    """
    dirty: list[str] = []
    for w in release.wheels:
        build_report = reports.get(w.wheel)
        if build_report is not None:
            if build_report.tree_state == "dirty":
                dirty.append(w.wheel)
                provenance.refuse_dirty(build_report, allow_dirty=allow_dirty, what="release")
        elif w.provenance_from_dist:
            for stmt in _statements_in(dist / w.provenance):
                if provenance.tree_of(stmt) == "dirty":
                    dirty.append(w.wheel)
                    if not allow_dirty:
                        raise DirtyTree(
                            f"release: {w.provenance} says {w.wheel} was built from a dirty tree",
                            hint="commit the changes and rebuild, or pass --allow-dirty",
                        )
                    break
    return dirty


def assemble(
    release: ReleasePlan,
    dist: Path,
    out: Path,
    env: Mapping[str, str],
    *,
    tool_version: str,
    key: dsse.PrivateKey | None = None,
    extra_paths: Sequence[Path] = (),
    force: bool = False,
    spec_version: str = sbom.DEFAULT_SPEC_VERSION,
    attest_options: Mapping[str, Any] | None = None,
    allow_dirty: bool = False,
) -> ReleaseResult:
    """Carry out ``release`` into ``out``; DirtyTree (before writing anything) for a dirty build without
    ``allow_dirty``, UsageError for an ``out`` that is neither new nor an earlier release (without force).
    """
    reports = {w.wheel: report.load(dist / w.report) if w.report else None for w in release.wheels}
    dirty = check_clean(release, dist, reports, allow_dirty=allow_dirty)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        if not force:
            raise UsageError(
                f"{out} already exists and is not empty",
                hint="choose a new directory, or pass --force to replace it",
            )
        if not (out / checksums.FILENAME).is_file():
            raise UsageError(
                f"{out} is not a release directory (no {checksums.FILENAME}); --force replaces only a release"
            )
    notes: list[str] = []
    with_credentials: list[str] = []  # build reports whose URLs held credentials
    all_signed = key is not None
    with fsutil.staging_dir(out.parent, f".{out.name}.staging-") as stage:
        for w in release.wheels:
            wheel_path = dist / w.wheel
            shutil.copyfile(wheel_path, stage / w.wheel)
            build_report = reports[w.wheel]
            if build_report is not None and build_report.stripped:
                with_credentials.append(w.report or "")
            if w.sbom_from_dist:
                shutil.copyfile(dist / w.sbom, stage / w.sbom)
            else:
                text, _info = sbom.sbom_for_wheel(
                    stage / w.wheel,
                    build_report,
                    env,
                    spec_version=spec_version,
                    tool_version=tool_version,
                )
                (stage / w.sbom).write_text(text, encoding="utf-8")
            if w.provenance_from_dist:
                text, signed = _provenance_line(dist / w.provenance, key)
                all_signed = all_signed and signed
            else:
                stmt = provenance.attest(
                    [stage / w.wheel],
                    build_report,
                    env,
                    tool_version=tool_version,
                    byproducts=[stage / w.sbom],
                    byproduct_media_type=sbom.MEDIA_TYPE,
                    allow_dirty=allow_dirty,
                    **dict(attest_options or {}),
                )
                text = provenance.signed_line(stmt, key)
                all_signed = all_signed and key is not None
            (stage / w.provenance).write_text(text, encoding="utf-8")
            for companion in w.companions:
                shutil.copyfile(dist / companion, stage / companion)
        for path in extra_paths:
            shutil.copyfile(path, stage / path.name)
        files = {name: fsutil.sha256_file(stage / name) for name in release.files}
        (stage / checksums.FILENAME).write_text(checksums.render(files.items()), encoding="utf-8")
        files[checksums.FILENAME] = fsutil.sha256_file(stage / checksums.FILENAME)
        if with_credentials:
            notes.append(
                f"recorded the origin URL without its credentials ({', '.join(with_credentials)} hold some; "
                "rebuild with a newer mlc-devops to clean them)"
            )
        if dirty:
            notes.append(f"--allow-dirty: released wheels built from a dirty tree: {', '.join(dirty)}")
        if not all_signed:
            notes.append(
                "provenance is not signed: pass --key, or sign it in CI (cosign attest-blob, or GitHub attestations)"
            )
        previous = None
        with fsutil.signals_deferred():  # the old release goes aside and the new one in, or neither
            if out.exists():
                previous = out.with_name(f".{out.name}.previous-{os.getpid()}")
                out.rename(previous)
            stage.rename(out)  # staging_dir's clean-up then finds nothing left to remove
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    return ReleaseResult(out=out, version=release.version, files=files, signed=all_signed, notes=tuple(notes))


def as_json(result: ReleaseResult) -> str:
    return json.dumps(
        {
            "schema": "mlc-devops/release/v1",
            "out": str(result.out),
            "version": result.version,
            "signed": result.signed,
            "files": [{"name": n, "sha256": h} for n, h in sorted(result.files.items())],
            "notes": list(result.notes),
        },
        indent=2,
    )
