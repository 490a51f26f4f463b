"""What people see: progress, phase timings, and GitHub Actions groups.

Progress and notes go to stderr; results (and --json) go to stdout.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class Console:
    github_actions: bool = False
    quiet: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, quiet: bool = False) -> Console:
        return cls(github_actions=env.get("GITHUB_ACTIONS") == "true", quiet=quiet)

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def warn(self, text: str) -> None:
        if self.github_actions:
            print(f"::warning::{text}", file=self.stream, flush=True)
        else:
            print(f"warning: {text}", file=self.stream, flush=True)

    def error(self, text: str) -> None:
        if self.github_actions:
            print(f"::error::{text}", file=self.stream, flush=True)
        print(f"error: {text}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase, fold it into a group on GitHub Actions, and say how long it took."""
        if self.github_actions:
            print(f"::group::{name}", file=self.stream, flush=True)
        self.say(f"==> {name}")
        started = time.monotonic()
        try:
            yield
        finally:
            seconds = time.monotonic() - started
            self.timings[name] = round(self.timings.get(name, 0.0) + seconds, 3)
            if self.github_actions:
                print("::endgroup::", file=self.stream, flush=True)
            self.say(f"    {name}: {seconds:.1f}s")


class Progress:
    """Turns ninja/make progress lines into 'steps done of total' updates, at most every few percent."""

    def __init__(self, console: Console, label: str = "compile", *, every_percent: int = 5) -> None:
        self.console = console
        self.label = label
        self.every = every_percent
        self.last_shown = -1
        self.done = 0
        self.total = 0

    def feed(self, line: str) -> None:
        step = parse_step(line)
        if step is None:
            return
        done, total = step
        self.done, self.total = done, total
        percent = (100 * done) // max(total, 1)
        bucket = percent // self.every
        if bucket != self.last_shown or done == total:
            if done == total and self.last_shown == -2:
                return
            self.last_shown = -2 if done == total else bucket
            self.console.say(f"    {self.label} {done}/{total} ({percent}%)")


def parse_step(line: str) -> tuple[int, int] | None:
    """``[12/40] Building CXX ...`` (ninja) or ``[ 30%] Building ...`` (make: total 100)."""
    text = line.lstrip()
    if not text.startswith("["):
        return None
    end = text.find("]")
    if end < 0:
        return None
    inner = text[1:end].strip()
    if "/" in inner:
        left, _, right = inner.partition("/")
        if left.strip().isdigit() and right.strip().isdigit():
            total = int(right)
            return (int(left), total) if total > 0 else None
        return None
    if inner.endswith("%") and inner[:-1].strip().isdigit():
        return int(inner[:-1]), 100
    return None


class PhaseClock:
    """Times phases that a single long command moves through, switched by marker lines."""

    def __init__(self, console: Console, markers: dict[str, str], first: str) -> None:
        self.console = console
        self.markers = markers
        self.current = first
        self.started = time.monotonic()

    def feed(self, line: str) -> None:
        for marker, phase in self.markers.items():
            if marker in line and phase != self.current:
                self.switch(phase)
                return

    def switch(self, phase: str) -> None:
        now = time.monotonic()
        seconds = now - self.started
        self.console.timings[self.current] = round(self.console.timings.get(self.current, 0.0) + seconds, 3)
        self.console.say(f"    {self.current}: {seconds:.1f}s")
        if self.console.github_actions:
            print(f"::endgroup::\n::group::{phase}", file=self.console.stream, flush=True)
        self.console.say(f"==> {phase}")
        self.current = phase
        self.started = now

    def finish(self) -> None:
        seconds = time.monotonic() - self.started
        self.console.timings[self.current] = round(self.console.timings.get(self.current, 0.0) + seconds, 3)
        self.console.say(f"    {self.current}: {seconds:.1f}s")
