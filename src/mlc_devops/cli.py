"""Parse the command line, dispatch to one command, turn errors into exit codes.

Command modules are imported when their name is on the command line, and
they import heavy modules inside their functions, so ``--help`` stays fast.
Every fatal error, a bad command line included, ends in one ``error:`` line on
stderr, and on GitHub Actions in an ``::error::`` annotation as well.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from types import FrameType, ModuleType
from typing import NoReturn

from mlc_devops import __version__
from mlc_devops.errors import EXIT_USAGE, Interrupted, MlcDevopsError

# name -> one-line summary; each lives in mlc_devops.commands.<module>.
COMMANDS: dict[str, str] = {
    "doctor": "check that this machine and checkout can build MLC-LLM, and say how to fix what cannot",
    "config": "write a non-interactive config.cmake (replaces cmake/gen_cmake_config.py's prompts)",
    "build": "build the MLC-LLM wheel: config, compile, package, repair, validate, report",
    "smoke": "install a wheel in a clean virtual environment and check it imports and loads",
    "test": "run the checkout's tests/python against the built wheel in a clean environment",
    "image": "the container image: build it, compute its tags, run an engine, make a base",
    "entrypoint": "the container's entrypoint: build | test | shell | a command, as the user",
    "sbom": "write a CycloneDX SBOM of a wheel (with its source commits) or of an image",
    "attest": "write SLSA v1 provenance (an in-toto statement) for the artifacts of a build",
    "keygen": "make a key pair for offline signing (ECDSA P-256 or ed25519)",
    "sign": "sign in-toto statements: DSSE envelopes, with a private key",
    "verify": "check an artifact against its signed provenance: digest, signature, subject, source commit",
    "checksums": "write or check SHA256SUMS (sha256sum -c format)",
    "release": "assemble a release directory: wheels, SBOMs, provenance, signatures, SHA256SUMS",
    "lint": "run every linter exactly as the CI lint job does (mlc-devops lint --list)",
    "pipeline": "run .github/workflows/ci.yml under act, offline, for a push, pull request or tag",
}


# The commands that run programs as they work: -q hides their progress, -v shows every line those programs print.
VERBOSITY_COMMANDS = frozenset({"build", "smoke", "test", "image"})


class BadUsage(Exception):
    """argparse's error, raised rather than printed, so that :func:`main` reports it like every error."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class Parser(argparse.ArgumentParser):
    """An ArgumentParser (its subparsers too) whose usage errors reach :func:`main` as :class:`BadUsage`."""

    def error(self, message: str) -> NoReturn:
        raise BadUsage(self, message)


def module_name(command: str) -> str:
    return "mlc_devops.commands." + command.replace("-", "_")


def load(command: str) -> ModuleType:
    return importlib.import_module(module_name(command))


def common_parser() -> Parser:
    common = Parser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the result (and errors) as JSON on stdout")
    common.add_argument("--debug", action="store_true", help="show tracebacks")
    return common


def add_verbosity(parser: argparse.ArgumentParser, default: object = None) -> None:
    """-q/--quiet and -v/--verbose, one or the other; ``default`` SUPPRESS keeps a value given before an action."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "-q",
        "--quiet",
        dest="verbosity",
        action="store_const",
        const="quiet",
        default=default,
        help="no progress lines; a failed program's output is still shown (env MLC_VERBOSITY=quiet)",
    )
    group.add_argument(
        "-v",
        "--verbose",
        dest="verbosity",
        action="store_const",
        const="verbose",
        default=default,
        help="every line the programs it runs print, as they print it (env MLC_VERBOSITY=verbose)",
    )


def _actions_of(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parsers of ``parser``'s own subcommands (``image build``, ``image tags``, ...)."""
    found: list[argparse.ArgumentParser] = []
    for action in parser._actions:  # argparse lists subparsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            found += [p for p in action.choices.values() if p not in found]
    return found


def build_parser(selected: str | None) -> argparse.ArgumentParser:
    parser = Parser(
        prog="mlc-devops",
        description="Build, test and release toolkit for the MLC-LLM codebase.",
    )
    parser.add_argument("--version", action="version", version=f"mlc-devops {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_parser()
    for name, summary in COMMANDS.items():
        if name == selected:
            cmd_parser = sub.add_parser(name, help=summary, description=summary, parents=[common])
            load(name).add_arguments(cmd_parser)
            if name in VERBOSITY_COMMANDS:
                add_verbosity(cmd_parser)
                for action in _actions_of(cmd_parser):
                    add_verbosity(action, argparse.SUPPRESS)
        else:
            sub.add_parser(name, help=summary, add_help=False)
    return parser


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    signal.signal(signal.SIGINT, _raise_interrupted)
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _raise_interrupted)


def _first_command(argv: Sequence[str]) -> str | None:
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def report_error(env: Mapping[str, str], where: str, message: str) -> None:
    """``WHERE: error: MESSAGE`` on stderr; on GitHub Actions an error annotation first, titled WHERE."""
    from mlc_devops.ui import on_github_actions, workflow_command  # noqa: PLC0415 - --help imports only the cli

    if on_github_actions(env):
        print(workflow_command("error", message, title=where), file=sys.stderr, flush=True)
    print(f"{where}: error: {message}", file=sys.stderr, flush=True)


def parse(args_list: Sequence[str], env: Mapping[str, str]) -> argparse.Namespace | int:
    """The command line with a command to run, or the exit code when there is none (--help, a usage error)."""
    parser = build_parser(_first_command(args_list))
    try:
        args = parser.parse_args(args_list)
    except BadUsage as exc:  # argparse's usage and its error line, as argparse prints them
        exc.parser.print_usage(sys.stderr)
        report_error(env, exc.parser.prog, exc.message)
        return EXIT_USAGE
    except SystemExit as exc:  # argparse: --help or --version (0)
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    if not args.command:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    return args


# Commands that begin work before their modules load and the command line is read (those modules are
# most of the start-up): ``build`` asks its programs' versions (:func:`mlc_devops.tools.begin_early`).
EARLY = frozenset({"build"})


def main(argv: Sequence[str] | None = None) -> int:
    env = dict(os.environ)
    args_list = list(sys.argv[1:] if argv is None else argv)
    if _first_command(args_list) in EARLY and not {"-h", "--help"} & set(args_list):
        from mlc_devops import tools  # noqa: PLC0415

        tools.begin_early(env)
        try:
            return _main(args_list, env)
        finally:
            tools.discard_early()  # begun for a command line that failed before the build took them
    return _main(args_list, env)


def _main(args_list: list[str], env: dict[str, str]) -> int:
    args = parse(args_list, env)
    if isinstance(args, int):
        return args
    as_json = bool(getattr(args, "json", False))
    install_signal_handlers()
    from mlc_devops.run import become_subreaper  # noqa: PLC0415

    become_subreaper()
    try:
        if getattr(args, "verbosity", None) is not None:
            from mlc_devops.options import with_verbosity  # noqa: PLC0415 - options imports the backends

            env = with_verbosity(env, args.verbosity)
        code: int = load(args.command).run(args, env)
    except MlcDevopsError as exc:
        if getattr(args, "debug", False):
            import traceback  # noqa: PLC0415

            traceback.print_exc()
        if exc.detail:
            print(exc.detail, file=sys.stderr)
        if as_json:
            payload = {
                "schema": "mlc-devops/error/v1",
                "error": {"kind": exc.kind, "message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code},
            }
            print(json.dumps(payload, indent=2))
        report_error(env, f"mlc-devops {args.command}", exc.one_line())
        return exc.exit_code
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        print(f"mlc-devops {args.command}: interrupted by {name}; stopped every child process", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        return 1
    return code
