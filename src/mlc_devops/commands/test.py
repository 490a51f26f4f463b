"""``mlc-devops test``: the checkout's tests/python against its built wheel, in a clean environment."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlc_devops import options, workspace
from mlc_devops import run as run_mod
from mlc_devops.commands import _args
from mlc_devops.errors import CheckFailed, PrerequisiteMissing, UsageError
from mlc_devops.ui import Console
from mlc_devops.wheel import venv

SCHEMA = "mlc-devops/test/v1"
DEFAULT_MARKERS = "unittest"
DEFAULT_KEYWORDS = "not engine and not endpoint"
PYTEST_NO_TESTS = 5


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _args.add_source(parser)
    parser.add_argument("--wheel", help="wheel to test (default: the newest of this project in dist/)")
    parser.add_argument("--dist", help="where to look for the wheel (default <source>/dist)")
    parser.add_argument(
        "-m", "--markers", default=DEFAULT_MARKERS, help=f"pytest -m expression (default {DEFAULT_MARKERS!r})"
    )
    parser.add_argument(
        "-k", "--keywords", default=DEFAULT_KEYWORDS, help=f"pytest -k expression (default {DEFAULT_KEYWORDS!r})"
    )
    parser.add_argument("--tests", default="tests/python", help="test folder in the checkout (default tests/python)")
    parser.add_argument("--junitxml", help="JUnit XML report (default <build>/test-results.xml)")
    _args.add_install(parser)
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: more pytest arguments")


def pytest_command(
    python: str, tests: str, markers: str, keywords: str, junitxml: Path, extra: Sequence[str]
) -> list[str]:
    cmd = [python, "-m", "pytest", tests, "-p", "no:cacheprovider", f"--junitxml={junitxml}", "-v"]
    if markers:
        cmd += ["-m", markers]
    if keywords:
        cmd += ["-k", keywords]
    cmd += [a for a in extra if a != "--"]
    return cmd


def junit_counts(text: str) -> dict[str, int]:
    """Tests, failures, errors and skipped in pytest's JUnit XML report, over its test suites. Pure."""
    from xml.etree import ElementTree  # noqa: PLC0415 - only here

    root = ElementTree.fromstring(text)  # noqa: S314 - pytest's own report, written by this run
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    return {key: sum(int(s.get(key) or 0) for s in suites) for key in ("tests", "failures", "errors", "skipped")}


def result_json(
    source: Path, wheel: Path, tests: str, markers: str, keywords: str, junit: Path, counts: Mapping[str, int]
) -> dict[str, Any]:
    """``test --json``: what ran against which wheel, and pytest's counts (a failed run is an error instead)."""
    return {
        "schema": SCHEMA,
        "source": str(source),
        "wheel": str(wheel),
        "tests": tests,
        "markers": markers,
        "keywords": keywords,
        "junit": str(junit),
        "counts": dict(counts),
        "ok": True,
    }


def newest_wheel(dist: Path, project: str) -> Path:
    from packaging.utils import canonicalize_name, parse_wheel_filename  # noqa: PLC0415

    candidates = []
    for path in dist.glob("*.whl") if dist.is_dir() else []:
        try:
            if canonicalize_name(parse_wheel_filename(path.name)[0]) == canonicalize_name(project):
                candidates.append(path)
        except ValueError:
            continue
    if not candidates:
        raise PrerequisiteMissing(f"no {project} wheel in {dist}", hint="run mlc-devops build first, or pass --wheel")
    return max(candidates, key=lambda p: p.stat().st_mtime)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    console = Console.from_env(env)
    opts = options.resolve(_args.flags(args), env)
    ws = workspace.detect(opts.source)
    tests_dir = ws.root / args.tests
    if not tests_dir.is_dir():
        raise UsageError(f"{tests_dir} does not exist", hint="pass --tests with the test folder of the checkout")
    wheel = Path(args.wheel) if args.wheel else newest_wheel(opts.dist_dir, ws.project_name)
    junit = Path(args.junitxml) if args.junitxml else ws.build_dir / "test-results.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    venv_env = venv.clean_env(env)
    with venv.fresh(env) as interpreter:
        with console.phase("environment"):
            console.say(f"    installing {wheel.name} and pytest")
            run_mod.run(
                venv.install_command(
                    str(interpreter),
                    [str(wheel.resolve()), "pytest", *args.with_packages],
                    offline=args.offline,
                    index_url=None,
                    find_links=opts.find_links,
                    pip=venv.pip_for(interpreter),
                ),
                env=venv_env,
                what="pip install",
                error=CheckFailed,
                on_line=console.output,
            )
        with console.phase("pytest"):
            cmd = pytest_command(
                str(interpreter), args.tests, args.markers, args.keywords, junit.resolve(), args.pytest_args
            )
            result = run_mod.run(cmd, cwd=ws.root, env=venv_env, capture=True, check=False, on_line=console.say)
    console.say(f"JUnit report: {junit}")
    if result.returncode == PYTEST_NO_TESTS:
        raise CheckFailed("no test matched the selection", hint=f"check -m {args.markers!r} and -k {args.keywords!r}")
    if result.returncode != 0:
        # Quiet, pytest's output went unseen: its last lines say what failed.
        detail = "\n".join(result.output.rstrip().splitlines()[-run_mod.TAIL_LINES :]) if console.quiet else ""
        raise CheckFailed(f"tests failed (pytest exit code {result.returncode})", hint=f"see {junit}", detail=detail)
    if args.json:
        counts = junit_counts(junit.read_text(encoding="utf-8"))
        print(
            json.dumps(
                result_json(ws.root, wheel, args.tests, args.markers, args.keywords, junit, counts),
                indent=2,
            )
        )
    return 0
