"""What the reports say of the checkout: git origin, commit and submodules, tree state, Cargo.lock files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlc_devops import cache, tvmbuild, urls, workspace
from mlc_devops.ui import Console

if TYPE_CHECKING:
    from mlc_devops.supply.cargo import Lock
    from mlc_devops.supply.tree import TreeState


def source_facts(root: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """The report's ``source`` (less ``commit_time``, which the build needs first) and ``submodules``."""
    return {
        "uri": source_uri(root, env),
        "commit": workspace.git_commit(root, env),
        "submodules": submodules(root, env),
    }


def source_uri(root: Path, env: Mapping[str, str]) -> str | None:
    url = workspace.git_remote_url(root, env)
    if not url:
        return None
    url = urls.recorded(url, "origin URL")
    return url if url.startswith("git+") else f"git+{url}"


def submodules(root: Path, env: Mapping[str, str]) -> list[dict[str, Any]]:
    gitmodules = root / ".gitmodules"
    modules = workspace.parse_gitmodules(gitmodules.read_text(encoding="utf-8")) if gitmodules.is_file() else []
    states = {s.path: s for s in workspace.submodule_states(root, env)}
    return [
        {
            "path": m.path,
            "url": urls.recorded(m.url, "submodule URL"),
            "commit": states[m.path].commit if m.path in states else None,
        }
        for m in modules
    ]


def tvm_git_root(checkout: Path, tvm_root: Path) -> Path:
    """Where the TVM source's git facts (origin, commit) come from: its own repository (a submodule, a
    clone), or the checkout's when it is a folder the checkout tracks itself, with no ``.git`` of its own
    (the stand-in's 3rdparty/tvm): its files are then those of the checkout's commit."""
    if not (tvm_root / ".git").exists() and tvm_root.resolve().is_relative_to(checkout.resolve()):
        return checkout
    return tvm_root


def tvm_source_uri(ws: workspace.Workspace, source: tvmbuild.Source, env: Mapping[str, str]) -> str | None:
    """The TVM source's URL: the checkout's .gitmodules entry for its path (what upstream declares), else
    the origin of the TVM repository (:func:`tvm_git_root`: the checkout's, for a folder it tracks itself)."""
    gitmodules = ws.root / ".gitmodules"
    if gitmodules.is_file():
        for module in workspace.parse_gitmodules(gitmodules.read_text(encoding="utf-8")):
            if module.path == source.relative and module.url:
                url = urls.recorded(module.url, "submodule URL")
                return url if url.startswith("git+") else f"git+{url}"
    return source_uri(tvm_git_root(ws.root, source.root), env)


def cargo_target(root: Path, build_env: Mapping[str, str]) -> Path:
    """cargo's target directory for this build: the one its environment names, else the tool's default."""
    named = build_env.get("CARGO_TARGET_DIR") or build_env.get("CARGO_BUILD_TARGET_DIR")
    return Path(named) if named else cache.cargo_target_dir(root)


def tree_states(root: Path, env: Mapping[str, str], outputs: Sequence[Path]) -> list[TreeState]:
    """:func:`mlc_devops.supply.tree.tree_states`, imported when asked."""
    from mlc_devops.supply import tree  # noqa: PLC0415

    return tree.tree_states(root, env, outputs)


def tree_section(
    root: Path,
    env: Mapping[str, str],
    console: Console,
    *,
    outputs: Sequence[Path],
    warn: bool = True,
    states: Sequence[TreeState] | None = None,
) -> dict[str, Any]:
    """The report's ``tree``: ``{"state": clean|dirty|unknown, "repositories": [...]}``, from git status.

    Asked after the build, of the top level and each checked-out submodule
    (:func:`mlc_devops.supply.tree.tree_states`), unless ``states`` already
    holds the answer; the tool's outputs are left out. Warns when the tree is
    dirty: the wheel holds code in no commit.
    """
    from mlc_devops.supply import tree  # noqa: PLC0415

    if states is None:
        states = tree.tree_states(root, env, outputs)
    state = tree.overall(states)
    if state == "dirty" and warn:
        console.warn(
            "the checkout has changes in no commit ("
            + "; ".join(s.summary() for s in states if s.dirty)
            + "): the wheel is recorded as built from a dirty tree; attest and release refuse it "
            "unless given --allow-dirty"
        )
    return {"state": state, "repositories": [s.as_json() for s in states]}


def cargo_section(
    root: Path, libraries: Sequence[str], console: Console, *, read: tuple[list[Lock], list[str]] | None = None
) -> dict[str, Any]:
    """The report's ``cargo``: the Cargo.lock files the build resolved, their SHA-256 and crates.

    ``{"locks": [{"path", "sha256", "manifest", "libraries", "packages": [...]}], "missing": [...]}``,
    read from the checkout after the compiles (:func:`mlc_devops.supply.cargo.find_locks`; ``read``: what
    :func:`mlc_devops.supply.cargo.read_locks` found then, else read now); warns for a linked crate whose
    lock is missing, since its crates cannot be listed.
    """
    from mlc_devops.supply import cargo  # noqa: PLC0415

    unheld, missing = read if read is not None else cargo.read_locks(root)
    locks = cargo.held_by(unheld, libraries)
    for manifest in missing:
        console.warn(f"no Cargo.lock for {manifest}: the SBOM cannot list the crates it compiles")
    for found in locks:
        console.say(f"    {found.path}: {len(found.crates)} crate(s) in {', '.join(found.libraries) or 'no library'}")
    return {"locks": [found.as_json() for found in locks], "missing": missing}
