"""The one place that starts processes.

Argument lists only, never a shell; explicit ``env`` and ``cwd``; the program is
looked up first so a missing tool is a clear :class:`PrerequisiteMissing`;
output is either captured or streamed line by line to a callback and a log;
each child runs in its own process group so that an interrupt stops the whole
tree (compilers included), not just the direct child.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable

from mlc_devops.errors import BuildFailed, Interrupted, MlcDevopsError, PrerequisiteMissing

TAIL_LINES = 30
GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    output: str
    seconds: float
    timed_out: bool = False


def which(program: str, env: Mapping[str, str] | None = None) -> str | None:
    """Find ``program`` on the PATH of ``env`` (the process's own PATH when None)."""
    path = None if env is None else env.get("PATH", "")
    return shutil.which(program, path=path)


def require(program: str, env: Mapping[str, str] | None = None, *, hint: str = "") -> str:
    found = which(program, env)
    if found is None:
        raise PrerequisiteMissing(
            f"'{program}' was not found on PATH",
            hint=hint or f"install {program} or add its directory to PATH",
        )
    return found


def format_command(args: Sequence[str]) -> str:
    """Render a command for people; quoting for display only, nothing runs through a shell."""
    import shlex  # noqa: PLC0415 - only needed for display

    return " ".join(shlex.quote(a) for a in args)


_SUBREAPER = False


def become_subreaper() -> None:
    """Linux: orphaned grandchildren (a compiler whose ninja died) are re-parented to this process,
    so an interrupt can still find and stop them. Called once by the CLI."""
    global _SUBREAPER  # noqa: PLW0603 - one process-wide switch
    if not sys.platform.startswith("linux"):
        return
    import ctypes  # noqa: PLC0415

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _SUBREAPER = libc.prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        _SUBREAPER = False


def _children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def descendants(root: int) -> set[int]:
    """Every process below ``root`` (Linux; empty elsewhere). Ninja puts each compile in a process
    group of its own, so a group signal alone does not reach them."""
    if not os.path.isdir("/proc"):
        return set()
    tree = _children_map()
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _signal_all(pids: set[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


def _stop_group(proc: subprocess.Popen[str], signum: int) -> None:
    """Stop the child and everything below it: ``signum`` first, SIGKILL for what is left after a grace period."""
    if os.name != "posix":
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return
    tree = descendants(proc.pid)
    try:
        os.killpg(proc.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
    _signal_all(tree, signum)
    deadline = time.monotonic() + GRACE_SECONDS
    while proc.poll() is None and time.monotonic() < deadline:
        tree |= descendants(proc.pid)
        time.sleep(0.05)
    tree |= descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if _SUBREAPER:
        tree |= descendants(os.getpid())
    _signal_all(tree, signal.SIGKILL)
    proc.wait()
    if _SUBREAPER:
        _reap()


def signal_group(proc: subprocess.Popen[Any], signum: int) -> None:
    """Send ``signum`` to the process group ``proc`` leads (started with ``start_new_session``); on
    Windows, kill it. A process already gone is no error."""
    try:
        if os.name == "posix":
            os.killpg(proc.pid, signum)
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _reap() -> None:
    """Collect orphans re-parented to us, so none is left a zombie."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def run(
    args: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
    on_line: Callable[[str], None] | None = None,
    log: IO[str] | None = None,
    check: bool = True,
    error: type[MlcDevopsError] = BuildFailed,
    what: str = "",
    echo: bool = False,
    timeout: float | None = None,
) -> Result:
    """Run ``args`` and return its :class:`Result`.

    ``capture`` collects the output (stdout and stderr merged); ``on_line`` is
    called for every line as it arrives; ``log`` receives every line. With
    ``check``, a non-zero exit raises ``error`` with the command, its exit code
    and the tail of its output. ``timeout`` (seconds) stops the whole process
    tree when it runs longer (SIGTERM, then SIGKILL); the result then has
    ``timed_out`` set and the exit code of the stopped child.
    """
    argv = [str(a) for a in args]
    if not argv:
        raise ValueError("empty command")
    program = argv[0]
    resolved = program if os.sep in program or (os.altsep and os.altsep in program) else which(program, env)
    if resolved is None:
        raise PrerequisiteMissing(
            f"'{program}' was not found on PATH",
            hint=f"install {program} or add its directory to PATH",
        )
    argv[0] = resolved
    if echo:
        print(f"$ {format_command(args)}", file=sys.stderr, flush=True)
    if log is not None:
        log.write(f"$ {format_command(args)}\n")
        log.flush()
    started = time.monotonic()
    collected: list[str] = []
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=str(cwd) if cwd is not None else None,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=os.name == "posix",
        )
    except OSError as exc:
        raise PrerequisiteMissing(f"cannot start '{program}': {exc.strerror or exc}") from exc
    expired = threading.Event()
    timers: list[threading.Timer] = []
    if timeout is not None:
        # The watchdog only signals: SIGTERM to the child's group at the limit, SIGKILL after the
        # grace period if it is still there. Waiting and reaping stay with this thread (a second
        # thread cannot poll a Popen this thread waits on: poll() answers None while wait() holds its lock).
        def _signal_group(signum: int) -> None:
            if proc.returncode is None:
                signal_group(proc, signum)

        def _expire() -> None:
            expired.set()
            _signal_group(signal.SIGTERM)
            later = threading.Timer(GRACE_SECONDS, _signal_group, args=(signal.SIGKILL,))
            later.daemon = True
            timers.append(later)
            later.start()

        watchdog = threading.Timer(timeout, _expire)
        watchdog.daemon = True
        timers.append(watchdog)
        watchdog.start()
    try:
        stdout = proc.stdout
        if stdout is None:  # pragma: no cover - stdout is always a pipe here
            raise RuntimeError("no pipe to the child's output")  # noqa: TRY301 - the except below stops the child
        for line in stdout:
            if capture:
                collected.append(line)
            tail.append(line)
            if log is not None:
                log.write(line)
            if on_line is not None:
                on_line(line.rstrip("\n"))
        proc.wait()
    except Interrupted as exc:
        _stop_group(proc, exc.signum)
        raise
    except BaseException:
        _stop_group(proc, signal.SIGTERM)
        raise
    finally:
        for timer in list(timers):
            timer.cancel()
        if proc.stdout is not None:
            proc.stdout.close()
    result = Result(
        tuple(args), proc.returncode, "".join(collected), time.monotonic() - started, timed_out=expired.is_set()
    )
    if check and proc.returncode != 0:
        label = what or os.path.basename(program)
        shown = "".join(tail).rstrip()
        ran_out = f" (stopped after its {timeout:g} s limit)" if expired.is_set() and timeout is not None else ""
        message = f"{label} failed with exit code {proc.returncode}{ran_out}: {format_command(args)}"
        raise error(message, detail=shown)
    return result


def output_of(
    args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | str | None = None
) -> str | None:
    """First line-trimmed output of a quick probe such as ``cmake --version``; None if it fails."""
    try:
        result = run(args, env=env, cwd=cwd, check=False)
    except MlcDevopsError:
        return None
    if result.returncode != 0:
        return None
    return result.output.strip()


def describe_exit(returncode: int) -> str:
    """How a process ended, for messages: ``died with signal SIGABRT (6)`` or ``exited with code 1``.

    A negative return code is subprocess's way of saying a signal ended it (POSIX).
    """
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "signal"
        return f"died with signal {name} ({-returncode})"
    return f"exited with code {returncode}"
