"""SHA256SUMS in the format GNU ``sha256sum`` writes and ``sha256sum -c`` reads.

One line per file, sorted by name: 64 lowercase hex digits, two spaces, the
name relative to the SHA256SUMS file. A name holding a backslash, newline or
carriage return is escaped the way coreutils does it (the line then starts
with a backslash).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlc_devops import fsutil
from mlc_devops.errors import DigestMismatch, UsageError

FILENAME = "SHA256SUMS"
_LINE = re.compile(r"^(\\?)([0-9a-fA-F]{64}) [ *](.+)$")


@dataclass(frozen=True)
class Failure:
    name: str
    reason: str  # "mismatch" or "missing"


def _escape(name: str) -> tuple[bool, str]:
    if not any(c in name for c in "\\\n\r"):
        return False, name
    return True, name.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(name: str) -> str:
    out: list[str] = []
    chars = iter(name)
    for c in chars:
        if c != "\\":
            out.append(c)
            continue
        nxt = next(chars, "")
        out.append({"\\": "\\", "n": "\n", "r": "\r"}.get(nxt, "\\" + nxt))
    return "".join(out)


def format_line(name: str, hexdigest: str) -> str:
    escaped, shown = _escape(name)
    prefix = "\\" if escaped else ""
    return f"{prefix}{hexdigest.lower()}  {shown}\n"


def render(entries: Iterable[tuple[str, str]]) -> str:
    """SHA256SUMS text for (name, sha256) pairs, sorted by name; UsageError on a repeated name."""
    ordered = sorted(entries)
    names = [n for n, _ in ordered]
    if len(set(names)) != len(names):
        raise UsageError("a file name appears twice in the checksum list")
    return "".join(format_line(n, h) for n, h in ordered)


def parse(text: str, *, where: str = FILENAME) -> list[tuple[str, str]]:
    entries: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise UsageError(f"{where}, line {number}, is not '<sha256>  <file name>'")
        name = _unescape(match.group(3)) if match.group(1) else match.group(3)
        entries.append((name, match.group(2).lower()))
    return entries


def relative_name(path: Path, base: Path) -> str:
    """``path`` relative to ``base`` with forward slashes; UsageError if it lies outside."""
    try:
        rel = path.resolve().relative_to(base.resolve())
    except ValueError:
        raise UsageError(f"{path} is not inside {base}, where the checksum file is") from None
    return rel.as_posix()


def compute(files: Sequence[Path], base: Path) -> list[tuple[str, str]]:
    out = []
    for path in files:
        if not path.is_file():
            raise UsageError(f"no file at {path}")
        out.append((relative_name(path, base), fsutil.sha256_file(path)))
    return out


def check(sums: Path) -> list[tuple[str, str]]:
    """Check each line of ``sums`` against the files beside it; DigestMismatch names failures."""
    try:
        text = sums.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {sums}: {exc.strerror or exc}") from None
    entries = parse(text, where=str(sums))
    if not entries:
        raise UsageError(f"{sums} lists no files")
    failures: list[Failure] = []
    for name, expected in entries:
        target = sums.parent / name
        if not target.is_file():
            failures.append(Failure(name, "missing"))
        elif fsutil.sha256_file(target) != expected:
            failures.append(Failure(name, "mismatch"))
    if failures:
        listed = "; ".join(
            f"{f.name}: {'no such file' if f.reason == 'missing' else 'checksum differs'}" for f in failures
        )
        raise DigestMismatch(f"{len(failures)} of {len(entries)} files failed the check: {listed}")
    return entries
