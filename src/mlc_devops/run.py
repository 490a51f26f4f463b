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
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Callable

from mlc_devops.errors import BuildFailed, Interrupted, MlcDevopsError, PrerequisiteMissing

TAIL_LINES = 30
GRACE_SECONDS = 10.0


@dataclass(frozen=True)
class Result:
    args: tuple[str, ...]
    returncode: int
    output: str
    seconds: float


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


def _stop_group(proc: subprocess.Popen[str], signum: int) -> None:
    """Send ``signum`` to the child's process group, then SIGKILL after a grace period."""
    if proc.poll() is not None:
        return
    if os.name == "posix":
        try:
            os.killpg(proc.pid, signum)
        except ProcessLookupError:
            return
    else:
        proc.terminate()
    try:
        proc.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        if os.name == "posix":
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            proc.kill()
        proc.wait()
    if os.name == "posix":
        # Grandchildren that outlived their parent still carry the group id.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


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
) -> Result:
    """Run ``args`` and return its :class:`Result`.

    ``capture`` collects the output (stdout and stderr merged); ``on_line`` is
    called for every line as it arrives; ``log`` receives every line. With
    ``check``, a non-zero exit raises ``error`` with the command, its exit code
    and the tail of its output.
    """
    argv = [str(a) for a in args]
    if not argv:
        raise ValueError("empty command")
    program = argv[0]
    resolved = program if os.sep in program or (os.altsep and os.altsep in program) else which(
        program, env
    )
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
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
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
        _stop_group(proc, signal.SIGTERM if os.name == "posix" else 0)
        raise
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
    result = Result(tuple(args), proc.returncode, "".join(collected), time.monotonic() - started)
    if check and proc.returncode != 0:
        label = what or os.path.basename(program)
        shown = "".join(tail).rstrip()
        message = f"{label} failed with exit code {proc.returncode}: {format_command(args)}"
        raise error(message, detail=shown)
    return result


def output_of(args: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | str | None = None) -> str | None:
    """First line-trimmed output of a quick probe such as ``cmake --version``; None if it fails."""
    try:
        result = run(args, env=env, cwd=cwd, check=False)
    except MlcDevopsError:
        return None
    if result.returncode != 0:
        return None
    return result.output.strip()
