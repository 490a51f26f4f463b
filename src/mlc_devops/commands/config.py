"""``mlc-devops config``: write config.cmake without prompts; ``--show`` prints every setting and its origin."""

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
        # Every setting of options.SETTINGS, secrets and credentials in URLs masked.
        rows = {
            name: {"value": options.shown(name, r.value), "from": r.origin}
            for name, r in options.resolve_all(_args.flags(args), env).items()
        }
        if args.json:
            print(json.dumps({"schema": "mlc-devops/config/v1", "settings": rows, "config_cmake": text}, indent=2))
        else:
            width = max(len(n) for n in rows)
            for name, row in rows.items():
                value = row["value"] or "-"
                origin = row["from"]
                if not row["value"] and origin == "default":
                    origin = "default: " + options.default_words(options.SETTINGS[name]).replace("`", "")
                print(f"{name:<{width}}  {value!s:<24}  ({origin})")
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
