"""``mlc-devops sbom``: a CycloneDX SBOM of a wheel (with its source commits) or of an image."""

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
    parser.add_argument("wheel", nargs="?", metavar="WHEEL", help="the wheel to describe")
    parser.add_argument(
        "--image",
        metavar="IMAGE",
        help="describe this container image instead (needs a Docker engine)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="where to write the SBOM (default, or -: stdout)")
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="the build report of the wheel (default: WHEEL.build.json when present); "
        "it names the source "
        "and submodule commits",
    )
    parser.add_argument(
        "--spec-version",
        default=None,
        metavar="X.Y",
        help="CycloneDX version: 1.6 (default) or 1.7",
    )
    parser.add_argument(
        "--validate",
        action="store_true",
        help="check the SBOM against the CycloneDX JSON schema (needs jsonschema)",
    )
    parser.add_argument(
        "--docker",
        default="docker",
        metavar="PROGRAM",
        help="docker client to ask about --image (default: docker)",
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from mlc_devops.supply import report as report_mod  # noqa: PLC0415
    from mlc_devops.supply import sbom  # noqa: PLC0415

    spec = args.spec_version or sbom.DEFAULT_SPEC_VERSION
    if bool(args.wheel) == bool(args.image):
        raise UsageError("give either a WHEEL or --image IMAGE", hint="mlc-devops sbom dist/X.whl -o X.cdx.json")
    summary: dict[str, object] = {"schema": "mlc-devops/sbom/v1", "spec_version": spec}
    if args.image:
        from mlc_devops.supply import image  # noqa: PLC0415

        facts = image.collect(args.image, env, docker=args.docker)
        bom = sbom.image_bom(facts, timestamp=sbom.timestamp_for(None, env), tool_version=__version__)
        text = sbom.to_json(bom, spec)
        summary.update(
            image=args.image,
            debian_packages=len(facts.debian_packages),
            python_packages=len(facts.python_packages),
            rust=[f"{t.name} {t.version}" for t in facts.rust_toolchain],
        )
    else:
        wheel = Path(args.wheel)
        report, report_path = report_mod.find(wheel, Path(args.report) if args.report else None)
        text, info = sbom.sbom_for_wheel(wheel, report, env, spec_version=spec, tool_version=__version__)
        if report is None:
            print(
                f"note: no build report ({wheel.name}{report_mod.SUFFIX}); "
                "the SBOM lists no source or submodule commits",
                file=sys.stderr,
            )
        note = report_mod.credentials_note(report, str(report_path)) if report else None
        if note:
            print(f"note: {note}", file=sys.stderr)
        summary.update(
            wheel=info.filename,
            sha256=info.sha256,
            libraries=len(info.libraries),
            requirements=len(info.requires_dist),
            report=str(report_path) if report_path else None,
        )
    if args.validate:
        sbom.validate_json(text, spec)
    target = _args.output_file(args.output)
    if target is not None:
        fsutil.write_text_atomic(target, text)
        summary["output"] = str(target)
        if args.json:
            print(json.dumps(summary, indent=2))
        else:
            print(f"wrote {target}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
