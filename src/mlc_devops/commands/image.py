"""``mlc-devops image``: build the container image, compute its tags, run an engine, make a base.

- ``image build``: ``docker build`` of docker/Dockerfile with the right build arguments; the machine's
  settings (base, CA certificates, Rust source, network, builder) from flags or ``MLC_IMAGE_*``.
- ``image tags --ref REF --sha SHA``: the tags docker/metadata-action gives that ref.
- ``image engine start|stop|status``: a dockerd of our own, for machines without a service manager.
- ``image base``: a base image from Debian packages (mmdebstrap, docker import): no registry.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import __version__, options
from mlc_devops import run as run_mod
from mlc_devops.container import base as debian_base
from mlc_devops.container import engine as docker_engine
from mlc_devops.container import image as docker_build
from mlc_devops.container import tags as image_tags
from mlc_devops.errors import PrerequisiteMissing, UsageError
from mlc_devops.ui import Console


def _late_common() -> argparse.ArgumentParser:
    """--json and --debug after the action too; SUPPRESS keeps a value given before it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print the result as JSON on stdout",
    )
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return common


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    late = [_late_common()]

    build = sub.add_parser("build", help="build the image (docker build -f docker/Dockerfile)", parents=late)
    build.add_argument(
        "--context",
        help="folder with docker/Dockerfile (default: the nearest one above the current folder)",
    )
    build.add_argument("--file", help="Dockerfile (default: CONTEXT/docker/Dockerfile)")
    build.add_argument(
        "--tag",
        "-t",
        action="append",
        dest="tags",
        metavar="NAME[:TAG]",
        help=f"image tag, repeatable (default {docker_build.DEFAULT_IMAGE})",
    )
    build.add_argument("--python-version", help="PYTHON_VERSION build argument (default 3.13)")
    build.add_argument(
        "--base-image",
        help="BASE_IMAGE (env MLC_IMAGE_BASE; default python:$PYTHON_VERSION-slim-bookworm)",
    )
    build.add_argument("--apt-mirror", help="APT_MIRROR: replaces http://deb.debian.org in the base's apt sources")
    build.add_argument(
        "--rust-source",
        choices=docker_build.RUST_SOURCES,
        help="RUST_SOURCE: rustup (default) or debian's rustc/cargo (env MLC_IMAGE_RUST_SOURCE)",
    )
    build.add_argument("--rust-toolchain", help="RUST_TOOLCHAIN for rustup (default: the Dockerfile's pin)")
    build.add_argument("--rustup-dist-server", help="RUSTUP_DIST_SERVER: a rustup mirror")
    build.add_argument("--pip-index-url", help="PIP_INDEX_URL: a PyPI mirror")
    build.add_argument(
        "--ca-cert",
        action="append",
        default=None,
        metavar="FILE",
        help="extra CA certificate(s) to trust (PEM), repeatable "
        "(env MLC_IMAGE_CA_CERTS: files separated by the path separator)",
    )
    build.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any other build argument, repeatable",
    )
    build.add_argument("--label-version", help=f"org.opencontainers.image.version (default {__version__})")
    build.add_argument("--revision", help="org.opencontainers.image.revision (default: git HEAD of the context)")
    build.add_argument("--network", help="network for RUN steps, e.g. host (env MLC_IMAGE_NETWORK)")
    build.add_argument(
        "--builder",
        choices=docker_build.BUILDERS,
        default=None,
        help="classic builder or BuildKit (env MLC_IMAGE_BUILDER; default auto: docker's choice)",
    )
    build.add_argument(
        "--docker",
        default=None,
        metavar="PROGRAM",
        help="docker client (default docker; with --builder buildkit, one that can)",
    )
    build.add_argument("--no-cache", action="store_true", help="do not reuse cached layers")
    build.add_argument("--pull", action="store_true", help="pull a newer base image")
    build.add_argument("--dry-run", action="store_true", help="print the docker build command and stop")

    tags = sub.add_parser("tags", help="print the tags docker/metadata-action gives a git ref", parents=late)
    tags.add_argument(
        "--ref",
        required=True,
        help="full git ref: refs/heads/main, refs/tags/v1.2.3, refs/pull/7/merge",
    )
    tags.add_argument("--sha", required=True, help="commit id")
    tags.add_argument("--default-branch", default="main", help="the repository's default branch (default main)")
    tags.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="NAME",
        help="prefix tags with this image name, repeatable",
    )
    tags.add_argument(
        "--rule",
        action="append",
        default=None,
        metavar="LINE",
        help="a metadata-action tags line (default: the spec's rules)",
    )
    tags.add_argument(
        "--flavor",
        action="append",
        default=None,
        metavar="LINE",
        help="a metadata-action flavor line (default: latest=false)",
    )
    tags.add_argument("--show-rules", action="store_true", help="print the rules and flavor in use and stop")

    engine = sub.add_parser("engine", help="start, stop or check a dockerd of our own", parents=late)
    engine.add_argument("engine_action", choices=("start", "stop", "status"), metavar="start|stop|status")
    engine.add_argument(
        "--data-root",
        help=f"dockerd data root (env MLC_DOCKER_DATA_ROOT; {docker_engine.DEFAULT_ENGINE_ROOT})",
    )
    engine.add_argument(
        "--run-dir",
        help=f"socket, pid file, exec root (env MLC_DOCKER_RUN_DIR; {docker_engine.DEFAULT_ENGINE_RUN})",
    )
    engine.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the engine to answer")

    base = sub.add_parser(
        "base",
        help="make a base image from Debian packages (mmdebstrap, docker import)",
        parents=late,
    )
    base.add_argument("--suite", default="trixie", help="Debian suite (default trixie: Python 3.13)")
    base.add_argument("--tag", default=None, help="image tag (default mlc-devops/base:SUITE)")
    base.add_argument("--mirror", default=debian_base.DEBIAN_MIRROR, help="Debian mirror")
    base.add_argument("--force", action="store_true", help="rebuild even if the tag exists")


def docker_env(env: Mapping[str, str]) -> dict[str, str]:
    """The docker client's environment.

    DOCKER_HOST as given; else our engine's socket when it exists and no system engine's does.
    """
    out = dict(env)
    if not out.get("DOCKER_HOST"):
        ours = docker_engine.Engine.from_env(env)
        if ours.socket.exists() and not Path("/var/run/docker.sock").exists():
            out["DOCKER_HOST"] = ours.host
    return out


def _engine(args: argparse.Namespace, env: Mapping[str, str]) -> docker_engine.Engine:
    default = docker_engine.Engine.from_env(env)
    return docker_engine.Engine(
        Path(args.data_root) if args.data_root else default.data_root,
        Path(args.run_dir) if args.run_dir else default.run_dir,
    )


def _git_revision(context: Path, env: Mapping[str, str]) -> str | None:
    if run_mod.which("git", env) is None:
        return None
    result = run_mod.run(["git", "-C", str(context), "rev-parse", "HEAD"], env=env, check=False)
    text = result.output.strip()
    return text if result.returncode == 0 and len(text) == 40 else None


def _settings_json(machine: docker_build.ImageBuildSettings) -> dict[str, dict[str, str | None]]:
    """Each machine setting of the build, as ``{"value": ..., "origin": ...}``."""
    return {name: {"value": r.value, "origin": r.origin} for name, r in machine.origins.items()}


def _build(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    console = Console.from_env(env)
    context = Path(args.context) if args.context else docker_build.find_context(Path.cwd())
    if context is None:
        raise UsageError(
            "no docker/Dockerfile here or above",
            hint="run in the mlc-devops checkout or pass --context DIR",
        )
    context = context.resolve()
    dockerfile = Path(args.file).resolve() if args.file else context / docker_build.DOCKERFILE
    if not dockerfile.is_file():
        raise UsageError(f"no Dockerfile at {dockerfile}")
    machine = docker_build.resolve_image_build_settings(
        {
            "base_image": args.base_image,
            "ca_certs": args.ca_cert,
            "rust_source": args.rust_source,
            "network": args.network,
            "builder": args.builder,
        },
        env,
    )
    for cert in machine.ca_certs:
        if not cert.is_file():
            origin = machine.origins["ca_certs"].origin
            raise UsageError(f"no CA certificate at {cert} ({'--ca-cert' if origin == 'flag' else origin})")
    build_args = docker_build.image_build_args(
        python_version=args.python_version,
        base_image=machine.base_image,
        apt_mirror=args.apt_mirror,
        rust_source=machine.rust_source,
        rust_toolchain=args.rust_toolchain,
        rustup_dist_server=args.rustup_dist_server,
        pip_index_url=args.pip_index_url,
        version=args.label_version or __version__,
        revision=args.revision or (None if args.dry_run else _git_revision(context, env)),
        created=docker_build.created_timestamp(env),
        extra=args.build_arg,
    )
    tags = tuple(args.tags or (docker_build.DEFAULT_IMAGE,))
    certs = list(machine.ca_certs)
    from_env = docker_build.settings_from_environment(machine)
    if from_env:
        console.say("image build settings from the environment: " + " ".join(from_env))
    client_env = docker_build.docker_build_env(machine.builder, docker_env(env))
    with tempfile.TemporaryDirectory(prefix="mlc-image-context-") as staging:
        build_context = docker_build.stage_context(context, Path(staging), certs) if certs else context
        spec = docker_build.ImageBuild(
            context=build_context,
            tags=tags,
            dockerfile=(build_context / docker_build.DOCKERFILE) if certs and not args.file else dockerfile,
            build_args=build_args,
            network=machine.network,
            builder=machine.builder,
            no_cache=args.no_cache,
            pull=args.pull,
        )
        docker = args.docker or "docker"
        if machine.builder == "buildkit" and args.docker is None and not args.dry_run:
            docker = docker_build.buildkit_client(client_env) or docker
        command = docker_build.docker_build_command(spec, docker)
        if args.dry_run:
            if args.json:
                plan = {
                    "schema": "mlc-devops/image-build-plan/v1",
                    "tags": list(tags),
                    "build_args": dict(build_args),
                    "settings": _settings_json(machine),
                    "command": command,
                }
                print(json.dumps(plan, indent=2))
            else:
                print(run_mod.format_command(command))
            return 0
        run_mod.require(docker, client_env, hint="install Docker (apt-get install docker.io)")
        started = time.monotonic()
        with console.phase("docker build " + tags[0]):
            run_mod.run(
                command,
                env=client_env,
                capture=False,
                on_line=console.say,
                what="docker build",
                echo=True,
            )
        seconds = time.monotonic() - started
    size = docker_build.image_size(tags[0], client_env, docker)
    if args.json:
        payload = {
            "schema": "mlc-devops/image-build/v1",
            "tags": list(tags),
            "seconds": round(seconds, 1),
            "size_bytes": size,
            "build_args": dict(build_args),
            "settings": _settings_json(machine),
            "command": command,
        }
        print(json.dumps(payload, indent=2))
    else:
        print(f"built {', '.join(tags)}: {size / 1e9:.2f} GB in {seconds:.0f}s")
    return 0


def _tags(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    rules = tuple(args.rule) if args.rule else image_tags.SPEC_TAG_RULES
    flavor = tuple(args.flavor) if args.flavor is not None else image_tags.SPEC_FLAVOR
    if args.show_rules:
        if args.json:
            print(
                json.dumps(
                    {
                        "schema": "mlc-devops/image-tag-rules/v1",
                        "tags": list(rules),
                        "flavor": list(flavor),
                    },
                    indent=2,
                )
            )
        else:
            print(
                "tags: |\n"
                + "".join(f"  {line}\n" for line in rules)
                + "flavor: |\n"
                + "".join(f"  {line}\n" for line in flavor),
                end="",
            )
        return 0
    short_sha_length = options.resolve_short_sha_length(env)
    names = image_tags.compute_tags(
        args.ref,
        args.sha,
        default_branch=args.default_branch,
        rules=rules,
        flavor=flavor,
        images=args.image,
        short_sha_length=short_sha_length,
    )
    if args.json:
        print(
            json.dumps(
                {
                    "schema": "mlc-devops/image-tags/v1",
                    "ref": args.ref,
                    "sha": args.sha,
                    "tags": names,
                },
                indent=2,
            )
        )
    else:
        for name in names:
            print(name)
    return 0


def _engine_action(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    engine = _engine(args, env)
    client_env = docker_engine.engine_env(engine, env)
    version: str | None
    if args.engine_action == "start":
        version = docker_engine.start_engine(engine, env, timeout=args.timeout)
        print(
            f"dockerd {version} answers on {engine.host} (data root {engine.data_root})",
            file=sys.stderr,
        )
    elif args.engine_action == "stop":
        docker_engine.stop_engine(engine, env)
        print(f"stopped the dockerd of {engine.host}", file=sys.stderr)
        if args.json:  # nothing answers there now: no version
            print(json.dumps({"schema": "mlc-devops/engine/v1", "docker_host": engine.host, "version": None}, indent=2))
        return 0
    else:
        version = docker_engine.engine_answers(client_env)
        if version is None:
            print(f"no engine answers on {engine.host}", file=sys.stderr)
            return 1
    if args.json:
        print(
            json.dumps(
                {"schema": "mlc-devops/engine/v1", "docker_host": engine.host, "version": version},
                indent=2,
            )
        )
    else:
        print(f"DOCKER_HOST={engine.host}")
    return 0


def _base(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    console = Console.from_env(env)
    tag = args.tag or f"mlc-devops/base:{args.suite}"
    client_env = docker_env(env)
    run_mod.require("docker", client_env, hint="install Docker (apt-get install docker.io)")
    if not args.force and docker_build.image_exists(tag, client_env):
        print(f"{tag} exists (use --force to make it again)", file=sys.stderr)
        _print_base(args, tag, made=False)
        return 0
    run_mod.require("mmdebstrap", env, hint="apt-get install mmdebstrap")
    with tempfile.TemporaryDirectory(prefix="mlc-base-") as tmp:
        tarball = Path(tmp) / f"{args.suite}.tar"
        with console.phase(f"mmdebstrap {args.suite}"):
            run_mod.run(
                debian_base.mmdebstrap_command(args.suite, tarball, mirror=args.mirror),
                env=env,
                capture=False,
                on_line=console.say,
                what="mmdebstrap",
                echo=True,
            )
        with console.phase(f"docker import {tag}"):
            run_mod.run(
                debian_base.docker_import_command(tarball, tag),
                env=client_env,
                what="docker import",
                echo=True,
            )
    _print_base(args, tag, made=True)
    return 0


def _print_base(args: argparse.Namespace, tag: str, *, made: bool) -> None:
    """The base's tag on stdout; with --json, the tag, its suite and whether this run made it."""
    if args.json:
        print(
            json.dumps(
                {"schema": "mlc-devops/image-base/v1", "tag": tag, "suite": args.suite, "made": made},
                indent=2,
            )
        )
    else:
        print(tag)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    if args.action == "build":
        return _build(args, env)
    if args.action == "tags":
        return _tags(args, env)
    if args.action == "engine":
        return _engine_action(args, env)
    if args.action == "base":
        return _base(args, env)
    raise PrerequisiteMissing(f"unknown image action {args.action!r}")  # pragma: no cover - argparse checks
