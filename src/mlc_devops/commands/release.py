"""``mlc-devops release``: assemble the release directory for a tag.

Wheels from DIST, each with its CycloneDX SBOM and its provenance (signed
with --key), cosign files found beside the wheels, extra --include files, and
SHA256SUMS over all of them. Refuses a --version that is not the wheels'.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import __version__
from mlc_devops.commands import _args
from mlc_devops.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dist", metavar="DIST", help="directory with the wheels (and their .build.json reports)")
    parser.add_argument(
        "--version",
        required=True,
        dest="release_version",
        metavar="vX.Y.Z",
        help="the release tag; every wheel must have this version",
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="the release directory to create")
    parser.add_argument(
        "--key",
        metavar="PRIVATE_KEY",
        help="sign the provenance (DSSE); password in MLC_DEVOPS_KEY_PASSWORD",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="FILE",
        help="another file for the release, e.g. the image SBOM (repeatable)",
    )
    parser.add_argument("--source-uri", metavar="URI", help="source repository, when the build reports lack one")
    parser.add_argument("--builder-id", metavar="URI", help="builder id for provenance made here")
    parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="release wheels built from a checkout with uncommitted changes (refused otherwise, exit 12)",
    )
    parser.add_argument("--force", action="store_true", help="replace OUT if it is an earlier release directory")


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from mlc_devops.supply import dsse, release  # noqa: PLC0415

    out = _args.output_not_stdout(args.output, "a release is a directory")
    dist = Path(args.dist)
    if not dist.is_dir():
        raise UsageError(f"no directory {dist}")
    extras = [Path(p) for p in args.include]
    for path in extras:
        if not path.is_file():
            raise UsageError(f"no file at {path} (--include)")
    names = sorted(p.name for p in dist.iterdir() if p.is_file())
    plan = release.plan(args.release_version, names, extras=[p.name for p in extras])
    key = dsse.read_private(Path(args.key), env) if args.key else None
    options = {k: v for k, v in (("source_uri", args.source_uri), ("builder_id", args.builder_id)) if v}
    result = release.assemble(
        plan,
        dist,
        out,
        env,
        tool_version=__version__,
        key=key,
        extra_paths=extras,
        force=args.force,
        attest_options=options,
        allow_dirty=args.allow_dirty,
    )
    if args.json:
        print(release.as_json(result))
    else:
        print(f"release {result.version} in {result.out}:")
        for name in sorted(result.files):
            print(f"  {name}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0
