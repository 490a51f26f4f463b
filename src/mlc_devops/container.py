"""The container image: its tags, its build command, an engine and a base.

Decisions are pure functions over data (which tags a ref gets, which
arguments ``docker build`` gets); only :func:`start_engine` and friends
start processes, and they do it through :func:`mlc_devops.run.run`.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as _dt
import os
import re
import shutil
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable, Literal

from mlc_devops import options
from mlc_devops import run as run_mod
from mlc_devops.errors import BuildFailed, MlcDevopsError, PrerequisiteMissing, UsageError
from mlc_devops.options import Resolved, Setting

# --------------------------------------------------------------------------
# Tags: what docker/metadata-action gives a ref
# --------------------------------------------------------------------------

# The spec's rules (section 6.4, "docker" job), written as the ``tags`` and
# ``flavor`` inputs of docker/metadata-action so the workflow can use them
# verbatim: sha-<short>, the branch name, the v* tag as pushed, and latest only
# on the default branch.
SPEC_TAG_RULES: tuple[str, ...] = (
    "type=sha",
    "type=ref,event=branch",
    "type=semver,pattern={{raw}}",
    "type=raw,value=latest,enable={{is_default_branch}}",
)
SPEC_FLAVOR: tuple[str, ...] = ("latest=false",)

SHORT_SHA_LENGTH = 7
_PRIORITIES = {
    "schedule": 1000,
    "semver": 900,
    "pep440": 900,
    "match": 800,
    "edge": 700,
    "ref": 600,
    "raw": 200,
    "sha": 100,
}
_SUPPORTED_TYPES = ("semver", "ref", "raw", "sha")
_REF_EVENTS = ("branch", "tag", "pr")
_NUM = r"0|[1-9]\d*"
_PRE_ID = r"0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*"
_SEMVER = re.compile(
    rf"^v?(?P<major>{_NUM})\.(?P<minor>{_NUM})\.(?P<patch>{_NUM})"
    rf"(?:-(?P<pre>(?:{_PRE_ID})(?:\.(?:{_PRE_ID}))*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_EXPR = re.compile(r"\{\{\s*(.*?)\s*\}\}")


@dataclass(frozen=True)
class TagRule:
    """One line of metadata-action's ``tags`` input, parsed."""

    type: str
    attrs: Mapping[str, str]
    priority: int

    @classmethod
    def parse(cls, line: str) -> TagRule:
        fields = next(csv.reader([line], skipinitialspace=True), [])
        attrs: dict[str, str] = {}
        kind = "raw"
        for item in fields:
            key, sep, value = item.partition("=")
            if not sep:
                attrs["value"] = item.strip()
                continue
            key, value = key.strip().lower(), value.strip()
            if key == "type":
                kind = value
            else:
                attrs[key] = value
        if kind not in _PRIORITIES:
            raise UsageError(f"unknown tag type {kind!r} in {line!r}")
        if kind not in _SUPPORTED_TYPES:
            raise UsageError(f"tag type {kind!r} is not supported here", hint="use sha, ref, semver or raw rules")
        if kind == "semver" and "pattern" not in attrs:
            raise UsageError(f"missing pattern attribute in {line!r}")
        if kind == "ref":
            if attrs.get("event") not in _REF_EVENTS:
                raise UsageError(f"ref rule needs event=branch, tag or pr: {line!r}")
            if attrs["event"] == "pr":
                attrs.setdefault("prefix", "pr-")
        if kind == "raw" and "value" not in attrs:
            raise UsageError(f"missing value attribute in {line!r}")
        if kind == "sha":
            attrs.setdefault("prefix", "sha-")
            attrs.setdefault("format", "short")
            if attrs["format"] not in ("short", "long"):
                raise UsageError(f"sha format must be short or long: {line!r}")
        attrs.setdefault("enable", "true")
        try:
            priority = int(attrs.get("priority", _PRIORITIES[kind]))
        except ValueError:
            raise UsageError(f"priority must be a number: {line!r}") from None
        return cls(kind, attrs, priority)


@dataclass(frozen=True)
class Flavor:
    latest: Literal["auto", "true", "false"] = "auto"
    prefix: str = ""
    suffix: str = ""

    @classmethod
    def parse(cls, lines: Iterable[str]) -> Flavor:
        latest = "auto"
        prefix = suffix = ""
        for line in lines:
            for item in next(csv.reader([line], skipinitialspace=True), []):
                key, sep, value = item.partition("=")
                key, value = key.strip().lower(), value.strip()
                if not sep:
                    raise UsageError(f"invalid flavor entry {line!r}")
                if key == "latest":
                    if value not in ("auto", "true", "false"):
                        raise UsageError(f"flavor latest must be auto, true or false: {line!r}")
                    latest = value
                elif key == "prefix":
                    prefix = value
                elif key == "suffix":
                    suffix = value
                else:
                    raise UsageError(f"unknown flavor entry {line!r}")
        return cls(latest, prefix, suffix)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RefContext:
    ref: str
    sha: str
    default_branch: str = "main"
    short_sha_length: int = SHORT_SHA_LENGTH

    @property
    def branch(self) -> str:
        return self.ref[len("refs/heads/") :] if self.ref.startswith("refs/heads/") else ""

    @property
    def tag(self) -> str:
        return self.ref[len("refs/tags/") :] if self.ref.startswith("refs/tags/") else ""

    @property
    def short_sha(self) -> str:
        return self.sha[: self.short_sha_length] if self.short_sha_length < len(self.sha) else self.sha

    @property
    def is_default_branch(self) -> bool:
        return bool(self.branch) and self.branch == self.default_branch


def sanitize_tag(tag: str) -> str:
    return re.sub(r"[^a-zA-Z0-9._-]+", "-", tag)


def _expand(text: str, ctx: RefContext) -> str:
    values = {
        "branch": ctx.branch,
        "tag": ctx.tag,
        "sha": ctx.short_sha,
        "base_ref": "",
        "is_default_branch": "true" if ctx.is_default_branch else "false",
        "is_not_default_branch": "false" if ctx.is_default_branch else "true",
    }

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise UsageError(
                f"expression {{{{{name}}}}} is not supported",
                hint="use " + ", ".join(sorted(values)),
            )
        return values[name]

    return _EXPR.sub(one, text)


def _semver_fields(text: str) -> dict[str, str] | None:
    match = _SEMVER.match(text.strip())
    if match is None:
        return None
    version = f"{match['major']}.{match['minor']}.{match['patch']}"
    if match["pre"]:
        version += f"-{match['pre']}"
    return {
        "raw": text,
        "version": version,
        "major": match["major"],
        "minor": match["minor"],
        "patch": match["patch"],
        "prerelease": match["pre"] or "",
    }


def _render_pattern(pattern: str, fields: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in fields:
            raise UsageError(f"semver pattern expression {{{{{name}}}}} is not supported")
        return fields[name]

    return _EXPR.sub(one, pattern)


def _decorate(value: str, rule: TagRule, flavor: Flavor, ctx: RefContext) -> str:
    if "prefix" in rule.attrs:
        value = _expand(rule.attrs["prefix"], ctx) + value
    elif flavor.prefix:
        value = _expand(flavor.prefix, ctx) + value
    if "suffix" in rule.attrs:
        value = value + _expand(rule.attrs["suffix"], ctx)
    elif flavor.suffix:
        value = value + _expand(flavor.suffix, ctx)
    return value


def _sha_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    if not ctx.sha:
        return None
    sha = ctx.short_sha if rule.attrs["format"] == "short" else ctx.sha
    return _decorate(sha, rule, flavor, ctx), False


def _ref_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    event = rule.attrs["event"]
    if event == "branch" and ctx.branch:
        return _decorate(ctx.branch, rule, flavor, ctx), False
    if event == "tag" and ctx.tag:
        return _decorate(ctx.tag, rule, flavor, ctx), True
    if event == "pr" and ctx.ref.startswith("refs/pull/"):
        number = ctx.ref[len("refs/pull/") :]
        number = number[: -len("/merge")] if number.endswith("/merge") else number
        return _decorate(number, rule, flavor, ctx), False
    return None


def _raw_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    return _decorate(_expand(rule.attrs["value"], ctx), rule, flavor, ctx), False


def _semver_value(rule: TagRule, flavor: Flavor, ctx: RefContext) -> tuple[str, bool] | None:
    value = rule.attrs.get("value", "")
    if not ctx.tag and not value:
        return None
    raw = (_expand(value, ctx) if value else ctx.tag).replace("/", "-")
    fields = _semver_fields(raw)
    if fields is None:
        return None
    pattern = rule.attrs["pattern"]
    if fields["prerelease"]:
        # metadata-action keeps a prerelease whole: {{raw}} stays, any other pattern is {{version}}.
        pattern = pattern if pattern.strip() == "{{raw}}" else "{{version}}"
        return _decorate(_render_pattern(pattern, fields), rule, flavor, ctx), False
    return _decorate(_render_pattern(pattern, fields), rule, flavor, ctx), True


# The tag one rule gives, and whether it asks for ``latest`` under latest=auto.
_RULE_VALUES: dict[str, Callable[[TagRule, Flavor, RefContext], tuple[str, bool] | None]] = {
    "sha": _sha_value,
    "ref": _ref_value,
    "raw": _raw_value,
    "semver": _semver_value,
}


def compute_tags(
    ref: str,
    sha: str,
    *,
    default_branch: str = "main",
    rules: Sequence[str] = SPEC_TAG_RULES,
    flavor: Sequence[str] = SPEC_FLAVOR,
    images: Sequence[str] = (),
    short_sha_length: int = SHORT_SHA_LENGTH,
) -> list[str]:
    """The tags docker/metadata-action gives ``ref`` at ``sha`` under ``rules``.

    Same order and rules as the action: rules sorted by priority (stable); the
    first tag is the version, later ones follow in order, duplicates of the
    version dropped; ``latest`` is appended when the flavor says so (auto:
    when the first rule that gave a tag was a final semver or a git tag).
    """
    if not ref.startswith("refs/"):
        raise UsageError(
            f"--ref must be a full git ref, not {ref!r}",
            hint="e.g. refs/heads/main, refs/tags/v1.2.3 or refs/pull/7/merge",
        )
    if sha and not re.fullmatch(r"[0-9a-fA-F]{4,64}", sha):
        raise UsageError(f"--sha must be a hexadecimal commit id, not {sha!r}")
    ctx = RefContext(ref, sha.lower(), default_branch, short_sha_length)
    parsed_flavor = Flavor.parse(flavor)
    parsed = sorted((TagRule.parse(line) for line in rules), key=lambda r: -r.priority)
    main: str | None = None
    partial: list[str] = []
    latest: bool | None = None
    for rule in parsed:
        enable = _expand(rule.attrs["enable"], ctx)
        if enable not in ("true", "false"):
            raise UsageError(f"enable must be true or false, not {enable!r}")
        if enable != "true":
            continue
        given = _RULE_VALUES[rule.type](rule, parsed_flavor, ctx)
        if given is None or not given[0]:
            continue
        value, wants_latest = sanitize_tag(given[0]), given[1]
        if main is None:
            main = value
        elif value != main and value not in partial:
            partial.append(value)
        if latest is None:
            latest = wants_latest if parsed_flavor.latest == "auto" else parsed_flavor.latest == "true"
    if main is None:
        return []
    names = [main, *partial]
    if latest:
        names.append("latest")
    if not images:
        return names
    return [f"{image.lower()}:{name}" for image in images for name in names]


# --------------------------------------------------------------------------
# docker build
# --------------------------------------------------------------------------

DEFAULT_IMAGE = "mlc-llm-dev"
DOCKERFILE = PurePosixPath("docker/Dockerfile")
CERTS_DIR = PurePosixPath("docker/certs")
# What the image is built from; .dockerignore lets exactly these through.
CONTEXT_PATHS: tuple[str, ...] = (
    "docker/Dockerfile",
    "docker/config.cmake",
    "docker/certs/",
    "pyproject.toml",
    "README.md",
    "src/",
)
_CONTEXT_SKIP = ("__pycache__", "*.pyc", "*.egg-info")

Builder = Literal["auto", "classic", "buildkit"]
RUST_SOURCES = ("rustup", "debian")


@dataclass(frozen=True)
class ImageBuild:
    """Everything one ``docker build`` of the image needs."""

    context: Path
    tags: tuple[str, ...] = (DEFAULT_IMAGE,)
    dockerfile: Path | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    network: str | None = None
    builder: Builder = "auto"
    no_cache: bool = False
    pull: bool = False
    quiet: bool = False

    @property
    def dockerfile_path(self) -> Path:
        return self.dockerfile if self.dockerfile is not None else self.context / DOCKERFILE


BUILDERS: tuple[Builder, ...] = ("auto", "classic", "buildkit")

# Settings of `mlc-devops image build` that a machine, not a build, decides: where
# the base comes from, which CA to trust, where Rust comes from, the RUN steps'
# network and the builder. Their rows are options.SETTINGS' image_* rows (flag, then
# MLC_IMAGE_* variable, then default); here under the names of image build's flags.
IMAGE_BUILD_SETTINGS: dict[str, Setting] = {
    "base_image": options.SETTINGS["image_base"],
    "ca_certs": options.SETTINGS["image_ca_certs"],
    "rust_source": options.SETTINGS["image_rust_source"],
    "network": options.SETTINGS["image_network"],
    "builder": options.SETTINGS["image_builder"],
}


@dataclass(frozen=True)
class ImageBuildSettings:
    """The machine's side of one image build, resolved (see IMAGE_BUILD_SETTINGS)."""

    base_image: str | None = None
    ca_certs: tuple[Path, ...] = ()
    rust_source: str | None = None
    network: str | None = None
    builder: Builder = "auto"
    origins: Mapping[str, Resolved] = field(default_factory=dict, compare=False)


def resolve_image_build_settings(flags: Mapping[str, object], env: Mapping[str, str]) -> ImageBuildSettings:
    """Flag (None or empty: not given), then its MLC_IMAGE_* variable (empty: unset), then default."""
    raw = {name: options.resolve_one(s.name, env, flags.get(name)) for name, s in IMAGE_BUILD_SETTINGS.items()}

    def where(name: str) -> str:
        origin, value = raw[name].origin, raw[name].value
        return f"{origin.removeprefix('env ')}={value}" if origin.startswith("env ") else repr(value)

    rust_source = raw["rust_source"].value
    if rust_source is not None and rust_source not in RUST_SOURCES:
        raise UsageError(f"unknown Rust source {where('rust_source')}", hint="choose " + " or ".join(RUST_SOURCES))
    builder = raw["builder"].value or "auto"
    if builder not in BUILDERS:
        raise UsageError(f"unknown builder {where('builder')}", hint="choose " + ", ".join(BUILDERS))
    given = flags.get("ca_certs")
    if isinstance(given, (list, tuple)) and given:  # flags stay whole: a file name may hold the separator
        certs = tuple(Path(str(p)) for p in given)
    else:
        certs = tuple(Path(p) for p in (raw["ca_certs"].value or "").split(os.pathsep) if p)
    return ImageBuildSettings(
        base_image=raw["base_image"].value,
        ca_certs=certs,
        rust_source=rust_source,
        network=raw["network"].value,
        builder=builder,
        origins=raw,
    )


def settings_from_environment(settings: ImageBuildSettings) -> list[str]:
    """``NAME=value`` for each setting an MLC_IMAGE_* variable chose, so a log says where a build's base came from."""
    return [
        f"{resolved.origin.removeprefix('env ')}={resolved.value}"
        for resolved in settings.origins.values()
        if resolved.origin.startswith("env ")
    ]


def image_build_args(
    *,
    python_version: str | None = None,
    base_image: str | None = None,
    apt_mirror: str | None = None,
    rust_source: str | None = None,
    rust_toolchain: str | None = None,
    rustup_dist_server: str | None = None,
    pip_index_url: str | None = None,
    version: str | None = None,
    revision: str | None = None,
    created: str | None = None,
    extra: Iterable[str] = (),
) -> dict[str, str]:
    """The build arguments that were given; the Dockerfile's defaults stand for the rest."""
    if rust_source is not None and rust_source not in RUST_SOURCES:
        raise UsageError(f"unknown Rust source {rust_source!r}", hint="choose rustup or debian")
    if python_version is not None and not re.fullmatch(r"3\.\d+", python_version):
        raise UsageError(f"--python-version must look like 3.13, not {python_version!r}")
    named = {
        "PYTHON_VERSION": python_version,
        "BASE_IMAGE": base_image,
        "APT_MIRROR": apt_mirror,
        "RUST_SOURCE": rust_source,
        "RUST_TOOLCHAIN": rust_toolchain,
        "RUSTUP_DIST_SERVER": rustup_dist_server,
        "PIP_INDEX_URL": pip_index_url,
        "VERSION": version,
        "REVISION": revision,
        "CREATED": created,
    }
    out = {key: value for key, value in named.items() if value is not None}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UsageError(f"--build-arg must be NAME=VALUE, not {item!r}")
        out[key] = value
    return out


def docker_build_command(spec: ImageBuild, docker: str = "docker") -> list[str]:
    """The ``docker build`` argument list for ``spec``."""
    if not spec.tags:
        raise UsageError("no image tag given", hint="pass --tag NAME[:TAG]")
    cmd = [docker, "build", "--file", str(spec.dockerfile_path)]
    for tag in spec.tags:
        cmd += ["--tag", tag]
    for key in sorted(spec.build_args):
        cmd += ["--build-arg", f"{key}={spec.build_args[key]}"]
    if spec.network:
        cmd += ["--network", spec.network]
    if spec.no_cache:
        cmd.append("--no-cache")
    if spec.pull:
        cmd.append("--pull")
    if spec.quiet:
        cmd.append("--quiet")
    cmd.append(str(spec.context))
    return cmd


def docker_build_env(builder: Builder, env: Mapping[str, str]) -> dict[str, str]:
    """The environment for ``docker build``: DOCKER_BUILDKIT chooses the builder."""
    out = dict(env)
    if builder == "classic":
        out["DOCKER_BUILDKIT"] = "0"
    elif builder == "buildkit":
        out["DOCKER_BUILDKIT"] = "1"
    return out


def _client_major(version: str) -> int | None:
    match = re.match(r"\s*(\d+)\.", version)
    return int(match.group(1)) if match else None


def buildkit_client(env: Mapping[str, str], candidates: Sequence[str] = ("docker", "/usr/bin/docker")) -> str | None:
    """A docker client that can build with BuildKit: one with buildx, or one older than 23.0.

    Clients from 23.0 on hand BuildKit builds to the buildx plugin; older ones
    (Debian's docker.io 20.10) have BuildKit built in.
    """
    seen: set[str] = set()
    for candidate in candidates:
        path = run_mod.which(candidate, env) if "/" not in candidate else candidate
        if path is None or path in seen or not Path(path).exists():
            continue
        seen.add(path)
        if run_mod.run([path, "buildx", "version"], env=env, check=False).returncode == 0:
            return path
        probe = run_mod.run([path, "version", "--format", "{{.Client.Version}}"], env=env, check=False)
        major = _client_major(probe.output.strip().splitlines()[0] if probe.output.strip() else "")
        if major is not None and major < 23:
            return path
    return None


def created_timestamp(env: Mapping[str, str], now: _dt.datetime | None = None) -> str:
    """RFC 3339 time for the ``created`` label: SOURCE_DATE_EPOCH when set (reproducible builds)."""
    epoch = options.resolve_source_date_epoch(env)
    if epoch is not None:
        moment = _dt.datetime.fromtimestamp(epoch, tz=_dt.timezone.utc)
    else:
        moment = now if now is not None else _dt.datetime.now(tz=_dt.timezone.utc)
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def find_context(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds docker/Dockerfile and pyproject.toml."""
    for folder in (start, *start.parents):
        if (folder / DOCKERFILE).is_file() and (folder / "pyproject.toml").is_file():
            return folder
    return None


def parse_dockerignore(text: str) -> tuple[str, ...]:
    """The paths a deny-all ``.dockerignore`` (``*`` then ``!path`` lines) lets through."""
    allowed: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("!"):
            allowed.append(line[1:].strip())
    return tuple(allowed)


def stage_context(source: Path, dest: Path, ca_certs: Sequence[Path] = ()) -> Path:
    """Copy the image's inputs from ``source`` to ``dest`` and add ``ca_certs`` to docker/certs.

    Used when certificates are given on the command line, so the checkout's
    docker/certs stays as it is.
    """
    for entry in CONTEXT_PATHS:
        src = source / entry.rstrip("/")
        target = dest / entry.rstrip("/")
        if entry.endswith("/"):
            if src.is_dir():
                shutil.copytree(src, target, ignore=shutil.ignore_patterns(*_CONTEXT_SKIP), dirs_exist_ok=True)
            else:
                target.mkdir(parents=True, exist_ok=True)
        elif src.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    ignore = source / ".dockerignore"
    if ignore.is_file():
        shutil.copy2(ignore, dest / ".dockerignore")
    certs = dest / CERTS_DIR
    certs.mkdir(parents=True, exist_ok=True)
    for index, cert in enumerate(ca_certs):
        try:
            text = cert.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read CA certificate {cert}: {exc}") from None
        if "-----BEGIN CERTIFICATE-----" not in text:
            raise UsageError(
                f"{cert} holds no PEM certificate",
                hint="give a PEM file (-----BEGIN CERTIFICATE-----)",
            )
        (certs / f"extra-{index}-{re.sub(r'[^A-Za-z0-9_.-]', '_', cert.stem)}.crt").write_text(text, encoding="ascii")
    return dest


# --------------------------------------------------------------------------
# A Docker engine of our own (CI machines have no service manager)
# --------------------------------------------------------------------------

DEFAULT_ENGINE_ROOT = Path("/var/lib/mlc-devops/engine")
DEFAULT_ENGINE_RUN = Path("/run/mlc-devops/engine")


@dataclass(frozen=True)
class Engine:
    """Paths of a dockerd that does not clash with a system one."""

    data_root: Path = DEFAULT_ENGINE_ROOT
    run_dir: Path = DEFAULT_ENGINE_RUN

    @property
    def exec_root(self) -> Path:
        return self.run_dir / "exec"

    @property
    def socket(self) -> Path:
        return self.run_dir / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.run_dir / "dockerd.pid"

    @property
    def daemon_pidfile(self) -> Path:
        return self.run_dir / "dockerd-self.pid"

    @property
    def log(self) -> Path:
        return self.data_root.parent / "dockerd.log"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Engine:
        data = options.resolve_one("docker_data_root", env).value or str(DEFAULT_ENGINE_ROOT)
        rundir = options.resolve_one("docker_run_dir", env).value or str(DEFAULT_ENGINE_RUN)
        return cls(Path(data), Path(rundir))


def dockerd_command(engine: Engine, dockerd: str = "dockerd") -> list[str]:
    """dockerd with its own data root, exec root, socket and pid file, and no bridge.

    No bridge and no iptables: containers use ``--network host``, which is all a
    build machine without a service manager (or inside another container) allows.
    """
    return [
        dockerd,
        "--data-root", str(engine.data_root),
        "--exec-root", str(engine.exec_root),
        "--host", engine.host,
        "--pidfile", str(engine.daemon_pidfile),
        "--bridge=none",
        "--iptables=false",
        "--ip6tables=false",
    ]  # fmt: skip


def start_daemon_command(engine: Engine, dockerd_path: str) -> list[str]:
    """start-stop-daemon puts dockerd in the background, with its output in a log file."""
    return [
        "start-stop-daemon", "--start", "--background", "--oknodo",
        "--make-pidfile", "--pidfile", str(engine.pidfile),
        "--output", str(engine.log),
        "--exec", dockerd_path, "--",
        *dockerd_command(engine)[1:],
    ]  # fmt: skip


def stop_daemon_command(engine: Engine) -> list[str]:
    return [
        "start-stop-daemon", "--stop", "--pidfile", str(engine.pidfile),
        "--remove-pidfile", "--retry", "TERM/20/KILL/5", "--oknodo",
    ]  # fmt: skip


def engine_env(engine: Engine, env: Mapping[str, str]) -> dict[str, str]:
    out = dict(env)
    out["DOCKER_HOST"] = engine.host
    return out


def engine_answers(env: Mapping[str, str], docker: str = "docker") -> str | None:
    """The server version when the engine at env's DOCKER_HOST answers, else None."""
    if run_mod.which(docker, env) is None:
        return None
    try:
        result = run_mod.run([docker, "version", "--format", "{{.Server.Version}}"], env=env, check=False)
    except MlcDevopsError:
        return None
    text = result.output.strip().splitlines()
    return text[-1].strip() if result.returncode == 0 and text else None


def pid_alive(pidfile: Path, name: str = "dockerd", proc: Path = Path("/proc")) -> bool:
    """Whether ``pidfile`` names a running process called ``name`` (a zombie is not running)."""
    try:
        pid = int(pidfile.read_text().strip())
        comm = (proc / str(pid) / "comm").read_text().strip()
        stat = (proc / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return False
    state = stat.rpartition(")")[2].split()[:1]
    return comm == name and state not in (["Z"], ["X"])


def clear_stale(engine: Engine, env: Mapping[str, str]) -> None:
    """Remove what a killed dockerd leaves: pid files of dead processes, its network namespace mount.

    dockerd refuses to start over a pid file whose process exists, and waits in
    vain for a containerd whose pid file names one -- a zombie counts, where
    nothing reaps the killed daemons. A session that is killed cannot stop its
    engine, so the next start cleans up.
    """
    owned = (
        (engine.pidfile, "dockerd"),
        (engine.daemon_pidfile, "dockerd"),
        (engine.exec_root / "containerd" / "containerd.pid", "containerd"),
    )
    for pidfile, name in owned:
        if pidfile.exists() and not pid_alive(pidfile, name):
            with contextlib.suppress(OSError):
                pidfile.unlink()
    netns = engine.exec_root / "netns" / "default"
    if not pid_alive(engine.pidfile) and netns.exists() and run_mod.which("umount", env) is not None:
        run_mod.run(["umount", str(netns)], env=env, check=False)


def start_engine(
    engine: Engine,
    env: Mapping[str, str],
    *,
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Start dockerd for ``engine`` unless it answers already; return its version."""
    client_env = engine_env(engine, env)
    version = engine_answers(client_env)
    if version is not None:
        return version
    dockerd = run_mod.which("dockerd", env)
    if dockerd is None:
        raise PrerequisiteMissing("'dockerd' was not found on PATH", hint="apt-get install docker.io")
    run_mod.require("start-stop-daemon", env, hint="apt-get install dpkg (Debian) or start dockerd yourself")
    for folder in (engine.data_root, engine.exec_root, engine.run_dir):
        folder.mkdir(parents=True, exist_ok=True)
    clear_stale(engine, env)
    run_mod.run(start_daemon_command(engine, dockerd), env=env, what="start dockerd")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        version = engine_answers(client_env)
        if version is not None:
            return version
        sleep(0.5)
    tail = ""
    with contextlib.suppress(OSError):
        tail = "\n".join(engine.log.read_text(errors="replace").splitlines()[-20:])
    raise PrerequisiteMissing(
        f"dockerd did not answer on {engine.socket} within {timeout:.0f}s",
        hint=f"see {engine.log}",
        detail=tail,
    )


def stop_engine(engine: Engine, env: Mapping[str, str]) -> None:
    if engine.pidfile.exists():
        run_mod.run(stop_daemon_command(engine), env=env, what="stop dockerd")
    netns = engine.exec_root / "netns" / "default"
    if netns.exists() and run_mod.which("umount", env) is not None:
        # dockerd leaves its network namespace mounted.
        run_mod.run(["umount", str(netns)], env=env, check=False)


# --------------------------------------------------------------------------
# A base image from Debian packages (no registry needed)
# --------------------------------------------------------------------------

DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES: tuple[str, ...] = ("python3", "python3-venv", "python3-pip", "ca-certificates")
# What the official python image sets, so the Dockerfile sees the same.
BASE_CHANGES: tuple[str, ...] = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["python3"]',
)


def mmdebstrap_command(
    suite: str,
    target: Path,
    *,
    mirror: str = DEBIAN_MIRROR,
    packages: Sequence[str] = BASE_PACKAGES,
) -> list[str]:
    if not re.fullmatch(r"[a-z][a-z0-9-]*", suite):
        raise UsageError(f"not a Debian suite name: {suite!r}")
    return [
        "mmdebstrap",
        "--variant=minbase",
        "--include=" + ",".join(packages),
        # Documentation and caches are dead weight in an image.
        "--dpkgopt=path-exclude=/usr/share/doc/*",
        "--dpkgopt=path-exclude=/usr/share/man/*",
        "--dpkgopt=path-exclude=/usr/share/locale/*",
        "--dpkgopt=path-include=/usr/share/doc/*/copyright",
        suite,
        str(target),
        mirror,
    ]


def docker_import_command(
    tarball: Path, tag: str, changes: Sequence[str] = BASE_CHANGES, docker: str = "docker"
) -> list[str]:
    cmd = [docker, "import"]
    for change in changes:
        cmd += ["--change", change]
    cmd += [str(tarball), tag]
    return cmd


def image_exists(tag: str, env: Mapping[str, str], docker: str = "docker") -> bool:
    result = run_mod.run([docker, "image", "inspect", "--format", "{{.Id}}", tag], env=env, check=False)
    return result.returncode == 0


def image_size(tag: str, env: Mapping[str, str], docker: str = "docker") -> int:
    result = run_mod.run(
        [docker, "image", "inspect", "--format", "{{.Size}}", tag],
        env=env,
        what="docker image inspect",
    )
    try:
        return int(result.output.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise BuildFailed(f"cannot read the size of {tag} from docker image inspect") from None
