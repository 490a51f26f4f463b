"""CycloneDX SBOMs for wheels and images, through cyclonedx-python-lib.

What a wheel's SBOM says (a pure decision over :class:`WheelInfo` and the
build report):

- ``metadata.component``: the wheel: name, version, ``pkg:pypi`` purl with the
  file name, SHA-256, license, project URLs, wheel tags and build settings as
  properties, and the source commit as pedigree.
- one ``file`` component per native library in the wheel, with its SHA-256;
- one ``library`` component per Requires-Dist project (``pkg:pypi``), scope
  ``optional`` when an extra gates it, the specifier and marker as properties;
- the MLC-LLM source at its commit and each submodule at its commit
  (``pkg:github`` purls for GitHub URLs, else ``pkg:generic`` with a
  ``vcs_url``), with licenses where known;
- one ``library`` component per crate of each Cargo.lock the build resolved
  (``pkg:cargo/name@version``, the lock's checksum as SHA-256, its source as a
  property), with a dependency edge from each native library that holds them
  (the Rust static library is linked into libmlc_llm);
- the tree state: ``mlc-devops:source:tree`` (clean, dirty, unknown) on the
  source and each submodule, the dirty files as ``mlc-devops:source:modified``
  and ``:untracked`` properties, and on a dirty build a pedigree note on the
  wheel saying that it holds code in no commit;
- dependencies: the wheel depends on its libraries, its Python requirements and
  its source; the source depends on its submodules; libmlc_llm on its crates.

Serial numbers and bom-refs are derived from the content and the timestamp
from the build (or ``SOURCE_DATE_EPOCH``), so the same inputs give the same
bytes.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mlc_devops import options
from mlc_devops.errors import UsageError, ValidationFailed
from mlc_devops.supply import _optional, cargo, tree
from mlc_devops.supply.report import ReportFacts, check_describes, parse_time
from mlc_devops.urls import strip_credentials
from mlc_devops.wheel.reader import Dependency, WheelInfo, read_wheel

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression

    from mlc_devops.supply.image import ImageFacts

SPEC_VERSIONS = ("1.6", "1.7")
# 1.6 is the version that SBOM consumers read today (GitHub, Dependency-Track,
# grype, trivy) and that every cyclonedx-python-lib this tool accepts writes;
# 1.7 is available with --spec-version where the installed library has it.
DEFAULT_SPEC_VERSION = "1.6"
MEDIA_TYPE = "application/vnd.cyclonedx+json"
SUFFIX = ".cdx.json"
PROPERTY_PREFIX = "mlc-devops"
# Namespace for content-derived serial numbers (uuid5).
SERIAL_NAMESPACE = uuid.UUID("6b3f3c52-3a5e-4c63-9a43-7d4f7c0e9b21")

# Licenses of MLC-LLM and the projects it vendors as submodules, by repository
# name (the last part of the URL, or of the submodule path). Read from each
# project's LICENSE file; a report's own "license" for a submodule wins.
KNOWN_LICENSES: Mapping[str, str] = {
    "mlc-llm": "Apache-2.0",
    "relax": "Apache-2.0",  # mlc-ai's TVM fork, 3rdparty/tvm
    "tvm": "Apache-2.0",
    "tvm-ffi": "Apache-2.0",
    "tokenizers-cpp": "Apache-2.0",
    "xgrammar": "Apache-2.0",
    "flashinfer": "Apache-2.0",
    "sentencepiece": "Apache-2.0",
    "dlpack": "Apache-2.0",
    "dmlc-core": "Apache-2.0",
    "argparse": "MIT",
    "googletest": "BSD-3-Clause",
    "cutlass": "BSD-3-Clause",
    "stb": "MIT OR Unlicense",
    "msgpack-c": "BSL-1.0",
}

_URL_KINDS = {
    "homepage": "WEBSITE",
    "home": "WEBSITE",
    "documentation": "DOCUMENTATION",
    "docs": "DOCUMENTATION",
    "repository": "VCS",
    "source": "VCS",
    "source code": "VCS",
    "bug tracker": "ISSUE_TRACKER",
    "issues": "ISSUE_TRACKER",
    "issue tracker": "ISSUE_TRACKER",
    "changelog": "RELEASE_NOTES",
    "release notes": "RELEASE_NOTES",
}


@dataclass(frozen=True)
class RepoRef:
    """A git repository at a commit, as the SBOM names it."""

    name: str
    url: str | None  # https URL, without a git+ prefix
    commit: str | None
    github: tuple[str, str] | None  # (owner, repo)


def prop(name: str) -> str:
    return f"{PROPERTY_PREFIX}:{name}"


def repo_ref(url: str | None, commit: str | None, fallback_name: str) -> RepoRef:
    """Name, web URL and GitHub coordinates of a git URL (https, git+https, ssh, scp-like).

    The URL loses its credentials first (:func:`mlc_devops.urls.strip_credentials`),
    so none reaches the VCS reference, the pedigree or a ``vcs_url``.
    """
    if not url:
        return RepoRef(fallback_name, None, commit, None)
    text = strip_credentials(url.strip())
    if text.startswith("git+"):
        text = text[4:]
    scp = re.match(r"^(?:[\w.-]+@)?([\w.-]+):(?!//)(.+)$", text)
    if scp and "://" not in text:
        host, path = scp.group(1), scp.group(2)
        web = f"https://{host}/{path}"
    else:
        parts = urlsplit(text)
        host, path = parts.hostname or "", parts.path
        web = f"https://{host}{path}" if parts.scheme in ("ssh", "git") and host else text
    path = path.strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    web = web[:-4] if web.endswith(".git") else web
    name = path.rsplit("/", 1)[-1] or fallback_name
    segments = path.split("/")
    github = (segments[0], segments[1]) if host.lower() == "github.com" and len(segments) == 2 else None
    return RepoRef(name, web, commit, github)


def license_for(repo: RepoRef, path: str | None = None) -> str | None:
    for key in (repo.name, (path or "").rstrip("/").rsplit("/", 1)[-1]):
        if key and key.lower() in KNOWN_LICENSES:
            return KNOWN_LICENSES[key.lower()]
    return None


def _licenses(value: str | None) -> list[DisjunctiveLicense | LicenseExpression]:
    """One CycloneDX license: an SPDX expression, an SPDX id, or a plain name."""
    from cyclonedx import spdx  # noqa: PLC0415
    from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression  # noqa: PLC0415

    if not value:
        return []
    text = value.strip()
    if "\n" in text or len(text) > 200:
        return []  # a whole license text: not a name; the wheel ships it as a file
    fixed = spdx.fixup_id(text)
    if fixed:
        return [DisjunctiveLicense(id=fixed)]
    # is_expression since cyclonedx-python-lib 9; is_compound_expression before.
    is_expression = getattr(spdx, "is_expression", None) or getattr(spdx, "is_compound_expression")  # noqa: B009
    if is_expression(text):
        return [LicenseExpression(text)]
    return [DisjunctiveLicense(name=text)]


def _purl(kind: str, name: str, version: str | None, namespace: str | None = None, **qualifiers: str) -> Any:
    from packageurl import PackageURL  # noqa: PLC0415

    quals = {k: v for k, v in qualifiers.items() if v}
    return PackageURL(type=kind, namespace=namespace, name=name, version=version, qualifiers=quals or None)


def _tree_properties(state: tree.TreeState | None, overall: str | None = None) -> list[tuple[str, str]]:
    """``mlc-devops:source:tree`` and, when dirty, one property per modified or untracked file."""
    value = overall or (state.state if state else None)
    if value is None:
        return []
    out = [("source:tree", value)]
    if state is not None and state.dirty:
        out += [("source:modified", p) for p in state.modified]
        out += [("source:untracked", p) for p in state.untracked]
        if state.modified_count > len(state.modified) or state.untracked_count > len(state.untracked):
            out.append(("source:dirty-counts", f"{state.modified_count} modified, {state.untracked_count} untracked"))
    return out


def _crate_components(locks: Sequence[cargo.Lock]) -> list[tuple[Component, cargo.Lock]]:
    """One component per crate of the locks (the first lock to list a name, version and source wins)."""
    from cyclonedx.model import HashAlgorithm, HashType, Property  # noqa: PLC0415
    from cyclonedx.model.component import Component, ComponentType  # noqa: PLC0415

    out: list[tuple[Component, cargo.Lock]] = []
    seen: set[tuple[str, str, str]] = set()
    refs: set[str] = set()
    for lock in locks:
        for crate in lock.crates:
            key = (crate.name, crate.version, crate.source or "")
            if key in seen:
                continue
            seen.add(key)
            ref = f"cargo:{crate.name}@{crate.version}"
            if ref in refs:
                ref += f"#{crate.source or 'path'}"
            refs.add(ref)
            props = [Property(name=prop("cargo:lock"), value=lock.path)]
            props.append(Property(name=prop("cargo:source"), value=crate.source or "path"))
            props += [Property(name=prop("cargo:compiled-into"), value=lib) for lib in lock.libraries]
            component = Component(
                type=ComponentType.LIBRARY,
                name=crate.name,
                version=crate.version,
                bom_ref=ref,
                purl=_purl("cargo", crate.name, crate.version),
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=crate.checksum)] if crate.checksum else [],
                properties=props,
            )
            out.append((component, lock))
    return out


def _repo_component(
    repo: RepoRef,
    *,
    role: str,
    path: str | None,
    license_id: str | None,
    extra: Sequence[tuple[str, str]] = (),
) -> Component:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, Property, XsUri  # noqa: PLC0415
    from cyclonedx.model.component import Commit, Component, ComponentType, Pedigree  # noqa: PLC0415

    if repo.github:
        purl = _purl("github", repo.github[1], repo.commit, namespace=repo.github[0])
    else:
        vcs = f"git+{repo.url}@{repo.commit}" if repo.url and repo.commit else (f"git+{repo.url}" if repo.url else "")
        purl = _purl("generic", repo.name, repo.commit, vcs_url=vcs)
    refs = [ExternalReference(type=ExternalReferenceType.VCS, url=XsUri(repo.url))] if repo.url else []
    props = [Property(name=prop("source:role"), value=role)]
    if path:
        props.append(Property(name=prop("source:path"), value=path))
    if repo.commit is None:
        props.append(Property(name=prop("source:commit"), value="unknown"))
    props += [Property(name=prop(k), value=v) for k, v in extra]
    pedigree = None
    if repo.commit:
        pedigree = Pedigree(commits=[Commit(uid=repo.commit, url=XsUri(repo.url) if repo.url else None)])
    ref = f"{role}:{path or repo.name}"
    return Component(
        type=ComponentType.LIBRARY,
        name=repo.name,
        version=repo.commit,
        bom_ref=ref,
        purl=purl,
        licenses=_licenses(license_id),
        external_references=refs,
        properties=props,
        pedigree=pedigree,
    )


def _dependency_components(deps: Sequence[Dependency]) -> list[Component]:
    """One component per required project; Requires-Dist lines of one project are merged."""
    from cyclonedx.model import Property  # noqa: PLC0415
    from cyclonedx.model.component import Component, ComponentScope, ComponentType  # noqa: PLC0415

    by_name: dict[str, list[Dependency]] = {}
    for dep in deps:
        by_name.setdefault(dep.name, []).append(dep)
    out: list[Component] = []
    for name in sorted(by_name):
        group = by_name[name]
        pins = {d.pinned_version for d in group}
        version = pins.pop() if len(pins) == 1 else None
        optional = all(d.optional for d in group)
        props = [Property(name=prop("python:requirement"), value=d.requirement) for d in group]
        out.append(
            Component(
                type=ComponentType.LIBRARY,
                name=name,
                version=version,
                bom_ref=f"requires:{name}",
                purl=_purl("pypi", name, version),
                scope=ComponentScope.OPTIONAL if optional else ComponentScope.REQUIRED,
                properties=props,
            )
        )
    return out


def _url_references(urls: Iterable[tuple[str, str]]) -> list[Any]:
    from cyclonedx.exception.model import InvalidUriException  # noqa: PLC0415
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri  # noqa: PLC0415

    refs = []
    seen: set[tuple[str, str]] = set()
    for label, url in urls:
        kind = _URL_KINDS.get(label.strip().lower(), "OTHER")
        if (kind, url) in seen:
            continue
        seen.add((kind, url))
        try:
            uri = XsUri(url)
        except InvalidUriException:  # a malformed URL in METADATA is left out, not fatal
            continue
        refs.append(ExternalReference(type=getattr(ExternalReferenceType, kind), url=uri, comment=label or None))
    return refs


def _bom(
    *,
    timestamp: datetime,
    tool_version: str,
    serial: uuid.UUID,
    root: Component,
    properties: Sequence[tuple[str, str]] = (),
) -> Bom:
    from cyclonedx.model import Property  # noqa: PLC0415
    from cyclonedx.model.bom import Bom, BomMetaData  # noqa: PLC0415
    from cyclonedx.model.component import Component, ComponentType  # noqa: PLC0415
    from cyclonedx.model.tool import ToolRepository  # noqa: PLC0415

    extra: dict[str, Any] = {}
    try:  # metadata.lifecycles: cyclonedx-python-lib 9 and later
        from cyclonedx.model.lifecycle import LifecyclePhase, PredefinedLifecycle  # noqa: PLC0415

        extra["lifecycles"] = [PredefinedLifecycle(LifecyclePhase.BUILD)]
    except ImportError:
        pass

    tool = Component(
        type=ComponentType.APPLICATION,
        name="mlc-devops",
        version=tool_version,
        bom_ref="tool:mlc-devops",
        purl=_purl("pypi", "mlc-devops", tool_version),
    )
    metadata = BomMetaData(
        tools=ToolRepository(components=[tool]),
        component=root,
        timestamp=timestamp,
        properties=[Property(name=prop(k), value=v) for k, v in properties],
        **extra,
    )
    return Bom(serial_number=serial, metadata=metadata)


def _serial(*parts: str) -> uuid.UUID:
    return uuid.uuid5(SERIAL_NAMESPACE, "\n".join(parts))


def wheel_bom(wheel: WheelInfo, report: ReportFacts | None, *, timestamp: datetime, tool_version: str) -> Bom:
    """The SBOM of ``wheel``; with ``report``, also its source and submodules at their commits."""
    _optional.require_cyclonedx()
    from cyclonedx.model import HashAlgorithm, HashType, Property  # noqa: PLC0415
    from cyclonedx.model.component import Commit, Component, ComponentType, Pedigree  # noqa: PLC0415

    libraries = [
        Component(
            type=ComponentType.FILE,
            name=lib.path,
            bom_ref=f"file:{lib.path}",
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=lib.sha256)],
            properties=[Property(name=prop("file:size"), value=str(lib.size))],
        )
        for lib in wheel.libraries
    ]
    requirements = _dependency_components(wheel.requires_dist)
    sources: list[Component] = []
    source_component = None
    root_props = [Property(name=prop("wheel:tag"), value=tag) for tag in wheel.tags]
    if wheel.build_tag:
        root_props.append(Property(name=prop("wheel:build"), value=wheel.build_tag))
    if wheel.requires_python:
        root_props.append(Property(name=prop("python:requires-python"), value=wheel.requires_python))
    bom_props: list[tuple[str, str]] = []
    pedigree = None
    crates: list[tuple[Component, cargo.Lock]] = []
    if report is not None:
        states = {t.path: t for t in report.tree}
        source = repo_ref(report.source.uri, report.source.commit, wheel.canonical_name.replace("_", "-"))
        source_component = _repo_component(
            source,
            role="source",
            path=None,
            license_id=license_for(source),
            extra=_tree_properties(states.get(tree.TOP), report.tree_state),
        )
        sources.append(source_component)
        for sub in report.submodules:
            ref = repo_ref(sub.url, sub.commit, sub.path.rstrip("/").rsplit("/", 1)[-1])
            sources.append(
                _repo_component(
                    ref,
                    role="submodule",
                    path=sub.path,
                    license_id=sub.license or license_for(ref, sub.path),
                    extra=_tree_properties(states.get(sub.path)),
                )
            )
        notes = None
        if report.tree_state is not None:
            root_props.append(Property(name=prop("build:tree"), value=report.tree_state))
        if report.dirty:
            listed = "; ".join(t.summary() for t in report.dirty)
            root_props += [Property(name=prop("build:dirty"), value=t.summary()) for t in report.dirty]
            notes = (
                f"built from commit {source.commit or 'unknown'} with changes in no commit ({listed}): "
                "the wheel holds code that no commit records"
            )
        if source.commit or notes:
            pedigree = Pedigree(commits=[Commit(uid=source.commit)] if source.commit else None, notes=notes)
        crates = _crate_components(report.cargo_locks)
        for lock in report.cargo_locks:
            bom_props.append(("cargo:lock", f"{lock.path} sha256:{lock.sha256}"))
        for manifest in report.cargo_missing:
            bom_props.append(("cargo:lock-missing", manifest))
        if report.backends:
            bom_props.append(("build:backends", ",".join(report.backends)))
        if report.layout:
            bom_props.append(("build:layout", report.layout))
        if report.build_type:
            bom_props.append(("build:type", report.build_type))
        if report.cuda_architectures:
            bom_props.append(("build:cuda-architectures", ";".join(report.cuda_architectures)))
        # Findings of the build's validation (duplicate payloads, version mismatch, undeclared pairing).
        root_props += [Property(name=prop(f"finding:{kind}"), value=message) for kind, message in report.findings]
    root = Component(
        type=ComponentType.LIBRARY,
        name=wheel.name,
        version=wheel.version,
        description=wheel.summary,
        bom_ref=f"wheel:{wheel.filename}",
        purl=_purl("pypi", wheel.canonical_name, wheel.version, file_name=wheel.filename),
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=wheel.sha256)],
        licenses=_licenses(wheel.license_expression or wheel.license),
        external_references=_url_references(wheel.project_urls),
        properties=root_props,
        pedigree=pedigree,
    )
    fingerprint = [wheel.sha256]
    if report is not None:
        fingerprint += [
            report.source.commit or "",
            *(f"{s.path}={s.commit}" for s in report.submodules),
        ]
    bom = _bom(
        timestamp=timestamp,
        tool_version=tool_version,
        serial=_serial(*fingerprint),
        root=root,
        properties=bom_props,
    )
    crate_components = [c for c, _lock in crates]
    for component in [*libraries, *requirements, *sources, *crate_components]:
        bom.components.add(component)
    library_refs = {lib.path: component for lib, component in zip(wheel.libraries, libraries)}
    held: dict[str, list[Component]] = {}
    orphans: list[Component] = []
    for component, lock in crates:
        holders = [lib for lib in lock.libraries if lib in library_refs]
        for lib in holders:
            held.setdefault(lib, []).append(component)
        if not holders:
            orphans.append(component)  # no library of the wheel is known to hold it: the wheel does
    bom.register_dependency(
        root, [*libraries, *requirements, *([source_component] if source_component else []), *orphans]
    )
    for lib, component in library_refs.items():
        bom.register_dependency(component, held.get(lib, []))
    for component in [*requirements, *crate_components]:
        bom.register_dependency(component, [])
    if source_component is not None:
        bom.register_dependency(source_component, [c for c in sources if c is not source_component])
        for component in sources[1:]:
            bom.register_dependency(component, [])
    return bom


def image_bom(facts: ImageFacts, *, timestamp: datetime, tool_version: str) -> Bom:
    """SBOM of a container image: its OS, Debian packages, Python packages and Rust toolchain."""
    _optional.require_cyclonedx()
    from cyclonedx.model import HashAlgorithm, HashType, Property  # noqa: PLC0415
    from cyclonedx.model.component import Component, ComponentType  # noqa: PLC0415

    digest = facts.manifest_digest
    repo_name, tag = facts.repository, facts.tag
    purl = None
    if digest:
        purl = _purl(
            "oci",
            repo_name.rsplit("/", 1)[-1],
            digest,
            repository_url=repo_name if "/" in repo_name else "",
            tag=tag or "",
        )
    props = [Property(name=prop("image:reference"), value=facts.reference)]
    if facts.image_id:
        props.append(Property(name=prop("image:id"), value=facts.image_id))
    if facts.architecture:
        props.append(Property(name=prop("image:architecture"), value=facts.architecture))
    props += [Property(name=f"org.opencontainers.image.{k}", value=v) for k, v in sorted(facts.oci_labels.items())]
    hashes = []
    if digest and digest.startswith("sha256:"):
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=digest.split(":", 1)[1]))
    root = Component(
        type=ComponentType.CONTAINER,
        name=repo_name,
        version=tag or digest or facts.image_id or "unknown",
        bom_ref=f"image:{facts.reference}",
        purl=purl,
        hashes=hashes,
        properties=props,
    )
    components: list[Component] = []
    distro = None
    if facts.os_id:
        components.append(
            Component(
                type=ComponentType.OPERATING_SYSTEM,
                name=facts.os_id,
                version=facts.os_version_id,
                description=facts.os_pretty_name,
                bom_ref=f"os:{facts.os_id}",
            )
        )
        distro = f"{facts.os_id}-{facts.os_version_id}" if facts.os_version_id else facts.os_id
    for deb in facts.debian_packages:
        deb_props = []
        if deb.source and deb.source != deb.name:
            deb_props.append(Property(name=prop("deb:source"), value=deb.source))
        components.append(
            Component(
                type=ComponentType.LIBRARY,
                name=deb.name,
                version=deb.version,
                bom_ref=f"deb:{deb.name}:{deb.architecture}",
                purl=_purl(
                    "deb",
                    deb.name,
                    deb.version,
                    namespace=facts.os_id or "debian",
                    arch=deb.architecture,
                    distro=distro or "",
                ),
                properties=deb_props,
            )
        )
    for dist in facts.python_packages:
        components.append(
            Component(
                type=ComponentType.LIBRARY,
                name=dist.name,
                version=dist.version,
                bom_ref=f"pypi:{dist.name}:{dist.version}:{dist.location}",
                purl=_purl("pypi", dist.name, dist.version),
                licenses=_licenses(dist.license),
                properties=[Property(name=prop("python:location"), value=dist.location)] if dist.location else [],
            )
        )
    for tool in facts.rust_toolchain:
        tool_props = [Property(name=prop(f"rust:{k}"), value=v) for k, v in sorted(tool.details.items())]
        components.append(
            Component(
                type=ComponentType.APPLICATION,
                name=tool.name,
                version=tool.version,
                bom_ref=f"rust:{tool.name}",
                purl=_purl("generic", tool.name, tool.version, namespace="rust-lang"),
                properties=tool_props,
            )
        )
    bom_props = []
    if facts.python_version:
        bom_props.append(("image:python-version", facts.python_version))
    serial = _serial(facts.reference, facts.image_id or "", digest or "")
    bom = _bom(
        timestamp=timestamp,
        tool_version=tool_version,
        serial=serial,
        root=root,
        properties=bom_props,
    )
    for component in components:
        bom.components.add(component)
    bom.register_dependency(root, components)
    for component in components:
        bom.register_dependency(component, [])
    return bom


def _schema_version(spec_version: str) -> Any:
    from cyclonedx.schema import SchemaVersion  # noqa: PLC0415

    if spec_version not in SPEC_VERSIONS:
        raise UsageError(
            f"unsupported CycloneDX version {spec_version!r}",
            hint="choose " + " or ".join(SPEC_VERSIONS),
        )
    try:
        return SchemaVersion.from_version(spec_version)
    except ValueError:
        raise UsageError(
            f"the installed cyclonedx-python-lib cannot write CycloneDX {spec_version}",
            hint=f"upgrade it ({_optional.EXTRA_HINT}) or use --spec-version {DEFAULT_SPEC_VERSION}",
        ) from None


def to_json(bom: Bom, spec_version: str = DEFAULT_SPEC_VERSION) -> str:
    """The SBOM as CycloneDX JSON of ``spec_version``, with a trailing newline."""
    from cyclonedx.output import make_outputter  # noqa: PLC0415
    from cyclonedx.schema import OutputFormat  # noqa: PLC0415

    schema = _schema_version(spec_version)
    text = make_outputter(bom, OutputFormat.JSON, schema).output_as_string(indent=2)
    # Re-dump with sorted keys so that the same content is the same bytes.
    return json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def validate_json(text: str, spec_version: str = DEFAULT_SPEC_VERSION) -> None:
    """ValidationFailed unless ``text`` is valid CycloneDX JSON of ``spec_version`` (strict schema).

    Needs the ``jsonschema`` package (cyclonedx-python-lib's validation extra).
    """
    from cyclonedx.validation.json import JsonStrictValidator  # noqa: PLC0415

    try:
        error = JsonStrictValidator(_schema_version(spec_version)).validate_str(text)
    except ImportError as exc:
        raise _optional.missing("jsonschema", exc) from None
    if error is not None:
        raise ValidationFailed(f"the SBOM does not validate against CycloneDX {spec_version}: {error}")


def timestamp_for(report: ReportFacts | None, env: Mapping[str, str], now: datetime | None = None) -> datetime:
    """``SOURCE_DATE_EPOCH`` if set, else when the build finished, else now (UTC, whole seconds)."""
    epoch = options.resolve_source_date_epoch(env)
    if epoch is not None:
        return datetime.fromtimestamp(epoch, tz=timezone.utc)
    if report is not None and report.finished:
        parsed = parse_time(report.finished)
        if parsed is not None:
            return parsed
    return (now or datetime.now(timezone.utc)).replace(microsecond=0)


def sbom_for_wheel(
    path: Path,
    report: ReportFacts | None,
    env: Mapping[str, str],
    *,
    spec_version: str,
    tool_version: str,
) -> tuple[str, WheelInfo]:
    """Read the wheel at ``path``; return its SBOM as JSON text (IO around :func:`wheel_bom`)."""
    wheel = read_wheel(path)
    if wheel.record_mismatches:
        raise ValidationFailed(
            f"{wheel.filename}: RECORD's digest differs from the content of {', '.join(wheel.record_mismatches)}",
            hint="the wheel was altered after it was built; rebuild it",
        )
    if report is not None:
        check_describes(report, wheel.filename, wheel.sha256, where="the build report")
    bom = wheel_bom(wheel, report, timestamp=timestamp_for(report, env), tool_version=tool_version)
    return to_json(bom, spec_version), wheel
