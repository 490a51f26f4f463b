"""Whether the checkout a wheel was built from holds changes in no commit ("dirty").

A build records, for the top level and for each checked-out submodule, what
``git status --porcelain`` says: files modified (staged or not, deleted,
renamed) and untracked files. Ignored files are left out, as are the tool's own
outputs (the build directory, dist/ and cargo's target directory when they lie
inside a repository). A repository whose status cannot be asked (no git, not a
checkout) is ``unknown``, never ``clean``.

Parsing and deciding are pure; :func:`tree_states` asks git at the edge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mlc_devops import run as run_mod
from mlc_devops import workspace

State = Literal["clean", "dirty", "unknown"]
STATES: tuple[State, ...] = ("clean", "dirty", "unknown")
TOP = "."
# How many paths of each kind a report keeps per repository; the counts are always whole.
MAX_PATHS = 200


@dataclass(frozen=True)
class TreeState:
    """One repository of the checkout: ``path`` is ``.`` for the top level, else the submodule's path."""

    path: str
    state: State
    modified: tuple[str, ...] = ()
    untracked: tuple[str, ...] = ()
    modified_count: int = 0
    untracked_count: int = 0
    detail: str = ""  # why the state is unknown

    @property
    def dirty(self) -> bool:
        return self.state == "dirty"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "state": self.state}
        if self.state == "dirty":
            out.update(
                modified=list(self.modified),
                untracked=list(self.untracked),
                modified_count=self.modified_count,
                untracked_count=self.untracked_count,
            )
        if self.detail:
            out["detail"] = self.detail
        return out

    def summary(self) -> str:
        """``3rdparty/tvm: 1 modified (src/a.cc), 2 untracked (x, y)`` for people."""
        if self.state != "dirty":
            return f"{self.path}: {self.state}" + (f" ({self.detail})" if self.detail else "")
        parts = []
        for count, names, label in (
            (self.modified_count, self.modified, "modified"),
            (self.untracked_count, self.untracked, "untracked"),
        ):
            if count:
                shown = ", ".join(names[:3]) + (", ..." if count > 3 else "")
                parts.append(f"{count} {label} ({shown})")
        return f"{self.path}: " + ", ".join(parts)


def parse_porcelain(text: str) -> tuple[list[str], list[str]]:
    """``git status --porcelain=v1 -z`` output to ``(modified, untracked)`` paths.

    Renames and copies (``R``/``C``) carry their source path as the next NUL
    field; it is skipped, the new path counts as modified. Ignored entries
    (``!!``) are dropped.
    """
    modified: list[str] = []
    untracked: list[str] = []
    fields = text.split("\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
        elif code == "!!":
            continue
        else:
            modified.append(path)
            if "R" in code or "C" in code:
                i += 1  # the original path
    return modified, untracked


def _under(path: str, prefixes: Iterable[str]) -> bool:
    clean = path.rstrip("/")
    return any(clean == p or clean.startswith(p + "/") for p in prefixes)


def classify(path: str, porcelain: str, *, excluded: Sequence[str] = ()) -> TreeState:
    """The state of the repository at ``path`` from its porcelain output, without ``excluded`` prefixes."""
    modified, untracked = parse_porcelain(porcelain)
    prefixes = [p.strip("/") for p in excluded if p.strip("/")]
    modified = sorted(p for p in modified if not _under(p, prefixes))
    untracked = sorted(p for p in untracked if not _under(p, prefixes))
    if not modified and not untracked:
        return TreeState(path, "clean")
    return TreeState(
        path,
        "dirty",
        tuple(modified[:MAX_PATHS]),
        tuple(untracked[:MAX_PATHS]),
        len(modified),
        len(untracked),
    )


def overall(states: Sequence[TreeState]) -> State:
    """``dirty`` if any repository is, else ``unknown`` if any is (or none was asked), else ``clean``."""
    if any(s.state == "dirty" for s in states):
        return "dirty"
    if not states or any(s.state == "unknown" for s in states):
        return "unknown"
    return "clean"


def relative_outputs(repo: Path, outputs: Iterable[Path]) -> list[str]:
    """The tool's output folders that lie inside ``repo``, relative to it (POSIX spelling)."""
    out = []
    for path in outputs:
        try:
            rel = path.resolve().relative_to(repo.resolve())
        except ValueError:
            continue
        if rel.parts:
            out.append(rel.as_posix())
    return sorted(out)


def from_json(value: Any) -> TreeState | None:
    """A report's tree entry back into a :class:`TreeState`; None when absent or malformed."""
    if not isinstance(value, Mapping) or value.get("state") not in STATES:
        return None
    modified = tuple(str(p) for p in value.get("modified") or [])
    untracked = tuple(str(p) for p in value.get("untracked") or [])
    counts = [value.get("modified_count"), value.get("untracked_count")]
    state: State = value["state"]
    return TreeState(
        str(value.get("path") or TOP),
        state,
        modified,
        untracked,
        int(counts[0]) if isinstance(counts[0], int) else len(modified),
        int(counts[1]) if isinstance(counts[1], int) else len(untracked),
        str(value.get("detail") or ""),
    )


# --- the edge ---------------------------------------------------------------------

STATUS_COMMAND = (
    "git",
    "status",
    "--porcelain=v1",
    "-z",
    "--untracked-files=all",
    # Each submodule is asked on its own; a moved submodule is recorded by its own commit.
    "--ignore-submodules=all",
)


def status_of(root: Path, path: str, env: Mapping[str, str], outputs: Iterable[Path]) -> TreeState:
    """Ask git about the repository at ``root / path`` (``path`` ``.`` is ``root``)."""
    repo = root if path == TOP else root / path
    if run_mod.which("git", env) is None:
        return TreeState(path, "unknown", detail="git not found")
    if not (repo / ".git").exists():
        return TreeState(path, "unknown", detail="not a git checkout")
    result = run_mod.run(list(STATUS_COMMAND), cwd=repo, env=workspace.git_env(env), check=False)
    if result.returncode != 0:
        return TreeState(path, "unknown", detail=f"git status failed with exit code {result.returncode}")
    return classify(path, result.output, excluded=relative_outputs(repo, outputs))


def submodule_paths(root: Path, env: Mapping[str, str]) -> list[str]:
    """Paths of the checked-out submodules, nested ones too (:func:`workspace.submodule_status`, recursive)."""
    status = workspace.submodule_status(root, env, recursive=True)
    return sorted(path for path, (prefix, _commit) in status.items() if prefix != "-")


def tree_states(root: Path, env: Mapping[str, str], outputs: Iterable[Path] = ()) -> list[TreeState]:
    """The top level's state, then each checked-out submodule's; ``outputs`` are the tool's own folders.

    The repositories are asked four at a time: upstream's checkout nests more
    than a dozen submodules, and each ``git status`` is a process of its own
    that mostly waits on the file system.
    """
    folders = list(outputs)
    paths = [TOP, *submodule_paths(root, env)]
    if len(paths) == 1:
        return [status_of(root, TOP, env, folders)]
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="git-status") as pool:
        return list(pool.map(lambda path: status_of(root, path, env, folders), paths))
