"""``mlc-devops sign``: wrap in-toto statements in DSSE envelopes signed with a private key."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import fsutil
from mlc_devops.commands import _args
from mlc_devops.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "statement",
        metavar="STATEMENT",
        help="statement file from mlc-devops attest (JSON or JSON Lines)",
    )
    parser.add_argument(
        "--key",
        required=True,
        metavar="PRIVATE_KEY",
        help="PEM private key (mlc-devops keygen); password in MLC_DEVOPS_KEY_PASSWORD",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="where to write the envelopes (X.intoto.jsonl; - for stdout); may be STATEMENT itself",
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from mlc_devops.supply import dsse, provenance  # noqa: PLC0415

    target = _args.output_file(args.output)
    if target is None and args.json:
        raise UsageError("--json and -o - would both write to standard output", hint="give -o a file")
    source = Path(args.statement)
    records = provenance.load_records(source)
    key = dsse.read_private(Path(args.key), env)
    lines = []
    for index, record in enumerate(records, 1):
        if dsse.is_envelope(record):
            raise UsageError(f"{source}, record {index}, is already a signed DSSE envelope")
        if not provenance.is_statement(record):
            raise UsageError(f"{source}, record {index}, is not an in-toto statement ({provenance.STATEMENT_TYPE})")
        lines.append(provenance.signed_line(record, key))
    if target is None:
        sys.stdout.write("".join(lines))
        return 0
    fsutil.write_text_atomic(target, "".join(lines))
    key_id = dsse.key_id(key.public_key())
    if args.json:
        print(
            json.dumps(
                {
                    "schema": "mlc-devops/sign/v1",
                    "output": str(target),
                    "envelopes": len(lines),
                    "key_id": key_id,
                },
                indent=2,
            )
        )
    else:
        print(f"wrote {target} ({len(lines)} envelope(s), key id {key_id[:16]}...)", file=sys.stderr)
    return 0
