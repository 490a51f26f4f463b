"""``mlc-devops entrypoint``: the container's entrypoint (docker/Dockerfile).

``docker run IMAGE [MODE] [ARGS...]``; the mode is the first argument or
``MLC_BUILD_MODE``:

- ``build``: ``mlc-devops build --source /workspace --preset vulkan ARGS``
- ``test``: ``mlc-devops test --source /workspace ARGS``
- ``shell`` (the default with no arguments): ``bash ARGS``
- anything else: run as given.

With ``--json`` (``mlc-devops entrypoint --json build``), build and test
print their result as JSON; the other modes refuse it.

Started as root (the image's default), it takes the identity of the owner of
/workspace, so that build/, dist/ and .ccache on the host belong to the host
user; with nothing mounted, or a root-owned mount, it runs as ``mlc`` (UID
1000). Either way it drops root before anything runs, then replaces itself
with the command (``execvpe``): signals reach that command and its exit code
is the container's.

Under a user namespace (rootless Podman, Docker's userns-remap: a
``/proc/self/uid_map`` other than the identity ``0 0 4294967295``) the
container's root is an ordinary host account, and a workspace that looks
root-owned belongs to exactly that account (rootless Podman: the host user
who ran ``podman run``). There it keeps root, and says so: dropping to UID
1000 would make a subordinate UID that cannot write the checkout, and no
``chown`` on the host can help.

Which mode and which command are pure functions below, and which identity
those of :mod:`mlc_devops.container.entrypoint`; only :func:`run` touches the
system.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlc_devops import options
from mlc_devops.container import entrypoint as container_user
from mlc_devops.errors import PrerequisiteMissing, UsageError

MODES = options.BUILD_MODES
WORKSPACE = container_user.WORKSPACE
DEFAULT_PRESET = "vulkan"
PASSWD = Path("/etc/passwd")
UID_MAP = Path("/proc/self/uid_map")
# Options of `mlc-devops build` that choose backends; with none of them the
# image's default preset applies.
_BACKEND_FLAGS = ("--preset", "--backend", "-b")
_BACKEND_SETTINGS = ("preset", "backends")


@dataclass(frozen=True)
class Plan:
    mode: str  # build | test | shell | exec
    argv: tuple[str, ...]

    @property
    def needs_source(self) -> bool:
        return self.mode in ("build", "test")


def _has_flag(args: Sequence[str], names: Sequence[str]) -> bool:
    return any(a in names or any(a.startswith(n + "=") for n in names if n.startswith("--")) for a in args)


def strip_separator(words: Sequence[str]) -> list[str]:
    """Drop the ``--`` that the Dockerfile's ENTRYPOINT puts before the user's words.

    (argparse keeps it on some Python versions and drops it on others.)
    """
    out = list(words)
    if out and out[0] == "--":
        out = out[1:]
    return out


def choose_mode(words: Sequence[str], env: Mapping[str, str]) -> tuple[str, list[str]]:
    """The mode and the words left for it.

    A first word that names a mode wins; with no words, or only options
    (``docker run -e MLC_BUILD_MODE=build IMAGE --jobs 2``), MLC_BUILD_MODE
    decides (default: shell); any other first word is a command to run.
    """
    if words and words[0] in MODES:
        return words[0], list(words[1:])
    chosen = options.resolve_build_mode(env)
    from_env = str(chosen.value) if chosen.origin != "default" else ""
    if not words:
        return str(chosen.value), []
    if words[0].startswith("-"):
        if not from_env:
            raise UsageError(
                f"options without a mode: {words[0]}",
                hint="name the mode first (build, test, shell) or set MLC_BUILD_MODE",
            )
        return from_env, list(words)
    return "exec", list(words)


def command_for(mode: str, extra: Sequence[str], env: Mapping[str, str], workspace: Path = WORKSPACE) -> list[str]:
    """The command line that ``mode`` runs."""
    if mode == "build":
        cmd = ["mlc-devops", "build", "--source", str(workspace)]
        if not _has_flag(extra, _BACKEND_FLAGS) and all(
            options.resolve_one(name, env).origin == "default" for name in _BACKEND_SETTINGS
        ):
            cmd += ["--preset", DEFAULT_PRESET]
        return cmd + list(extra)
    if mode == "test":
        return ["mlc-devops", "test", "--source", str(workspace), *extra]
    if mode == "shell":
        return ["bash", *extra]
    if not extra:
        raise UsageError("nothing to run")
    return list(extra)


def plan(words: Sequence[str], env: Mapping[str, str], workspace: Path = WORKSPACE) -> Plan:
    mode, rest = choose_mode(strip_separator(words), env)
    return Plan(mode, tuple(command_for(mode, rest, env, workspace)))


def with_json(the_plan: Plan) -> Plan:
    """``entrypoint --json``: the build or test it becomes prints its result as JSON, which is the entrypoint's.

    ``--json`` goes right after the command's name, before any ``--`` that
    hands the rest to pytest. A shell or another command has no JSON result.
    """
    if the_plan.mode not in ("build", "test"):
        raise UsageError(
            f"--json applies to the build and test modes, not to {the_plan.mode}",
            hint="drop --json, or give it to the command you run",
        )
    argv = the_plan.argv
    return Plan(the_plan.mode, (*argv[:2], "--json", *argv[2:]))


def has_source(workspace: Path) -> bool:
    return (workspace / "CMakeLists.txt").is_file()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "words",
        nargs=argparse.REMAINDER,
        metavar="[MODE] ARGS",
        help="build | test | shell | any command (default: MLC_BUILD_MODE, else shell)",
    )


def _adopt(identity: container_user.Identity) -> None:
    """As root: give mlc the identity's UID/GID (when it differs), then drop root for good."""
    if identity.uid != 0 and identity.adopts:
        try:
            text = PASSWD.read_text(encoding="utf-8")
            updated = container_user.rewrite_passwd(text, identity.uid, identity.gid)
            if updated != text:
                PASSWD.write_text(updated, encoding="utf-8")
        except OSError as exc:  # a read-only root file system: run under the bare UID
            print(
                f"mlc-devops entrypoint: warning: cannot update {PASSWD}: {exc.strerror or exc}",
                file=sys.stderr,
            )
    if identity.uid == 0:
        return
    os.setgroups(list(identity.groups))
    os.setgid(identity.gid)
    os.setuid(identity.uid)


USAGE = """\
usage: docker run [-it] [-v CHECKOUT:/workspace] IMAGE [build|test|shell|COMMAND] [ARGS...]

  build   mlc-devops build --source /workspace --preset vulkan ARGS (the wheel goes to dist/)
  test    mlc-devops test --source /workspace ARGS
  shell   bash ARGS (the default with no arguments; MLC_BUILD_MODE chooses another)
  COMMAND run as given

Runs as the owner of /workspace (root only with -e MLC_UID=0, or when a user
namespace's root owns it, as under rootless Podman); docs/container.md.
"""


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    words = strip_separator(args.words or [])
    if words in (["--help"], ["-h"]):
        sys.stdout.write(USAGE)
        return 0
    the_plan = plan(words, env, WORKSPACE)
    if args.json:
        the_plan = with_json(the_plan)
    if the_plan.needs_source and not has_source(WORKSPACE):
        raise UsageError(
            f"no MLC-LLM source in {WORKSPACE} (no CMakeLists.txt)",
            hint=f'mount your checkout: docker run -v "$(pwd):{WORKSPACE}" IMAGE {the_plan.mode}',
        )
    try:
        info = WORKSPACE.stat()
        owner: tuple[int, int] | None = (info.st_uid, info.st_gid)
    except OSError:
        owner = None
    try:
        uid_map: str | None = UID_MAP.read_text(encoding="ascii")
    except OSError:
        uid_map = None
    userns = container_user.in_user_namespace(uid_map)
    identity = container_user.choose_identity(os.geteuid(), owner, env, userns=userns)
    note = container_user.keeps_mapped_root(identity, env, uid_map)
    if note:
        print(f"mlc-devops entrypoint: {note}", file=sys.stderr)
    if identity is not None:
        _adopt(identity)
    if the_plan.needs_source and not os.access(WORKSPACE, os.W_OK):
        raise UsageError(
            f"{WORKSPACE} is not writable by UID {os.getuid()}", hint=container_user.unwritable_hint(userns)
        )
    argv = list(the_plan.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        # Replace this process: signals go straight to the command, its exit code is ours.
        os.execvpe(argv[0], argv, container_user.child_env(env, identity))  # noqa: S606 - argument list, no shell
    except FileNotFoundError:
        raise PrerequisiteMissing(f"'{argv[0]}' was not found on PATH in the image") from None
    except PermissionError as exc:
        raise PrerequisiteMissing(f"cannot run '{argv[0]}': {exc.strerror or exc}") from None
