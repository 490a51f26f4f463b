"""``mlc-devops doctor``: one line per check, and the fix for each failure."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping

from mlc_devops import checks, options, workspace
from mlc_devops.commands import _args
from mlc_devops.errors import EXIT_CHECK_FAILED


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _args.add_source(parser)
    _args.add_config(parser)
    parser.add_argument("--layout", choices=options.LAYOUT_CHOICES, help="source layout (default: detect)")
    parser.add_argument(
        "--no-build-isolation",
        dest="build_isolation",
        action="store_const",
        const="0",
        help="check as for a build without pip's isolated environment",
    )


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    opts = options.resolve(_args.flags(args), env)
    ws = workspace.detect(opts.source, opts.layout) if opts.source is not None else None
    results = checks.run_checks(
        ws,
        opts.config,
        env,
        build_isolation=opts.build_isolation,
        tvm_source_dir_explicit=opts.origins["tvm_source_dir"].origin != "default",
    )
    failed = checks.blocking(results)
    if args.json:
        print(
            json.dumps(
                {
                    "schema": "mlc-devops/doctor/v1",
                    "source": str(ws.root) if ws else None,
                    "layout": ws.layout if ws else None,
                    "backends": sorted(opts.config.backends),
                    "checks": [c.as_dict() for c in results],
                    "ok": not failed,
                },
                indent=2,
            )
        )
    else:
        if ws is not None:
            print(f"source: {ws.root} (layout: {ws.layout}: {workspace.LAYOUT_DESCRIPTIONS[ws.layout]})")
        else:
            print("source: none given (checking the machine only; pass --source DIR to check a checkout)")
        print("backends: " + ", ".join(sorted(opts.config.backends)))
        for check in results:
            print(checks.format_check(check))
        warned = sum(1 for c in results if c.status == "warn")
        print(f"{len(failed)} blocking, {warned} warnings, {len(results)} checks")
    return EXIT_CHECK_FAILED if failed else 0
