"""What people see: progress, phase timings, and GitHub Actions groups and annotations.

Progress and notes go to stderr; results (and --json) go to stdout. How much
progress shows is the verbosity (:func:`mlc_devops.options.resolve_verbosity`):
quiet shows none, verbose also every line of the programs a command runs.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TextIO


def on_github_actions(env: Mapping[str, str]) -> bool:
    return env.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """A workflow command's message as the runner reads it back: ``%``, CR and LF escaped.

    An unescaped newline would end the annotation at the first line.
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (``title=``): the message's escapes, and ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(name: str, message: str, **properties: str) -> str:
    """``::NAME key=value,...::MESSAGE``, escaped (docs.github.com, "Workflow commands for GitHub Actions")."""
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


@dataclass
class Console:
    github_actions: bool = False
    quiet: bool = False
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    timings: dict[str, float] = field(default_factory=dict)
    verbose: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, quiet: bool = False) -> Console:
        """On GitHub Actions when ``GITHUB_ACTIONS`` is true; quiet or verbose as ``MLC_VERBOSITY`` says."""
        from mlc_devops.options import resolve_verbosity  # noqa: PLC0415 - options imports the backends

        verbosity = "quiet" if quiet else resolve_verbosity(None, env).value
        return cls(github_actions=on_github_actions(env), quiet=verbosity == "quiet", verbose=verbosity == "verbose")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(text, file=self.stream, flush=True)

    def output(self, line: str) -> None:
        """A line of a program the command runs: shown when verbose (else it is captured, and shown on failure)."""
        if self.verbose:
            print(line, file=self.stream, flush=True)

    def warn(self, text: str) -> None:
        if self.github_actions:
            print(workflow_command("warning", text), file=self.stream, flush=True)
        else:
            print(f"warning: {text}", file=self.stream, flush=True)

    def error(self, text: str, *, prefix: str = "") -> None:
        """``[prefix: ]error: text``; on GitHub Actions also an error annotation, titled ``prefix``."""
        if self.github_actions:
            print(
                workflow_command("error", text, **({"title": prefix} if prefix else {})), file=self.stream, flush=True
            )
        print(f"{prefix + ': ' if prefix else ''}error: {text}", file=self.stream, flush=True)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time a phase, fold it into a group on GitHub Actions, and say how long it took."""
        if self.github_actions:
            print(workflow_command("group", name), file=self.stream, flush=True)
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
    """Turns ninja/make progress lines into 'steps done of total' updates, at most every few percent.

    Verbose, it shows every line as it comes instead.
    """

    def __init__(self, console: Console, label: str = "compile", *, every_percent: int = 5) -> None:
        self.console = console
        self.label = label
        self.every = every_percent
        self.last_shown = -1
        self.done = 0
        self.total = 0

    def feed(self, line: str) -> None:
        self.console.output(line)
        step = parse_step(line)
        if step is None:
            return
        done, total = step
        self.done, self.total = done, total
        if self.console.verbose:
            return
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
            print("::endgroup::", workflow_command("group", phase), sep="\n", file=self.console.stream, flush=True)
        self.console.say(f"==> {phase}")
        self.current = phase
        self.started = now

    def finish(self) -> None:
        seconds = time.monotonic() - self.started
        self.console.timings[self.current] = round(self.console.timings.get(self.current, 0.0) + seconds, 3)
        self.console.say(f"    {self.current}: {seconds:.1f}s")
