"""Every setting resolves here, and only here.

Order: command-line flag, then ``MLC_*`` environment variable, then preset,
then default. The environment is a parameter, so tests pass ``{}``; nothing
else in the package reads ``os.environ`` for settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mlc_devops import backends as backends_mod
from mlc_devops.errors import UsageError

GB = 1024**3
MEMORY_PER_JOB = 2 * GB  # large C++ translation units and nvcc need about this much

CACHE_CHOICES = ("auto", "ccache", "sccache", "none")
LAYOUT_CHOICES = ("auto", "root", "legacy")
VERBOSITY_CHOICES = ("quiet", "normal", "verbose")
VERBOSITY_ENV = "MLC_VERBOSITY"

# Named choices of backends, as upstream's CI builds them (ci/task/build_lib.sh).
PRESETS: dict[str, dict[str, str]] = {
    "cpu": {"backends": "cpu"},
    "vulkan": {"backends": "cpu,vulkan"},
    "cuda": {"backends": "cpu,vulkan,cuda,cublas", "cuda_arch": "80;90;100;120"},
    "rocm": {"backends": "cpu,vulkan,rocm"},
    "metal": {"backends": "cpu,metal"},
}


@dataclass(frozen=True)
class Setting:
    name: str
    env: str | None
    default: Callable[[], str | None]
    help: str
    # Upstream's own names for the setting, read after ``env`` (TVM_SOURCE_DIR, as upstream's CMakeLists reads it).
    aliases: tuple[str, ...] = ()


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("source", "MLC_SOURCE_DIR", lambda: None, "MLC-LLM checkout to build"),
        Setting("preset", "MLC_PRESET", lambda: None, "named backend choice: " + ", ".join(PRESETS)),
        Setting("backends", "MLC_BACKENDS", lambda: "cpu", "comma-separated backends"),
        Setting("cuda_arch", "MLC_CUDA_ARCH", lambda: "", "CMAKE_CUDA_ARCHITECTURES, e.g. 80;90"),
        Setting(
            "tvm_source_dir",
            "MLC_TVM_SOURCE_DIR",
            lambda: backends_mod.DEFAULT_TVM_SOURCE_DIR,
            "TVM_SOURCE_DIR (also read from TVM_SOURCE_DIR, as upstream's CMakeLists reads it)",
            aliases=("TVM_SOURCE_DIR",),
        ),
        Setting(
            "tvm",
            "MLC_TVM",
            lambda: None,
            "the TVM wheel of the pair: source (build it from the checkout's TVM source), a wheel file, a folder "
            "of wheels, or a package index URL (URL#NAME names the project); default none",
        ),
        Setting(
            "llvm_config",
            "MLC_LLVM_CONFIG",
            lambda: None,
            "llvm-config of the LLVM that TVM's compiler is built with (default: llvm-config on PATH, "
            "else the highest llvm-config-N)",
        ),
        Setting("build_type", "MLC_BUILD_TYPE", lambda: "Release", "CMAKE_BUILD_TYPE"),
        Setting("jobs", "MLC_JOBS", lambda: None, "parallel compile jobs (default: cores capped by memory)"),
        Setting("dist", "MLC_DIST_DIR", lambda: None, "where wheels go (default: <source>/dist)"),
        Setting("cache", "MLC_COMPILER_CACHE", lambda: "auto", "compiler cache: " + ", ".join(CACHE_CHOICES)),
        Setting(
            "cache_remote",
            "MLC_CACHE_REMOTE",
            lambda: None,
            "shared compiler cache: redis://HOST:PORT, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, http://...",
        ),
        Setting("layout", "MLC_LAYOUT", lambda: "auto", "source layout: " + ", ".join(LAYOUT_CHOICES)),
        Setting("repair", "MLC_REPAIR", lambda: "0", "repair the wheel with auditwheel (Linux)"),
        Setting(
            "build_isolation",
            "MLC_BUILD_ISOLATION",
            lambda: "auto",
            "pip build isolation: auto (off when the build backend and a new enough cmake are here), yes, no",
        ),
        Setting(
            "find_links",
            "MLC_FIND_LINKS",
            lambda: None,
            "directories of wheels for dependencies and pairings, separated by the path separator (pip --find-links)",
        ),
        Setting(
            "verbosity",
            VERBOSITY_ENV,
            lambda: "normal",
            "what build, smoke, test and image print as they run programs: quiet (no progress), normal, "
            "verbose (every line those programs print); -q and -v on the command line",
        ),
        Setting(
            "fail_on_findings",
            "MLC_FAIL_ON_FINDINGS",
            lambda: "0",
            "turn findings (duplicate payloads, version mismatch, undeclared pairing) into a failure (exit 11)",
        ),
    )
}


@dataclass(frozen=True)
class Resolved:
    value: str | None
    origin: str  # "flag", "env MLC_X", "preset NAME", "default"


def resolve_raw(flags: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Resolved]:
    """Resolve every setting to a raw string with where it came from."""
    out: dict[str, Resolved] = {}
    preset_flag = flags.get("preset")
    preset_name = preset_flag if preset_flag is not None else env.get("MLC_PRESET") or None
    if preset_name is not None and preset_name not in PRESETS:
        raise UsageError(f"unknown preset {preset_name!r}", hint="choose from " + ", ".join(PRESETS))
    preset = PRESETS.get(preset_name or "", {})
    for name, setting in SETTINGS.items():
        flag = flags.get(name)
        if isinstance(flag, (list, tuple)):
            joiner = os.pathsep if name == "find_links" else ","
            flag = joiner.join(str(f) for f in flag) if flag else None
        if flag is not None:
            out[name] = Resolved(str(flag), "flag")
        elif setting.env and env.get(setting.env, "") != "":
            out[name] = Resolved(env[setting.env], f"env {setting.env}")
        elif (alias := next((a for a in setting.aliases if env.get(a, "") != ""), None)) is not None:
            out[name] = Resolved(env[alias], f"env {alias}")
        elif name in preset:
            out[name] = Resolved(preset[name], f"preset {preset_name}")
        else:
            out[name] = Resolved(setting.default(), "default")
    return out


def _truthy(value: str | None, name: str) -> bool:
    text = (value or "").strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise UsageError(f"{name} must be a yes/no value, not {value!r}")


CGROUP_ROOT = Path("/sys/fs/cgroup")
_UNLIMITED = 1 << 60  # cgroup v1 writes "no limit" as a number near 2**63


def _first_line(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_memory_limit(root: Path = CGROUP_ROOT) -> int | None:
    """A container's memory limit (cgroup v2 ``memory.max``, v1 ``memory.limit_in_bytes``); None if none."""
    for name in ("memory.max", "memory/memory.limit_in_bytes"):
        text = _first_line(root / name)
        if text and text.isdigit() and int(text) < _UNLIMITED:
            return int(text)
    return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> int | None:
    """A container's CPU quota in whole cores (``docker run --cpus``), rounded up; None if none."""
    text = _first_line(root / "cpu.max")  # v2: "QUOTA PERIOD" or "max PERIOD"
    if text:
        quota, _, period = text.partition(" ")
    else:  # v1
        quota = _first_line(root / "cpu" / "cpu.cfs_quota_us") or ""
        period = _first_line(root / "cpu" / "cpu.cfs_period_us") or ""
    if quota.isdigit() and period.isdigit() and int(period) > 0:
        return max(1, -(-int(quota) // int(period)))
    return None


def memory_bytes() -> int | None:
    """Physical memory, or a container's smaller limit; None where it cannot be read cheaply."""
    try:
        physical: int | None = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        physical = None
    limit = cgroup_memory_limit()
    if physical is None or limit is None:
        return limit if physical is None else physical
    return min(physical, limit)


def cpu_count() -> int:
    """Cores this process may run on, capped by a container's CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    return min(cores, quota) if quota is not None else cores


def default_jobs(cores: int, memory: int | None) -> int:
    """Cores capped by memory: about 2 GB a job for large C++ and nvcc."""
    jobs = max(1, cores)
    if memory is not None:
        jobs = min(jobs, max(1, memory // MEMORY_PER_JOB))
    return jobs


TVM_KINDS = ("none", "source", "wheel", "directory", "index")
INDEX_SCHEMES = ("http", "https", "file")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_PROJECT = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class TvmChoice:
    """Where the TVM wheel of the pair comes from (``--tvm``, ``MLC_TVM``).

    ``kind``: ``none`` (no pair: today's build), ``source`` (built from the checkout's TVM
    source), ``wheel`` (a wheel file), ``directory`` (a folder of wheels), ``index`` (a package
    index). ``value``: the path or the index URL. ``project``: for an index, the project named
    by ``URL#NAME``; None means the TVM source's own project name.
    """

    kind: str = "none"
    value: str | None = None
    project: str | None = None

    @property
    def wanted(self) -> bool:
        return self.kind != "none"


def parse_tvm(text: str | None) -> TvmChoice:
    """``--tvm``'s value to a :class:`TvmChoice`, by its form alone. Pure.

    ``source`` and ``none`` are words (a folder of that name is ``./source``); ``SCHEME://...``
    is an index (http, https, file), with ``#NAME`` naming the project; ``*.whl`` is a wheel
    file; anything else a folder of wheels. UsageError for another scheme or a bad ``#NAME``.
    """
    value = (text or "").strip()
    if value.lower() in ("", "none"):
        return TvmChoice("none")
    if value.lower() == "source":
        return TvmChoice("source")
    match = _URL.match(value)
    if match:
        scheme = match.group(1).lower()
        if scheme not in INDEX_SCHEMES:
            raise UsageError(
                f"--tvm {value!r}: a package index URL must be {', '.join(s + '://' for s in INDEX_SCHEMES)}",
                hint="or pass source, a wheel file or a folder of wheels",
            )
        url, _, fragment = value.partition("#")
        project = fragment[len("name=") :] if fragment.startswith("name=") else fragment
        if project and not _PROJECT.match(project):
            raise UsageError(f"--tvm {value!r}: {project!r} after '#' is not a project name")
        return TvmChoice("index", url, project or None)
    if value.endswith(".whl"):
        return TvmChoice("wheel", value)
    return TvmChoice("directory", value)


def resolve_smoke_tvm(flag: str | None, env: Mapping[str, str]) -> TvmChoice:
    """``smoke --tvm`` (a wheel file or a folder of wheels), else ``MLC_TVM`` when it names one; ``none``
    otherwise (``source`` included): smoke then installs the TVM wheel the build report names."""
    raw = resolve_raw({"tvm": flag}, env)["tvm"]
    choice = parse_tvm(raw.value)
    if choice.kind == "index":
        if raw.origin == "flag":
            raise UsageError(
                "smoke --tvm takes a wheel file or a folder of wheels, not an index",
                hint="pass the wheel, or the dist/ folder that `build --tvm URL` copied it into",
            )
        return TvmChoice("none")
    return choice if choice.kind in ("wheel", "directory") else TvmChoice("none")


@dataclass(frozen=True)
class BuildOptions:
    source: Path | None
    config: backends_mod.CMakeConfig
    jobs: int
    dist: Path | None
    cache: str
    layout: str
    repair: bool
    build_isolation: bool | None  # None: decide per build (commands.build.choose_isolation)
    origins: dict[str, Resolved] = field(default_factory=dict, compare=False)
    cache_remote: str | None = None
    find_links: tuple[str, ...] = ()
    with_packages: tuple[str, ...] = ()
    fail_on_findings: bool = False
    tvm: TvmChoice = TvmChoice()
    llvm_config: str | None = None

    @property
    def dist_dir(self) -> Path:
        if self.dist is not None:
            return self.dist
        if self.source is None:
            raise UsageError("no source given", hint="pass --source DIR or set MLC_SOURCE_DIR")
        return self.source / "dist"


def resolve(
    flags: Mapping[str, Any], env: Mapping[str, str], *, cores: int | None = None, memory: int | None = None
) -> BuildOptions:
    raw = resolve_raw(flags, env)
    source = Path(raw["source"].value).expanduser() if raw["source"].value else None
    cuda_arch_text = raw["cuda_arch"].value or ""
    archs = backends_mod.parse_cuda_architectures(cuda_arch_text) if cuda_arch_text else ()
    chosen = backends_mod.parse_backends([raw["backends"].value or "cpu"])
    if archs and "cuda" not in chosen and raw["cuda_arch"].origin.startswith("preset"):
        archs = ()
    config = backends_mod.make_config(
        chosen,
        cuda_architectures=archs,
        tvm_source_dir=raw["tvm_source_dir"].value or backends_mod.DEFAULT_TVM_SOURCE_DIR,
        build_type=raw["build_type"].value or "Release",
    )
    jobs_text = raw["jobs"].value
    if jobs_text is None:
        jobs = default_jobs(
            cores if cores is not None else cpu_count(), memory if memory is not None else memory_bytes()
        )
    else:
        try:
            jobs = int(jobs_text)
        except ValueError:
            raise UsageError(f"--jobs must be a whole number, not {jobs_text!r}") from None
        if jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {jobs}")
    cache = (raw["cache"].value or "auto").lower()
    if cache not in CACHE_CHOICES:
        raise UsageError(f"unknown compiler cache {cache!r}", hint="choose from " + ", ".join(CACHE_CHOICES))
    layout = (raw["layout"].value or "auto").lower()
    if layout not in LAYOUT_CHOICES:
        raise UsageError(f"unknown layout {layout!r}", hint="choose from " + ", ".join(LAYOUT_CHOICES))
    dist = Path(raw["dist"].value).expanduser() if raw["dist"].value else None
    return BuildOptions(
        source=source,
        config=config,
        jobs=jobs,
        dist=dist,
        cache=cache,
        layout=layout,
        repair=_truthy(raw["repair"].value, "repair"),
        build_isolation=None
        if (raw["build_isolation"].value or "auto").lower() == "auto"
        else _truthy(raw["build_isolation"].value, "build isolation"),
        origins=raw,
        cache_remote=raw["cache_remote"].value or None,
        find_links=split_find_links(raw["find_links"].value),
        with_packages=tuple(flags.get("with_packages") or ()),
        fail_on_findings=_truthy(raw["fail_on_findings"].value, "fail on findings"),
        tvm=parse_tvm(raw["tvm"].value),
        llvm_config=raw["llvm_config"].value or None,
    )


def resolve_verbosity(flag: str | None, env: Mapping[str, str]) -> Resolved:
    """``-q``/``-v`` (``quiet``/``verbose``), else ``MLC_VERBOSITY``, else normal."""
    if flag is not None:
        resolved = Resolved(flag, "flag")
    elif env.get(VERBOSITY_ENV, "") != "":
        resolved = Resolved(env[VERBOSITY_ENV].strip().lower(), f"env {VERBOSITY_ENV}")
    else:
        resolved = Resolved(SETTINGS["verbosity"].default(), "default")
    if resolved.value not in VERBOSITY_CHOICES:
        raise UsageError(
            f"unknown verbosity {resolved.value!r} ({resolved.origin})",
            hint="choose from " + ", ".join(VERBOSITY_CHOICES),
        )
    return resolved


def with_verbosity(env: Mapping[str, str], flag: str | None) -> dict[str, str]:
    """``env`` with ``-q``/``-v`` passed on as ``MLC_VERBOSITY``, so every console of the command (and every
    mlc-devops it starts) says as much as the command line asked; ``env`` as it is without a flag."""
    out = dict(env)
    if flag is not None:
        out[VERBOSITY_ENV] = str(resolve_verbosity(flag, env).value)
    return out


def split_find_links(value: str | None) -> tuple[str, ...]:
    """``MLC_FIND_LINKS`` (or joined ``--find-links`` flags): directories separated by the path separator."""
    return tuple(p for p in (value or "").split(os.pathsep) if p)


def resolve_find_links(flag: list[str] | None, env: Mapping[str, str]) -> tuple[str, ...]:
    """``--find-links`` (repeatable), else ``MLC_FIND_LINKS``, else none: for smoke and test."""
    return split_find_links(resolve_raw({"find_links": flag or None}, env)["find_links"].value)


VALIDATION_CACHE_ENV = "MLC_VALIDATION_CACHE"
VALIDATION_CACHE_OFF = ("0", "off", "no", "false", "none")
VALIDATION_CACHE_ON = ("1", "on", "yes", "true", "auto")


@dataclass(frozen=True)
class ValidationCache:
    """Where the build keeps load checks for reuse (:mod:`mlc_devops.validation_cache`); ``None``: off."""

    path: Path | None
    origin: str  # "flag", "env MLC_VALIDATION_CACHE", "default"


def user_cache_dir(env: Mapping[str, str], platform_name: str) -> Path | None:
    """mlc-devops' folder in the user's cache directory, where pip keeps its own; None without a home.

    Linux and others: ``$XDG_CACHE_HOME/mlc-devops`` (an absolute XDG_CACHE_HOME, as the XDG Base
    Directory specification says), else ``~/.cache/mlc-devops``; macOS: ``~/Library/Caches/mlc-devops``;
    Windows: ``%LOCALAPPDATA%\\mlc-devops\\Cache``.
    """
    if platform_name == "windows":
        local = env.get("LOCALAPPDATA", "")
        return Path(local) / "mlc-devops" / "Cache" if local else None
    home = env.get("HOME", "")
    if platform_name == "macos":
        return Path(home) / "Library" / "Caches" / "mlc-devops" if home else None
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "mlc-devops"
    return Path(home) / ".cache" / "mlc-devops" if home else None


def resolve_validation_cache(flag: str | None, env: Mapping[str, str], platform_name: str) -> ValidationCache:
    """``--validation-cache DIR|off``, else ``MLC_VALIDATION_CACHE`` (a folder, or off/0/no/false/none),
    else ``validation/`` in the user's cache directory (:func:`user_cache_dir`); off when there is none."""
    if flag is not None:
        value, origin = flag, "flag"
    elif env.get(VALIDATION_CACHE_ENV, "") != "":
        value, origin = env[VALIDATION_CACHE_ENV], f"env {VALIDATION_CACHE_ENV}"
    else:
        value, origin = "", "default"
    word = value.strip().lower()
    if word in VALIDATION_CACHE_OFF:
        return ValidationCache(None, origin)
    if word in VALIDATION_CACHE_ON or not word:
        base = user_cache_dir(env, platform_name)
        return ValidationCache(base / "validation" if base else None, origin)
    return ValidationCache(Path(value), origin)


def with_validation_cache(env: Mapping[str, str], flag: str | None) -> dict[str, str]:
    """``env`` with ``--validation-cache`` passed on as ``MLC_VALIDATION_CACHE``, where validation reads it
    (:func:`resolve_validation_cache`); ``env`` as it is without a flag."""
    out = dict(env)
    if flag is not None:
        out[VALIDATION_CACHE_ENV] = flag
    return out
