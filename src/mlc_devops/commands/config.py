"""``mlc-devops config``: write config.cmake without prompts."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping

from mlc_devops import backends, fsutil, options
from mlc_devops.commands import _args


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _args.add_config(parser)
    parser.add_argument("-o", "--output", help="file to write (default, or -: print to stdout)")
    parser.add_argument("--show", action="store_true", help="print every resolved setting and where it came from")


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    resolved = options.resolve(_args.flags(args), env)
    text = backends.render(resolved.config)
    if args.show:
        from mlc_devops.cache import mask  # noqa: PLC0415 - only for --show

        rows = {
            name: {"value": mask(r.value) if name == "cache_remote" else r.value, "from": r.origin}
            for name, r in resolved.origins.items()
        }
        if args.json:
            print(json.dumps({"schema": "mlc-devops/config/v1", "settings": rows, "config_cmake": text}, indent=2))
        else:
            width = max(len(n) for n in rows)
            for name, row in rows.items():
                print(f"{name:<{width}}  {row['value']!s:<24}  ({row['from']})")
        return 0
    target = _args.output_file(args.output)
    if target is not None:
        fsutil.write_text_atomic(target, text)
        print(f"wrote {target}", file=sys.stderr)
    elif args.json:
        print(
            json.dumps(
                {"schema": "mlc-devops/config/v1", "config_cmake": text, "backends": sorted(resolved.config.backends)},
                indent=2,
            )
        )
    else:
        sys.stdout.write(text)
    return 0
