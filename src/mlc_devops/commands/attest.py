"""``mlc-devops attest``: SLSA Provenance v1 (an in-toto Statement v1) for one build's artifacts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import __version__, fsutil
from mlc_devops.commands import _args
from mlc_devops.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("artifacts", nargs="+", metavar="ARTIFACT", help="files the build produced (the subjects)")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write it, e.g. X.whl.intoto.jsonl (default, or -: stdout)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="the build report (default: ARTIFACT.build.json of the first artifact)",
    )
    parser.add_argument(
        "--source-uri",
        metavar="URI",
        help="source repository, e.g. git+https://github.com/mlc-ai/mlc-llm",
    )
    parser.add_argument("--source-ref", metavar="REF", help="the ref that was built, e.g. refs/tags/v0.20.0")
    parser.add_argument("--source-commit", metavar="SHA", help="the full commit id that was built")
    parser.add_argument(
        "--builder-id",
        metavar="URI",
        help="who built it (default: the workflow on GitHub Actions, else local)",
    )
    parser.add_argument(
        "--invocation-id",
        metavar="ID",
        help="which run built it (default: the Actions run, else a new UUID)",
    )
    parser.add_argument(
        "--base-image",
        metavar="REF@sha256:HEX",
        help="the build image's base, as a resolved dependency",
    )
    parser.add_argument(
        "--sbom",
        action="append",
        default=[],
        metavar="FILE",
        help="an SBOM of the artifacts, listed as a byproduct (repeatable)",
    )
    parser.add_argument(
        "--key",
        metavar="PRIVATE_KEY",
        help="sign it now (a DSSE envelope); password in MLC_DEVOPS_KEY_PASSWORD",
    )
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="attest a wheel built from a checkout with uncommitted changes (refused otherwise, exit 12); "
        "recorded as internalParameters.allowDirty",
    )
    parser.add_argument(
        "--predicate-only",
        action="store_true",
        help="write only the SLSA predicate, for cosign attest-blob --predicate FILE --type slsaprovenance1",
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from mlc_devops.supply import dsse, provenance  # noqa: PLC0415
    from mlc_devops.supply import report as report_mod  # noqa: PLC0415

    artifacts = [Path(a) for a in args.artifacts]
    if args.predicate_only and args.key:
        raise UsageError("--predicate-only writes an unsigned predicate; leave out --key")
    report, report_path = report_mod.find(artifacts[0], Path(args.report) if args.report else None)
    stmt = provenance.attest(
        artifacts,
        report,
        env,
        tool_version=__version__,
        source_uri=args.source_uri,
        source_ref=args.source_ref,
        source_commit=args.source_commit,
        builder_id=args.builder_id,
        invocation_id=args.invocation_id,
        base_image=provenance.parse_base_image(args.base_image) if args.base_image else None,
        byproducts=[Path(s) for s in args.sbom],
        byproduct_media_type="application/vnd.cyclonedx+json",
        allow_dirty=args.allow_dirty,
    )
    if report is not None and report.tree_state == "dirty":
        print(
            f"warning: --allow-dirty: {report_mod.dirty_summary(report)}: attested as built from a dirty tree",
            file=sys.stderr,
        )
    note = report_mod.credentials_note(report, str(report_path)) if report else None
    if note:
        print(f"note: {note}", file=sys.stderr)
    if args.predicate_only:
        text = json.dumps(stmt["predicate"], indent=2, sort_keys=True) + "\n"
    else:
        key = dsse.read_private(Path(args.key), env) if args.key else None
        text = provenance.signed_line(stmt, key)
    target = _args.output_file(args.output)
    if target is not None:
        fsutil.write_text_atomic(target, text)
        if args.json:
            print(
                json.dumps(
                    {
                        "schema": "mlc-devops/attest/v1",
                        "output": str(target),
                        "signed": bool(args.key),
                        "report": str(report_path) if report_path else None,
                        "subjects": stmt["subject"],
                    },
                    indent=2,
                )
            )
        elif args.predicate_only:
            print(f"wrote {target} (the SLSA predicate only)", file=sys.stderr)
        else:
            print(
                f"wrote {target} ({'signed' if args.key else 'unsigned'}, {len(artifacts)} subject(s))",
                file=sys.stderr,
            )
    else:
        sys.stdout.write(text)
    return 0
