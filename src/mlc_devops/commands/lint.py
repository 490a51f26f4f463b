"""``mlc-devops lint``: every linter, exactly as the CI lint job runs them.

One line per linter (name, ok/fail/skip, seconds, what it checked); a
failure shows the linter's output under its line. Exit 0 when all pass, 1
when any fails, 3 when a linter program is missing (nothing runs then).
The linters and their arguments live in :data:`mlc_devops.lint_tools.LINTERS`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import lint_tools
from mlc_devops.errors import EXIT_CHECK_FAILED, EXIT_OK, UsageError
from mlc_devops.lint_tools import Linter, LintReport
from mlc_devops.ui import Console

SCHEMA = "mlc-devops/lint/v1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=".", help="repository to lint (default: the current folder)")
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these linters, repeatable or comma-separated "
        "(ruff, mypy, hadolint, shellcheck, actionlint, zizmor, yamllint, pipeline)",
    )
    parser.add_argument("--list", action="store_true", help="print the linters, where each comes from, and stop")


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    linters = lint_tools.select(args.only)
    if args.list:
        return _list(linters, as_json=args.json)
    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"--root {root} is not a folder")
    report = lint_tools.run_all(linters, root.resolve(), env)
    if args.json:
        payload = {
            "schema": SCHEMA,
            "ok": report.ok,
            "results": [
                {
                    "name": r.name,
                    "status": r.status,
                    "seconds": r.seconds,
                    "command": list(r.command),
                    "files": list(r.files),
                    "output": r.output,
                    "note": r.note,
                }
                for r in report.results
            ],
        }
        print(json.dumps(payload, indent=2))
    else:
        _print_people(report)
    console = Console.from_env(env)
    failed = [r.name for r in report.failed]
    if failed:
        console.error(f"lint: {len(failed)} of {len(report.results)} failed: {', '.join(failed)}")
        return EXIT_CHECK_FAILED
    return EXIT_OK


def _print_people(report: LintReport) -> None:
    width = max((len(r.name) for r in report.results), default=4)
    for result in report.results:
        if result.status == "skip":
            print(f"{result.name:<{width}}  skip        {result.note}", flush=True)
            continue
        what = f"{len(result.files)} file{'s' if len(result.files) != 1 else ''}"
        if len(result.files) == 1:
            what = result.files[0]
        print(
            f"{result.name:<{width}}  {result.status:<4}  {result.seconds:5.1f}s  {what}",
            flush=True,
        )
        if result.status == "fail":
            for line in (result.output.rstrip() or "(no output)").splitlines():
                print(f"    {line}")
    sys.stdout.flush()


def _list(rows: tuple[Linter, ...], *, as_json: bool) -> int:
    if as_json:
        print(
            json.dumps(
                {
                    "schema": SCHEMA,
                    "linters": [
                        {
                            "name": lt.name,
                            "program": lt.program or None,
                            "package": lt.package,
                            "args": list(lt.args),
                            "targets": list(lt.targets) or lt.find,
                            "why": lt.why,
                        }
                        for lt in rows
                    ],
                },
                indent=2,
            )
        )
        return EXIT_OK
    width = max(len(lt.name) for lt in rows)
    for lt in rows:
        source = f"pip install {lt.package}" if lt.program else "built in"
        print(f"{lt.name:<{width}}  {source:<31}  {lt.why}")
    return EXIT_OK
