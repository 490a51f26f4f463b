"""The build's folders: CMake's state in build/ checked and started afresh, dist/ checked writable."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import backends, checks, fsutil, workspace
from mlc_devops.errors import BuildFailed, PrerequisiteMissing


def start_afresh(build_dir: Path) -> list[str]:
    """Remove CMake's state (CMakeCache.txt, CMakeFiles/) from ``build_dir``, as CMake's own error asks;
    returns the names removed. The compiler cache and cargo's target dir live outside build/ and stay."""
    removed = []
    cache_file = build_dir / checks.CACHE_FILE
    if cache_file.exists():
        cache_file.unlink()
        removed.append(checks.CACHE_FILE)
    files = build_dir / "CMakeFiles"
    if files.is_dir():
        shutil.rmtree(files)
        removed.append("CMakeFiles/")
    return removed


def check_configured(ws: workspace.Workspace, config: backends.CMakeConfig, env: Mapping[str, str]) -> None:
    """After configure: every USE_* in build/CMakeCache.txt is what the tool's config asked.

    Raises :class:`BuildFailed` (exit 4) naming the first switch that differs, asked vs configured,
    and the likely cause (:func:`checks.likely_override`), or when configure left no CMakeCache.txt in
    build/. Facts: build/CMakeCache.txt.
    """
    cache = checks.read_build_cache(ws.build_dir)
    if cache is None:
        raise BuildFailed(
            f"configure wrote no {checks.CACHE_FILE} in {ws.build_dir}, where mlc-devops wrote config.cmake",
            hint=checks.likely_override("", env, ws.layout),
        )
    wrong = checks.configured_mismatches(checks.asked_switches(config), cache)
    if wrong:
        raise BuildFailed(
            checks.mismatch_message(wrong[0]),
            hint=checks.likely_override(wrong[0].option, env, ws.layout),
            detail="\n".join(checks.mismatch_message(m) for m in wrong[1:]),
        )


def check_dist_writable(dist: Path) -> None:
    fsutil.ensure_dir(dist, "dist directory")
    try:
        with tempfile.NamedTemporaryFile(dir=dist, prefix=".mlc-devops-probe-"):
            pass
    except OSError as exc:
        raise PrerequisiteMissing(
            f"dist directory {dist} is not writable: {exc.strerror or exc}", hint="pass --dist to a writable directory"
        ) from None
