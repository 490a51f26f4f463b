"""``mlc-devops checksums``: write or check SHA256SUMS (the format of sha256sum -c)."""

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
    parser.add_argument("files", nargs="*", metavar="FILE", help="files to list")
    parser.add_argument(
        "-o",
        "--output",
        metavar="SHA256SUMS",
        help="where to write the list; names are relative to its directory (default, or -: stdout, relative to here)",
    )
    parser.add_argument(
        "--check",
        metavar="SHA256SUMS",
        help="check the files a SHA256SUMS lists (exit 6 if any differs or is missing)",
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:  # noqa: ARG001 - every command's run(args, env)
    from mlc_devops.supply import checksums  # noqa: PLC0415

    if args.check:
        if args.files or args.output:
            raise UsageError("--check takes only the SHA256SUMS file")
        entries = checksums.check(Path(args.check))
        if args.json:
            print(
                json.dumps(
                    {
                        "schema": "mlc-devops/checksums/v1",
                        "checked": [{"name": n, "sha256": h} for n, h in entries],
                    },
                    indent=2,
                )
            )
        else:
            for name, _ in entries:
                print(f"{name}: OK")
        return 0
    if not args.files:
        raise UsageError("give the files to list, or --check SHA256SUMS")
    target = _args.output_file(args.output)
    base = target.parent if target is not None else Path.cwd()
    entries = checksums.compute([Path(f) for f in args.files], base)
    text = checksums.render(entries)
    if target is not None:
        fsutil.write_text_atomic(target, text)
        if args.json:
            print(
                json.dumps(
                    {
                        "schema": "mlc-devops/checksums/v1",
                        "output": args.output,
                        "files": [{"name": n, "sha256": h} for n, h in sorted(entries)],
                    },
                    indent=2,
                )
            )
        else:
            print(f"wrote {args.output} ({len(entries)} files)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
