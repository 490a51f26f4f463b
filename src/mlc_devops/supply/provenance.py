"""in-toto Statement v1 with a SLSA Provenance v1 predicate, and its verification.

The statement's content is a pure function of the subjects, the build report
and the run's context (builder, invocation, times); the buildType it names is
defined in docs/supply-chain.md. Verification is split the same way: reading
files and computing digests at the edge, the decisions (which subject, which
digest, which source commit) over data.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlc_devops.errors import (
    DigestMismatch,
    DirtyTree,
    SignatureInvalid,
    SourceMismatch,
    SubjectNotFound,
    UsageError,
)
from mlc_devops.supply import dsse, tree
from mlc_devops.supply.report import BaseImage, ReportFacts, mapping, parse_time
from mlc_devops.urls import strip_credentials

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
# Read as well: cosign attest-blob still writes v0.1 statements (same fields).
ACCEPTED_STATEMENT_TYPES = (STATEMENT_TYPE, "https://in-toto.io/Statement/v0.1")
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
# Defined in docs/supply-chain.md ("Build type"); one constant so that a move of
# the documentation is one edit.
BUILD_TYPE = "https://github.com/mlc-ai/mlc-llm-devops/blob/main/docs/supply-chain.md#build-type-v1"
# A build outside CI: no platform vouches for it, and the id says so.
LOCAL_BUILDER_ID = "urn:mlc-devops:builder:local"
SUFFIX = ".intoto.jsonl"
ACCEPTED_DIGESTS = ("sha256", "sha384", "sha512")
_HEX = re.compile(r"^[0-9a-f]+$")


@dataclass(frozen=True)
class Subject:
    name: str
    digest: Mapping[str, str]


@dataclass(frozen=True)
class SourceSpec:
    uri: str
    ref: str | None
    commit: str | None


@dataclass(frozen=True)
class RunContext:
    builder_id: str
    invocation_id: str
    started: str | None
    finished: str | None
    tool_version: str


@dataclass(frozen=True)
class Byproduct:
    name: str
    sha256: str
    media_type: str | None = None


@dataclass(frozen=True)
class Verified:
    """What ``verify`` established: which subject, which key, which source commit."""

    artifact: str
    subject: str
    digest: Mapping[str, str]
    key_id: str
    source_commit: str | None
    builder_id: str | None
    statement: Mapping[str, Any] = field(compare=False, repr=False)


def digests_of(path: Path, algorithms: Iterable[str] = ("sha256",)) -> dict[str, str]:
    hashers = {alg: hashlib.new(alg) for alg in algorithms}
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            for h in hashers.values():
                h.update(chunk)
    return {alg: h.hexdigest() for alg, h in hashers.items()}


def subject_for(path: Path) -> Subject:
    if not path.is_file():
        raise UsageError(f"no artifact at {path}")
    return Subject(path.name, digests_of(path))


def git_uri(uri: str) -> str:
    """SLSA's spelling of a git source: ``git+https://...``, without credentials.

    Credentials go first (:func:`mlc_devops.urls.strip_credentials`): every
    source and submodule URI of a statement passes through here.
    """
    text = strip_credentials(uri.strip())
    if text.startswith(("git+", "file:")):
        return text
    if text.startswith(("https://", "http://", "ssh://")):
        return "git+" + text
    return text


def rfc3339(text: str | None) -> str | None:
    if not text:
        return None
    parsed = parse_time(text)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else None


def source_spec(
    report: ReportFacts | None,
    *,
    uri: str | None = None,
    ref: str | None = None,
    commit: str | None = None,
) -> SourceSpec:
    """The source to name: flags first, then the build report. UsageError without a URI."""
    chosen_uri = uri or (report.source.uri if report else None)
    chosen_commit = (commit or (report.source.commit if report else None) or "").lower() or None
    if chosen_commit is not None and not (len(chosen_commit) in (40, 64) and _HEX.match(chosen_commit)):
        raise UsageError(f"--source-commit must be a full git commit id (40 or 64 hex digits), not {commit!r}")
    if not chosen_uri:
        if report is None:
            raise UsageError(
                "no build report and no --source-uri: the provenance cannot say what was built",
                hint="keep <wheel>.build.json beside the wheel, pass --report, "
                "or pass --source-uri and --source-commit",
            )
        raise UsageError(
            "the build report records no source URI (the checkout has no remote)",
            hint="pass --source-uri, e.g. git+https://github.com/mlc-ai/mlc-llm",
        )
    chosen_ref = ref or (report.source.ref if report else None) or chosen_commit
    return SourceSpec(git_uri(chosen_uri), chosen_ref, chosen_commit)


def run_context(
    report: ReportFacts | None,
    env: Mapping[str, str],
    *,
    tool_version: str,
    builder_id: str | None = None,
    invocation_id: str | None = None,
    new_id: str | None = None,
) -> RunContext:
    """Who built it, which run: flags, then the report, then GitHub Actions, then a local id."""
    on_github = env.get("GITHUB_ACTIONS") == "true"
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    chosen_builder = builder_id
    if not chosen_builder and on_github and env.get("GITHUB_WORKFLOW_REF"):
        chosen_builder = f"{server}/{env['GITHUB_WORKFLOW_REF']}"
    chosen_invocation = invocation_id or (report.invocation_id if report else None)
    if not chosen_invocation and on_github and env.get("GITHUB_REPOSITORY") and env.get("GITHUB_RUN_ID"):
        attempt = env.get("GITHUB_RUN_ATTEMPT", "1")
        repo, run_id = env["GITHUB_REPOSITORY"], env["GITHUB_RUN_ID"]
        chosen_invocation = f"{server}/{repo}/actions/runs/{run_id}/attempts/{attempt}"
    return RunContext(
        builder_id=chosen_builder or LOCAL_BUILDER_ID,
        invocation_id=chosen_invocation or new_id or uuid.uuid4().urn,
        started=rfc3339(report.started) if report else None,
        finished=rfc3339(report.finished) if report else None,
        tool_version=tool_version,
    )


def parse_base_image(text: str) -> BaseImage:
    """``REF@sha256:HEX`` (or a bare ``sha256:HEX``) from --base-image."""
    head, sep, digest = text.rpartition("@")
    ref: str | None = head
    if not sep:
        ref, digest = (None, text) if text.startswith("sha256:") else (text, "")
    if digest and not re.match(r"^sha256:[0-9a-f]{64}$", digest):
        raise UsageError(f"--base-image digest must be sha256:<64 hex digits>, not {digest!r}")
    return BaseImage(ref or None, digest or None)


def image_uri(ref: str) -> str:
    """A purl for an image reference: ``pkg:docker/name@tag?repository_url=host``."""
    name, digest = ref, None
    if "@" in name:
        name, digest = name.split("@", 1)
    tag = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    registry = None
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    uri = f"pkg:docker/{name}"
    if tag or digest:
        uri += f"@{tag or digest}"
    if registry:
        uri += f"?repository_url={registry}"
    return uri


def _tree_annotations(state: tree.TreeState | None) -> dict[str, Any]:
    """A repository's tree state as ResourceDescriptor annotations: ``tree``, and what was dirty."""
    if state is None:
        return {}
    out: dict[str, Any] = {"tree": state.state}
    if state.dirty:
        out.update(
            modified=list(state.modified),
            untracked=list(state.untracked),
            modifiedCount=state.modified_count,
            untrackedCount=state.untracked_count,
        )
    return out


def resolved_dependencies(
    report: ReportFacts | None, source: SourceSpec, base_image: BaseImage | None
) -> list[dict[str, Any]]:
    """The source, each submodule, the base image, each Cargo.lock and its crates, with roles in annotations.

    The tree state (docs/supply-chain.md, "Dirty trees") is an annotation of the
    resource it qualifies: the source's ``tree`` is the whole checkout's
    (``clean``, ``dirty``, ``unknown``) with the dirty repositories listed in
    ``dirtyRepositories``; each submodule's is its own. A gitCommit digest says
    which commit the tree started from; ``tree: dirty`` says the content differed.
    """
    states = {t.path: t for t in report.tree} if report else {}
    entry: dict[str, Any] = {"uri": f"{source.uri}@{source.ref}" if source.ref else source.uri}
    if source.commit:
        entry["digest"] = {"gitCommit": source.commit}
    entry["annotations"] = {"role": "source"}
    if report is not None and report.tree:
        top = _tree_annotations(states.get(tree.TOP))
        top["tree"] = report.tree_state
        if report.dirty:
            top["dirtyRepositories"] = [t.as_json() for t in report.dirty]
        entry["annotations"].update(top)
    out = [entry]
    for sub in report.submodules if report else ():
        item: dict[str, Any] = {"name": sub.path}
        if sub.url:
            item["uri"] = git_uri(sub.url)
        if sub.commit:
            item["digest"] = {"gitCommit": sub.commit}
        item["annotations"] = {"role": "submodule", "path": sub.path, **_tree_annotations(states.get(sub.path))}
        out.append(item)
    for lock in report.cargo_locks if report else ():
        out.append(
            {
                "name": lock.path,
                "digest": {"sha256": lock.sha256},
                "annotations": {"role": "cargo-lock", "packages": len(lock.crates), "libraries": list(lock.libraries)},
            }
        )
        for crate in lock.crates:
            dep: dict[str, Any] = {"uri": crate.purl}
            if crate.checksum:
                dep["digest"] = {"sha256": crate.checksum}
            dep["annotations"] = {
                "role": "cargo-crate",
                "lock": lock.path,
                **({"source": crate.source} if crate.source else {}),
            }
            out.append(dep)
    if base_image is not None and base_image.digest:
        image: dict[str, Any] = {}
        if base_image.ref:
            image["uri"] = image_uri(base_image.ref)
        image["digest"] = {"sha256": base_image.digest.split(":", 1)[1]}
        image["annotations"] = {"role": "base-image"}
        out.append(image)
    return out


def statement(
    subjects: Sequence[Subject],
    report: ReportFacts | None,
    source: SourceSpec,
    run: RunContext,
    *,
    base_image: BaseImage | None = None,
    byproducts: Sequence[Byproduct] = (),
    allow_dirty: bool = False,
) -> dict[str, Any]:
    """The in-toto Statement v1 with its SLSA Provenance v1 predicate (pure).

    ``allow_dirty`` (the attester accepted a dirty tree) is recorded as
    ``internalParameters.allowDirty``, only when the tree was dirty.
    """
    if not subjects:
        raise UsageError("nothing to attest: give at least one artifact")
    names = [s.name for s in subjects]
    if len(set(names)) != len(names):
        raise UsageError("two artifacts share a file name; a subject's name must tell them apart")
    external: dict[str, Any] = {"source": {"uri": source.uri, **({"ref": source.ref} if source.ref else {})}}
    internal: dict[str, Any] = {}
    if report is not None:
        external["backends"] = list(report.backends)
        if report.layout:
            external["layout"] = report.layout
        if report.build_type:
            external["cmakeBuildType"] = report.build_type
        if report.cuda_architectures:
            external["cudaArchitectures"] = list(report.cuda_architectures)
        versions = {k: v for k, v in sorted(report.tool_versions.items()) if v}
        if versions:
            internal["toolVersions"] = versions
        if report.tool_version:
            internal["mlcDevopsVersion"] = report.tool_version
        if allow_dirty and report.tree_state == "dirty":
            internal["allowDirty"] = True
    build_definition: dict[str, Any] = {
        "buildType": BUILD_TYPE,
        "externalParameters": external,
        "internalParameters": internal,
        "resolvedDependencies": resolved_dependencies(
            report, source, base_image or (report.base_image if report else None)
        ),
    }
    metadata: dict[str, Any] = {"invocationId": run.invocation_id}
    if run.started:
        metadata["startedOn"] = run.started
    if run.finished:
        metadata["finishedOn"] = run.finished
    run_details: dict[str, Any] = {
        "builder": {"id": run.builder_id, "version": {"mlc-devops": run.tool_version}},
        "metadata": metadata,
    }
    if byproducts:
        run_details["byproducts"] = [
            {
                "name": b.name,
                "digest": {"sha256": b.sha256},
                **({"mediaType": b.media_type} if b.media_type else {}),
            }
            for b in byproducts
        ]
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": s.name, "digest": dict(s.digest)} for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": {"buildDefinition": build_definition, "runDetails": run_details},
    }


def canonical(obj: Any) -> bytes:
    """The bytes that are signed: compact JSON, keys sorted, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_records(text: str, *, where: str) -> list[Any]:
    """A JSON document, or JSON Lines (one statement or envelope a line)."""
    stripped = text.strip()
    if not stripped:
        raise UsageError(f"{where} is empty")
    try:
        whole = json.loads(stripped)
    except json.JSONDecodeError:
        whole = None
    if whole is not None:
        return whole if isinstance(whole, list) else [whole]
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise UsageError(f"{where}, line {number}, is not JSON: {exc.msg}") from None
    return records


def load_records(path: Path) -> list[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file") from None
    return parse_records(text, where=str(path))


def is_statement(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and obj.get("_type") in ACCEPTED_STATEMENT_TYPES
        and isinstance(obj.get("subject"), list)
    )


def statement_of(envelope: dsse.Envelope) -> dict[str, Any]:
    """The statement inside a verified envelope; UsageError if the signed payload is not one."""
    if envelope.payload_type != dsse.PAYLOAD_TYPE:
        raise UsageError(
            f"the signed payload is {envelope.payload_type!r}, not an in-toto statement ({dsse.PAYLOAD_TYPE})"
        )
    try:
        obj = json.loads(envelope.payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError("the signed payload is not JSON") from None
    if not is_statement(obj):
        raise UsageError(f"the signed payload is not an in-toto statement ({STATEMENT_TYPE})")
    return dict(obj)


def verified_statements(records: Sequence[Any], key: dsse.PublicKey) -> list[dict[str, Any]]:
    """Statements whose envelope ``key`` signed. SignatureInvalid if there are none."""
    found: list[dict[str, Any]] = []
    failures: list[SignatureInvalid] = []
    unsigned = 0
    for record in records:
        if not dsse.is_envelope(record):
            unsigned += 1
            continue
        try:
            envelope = dsse.verify(record, key)
        except SignatureInvalid as exc:
            failures.append(exc)
            continue
        found.append(statement_of(envelope))
    if found:
        return found
    if failures:
        raise failures[0]
    raise SignatureInvalid(
        f"the provenance is not signed ({unsigned} bare statement{'s' if unsigned != 1 else ''}, no DSSE envelope)",
        hint="sign it with mlc-devops sign --key, or verify a signed .intoto.jsonl",
    )


def needed_algorithms(statements: Sequence[Mapping[str, Any]]) -> list[str]:
    algorithms = {"sha256"}
    for stmt in statements:
        for subject in stmt.get("subject") or []:
            if isinstance(subject, Mapping) and isinstance(subject.get("digest"), Mapping):
                algorithms |= {a for a in subject["digest"] if a in ACCEPTED_DIGESTS}
    return sorted(algorithms)


def _digest_matches(claimed: Mapping[str, Any], actual: Mapping[str, str]) -> bool | None:
    """True/False when they share an accepted algorithm, None when they share none."""
    common = [a for a in ACCEPTED_DIGESTS if a in claimed and a in actual]
    if not common:
        return None
    return all(str(claimed[a]).lower() == actual[a] for a in common)


def match_subject(
    statements: Sequence[Mapping[str, Any]], name: str, actual: Mapping[str, str]
) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(statement, subject) naming ``name`` with its digest; else DigestMismatch/SubjectNotFound."""
    named_but_different: list[Mapping[str, Any]] = []
    same_bytes_other_name: list[str] = []
    all_names: list[str] = []
    for stmt in statements:
        for subject in stmt.get("subject") or []:
            if not isinstance(subject, Mapping) or not isinstance(subject.get("digest"), Mapping):
                continue
            subject_name = str(subject.get("name", ""))
            all_names.append(subject_name)
            match = _digest_matches(subject["digest"], actual)
            if subject_name == name and match:
                return stmt, subject
            if subject_name == name:
                named_but_different.append(subject)
            elif match:
                same_bytes_other_name.append(subject_name)
    if named_but_different:
        claimed = named_but_different[0]["digest"]
        alg = next((a for a in ACCEPTED_DIGESTS if a in claimed), None)
        if alg is None:
            raise DigestMismatch(
                f"the provenance gives {name} no digest this tool accepts ({', '.join(ACCEPTED_DIGESTS)})"
            )
        raise DigestMismatch(
            f"{name} has {alg} {actual.get(alg, '?')}, but the provenance says {claimed.get(alg, '?')}",
            hint="the artifact was altered or replaced after it was attested",
        )
    if same_bytes_other_name:
        raise SubjectNotFound(
            f"the provenance attests these bytes as {same_bytes_other_name[0]!r}, not as {name!r}",
            hint="a wheel's file name carries its version and tags: keep the attested name",
        )
    shown = ", ".join(all_names[:5]) + (" ..." if len(all_names) > 5 else "")
    raise SubjectNotFound(f"no subject of the provenance names {name} (it names: {shown or 'nothing'})")


def source_commit_of(stmt: Mapping[str, Any]) -> str | None:
    """gitCommit of the resolved dependency with role ``source`` (else the one at its URI)."""
    predicate = mapping(stmt.get("predicate"))
    definition = mapping(predicate.get("buildDefinition"))
    deps = [d for d in definition.get("resolvedDependencies") or [] if isinstance(d, Mapping)]
    external = mapping(definition.get("externalParameters"))
    src = mapping(external.get("source"))
    source_uri = str(src.get("uri") or "")

    def commit(dep: Mapping[str, Any]) -> str | None:
        digest = dep.get("digest")
        value = digest.get("gitCommit") if isinstance(digest, Mapping) else None
        return str(value).lower() if value else None

    for dep in deps:
        annotations = dep.get("annotations")
        if isinstance(annotations, Mapping) and annotations.get("role") == "source":
            return commit(dep)
    for dep in deps:
        if source_uri and str(dep.get("uri", "")).startswith(source_uri):
            return commit(dep)
    return None


def _source_annotations(stmt: Mapping[str, Any]) -> Mapping[str, Any]:
    definition = mapping(mapping(stmt.get("predicate")).get("buildDefinition"))
    for dep in definition.get("resolvedDependencies") or []:
        annotations = mapping(mapping(dep).get("annotations"))
        if annotations.get("role") == "source":
            return annotations
    return {}


def tree_of(stmt: Mapping[str, Any]) -> str | None:
    """The recorded tree state of the source (``clean``, ``dirty``, ``unknown``); None when not recorded."""
    value = _source_annotations(stmt).get("tree")
    return str(value) if value in tree.STATES else None


def dirty_repositories(stmt: Mapping[str, Any]) -> list[tree.TreeState]:
    """The dirty repositories the source's annotations list (``dirtyRepositories``)."""
    found = (tree.from_json(r) for r in _source_annotations(stmt).get("dirtyRepositories") or [])
    return [t for t in found if t is not None]


def check_clean(stmt: Mapping[str, Any], artifact: str, *, allow_dirty: bool) -> str | None:
    """The tree state; DirtyTree when it is ``dirty`` and ``allow_dirty`` is not given."""
    state = tree_of(stmt)
    if state == "dirty" and not allow_dirty:
        listed = "; ".join(t.summary() for t in dirty_repositories(stmt))
        raise DirtyTree(
            f"{artifact} was built from a dirty tree: its source commit {source_commit_of(stmt) or '?'} "
            f"plus changes in no commit ({listed or 'not listed'})",
            hint="rebuild from a clean checkout, or pass --allow-dirty to accept it",
        )
    return state


def check_source(stmt: Mapping[str, Any], expected: str) -> str:
    """SourceMismatch unless the source commit is ``expected`` (full id, or a prefix of 7+)."""
    want = expected.strip().lower()
    if len(want) < 7 or not _HEX.match(want):
        raise UsageError(f"--source-commit must be 7 to 64 hex digits, not {expected!r}")
    actual = source_commit_of(stmt)
    if actual is None:
        raise SourceMismatch(
            "the provenance records no source commit",
            hint="it was attested without a build report or --source-commit",
        )
    if actual == want or (len(want) < 40 and actual.startswith(want)):
        return actual
    raise SourceMismatch(f"the provenance says the source was commit {actual}, not {expected}")


def builder_of(stmt: Mapping[str, Any]) -> str | None:
    try:
        return str(stmt["predicate"]["runDetails"]["builder"]["id"])
    except (KeyError, TypeError):
        return None


def attest(
    artifacts: Sequence[Path],
    report: ReportFacts | None,
    env: Mapping[str, str],
    *,
    tool_version: str,
    source_uri: str | None = None,
    source_ref: str | None = None,
    source_commit: str | None = None,
    builder_id: str | None = None,
    invocation_id: str | None = None,
    base_image: BaseImage | None = None,
    byproducts: Sequence[Path] = (),
    byproduct_media_type: str | None = None,
    allow_dirty: bool = False,
) -> dict[str, Any]:
    """Hash the artifacts (and byproducts); return their statement (IO around :func:`statement`).

    DirtyTree when the report records a dirty tree and ``allow_dirty`` is not given.
    """
    refuse_dirty(report, allow_dirty=allow_dirty, what="attest")
    subjects = [subject_for(p) for p in artifacts]
    described = report.wheel_sha256.lower() if report is not None and report.wheel_sha256 else None
    if report is not None and described and not any(s.digest.get("sha256") == described for s in subjects):
        raise UsageError(
            f"the build report describes {report.wheel_filename or 'another wheel'}, which is none of the artifacts",
            hint="pass the matching --report, or attest the wheel it describes",
        )
    source = source_spec(report, uri=source_uri, ref=source_ref, commit=source_commit)
    run = run_context(report, env, tool_version=tool_version, builder_id=builder_id, invocation_id=invocation_id)
    extras = [Byproduct(p.name, digests_of(p)["sha256"], byproduct_media_type) for p in byproducts]
    return statement(subjects, report, source, run, base_image=base_image, byproducts=extras, allow_dirty=allow_dirty)


def refuse_dirty(report: ReportFacts | None, *, allow_dirty: bool, what: str) -> None:
    """DirtyTree when ``report`` records a dirty tree and ``allow_dirty`` is not given (pure)."""
    if report is None or report.tree_state != "dirty" or allow_dirty:
        return
    listed = "; ".join(t.summary() for t in report.dirty)
    raise DirtyTree(
        f"{what}: {report.wheel_filename or 'the wheel'} was built from a dirty tree ({listed}): "
        "it holds code in no commit",
        hint="commit the changes and rebuild, or pass --allow-dirty (recorded in the provenance)",
    )


def signed_line(stmt: Mapping[str, Any], key: dsse.PrivateKey | None) -> str:
    """One .intoto.jsonl line: the DSSE envelope when a key is given, else the bare statement."""
    if key is None:
        return dsse.dumps_line(stmt)
    return dsse.dumps_line(dsse.sign(canonical(stmt), key))
