"""The base image from Debian packages, no registry needed: mmdebstrap's and docker import's command lines."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from mlc_devops.errors import UsageError

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
