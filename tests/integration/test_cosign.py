"""cosign for real, offline, with a key pair: the commands the pipeline runs, exercised here.

- wheel blobs: ``cosign sign-blob --bundle`` / ``cosign verify-blob``;
- our DSSE provenance verified by ``cosign verify-blob-attestation``, and
  cosign's ``attest-blob`` envelope verified by ``mlc-devops verify``;
- an image in a local registry (Debian's docker-registry on 127.0.0.1):
  ``cosign sign``/``verify`` and ``attest``/``verify-attestation`` for the
  provenance and the SBOM.

The pipeline signs keyless (Fulcio and Rekor); those services are out of reach
here, so the key pair stands in and transparency-log upload is off. Skipped,
with the reason, where cosign or docker-registry is not installed.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from standin import stop
from unit.test_supply_helpers import SOURCE_COMMIT, make_wheel, write_report

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        shutil.which("cosign") is None, reason="cosign is not installed (Debian trixie: apt-get install cosign)"
    ),
]

needs_registry = pytest.mark.skipif(
    shutil.which("docker-registry") is None,
    reason="docker-registry is not installed (Debian: apt-get install docker-registry)",
)


def _env(home: Path) -> dict[str, str]:
    # COSIGN_PASSWORD empty: the key pair has no password. HOME: cosign's caches stay in the test.
    return {**os.environ, "COSIGN_PASSWORD": "", "HOME": str(home), "TUF_ROOT": str(home / ".sigstore")}


def cosign(*args: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["cosign", *args], cwd=cwd, env=_env(home), capture_output=True, text=True, timeout=120, check=False
    )


def tool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlc_devops", *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("cosign")
    home = base / "home"
    home.mkdir()
    proc = cosign("generate-key-pair", cwd=base, home=home)
    assert proc.returncode == 0, proc.stderr
    wheel = make_wheel(base / "dist")
    write_report(wheel)
    assert tool("keygen", "-o", str(base / "ours")).returncode == 0
    return {"base": base, "home": home, "wheel": wheel, "ours": base / "ours"}


# --- wheel blobs ---------------------------------------------------------------------------


def test_sign_blob_and_verify_blob(work: dict[str, Path], tmp_path: Path) -> None:
    base, home = work["base"], work["home"]
    wheel = tmp_path / work["wheel"].name
    shutil.copyfile(work["wheel"], wheel)
    bundle = tmp_path / (wheel.name + ".bundle")
    signed = cosign(
        "sign-blob",
        "--yes",
        "--key",
        str(base / "cosign.key"),
        "--tlog-upload=false",
        "--bundle",
        str(bundle),
        str(wheel),
        cwd=base,
        home=home,
    )
    assert signed.returncode == 0, signed.stderr
    verify = [
        "verify-blob",
        "--key",
        str(base / "cosign.pub"),
        "--bundle",
        str(bundle),
        "--insecure-ignore-tlog=true",
        str(wheel),
    ]
    ok = cosign(*verify, cwd=base, home=home)
    assert ok.returncode == 0, ok.stderr
    assert "Verified OK" in ok.stderr
    with open(wheel, "ab") as fh:
        fh.write(b"\0")
    assert cosign(*verify, cwd=base, home=home).returncode != 0


def test_the_release_jobs_signing_then_release_assembly(work: dict[str, Path], tmp_path: Path) -> None:
    """The release job's loop (keyed here instead of keyless), then `mlc-devops release` ships both bundles."""
    base, home = work["base"], work["home"]
    dist = tmp_path / "dist"
    dist.mkdir()
    wheel = dist / work["wheel"].name
    shutil.copyfile(work["wheel"], wheel)
    report = work["wheel"].with_name(work["wheel"].name + ".build.json")
    shutil.copyfile(report, dist / report.name)
    key = ("--key", str(base / "cosign.key"), "--tlog-upload=false")
    assert (
        cosign(
            "sign-blob", "--yes", *key, "--bundle", f"{wheel}.sigstore.json", str(wheel), cwd=base, home=home
        ).returncode
        == 0
    )
    predicate = dist / (wheel.name + ".slsa-predicate.json")
    assert tool("attest", str(wheel), "--predicate-only", "-o", str(predicate)).returncode == 0
    attested = cosign(
        "attest-blob", "--yes", *key, "--type", "slsaprovenance1", "--predicate", str(predicate),
        "--bundle", f"{wheel}.intoto.sigstore.json", str(wheel), cwd=base, home=home,
    )  # fmt: skip
    assert attested.returncode == 0, attested.stderr
    version = wheel.name.split("-")[1]
    out = tmp_path / "release"
    proc = tool("release", str(dist), "--version", f"v{version}", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    shipped = sorted(p.name for p in out.iterdir())
    assert f"{wheel.name}.sigstore.json" in shipped and f"{wheel.name}.intoto.sigstore.json" in shipped
    assert f"{wheel.name}.slsa-predicate.json" not in shipped
    ok = cosign(
        "verify-blob-attestation", "--key", str(base / "cosign.pub"), "--bundle",
        str(out / f"{wheel.name}.intoto.sigstore.json"), "--type", "slsaprovenance1",
        "--insecure-ignore-tlog=true", str(out / wheel.name), cwd=base, home=home,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False)
    assert sums.returncode == 0, sums.stdout + sums.stderr


def test_cosign_verifies_our_dsse_provenance(work: dict[str, Path], tmp_path: Path) -> None:
    base, home, wheel, ours = work["base"], work["home"], work["wheel"], work["ours"]
    envelope = tmp_path / "wheel.intoto.jsonl"
    proc = tool("attest", str(wheel), "--key", f"{ours}.key", "-o", str(envelope))
    assert proc.returncode == 0, proc.stderr
    args = [
        "verify-blob-attestation",
        "--key",
        f"{ours}.pub",
        "--signature",
        str(envelope),
        "--type",
        "slsaprovenance1",
        "--insecure-ignore-tlog=true",
    ]
    ok = cosign(*args, str(wheel), cwd=base, home=home)
    assert ok.returncode == 0, ok.stderr
    other = make_wheel(tmp_path / "other", version="9.9.9")
    assert cosign(*args, str(other), cwd=base, home=home).returncode != 0
    wrong_key = ["verify-blob-attestation", "--key", str(base / "cosign.pub"), *args[3:]]
    assert cosign(*wrong_key, str(wheel), cwd=base, home=home).returncode != 0


def test_mlc_devops_verifies_cosigns_attestation(work: dict[str, Path], tmp_path: Path) -> None:
    base, home, wheel = work["base"], work["home"], work["wheel"]
    predicate = tmp_path / "predicate.json"
    assert tool("attest", str(wheel), "--predicate-only", "-o", str(predicate)).returncode == 0
    envelope = tmp_path / "cosign.intoto.json"
    proc = cosign(
        "attest-blob",
        "--yes",
        "--key",
        str(base / "cosign.key"),
        "--tlog-upload=false",
        "--predicate",
        str(predicate),
        "--type",
        "slsaprovenance1",
        "--output-signature",
        str(envelope),
        str(wheel),
        cwd=base,
        home=home,
    )
    assert proc.returncode == 0, proc.stderr
    ok = tool(
        "verify",
        str(wheel),
        "--provenance",
        str(envelope),
        "--key",
        str(base / "cosign.pub"),
        "--source-commit",
        SOURCE_COMMIT,
    )
    assert ok.returncode == 0, ok.stderr
    assert tool("verify", str(wheel), "--provenance", str(envelope), "--key", f"{work['ours']}.pub").returncode == 7


# --- an image in a local registry ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's docker-registry on 127.0.0.1 only, with its own config and storage."""
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (Debian: apt-get install docker-registry)")
    base = tmp_path_factory.mktemp("registry")
    port = _free_port()
    config = base / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {base / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n"
    )
    log = open(base / "registry.log", "wb")  # noqa: SIM115 - open for the registry's whole life
    proc = subprocess.Popen(["docker-registry", "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}/v2/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"docker-registry did not start: {(base / 'registry.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield address
    finally:
        stop(proc)
        log.close()


def _request(
    method: str, url: str, data: bytes | None = None, headers: Mapping[str, str] | None = None
) -> dict[str, str]:
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))  # noqa: S310 - local registry
    with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 - local registry
        return dict(resp.headers)


def _push_blob(registry: str, repo: str, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    location = _request("POST", f"http://{registry}/v2/{repo}/blobs/uploads/")["Location"]
    if location.startswith("/"):
        location = f"http://{registry}{location}"
    separator = "&" if "?" in location else "?"
    _request("PUT", f"{location}{separator}digest={digest}", data, {"Content-Type": "application/octet-stream"})
    return digest


def push_image(registry: str, repo: str, tag: str, files: Mapping[str, bytes]) -> str:
    """A minimal OCI image (one layer) pushed through the registry's HTTP API; returns the manifest digest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    layer_tar = raw.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_tar).hexdigest()]},
        },
        sort_keys=True,
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _push_blob(registry, repo, config),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": _push_blob(registry, repo, layer),
                    "size": len(layer),
                }
            ],
        },
        sort_keys=True,
    ).encode()
    _request(
        "PUT",
        f"http://{registry}/v2/{repo}/manifests/{tag}",
        manifest,
        {"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


@needs_registry
def test_sign_and_verify_an_image_in_a_local_registry(work: dict[str, Path], registry: str) -> None:
    base, home = work["base"], work["home"]
    digest = push_image(registry, "mlc-ai/mlc-llm-dev", "sha-test", {"etc/mlc-devops-test": b"stand-in image\n"})
    ref = f"{registry}/mlc-ai/mlc-llm-dev@{digest}"
    signed = cosign("sign", "--yes", "--key", str(base / "cosign.key"), "--tlog-upload=false", ref, cwd=base, home=home)
    assert signed.returncode == 0, signed.stderr
    ok = cosign("verify", "--key", str(base / "cosign.pub"), "--insecure-ignore-tlog=true", ref, cwd=base, home=home)
    assert ok.returncode == 0, ok.stderr
    claims = json.loads(ok.stdout)
    assert claims[0]["critical"]["image"]["docker-manifest-digest"] == digest

    unsigned = push_image(registry, "mlc-ai/mlc-llm-dev", "sha-unsigned", {"etc/other": b"x\n"})
    not_signed = cosign(
        "verify",
        "--key",
        str(base / "cosign.pub"),
        "--insecure-ignore-tlog=true",
        f"{registry}/mlc-ai/mlc-llm-dev@{unsigned}",
        cwd=base,
        home=home,
    )
    assert not_signed.returncode != 0
    wrong_key = cosign(
        "verify", "--key", f"{work['ours']}.pub", "--insecure-ignore-tlog=true", ref, cwd=base, home=home
    )
    assert wrong_key.returncode != 0


@needs_registry
def test_attest_provenance_and_sbom_to_an_image(work: dict[str, Path], registry: str, tmp_path: Path) -> None:
    base, home, wheel = work["base"], work["home"], work["wheel"]
    digest = push_image(registry, "mlc-ai/attested", "v1", {"etc/attested": b"y\n"})
    ref = f"{registry}/mlc-ai/attested@{digest}"
    predicate = tmp_path / "predicate.json"
    assert tool("attest", str(wheel), "--predicate-only", "-o", str(predicate)).returncode == 0
    sbom = tmp_path / "wheel.cdx.json"
    assert tool("sbom", str(wheel), "-o", str(sbom)).returncode == 0
    for kind, path in (("slsaprovenance1", predicate), ("cyclonedx", sbom)):
        made = cosign(
            "attest",
            "--yes",
            "--key",
            str(base / "cosign.key"),
            "--tlog-upload=false",
            "--type",
            kind,
            "--predicate",
            str(path),
            ref,
            cwd=base,
            home=home,
        )
        assert made.returncode == 0, made.stderr
        checked = cosign(
            "verify-attestation",
            "--key",
            str(base / "cosign.pub"),
            "--insecure-ignore-tlog=true",
            "--type",
            kind,
            ref,
            cwd=base,
            home=home,
        )
        assert checked.returncode == 0, checked.stderr
        envelope = json.loads(checked.stdout.splitlines()[0])
        import base64

        statement = json.loads(base64.b64decode(envelope["payload"]))
        assert statement["subject"][0]["digest"]["sha256"] == digest.split(":", 1)[1]
