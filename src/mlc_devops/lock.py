"""A workspace lock, so two builds never write one build/ at once."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, NoReturn

from mlc_devops.errors import WorkspaceBusy

LOCK_NAME = ".mlc-devops.lock"


def _try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover - Windows only
        import msvcrt  # noqa: PLC0415

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    import fcntl  # noqa: PLC0415

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def file_lock(
    path: Path,
    *,
    wait: bool = True,
    on_wait: object = None,
    what: str = "",
    busy: Callable[[str], WorkspaceBusy] | None = None,
) -> Iterator[None]:
    """:func:`hold` for the ``with`` block."""
    fd = hold(path, wait=wait, on_wait=on_wait, what=what, busy=busy)
    try:
        yield
    finally:
        release(fd)


@contextlib.contextmanager
def workspace_lock(build_dir: Path, *, wait: bool = False, on_wait: object = None) -> Iterator[None]:
    """Hold ``build_dir/.mlc-devops.lock``; refuse (or wait, with ``wait``) if another build holds it."""
    build_dir.mkdir(parents=True, exist_ok=True)
    path = build_dir / LOCK_NAME

    def busy(holder: str) -> WorkspaceBusy:
        who = f" (pid {holder})" if holder else ""
        return WorkspaceBusy(
            f"another mlc-devops build is running in {build_dir.parent}{who}",
            hint="wait for it to finish, or pass --wait to queue behind it",
        )

    with file_lock(path, wait=wait, on_wait=on_wait, what=f"the build running in {build_dir.parent}", busy=busy):
        yield


def hold(
    path: Path,
    *,
    wait: bool = True,
    on_wait: object = None,
    what: str = "",
    busy: Callable[[str], WorkspaceBusy] | None = None,
) -> int:
    """An exclusive lock on ``path`` (created; its content: the holder's pid), held until :func:`release`;
    :func:`share` turns it into a shared one. Returns the descriptor.

    Held by another process: with ``wait``, poll every 0.5 s, telling ``on_wait`` once (``waiting for ...
    ``what``, with the holder's pid); without, raise ``busy(holder pid text)`` (default: WorkspaceBusy
    naming ``what``).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        announced = False
        while not _try_lock(fd):
            holder = ""
            with contextlib.suppress(OSError, ValueError):
                holder = os.pread(fd, 64, 0).decode().strip() if hasattr(os, "pread") else ""
            if not wait:
                _refuse(path, what, holder, busy)
            if not announced and callable(on_wait):
                on_wait(f"waiting for {what or path} (held by pid {holder or '?'})")
                announced = True
            time.sleep(0.5)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse(path: Path, what: str, holder: str, busy: Callable[[str], WorkspaceBusy] | None) -> NoReturn:
    if busy is not None:
        raise busy(holder)
    raise WorkspaceBusy(f"{what or path} is in use by another mlc-devops (pid {holder or '?'})")


def try_hold(path: Path) -> int | None:
    """An exclusive lock on ``path`` if nobody holds one, shared or not; else None."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if _try_lock(fd):
        return fd
    os.close(fd)
    return None


def share(fd: int) -> int | None:
    """Turn :func:`hold`'s exclusive lock into a shared one (flock(2) converts it in place): the holder goes
    on using what it made under the lock, beside other holders, and nobody may lock it exclusively (to
    delete it) meanwhile. Windows' ``msvcrt`` has no shared locks: there the lock is given up, and None
    returned."""
    if os.name == "nt":  # pragma: no cover - Windows only
        os.close(fd)
        return None
    import fcntl  # noqa: PLC0415

    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


def release(fd: int | None) -> None:
    """Give up a lock of :func:`hold` or :func:`share`."""
    if fd is not None:
        os.close(fd)
