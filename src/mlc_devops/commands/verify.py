"""``mlc-devops verify``: check an artifact against its signed provenance, offline.

In order: the artifact's digest is recomputed; the DSSE signature must verify
with the public key (else exit 7); a subject must name the artifact with that
digest (named but different: exit 6; not named: exit 8); with
--source-commit, the provenance's source must be that commit (else exit 9);
a provenance that records a dirty tree (the wheel holds code in no commit)
fails with exit 12 unless --allow-dirty, which then says so on every line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from mlc_devops.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="the file(s) to check")
    parser.add_argument("--provenance", metavar="FILE", help="signed provenance (default: ARTIFACT.intoto.jsonl)")
    parser.add_argument(
        "--key",
        required=True,
        metavar="PUBLIC_KEY",
        help="PEM public key of the signer (mlc-devops keygen, or cosign.pub)",
    )
    parser.add_argument(
        "--source-commit",
        metavar="SHA",
        help="require the provenance's source to be this commit (full id, or 7+ digit prefix)",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="accept a provenance that records a dirty tree (uncommitted changes), else exit 12",
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:  # noqa: ARG001 - every command's run(args, env)
    from mlc_devops.supply import dsse, provenance  # noqa: PLC0415

    key = dsse.read_public(Path(args.key))
    results = []
    trees: list[str | None] = []
    for artifact_arg in args.artifacts:
        artifact = Path(artifact_arg)
        if not artifact.is_file():
            raise UsageError(f"no artifact at {artifact}")
        prov_path = Path(args.provenance) if args.provenance else artifact.with_name(artifact.name + provenance.SUFFIX)
        if not prov_path.is_file():
            raise UsageError(f"no provenance at {prov_path}", hint="pass --provenance FILE")
        records = provenance.load_records(prov_path)
        statements = provenance.verified_statements(records, key)
        actual = provenance.digests_of(artifact, provenance.needed_algorithms(statements))
        stmt, subject = provenance.match_subject(statements, artifact.name, actual)
        commit = (
            provenance.check_source(stmt, args.source_commit)
            if args.source_commit
            else provenance.source_commit_of(stmt)
        )
        tree = provenance.check_clean(stmt, str(artifact), allow_dirty=args.allow_dirty)
        trees.append(tree)
        results.append(
            provenance.Verified(
                artifact=str(artifact),
                subject=str(subject.get("name")),
                digest=actual,
                key_id=dsse.key_id(key),
                source_commit=commit,
                builder_id=provenance.builder_of(stmt),
                statement=stmt,
            )
        )
    if args.json:
        print(
            json.dumps(
                {
                    "schema": "mlc-devops/verify/v1",
                    "verified": [
                        {
                            "artifact": r.artifact,
                            "subject": r.subject,
                            "sha256": r.digest.get("sha256"),
                            "key_id": r.key_id,
                            "source_commit": r.source_commit,
                            "builder_id": r.builder_id,
                            "tree": tree,
                        }
                        for r, tree in zip(results, trees)
                    ],
                },
                indent=2,
            )
        )
    else:
        for r, tree in zip(results, trees):
            source = f", source {r.source_commit}" if r.source_commit else ""
            if tree == "dirty":
                source += " PLUS CHANGES IN NO COMMIT (dirty tree, --allow-dirty)"
            print(f"OK {r.artifact}: sha256 {r.digest['sha256']}, signed by key {r.key_id[:16]}...{source}")
    for r, tree in zip(results, trees):
        if tree == "dirty":
            listed = "; ".join(t.summary() for t in provenance.dirty_repositories(r.statement))
            print(
                f"warning: {r.artifact} was built from a dirty tree ({listed}): "
                "its source commit does not hold all of its code",
                file=sys.stderr,
            )
    return 0
