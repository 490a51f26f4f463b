"""Every setting resolves here, and only here: the table of settings, their resolution and their documentation.

Order: command-line flag, then environment variable, then preset, then default. The environment is a
parameter, so tests pass ``{}``; nothing else in the package reads ``os.environ`` for settings.
:data:`SETTINGS` is the one table: ``config --show`` prints every row with its value and origin, and
docs/README.md's environment table is generated from it (``python -m mlc_devops.options --write
docs/README.md``; a test fails when the two drift).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mlc_devops import backends as backends_mod
from mlc_devops import platforms
from mlc_devops.errors import UsageError
from mlc_devops.urls import secret_parameter

GB = 1024**3
MEMORY_PER_JOB = 2 * GB  # large C++ translation units and nvcc need about this much

CACHE_CHOICES = ("auto", "ccache", "sccache", "none")
LAYOUT_CHOICES = ("auto", "root", "legacy")
VERBOSITY_CHOICES = ("quiet", "normal", "verbose")
VERBOSITY_ENV = "MLC_VERBOSITY"
VALIDATION_CACHE_ENV = "MLC_VALIDATION_CACHE"
BUILD_ENV_ENV = "MLC_BUILD_ENV"
# The container entrypoint's modes (commands/entrypoint.py); MLC_BUILD_MODE names one.
BUILD_MODES = ("build", "test", "shell")

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
    """One row of the table: a setting, its variable and flag, its default, who reads it and what it does."""

    name: str
    env: str | None
    default: Callable[[], str | None]
    help: str
    # Upstream's own names for the setting, read after ``env`` (TVM_SOURCE_DIR, as upstream's CMakeLists reads it).
    aliases: tuple[str, ...] = ()
    flag: str | None = None  # the command line's spelling, None where there is none
    commands: tuple[str, ...] = ()  # the commands that read it
    default_text: str | None = None  # the default in words where ``default()`` is None (the command decides)
    secret: bool = False  # never shown: config --show prints *** for a value
    # "build": resolved together into BuildOptions by :func:`resolve` (presets apply); any other group is
    # resolved on its own, by :func:`resolve_one` or the function named in its help.
    group: str = "build"
    separator: str = ","  # how a repeated flag's values are joined into the one value


def _container_default(module: str, name: str) -> str:
    """A default that a module of mlc_devops.container keeps beside its use (engine: the private dockerd's
    folders; tags: the short SHA's length); imported when asked, since container.engine imports this module."""
    import importlib  # noqa: PLC0415

    return str(getattr(importlib.import_module(f"mlc_devops.container.{module}"), name))


_BUILDERS = ("build", "config", "doctor")

SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "source",
            "MLC_SOURCE_DIR",
            lambda: None,
            "MLC-LLM checkout to build",
            flag="--source",
            commands=("build", "doctor", "test"),
        ),
        Setting(
            "preset",
            "MLC_PRESET",
            lambda: None,
            "named backend choice: " + ", ".join(PRESETS),
            flag="--preset",
            commands=(*_BUILDERS, "entrypoint"),
            default_text="none (the entrypoint's build: vulkan)",
        ),
        Setting(
            "backends",
            "MLC_BACKENDS",
            lambda: "cpu",
            "comma-separated backends",
            flag="--backend/-b",
            commands=(*_BUILDERS, "entrypoint"),
        ),
        Setting(
            "cuda_arch",
            "MLC_CUDA_ARCH",
            lambda: "",
            "CMAKE_CUDA_ARCHITECTURES, e.g. 80;90",
            flag="--cuda-arch",
            commands=_BUILDERS,
            default_text="CMake's (the cuda preset: 80;90;100;120)",
        ),
        Setting(
            "tvm_source_dir",
            "MLC_TVM_SOURCE_DIR",
            lambda: backends_mod.DEFAULT_TVM_SOURCE_DIR,
            "TVM_SOURCE_DIR (also read from TVM_SOURCE_DIR, as upstream's CMakeLists reads it)",
            aliases=("TVM_SOURCE_DIR",),
            flag="--tvm-source-dir",
            commands=_BUILDERS,
        ),
        Setting(
            "tvm",
            "MLC_TVM",
            lambda: None,
            "the TVM wheel of the pair: source (build it from the checkout's TVM source), a wheel file, a folder "
            "of wheels, or a package index URL (URL#NAME names the project); smoke: a wheel file or a folder",
            flag="--tvm",
            commands=("build", "smoke"),
            default_text="none (smoke: the pair the build report names)",
        ),
        Setting(
            "llvm_config",
            "MLC_LLVM_CONFIG",
            lambda: None,
            "llvm-config of the LLVM that TVM's compiler is built with (--tvm source)",
            flag="--llvm-config",
            commands=("build",),
            default_text="llvm-config on PATH, else the highest llvm-config-N",
        ),
        Setting(
            "build_type",
            "MLC_BUILD_TYPE",
            lambda: backends_mod.DEFAULT_BUILD_TYPE,
            "CMAKE_BUILD_TYPE: " + ", ".join(backends_mod.BUILD_TYPES) + "; the default is what upstream builds its "
            "wheel with (pyproject.toml's cmake.build-type), not a hand-run CMake's RelWithDebInfo",
            flag="--build-type",
            commands=("build", "config"),
        ),
        Setting(
            "jobs",
            "MLC_JOBS",
            lambda: None,
            "parallel compile jobs",
            flag="--jobs/-j",
            commands=("build",),
            default_text="cores, capped at one per 2 GB of memory",
        ),
        Setting(
            "dist",
            "MLC_DIST_DIR",
            lambda: None,
            "where wheels go",
            flag="--dist",
            commands=("build", "test"),
            default_text="`<source>/dist`",
        ),
        Setting(
            "cache",
            "MLC_COMPILER_CACHE",
            lambda: "auto",
            "compiler cache: " + ", ".join(CACHE_CHOICES),
            flag="--cache",
            commands=("build",),
        ),
        Setting(
            "cache_remote",
            "MLC_CACHE_REMOTE",
            lambda: None,
            "shared compiler cache: redis://HOST:PORT, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX, http://...; "
            "a password in it is masked wherever it is shown",
            flag="--cache-remote",
            commands=("build",),
            default_text="none",
        ),
        Setting(
            "layout",
            "MLC_LAYOUT",
            lambda: "auto",
            "source layout: " + ", ".join(LAYOUT_CHOICES),
            flag="--layout",
            commands=("build", "doctor"),
        ),
        Setting(
            "repair",
            "MLC_REPAIR",
            lambda: "0",
            "repair the wheel with auditwheel (Linux)",
            flag="--repair",
            commands=("build",),
        ),
        Setting(
            "build_isolation",
            "MLC_BUILD_ISOLATION",
            lambda: "auto",
            "pip build isolation: auto (off when the build backend and a new enough cmake are here), yes, no",
            flag="--build-isolation/--no-build-isolation",
            commands=("build", "doctor"),
        ),
        Setting(
            "build_env",
            BUILD_ENV_ENV,
            lambda: "kept",
            "where an isolated build gets its build requirements: kept (a virtual environment made once per set of "
            "build requirements and reused, so a rebuild configures once), a folder to keep them in, or fresh "
            "(pip's temporary environment, made anew for every build)",
            flag="--build-env",
            commands=("build",),
            default_text="kept, in build-env/ of the user's cache directory",
        ),
        Setting(
            "find_links",
            "MLC_FIND_LINKS",
            lambda: None,
            "directories of wheels for dependencies and pairings, separated by the path separator (pip --find-links)",
            flag="--find-links",
            commands=("build", "smoke", "test"),
            default_text="none",
            separator=os.pathsep,
        ),
        Setting(
            "fail_on_findings",
            "MLC_FAIL_ON_FINDINGS",
            lambda: "0",
            "turn findings (duplicate payloads, version mismatch, undeclared pairing) into a failure (exit 11)",
            flag="--fail-on-findings",
            commands=("build",),
        ),
        Setting(
            "validation_cache",
            VALIDATION_CACHE_ENV,
            lambda: None,
            "where passed validations are kept for a byte-identical wheel with the same inputs; off validates afresh",
            flag="--validation-cache",
            commands=("build",),
            default_text="validation/ in the user's cache directory",
            group="validation",
        ),
        Setting(
            "verbosity",
            VERBOSITY_ENV,
            lambda: "normal",
            "what commands print as they run programs: quiet (no progress), normal, verbose (every line those "
            "programs print)",
            flag="-q/-v",
            commands=("build", "smoke", "test", "image"),
            group="output",
        ),
        Setting(
            "build_mode",
            "MLC_BUILD_MODE",
            lambda: "shell",
            "the container's mode when its first argument names none: " + ", ".join(BUILD_MODES),
            flag="MODE",
            commands=("entrypoint",),
            group="entrypoint",
        ),
        Setting(
            "uid",
            "MLC_UID",
            lambda: None,
            "the user ID the container's work runs as; 0 keeps root",
            commands=("entrypoint",),
            default_text="the owner of /workspace, else 1000",
            group="entrypoint",
        ),
        Setting(
            "gid",
            "MLC_GID",
            lambda: None,
            "the group ID the container's work runs as",
            commands=("entrypoint",),
            default_text="MLC_UID's, else the group of /workspace, else 1000",
            group="entrypoint",
        ),
        Setting(
            "docker_data_root",
            "MLC_DOCKER_DATA_ROOT",
            lambda: _container_default("engine", "DEFAULT_ENGINE_ROOT"),
            "the private dockerd's data root",
            flag="--data-root",
            commands=("image", "pipeline"),
            group="engine",
        ),
        Setting(
            "docker_run_dir",
            "MLC_DOCKER_RUN_DIR",
            lambda: _container_default("engine", "DEFAULT_ENGINE_RUN"),
            "the private dockerd's socket, pid file and exec root",
            flag="--run-dir",
            commands=("image", "pipeline"),
            group="engine",
        ),
        # image build's settings that a machine, not a build, decides (container.image.IMAGE_BUILD_SETTINGS): a
        # workflow step stays `mlc-devops image build --tag ...`, and a machine without Docker Hub or
        # static.rust-lang.org (the local run under act: docs/pipeline.md) sets them once.
        Setting(
            "image_base",
            "MLC_IMAGE_BASE",
            lambda: None,
            "BASE_IMAGE of docker/Dockerfile",
            flag="--base-image",
            commands=("image build",),
            default_text="the Dockerfile's `python:$PYTHON_VERSION-slim-bookworm`",
            group="image",
        ),
        Setting(
            "image_ca_certs",
            "MLC_IMAGE_CA_CERTS",
            lambda: None,
            "extra CA certificate files (PEM) to trust, separated by the path separator",
            flag="--ca-cert",
            commands=("image build",),
            default_text="none",
            group="image",
            separator=os.pathsep,
        ),
        Setting(
            "image_rust_source",
            "MLC_IMAGE_RUST_SOURCE",
            lambda: None,
            "RUST_SOURCE: rustup or debian",
            flag="--rust-source",
            commands=("image build",),
            default_text="the Dockerfile's (rustup)",
            group="image",
        ),
        Setting(
            "image_network",
            "MLC_IMAGE_NETWORK",
            lambda: None,
            "network for RUN steps, e.g. host",
            flag="--network",
            commands=("image build",),
            default_text="docker's",
            group="image",
        ),
        Setting(
            "image_builder",
            "MLC_IMAGE_BUILDER",
            lambda: "auto",
            "auto (docker's choice), classic or buildkit",
            flag="--builder",
            commands=("image build",),
            group="image",
        ),
        Setting(
            "short_sha_length",
            "DOCKER_METADATA_SHORT_SHA_LENGTH",
            lambda: _container_default("tags", "SHORT_SHA_LENGTH"),
            "length of the `sha-<commit>` tag, as docker/metadata-action reads it",
            commands=("image tags",),
            group="image",
        ),
        Setting(
            "key_password",
            "MLC_DEVOPS_KEY_PASSWORD",
            lambda: None,
            "the password of the DSSE private key; keygen encrypts the key with it",
            commands=("keygen", "sign", "attest", "release"),
            default_text="none (a key without a password)",
            secret=True,
            group="signing",
        ),
        Setting(
            "source_date_epoch",
            "SOURCE_DATE_EPOCH",
            lambda: None,
            "the time stamped into what is made, in seconds since 1970 (reproducible-builds.org); build passes it "
            "to the build backend",
            commands=("build", "sbom", "image build"),
            default_text="build: the commit's time; sbom: when the build finished; image build: now",
            group="time",
        ),
    )
}
BUILD_SETTINGS: dict[str, Setting] = {name: s for name, s in SETTINGS.items() if s.group == "build"}


@dataclass(frozen=True)
class Resolved:
    value: str | None
    origin: str  # "flag", "env MLC_X", "preset NAME", "default"


def _resolve(setting: Setting, flag: Any, env: Mapping[str, str], preset_name: str | None = None) -> Resolved:
    """The one rule: flag (None: not given), then its variable and aliases (empty: unset), then preset, then
    default."""
    if isinstance(flag, (list, tuple)):
        flag = setting.separator.join(str(f) for f in flag) if flag else None
    if flag is not None:
        return Resolved(str(flag), "flag")
    for variable in (setting.env, *setting.aliases):
        if variable and env.get(variable, "") != "":
            return Resolved(env[variable], f"env {variable}")
    preset = PRESETS.get(preset_name or "", {})
    if setting.name in preset:
        return Resolved(preset[setting.name], f"preset {preset_name}")
    return Resolved(setting.default(), "default")


def resolve_one(name: str, env: Mapping[str, str], flag: Any = None) -> Resolved:
    """One setting of :data:`SETTINGS` with where it came from (no preset: presets choose build settings)."""
    return _resolve(SETTINGS[name], flag, env)


def _preset_name(flags: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    preset_flag = flags.get("preset")
    preset_name = preset_flag if preset_flag is not None else env.get(SETTINGS["preset"].env or "") or None
    if preset_name is not None and preset_name not in PRESETS:
        raise UsageError(f"unknown preset {preset_name!r}", hint="choose from " + ", ".join(PRESETS))
    return preset_name


def resolve_raw(flags: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Resolved]:
    """Resolve every build setting (:data:`BUILD_SETTINGS`) to a raw string with where it came from."""
    preset_name = _preset_name(flags, env)
    return {name: _resolve(s, flags.get(name), env, preset_name) for name, s in BUILD_SETTINGS.items()}


def resolve_all(flags: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Resolved]:
    """Every setting of the table, raw, with where it came from (``config --show``); secrets unmasked."""
    preset_name = _preset_name(flags, env)
    return {
        name: _resolve(s, flags.get(name), env, preset_name if s.group == "build" else None)
        for name, s in SETTINGS.items()
    }


MASK = "***"
# scheme://user:password@ or scheme://token@ (a lone name over HTTP cannot be told from a token).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:?#]*)(?P<password>:[^/@\s?#]*)?@")
_QUERY = re.compile(r"(?P<lead>[?&])(?P<name>[^=&#\s]+)=(?P<value>[^&#\s]*)")


def mask_credentials(text: str) -> str:
    """``text`` with the credentials of any URL in it replaced by ``***``: a password (``user:***@``), a
    token in the user's place (``***@``, but an ssh user stays), a query parameter named like a secret."""

    def userinfo(match: re.Match[str]) -> str:
        scheme, user, password = match["scheme"], match["user"], match["password"]
        if password is not None:
            return f"{scheme}{user}:{MASK}@"
        return f"{scheme}{user}@" if scheme.lower().endswith("ssh://") else f"{scheme}{MASK}@"

    def query(match: re.Match[str]) -> str:
        if not secret_parameter(match["name"]):
            return match.group(0)
        return f"{match['lead']}{match['name']}={MASK}"

    if "://" not in text:
        return text
    return _QUERY.sub(query, _USERINFO.sub(userinfo, text))


def shown(name: str, value: str | None) -> str | None:
    """A setting's value fit to print: a secret as ``***`` (unset stays unset), credentials in URLs masked."""
    if not value:
        return value
    return MASK if SETTINGS[name].secret else mask_credentials(value)


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
    build_isolation: bool | None  # None: decide per build (buildsteps.decisions.choose_isolation)
    origins: dict[str, Resolved] = field(default_factory=dict, compare=False)
    cache_remote: str | None = None
    find_links: tuple[str, ...] = ()
    with_packages: tuple[str, ...] = ()
    fail_on_findings: bool = False
    tvm: TvmChoice = TvmChoice()
    llvm_config: str | None = None
    # Where an isolated build keeps its build environments (:mod:`mlc_devops.buildenv`); None: pip's own,
    # temporary one (``--build-env fresh``, or no user cache directory).
    build_env: Path | None = None

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
        build_type=raw["build_type"].value or backends_mod.DEFAULT_BUILD_TYPE,
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
        build_env=resolve_build_env(raw["build_env"], env, platforms.current().name),
    )


BUILD_ENV_FRESH = ("fresh", "off", "0", "no", "false", "none")
BUILD_ENV_KEPT = ("kept", "on", "1", "yes", "true", "auto")


def resolve_build_env(resolved: Resolved, env: Mapping[str, str], platform_name: str) -> Path | None:
    """``--build-env kept|fresh|DIR`` (``resolved``, from flag, ``MLC_BUILD_ENV`` or the default ``kept``) as
    the folder an isolated build keeps its environments in: ``build-env/`` of the user's cache directory
    (:func:`user_cache_dir`) for kept, the folder itself for a path, None for fresh (pip's temporary
    environment) and where there is no user cache directory. Pure."""
    value = (resolved.value or "").strip()
    word = value.lower()
    if word in BUILD_ENV_FRESH:
        return None
    if word in BUILD_ENV_KEPT or not word:
        base = user_cache_dir(env, platform_name)
        return base / "build-env" if base is not None else None
    return Path(value).expanduser()


def resolve_verbosity(flag: str | None, env: Mapping[str, str]) -> Resolved:
    """``-q``/``-v`` (``quiet``/``verbose``), else ``MLC_VERBOSITY``, else normal."""
    resolved = resolve_one("verbosity", env, flag)
    if resolved.origin.startswith("env "):
        resolved = Resolved((resolved.value or "").strip().lower(), resolved.origin)
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
    resolved = resolve_one("validation_cache", env, flag)
    value, origin = resolved.value or "", resolved.origin
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


def resolve_build_mode(env: Mapping[str, str]) -> Resolved:
    """``MLC_BUILD_MODE`` (one of :data:`BUILD_MODES`; blank: unset), else shell: the container's mode when its
    first argument names none. UsageError for another word."""
    resolved = resolve_one("build_mode", env)
    word = (resolved.value or "").strip().lower()
    if not word:
        return Resolved(SETTINGS["build_mode"].default(), "default")
    if word not in BUILD_MODES:
        raise UsageError(f"{SETTINGS['build_mode'].env} must be one of {', '.join(BUILD_MODES)}, not {word!r}")
    return Resolved(word, resolved.origin)


def resolve_numeric_id(name: str, env: Mapping[str, str]) -> int | None:
    """``MLC_UID`` (``name`` uid) or ``MLC_GID`` (gid) as a number; None when unset or blank. UsageError
    for anything but digits."""
    text = (resolve_one(name, env).value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise UsageError(f"{SETTINGS[name].env} must be a numeric id, not {text!r}")
    return int(text)


def resolve_key_password(env: Mapping[str, str]) -> bytes | None:
    """The DSSE private key's password, from ``MLC_DEVOPS_KEY_PASSWORD`` (unset or empty: none)."""
    value = resolve_one("key_password", env).value
    return value.encode("utf-8") if value else None


def resolve_source_date_epoch(env: Mapping[str, str]) -> int | None:
    """``SOURCE_DATE_EPOCH`` (reproducible-builds.org) in whole seconds since 1970; None when unset or blank.
    UsageError for anything else, or a time no date can hold."""
    from datetime import datetime, timezone  # noqa: PLC0415

    text = (resolve_one("source_date_epoch", env).value or "").strip()
    if not text:
        return None
    try:
        seconds = int(text)
        datetime.fromtimestamp(seconds, tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise UsageError(f"SOURCE_DATE_EPOCH must be whole seconds since 1970, not {text!r}") from None
    return seconds


def resolve_short_sha_length(env: Mapping[str, str]) -> int:
    """``DOCKER_METADATA_SHORT_SHA_LENGTH`` (as docker/metadata-action reads it), else 7. UsageError for
    anything but digits."""
    text = (resolve_one("short_sha_length", env).value or "").strip() or str(SETTINGS["short_sha_length"].default())
    if not text.isdigit():
        raise UsageError(f"DOCKER_METADATA_SHORT_SHA_LENGTH must be a number, not {text!r}")
    return int(text)


# --------------------------------------------------------------------------
# The table as documentation: docs/README.md, section 7.1
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Variable:
    """A variable that is no setting of the tool's: another program's, which the tool reads or passes on."""

    names: tuple[str, ...]
    used_by: str
    purpose: str


OTHER_VARIABLES: tuple[Variable, ...] = (
    Variable(
        ("CMAKE_ARGS",),
        "build",
        "appended to CMake's configure in both layouts (e.g. `-DCUDA_CUDA_LIBRARY=<toolkit>/lib64/stubs/libcuda.so`)",
    ),
    Variable(
        ("CUDA_HOME", "CUDA_PATH"),
        "build",
        "the CUDA toolkit for `--tvm source --backend cuda` (default: where nvcc says)",
    ),
    Variable(("TVM_HOME",), "doctor, build", "warned about: the build reads `TVM_SOURCE_DIR`"),
    Variable(("CCACHE_DIR", "SCCACHE_DIR"), "build", "compiler cache storage"),
    Variable(
        ("GITHUB_ACTIONS",),
        "every command",
        "`true`: phases fold into groups, warnings and fatal errors become annotations",
    ),
    Variable(
        ("MLC_LIBRARY_PATH", "MLC_LLM_HOME", "MLC_LLM_SOURCE_DIR", "MLC_JIT_POLICY", "MLC_DOWNLOAD_CACHE_POLICY"),
        "build, smoke, test",
        "upstream mlc_llm's own, read when it is imported: passed on, and part of the validation cache's key",
    ),
    Variable(("PYTHON_VERSION", "RUST_TOOLCHAIN"), "Dockerfile, CI", "pinned toolchains"),
    Variable(("VULKAN_SDK_VERSION", "SCCACHE_VERSION"), "wheel-windows", "pinned Vulkan SDK and sccache"),
    Variable(
        ("SCCACHE_BUCKET", "SCCACHE_REGION", "SCCACHE_S3_KEY_PREFIX", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        "wheel-windows",
        "optional S3 backend for sccache",
    ),
    Variable(("GITHUB_TOKEN",), "CI", "GHCR and GitHub Releases"),
    Variable(
        ("MLC_MODEL_CHECK",),
        "CI (a repository variable)",
        "`off`: the smoke jobs skip the tiny-model check (`pipeline run` sets it: the stand-in has no model compiler)",
    ),
    Variable(
        ("ENABLE_GPU_SMOKE",),
        "CI (a repository variable)",
        "`true`: smoke-gpu runs the CUDA wheel on a self-hosted GPU runner",
    ),
)

DOCS_BEGIN, DOCS_END = "<!-- settings:begin -->", "<!-- settings:end -->"
DOCS_FILE = "docs/README.md"


def default_words(setting: Setting) -> str:
    """A setting's default as the docs and ``config --show`` say it: the value, else the words for it."""
    value = setting.default()
    if value:
        return f"`{value}`"
    return setting.default_text or "none"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown() -> str:
    """The environment tables of docs/README.md (section 7.1), from :data:`SETTINGS` and :data:`OTHER_VARIABLES`."""
    lines = [
        "| variable | flag | default | read by | what it sets |",
        "|---|---|---|---|---|",
    ]
    for s in SETTINGS.values():
        variable = ", ".join(f"`{v}`" for v in (s.env, *s.aliases) if v)
        flag = ", ".join(f"`{f}`" for f in s.flag.split("/")) if s.flag else ""
        secret = " (a secret: never printed)" if s.secret else ""
        lines.append(
            "| "
            + " | ".join(_cell(c) for c in (variable, flag, default_words(s), ", ".join(s.commands), s.help + secret))
            + " |"
        )
    lines += [
        "",
        "Variables of other programs, which the tool reads or passes on:",
        "",
        "| variable | used by | purpose |",
        "|---|---|---|",
    ]
    lines += [
        f"| {', '.join(f'`{n}`' for n in v.names)} | {_cell(v.used_by)} | {_cell(v.purpose)} |" for v in OTHER_VARIABLES
    ]
    return "\n".join(lines) + "\n"


def with_table(text: str, table: str) -> str:
    """``text`` with what lies between :data:`DOCS_BEGIN` and :data:`DOCS_END` replaced by ``table``."""
    start, end = text.find(DOCS_BEGIN), text.find(DOCS_END)
    if start < 0 or end < start:
        raise UsageError(f"no {DOCS_BEGIN} ... {DOCS_END} markers", hint="put them where the table goes")
    return text[: start + len(DOCS_BEGIN)] + "\n" + table + text[end:]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mlc_devops.options --markdown`` prints the tables; ``--write FILE`` puts them into FILE."""
    parser = argparse.ArgumentParser(prog="python -m mlc_devops.options", description=main.__doc__)
    parser.add_argument("--markdown", action="store_true", help="print docs/README.md's environment tables")
    parser.add_argument("--write", metavar="FILE", help=f"replace the tables between the markers of FILE ({DOCS_FILE})")
    args = parser.parse_args(argv)
    table = markdown()
    if args.write:
        path = Path(args.write)
        text = path.read_text(encoding="utf-8")
        updated = with_table(text, table)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
        print(f"{path}: {'updated' if updated != text else 'unchanged'}", file=sys.stderr)
    if args.markdown or not args.write:
        sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
