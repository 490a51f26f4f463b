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

Which mode, which identity and which command are pure functions below; only
:func:`run` touches the system.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlc_devops import options
from mlc_devops.errors import PrerequisiteMissing, UsageError

MODES = options.BUILD_MODES
WORKSPACE = Path("/workspace")
USER = "mlc"
USER_UID = 1000
USER_GID = 1000
HOME = "/home/mlc"
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


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    groups: tuple[int, ...]

    @property
    def adopts(self) -> bool:
        """Whether user mlc must take this UID/GID (it differs from the image's)."""
        return (self.uid, self.gid) != (USER_UID, USER_GID)


@dataclass(frozen=True)
class UidRange:
    """One line of ``/proc/self/uid_map``: ``count`` ids from ``inside`` are ``outside`` on the host."""

    inside: int
    outside: int
    count: int


# The initial user namespace: every id is itself.
IDENTITY_MAP = (UidRange(0, 0, 4294967295),)


def parse_uid_map(text: str) -> tuple[UidRange, ...]:
    """The ranges of a ``uid_map`` text (user_namespaces(7)): lines of three numbers.

    ``"0 0 4294967295"`` -> one identity range; rootless Podman's
    ``"0 1000 1\n1 100000 65536"`` -> two. Lines that are not three numbers
    are skipped (the kernel writes none).
    """
    ranges = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 3 and all(f.isdigit() for f in fields):
            ranges.append(UidRange(int(fields[0]), int(fields[1]), int(fields[2])))
    return tuple(ranges)


def in_user_namespace(uid_map: str | None) -> bool:
    """Whether ``uid_map`` (the text of /proc/self/uid_map) maps ids: a user namespace.

    None (no such file: not Linux, or /proc not mounted) and empty or
    unreadable texts count as no namespace, the identity.
    """
    if uid_map is None:
        return False
    ranges = parse_uid_map(uid_map)
    return bool(ranges) and ranges != IDENTITY_MAP


def host_uid_of_root(uid_map: str) -> int | None:
    """The host UID that the namespace's root (UID 0) is, from ``uid_map``; None if root is unmapped."""
    for r in parse_uid_map(uid_map):
        if r.inside <= 0 < r.inside + r.count:
            return r.outside - r.inside
    return None


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


def choose_identity(
    euid: int, workspace_owner: tuple[int, int] | None, env: Mapping[str, str], *, userns: bool = False
) -> Identity | None:
    """Who the work runs as; None keeps the current identity (not started as root).

    As root: MLC_UID/MLC_GID when set (MLC_UID=0 keeps root, on purpose);
    else the owner of a mounted /workspace that root does not own; else,
    under a user namespace (``userns``, :func:`in_user_namespace`), root
    itself when /workspace is root-owned: that root is the host account that
    owns the checkout; else mlc.
    The mlc group stays a supplementary group, so the group-writable
    /home/mlc, CARGO_HOME and /opt/venv stay usable under any UID.
    """
    if euid != 0:
        return None
    uid = options.resolve_numeric_id("uid", env)
    gid = options.resolve_numeric_id("gid", env)
    if uid is not None:
        gid = uid if gid is None else gid
    elif workspace_owner is not None and workspace_owner[0] != 0:
        uid, gid = workspace_owner if gid is None else (workspace_owner[0], gid)
    elif workspace_owner is not None and userns:
        uid, gid = 0, workspace_owner[1] if gid is None else gid
    else:
        uid, gid = USER_UID, USER_GID if gid is None else gid
    groups = (gid,) if gid == USER_GID else (gid, USER_GID)
    return Identity(uid, gid, groups)


def keeps_mapped_root(identity: Identity | None, env: Mapping[str, str], uid_map: str | None) -> str | None:
    """The note to print when the entrypoint keeps a user namespace's root, else None.

    Only when it chose root for a root-owned workspace under a namespace,
    not when MLC_UID=0 asked for it.
    """
    asked = (options.resolve_one("uid", env).value or "").strip()  # MLC_UID=0: root on purpose, no note
    if identity is None or identity.uid != 0 or asked or not in_user_namespace(uid_map):
        return None
    host = host_uid_of_root(uid_map or "")
    who = f"host UID {host}" if host is not None else "a host account"
    return (
        f"{WORKSPACE} belongs to this user namespace's root, which is {who} (rootless Podman: "
        "you); staying root here so that what the build writes stays yours"
    )


def unwritable_hint(userns: bool) -> str:
    """How to fix a /workspace the chosen UID cannot write.

    Under a user namespace a host ``chown`` cannot help (host ids show up
    shifted or as nobody): the fixes are the runtime's ``--userns=keep-id``
    (Podman) or ``-e MLC_UID=0`` (keep the namespace's root, which is the host
    user under rootless Podman).
    """
    if userns:
        return (
            "this container runs in a user namespace: run it with --userns=keep-id (Podman), "
            "or keep its root, which is your host user under rootless Podman, with -e MLC_UID=0"
        )
    return "chown it to your user on the host, or choose the user with -e MLC_UID=<uid>"


def rewrite_passwd(text: str, uid: int, gid: int, user: str = USER) -> str:
    """``/etc/passwd`` with ``user`` given ``uid``/``gid``, its line right after root's.

    Then ``whoami`` says mlc, sudo's rule for mlc applies and HOME is
    /home/mlc under the host user's UID, and a look-up by UID finds mlc before
    any system account that shares the number.
    """
    lines = text.splitlines()
    ours: str | None = None
    others: list[str] = []
    for line in lines:
        fields = line.split(":")
        if len(fields) == 7 and fields[0] == user:
            fields[2], fields[3] = str(uid), str(gid)
            ours = ":".join(fields)
        else:
            others.append(line)
    if ours is None:
        ours = f"{user}:x:{uid}:{gid}::{HOME}:/bin/bash"
    at = 1 if others and others[0].startswith("root:") else 0
    others.insert(at, ours)
    return "\n".join(others) + "\n"


def child_env(env: Mapping[str, str], identity: Identity | None) -> dict[str, str]:
    """The command's environment: the container's, with HOME and USER for the identity."""
    out = dict(env)
    out.pop(str(options.SETTINGS["build_mode"].env), None)
    if identity is not None and identity.uid != 0:
        out.update(HOME=HOME, USER=USER, LOGNAME=USER)
    elif identity is None and out.get("HOME", "/") in ("", "/"):
        # `docker run --user N` with no passwd entry: Docker sets HOME=/.
        out["HOME"] = HOME
    return out


def has_source(workspace: Path) -> bool:
    return (workspace / "CMakeLists.txt").is_file()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "words",
        nargs=argparse.REMAINDER,
        metavar="[MODE] ARGS",
        help="build | test | shell | any command (default: MLC_BUILD_MODE, else shell)",
    )


def _adopt(identity: Identity) -> None:
    """As root: give mlc the identity's UID/GID (when it differs), then drop root for good."""
    if identity.uid != 0 and identity.adopts:
        try:
            text = PASSWD.read_text(encoding="utf-8")
            updated = rewrite_passwd(text, identity.uid, identity.gid)
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
    userns = in_user_namespace(uid_map)
    identity = choose_identity(os.geteuid(), owner, env, userns=userns)
    note = keeps_mapped_root(identity, env, uid_map)
    if note:
        print(f"mlc-devops entrypoint: {note}", file=sys.stderr)
    if identity is not None:
        _adopt(identity)
    if the_plan.needs_source and not os.access(WORKSPACE, os.W_OK):
        raise UsageError(f"{WORKSPACE} is not writable by UID {os.getuid()}", hint=unwritable_hint(userns))
    argv = list(the_plan.argv)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        # Replace this process: signals go straight to the command, its exit code is ours.
        os.execvpe(argv[0], argv, child_env(env, identity))  # noqa: S606 - argument list, no shell
    except FileNotFoundError:
        raise PrerequisiteMissing(f"'{argv[0]}' was not found on PATH in the image") from None
    except PermissionError as exc:
        raise PrerequisiteMissing(f"cannot run '{argv[0]}': {exc.strerror or exc}") from None
