"""What a container image holds, for its SBOM: OS, Debian packages, Python packages, Rust toolchain.

Collection runs two docker commands (``image inspect``, and one ``run`` of the
image's own python3 with networking off, which prints what it finds as JSON);
everything else here parses their output and is pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from mlc_devops import run as run_mod
from mlc_devops.errors import BuildFailed, UsageError, ValidationFailed
from mlc_devops.supply.report import mapping

# Runs inside the image with its own python3 (3.8 or later). Reads files and
# asks rustc and cargo for their versions; prints one JSON object.
PROBE = r"""
import json, os, subprocess, sys
try:
    import importlib.metadata as md
except ImportError:
    md = None
def read(*paths):
    for p in paths:
        try:
            with open(p, encoding="utf-8", errors="replace") as fh:
                return fh.read()
        except OSError:
            pass
    return None
def ask(*argv):
    try:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.decode("utf-8", "replace") if r.returncode == 0 else None
dists = []
if md is not None:
    for d in md.distributions():
        m = d.metadata
        dists.append({"name": m.get("Name"), "version": m.get("Version"),
                      "license": m.get("License-Expression") or m.get("License"),
                      "location": str(getattr(d, "_path", "") or "")})
print(json.dumps({
    "os_release": read("/etc/os-release", "/usr/lib/os-release"),
    "dpkg_status": read("/var/lib/dpkg/status"),
    "python_version": sys.version.split()[0],
    "python": dists,
    "rustc": ask("rustc", "-vV"),
    "cargo": ask("cargo", "-V"),
}))
"""


@dataclass(frozen=True)
class DebianPackage:
    name: str
    version: str
    architecture: str
    source: str | None


@dataclass(frozen=True)
class PythonPackage:
    name: str
    version: str
    license: str | None
    location: str


@dataclass(frozen=True)
class RustTool:
    name: str
    version: str
    details: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImageFacts:
    reference: str
    repository: str
    tag: str | None
    image_id: str | None
    manifest_digest: str | None
    architecture: str | None
    oci_labels: Mapping[str, str]
    os_id: str | None
    os_version_id: str | None
    os_pretty_name: str | None
    debian_packages: tuple[DebianPackage, ...]
    python_version: str | None
    python_packages: tuple[PythonPackage, ...]
    rust_toolchain: tuple[RustTool, ...]


def split_reference(reference: str) -> tuple[str, str | None, str | None]:
    """``registry/repo:tag@sha256:...`` -> (repository, tag, digest)."""
    digest = None
    rest = reference
    if "@" in rest:
        rest, digest = rest.split("@", 1)
    tag = None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
    return rest, tag, digest


def parse_os_release(text: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (text or "").splitlines():
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or key.strip().startswith("#"):
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def parse_dpkg_status(text: str | None) -> tuple[DebianPackage, ...]:
    """Installed packages of a dpkg status file (paragraphs of ``Field: value`` lines)."""
    packages: list[DebianPackage] = []
    for paragraph in re.split(r"\n\s*\n", text or ""):
        fields: dict[str, str] = {}
        current = None
        for line in paragraph.splitlines():
            if line[:1] in (" ", "\t"):
                continue  # continuation of a multi-line field (Description, Conffiles)
            key, sep, value = line.partition(":")
            if sep:
                current = key.strip()
                fields[current] = value.strip()
        status = fields.get("Status", "").split()
        if not fields.get("Package") or not fields.get("Version") or status[-1:] != ["installed"]:
            continue
        source = fields.get("Source")
        packages.append(
            DebianPackage(
                name=fields["Package"],
                version=fields["Version"],
                architecture=fields.get("Architecture", "all"),
                source=source.split()[0] if source else None,
            )
        )
    return tuple(sorted(packages, key=lambda p: (p.name, p.architecture)))


def parse_rustc(text: str | None) -> RustTool | None:
    """``rustc -vV``: ``rustc 1.78.0 (9b00956e5 2024-04-29)``, then ``key: value`` lines."""
    if not text or not text.strip():
        return None
    lines = text.strip().splitlines()
    details = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep and key.strip() in ("commit-hash", "commit-date", "host", "release", "LLVM version"):
            details[key.strip().lower().replace(" ", "-")] = value.strip()
    words = lines[0].split()
    version = details.get("release") or (words[1] if len(words) > 1 else "unknown")
    return RustTool("rustc", version, details)


def parse_cargo(text: str | None) -> RustTool | None:
    """``cargo -V``: ``cargo 1.78.0 (54d8815d0 2024-03-26)``."""
    if not text or not text.strip():
        return None
    words = text.strip().split()
    return RustTool("cargo", words[1] if len(words) > 1 else "unknown", {})


def parse_python(entries: Sequence[Any]) -> tuple[PythonPackage, ...]:
    out: dict[tuple[str, str, str], PythonPackage] = {}
    for entry in entries:
        if not isinstance(entry, Mapping) or not entry.get("name") or not entry.get("version"):
            continue
        pkg = PythonPackage(
            name=str(entry["name"]),
            version=str(entry["version"]),
            license=str(entry["license"]) if entry.get("license") else None,
            location=str(entry.get("location") or ""),
        )
        out[(pkg.name.lower(), pkg.version, pkg.location)] = pkg
    return tuple(out[k] for k in sorted(out))


def parse_inspect(text: str) -> Mapping[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildFailed(f"docker image inspect printed something that is not JSON: {exc}") from None
    if isinstance(data, list):
        data = data[0] if data else {}
    if not isinstance(data, Mapping):
        raise BuildFailed("docker image inspect printed no image")
    return data


def facts_from(reference: str, inspect: Mapping[str, Any], probe: Mapping[str, Any]) -> ImageFacts:
    """Combine ``docker image inspect`` and the probe's JSON into :class:`ImageFacts` (pure)."""
    repository, tag, digest = split_reference(reference)
    repo_digests = [str(d) for d in inspect.get("RepoDigests") or []]
    if digest is None:
        for entry in repo_digests:
            repo, _, value = entry.partition("@")
            if repo == repository or len(repo_digests) == 1:
                digest = value
                break
    config = mapping(inspect.get("Config"))
    labels = mapping(config.get("Labels"))
    prefix = "org.opencontainers.image."
    oci = {str(k)[len(prefix) :]: str(v) for k, v in labels.items() if str(k).startswith(prefix)}
    os_release = parse_os_release(probe.get("os_release"))
    rust = [t for t in (parse_rustc(probe.get("rustc")), parse_cargo(probe.get("cargo"))) if t is not None]
    return ImageFacts(
        reference=reference,
        repository=repository,
        tag=tag,
        image_id=str(inspect["Id"]) if inspect.get("Id") else None,
        manifest_digest=digest,
        architecture=str(inspect["Architecture"]) if inspect.get("Architecture") else None,
        oci_labels=oci,
        os_id=os_release.get("ID"),
        os_version_id=os_release.get("VERSION_ID"),
        os_pretty_name=os_release.get("PRETTY_NAME"),
        debian_packages=parse_dpkg_status(probe.get("dpkg_status")),
        python_version=str(probe["python_version"]) if probe.get("python_version") else None,
        python_packages=parse_python(probe.get("python") or []),
        rust_toolchain=tuple(rust),
    )


Runner = Callable[..., run_mod.Result]


def collect(
    reference: str, env: Mapping[str, str], *, docker: str = "docker", runner: Runner | None = None
) -> ImageFacts:
    """Ask the Docker engine about ``reference`` and run the probe inside it (no network)."""
    runner = runner or run_mod.run
    if not reference or reference.startswith("-"):
        raise UsageError(f"not an image reference: {reference!r}")
    hint = "is the image built or pulled, and is the Docker engine running (DOCKER_HOST)?"
    inspected = runner([docker, "image", "inspect", reference], env=env, check=False)
    if inspected.returncode != 0:
        raise UsageError(f"docker cannot find the image {reference}", hint=hint, detail=inspected.output.strip())
    inspect = parse_inspect(inspected.output)
    probe = runner(
        [
            docker,
            "run",
            "--rm",
            "--network",
            "none",
            "--entrypoint",
            "python3",
            reference,
            "-c",
            PROBE,
        ],
        env=env,
        check=False,
    )
    if probe.returncode != 0:
        raise ValidationFailed(
            f"cannot list what the image {reference} holds: its python3 probe failed (exit {probe.returncode})",
            hint="the image needs python3 (3.8 or later) on its PATH",
            detail=probe.output.strip()[-2000:],
        )
    line = next((ln for ln in reversed(probe.output.strip().splitlines()) if ln.startswith("{")), "")
    try:
        data = json.loads(line)
    except json.JSONDecodeError:
        raise ValidationFailed(
            f"the probe in {reference} printed no JSON", detail=probe.output.strip()[-2000:]
        ) from None
    return facts_from(reference, inspect, data)
