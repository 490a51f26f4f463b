"""The entrypoint's identity: which UID/GID the container's work runs as, passwd's rewrite, when root stays."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlc_devops import options

WORKSPACE = Path("/workspace")
USER = "mlc"
USER_UID = 1000
USER_GID = 1000
HOME = "/home/mlc"


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
