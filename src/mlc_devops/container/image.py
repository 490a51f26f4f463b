"""The image's docker build: its arguments, context, builder and machine settings, and docker's word on an image."""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from mlc_devops import options
from mlc_devops import run as run_mod
from mlc_devops.errors import BuildFailed, UsageError
from mlc_devops.options import Resolved, Setting

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
