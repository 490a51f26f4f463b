"""``mlc-devops keygen``: a key pair for offline signing (ECDSA P-256 or ed25519, PEM)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from mlc_devops import fsutil
from mlc_devops.commands import _args
from mlc_devops.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o",
        "--output",
        default="mlc-devops",
        metavar="PREFIX",
        help="writes PREFIX.key (private, mode 0600) and PREFIX.pub (default: mlc-devops)",
    )
    parser.add_argument(
        "--algorithm",
        default="ecdsa-p256",
        choices=("ecdsa-p256", "ed25519"),
        help="default: ecdsa-p256, as cosign",
    )
    parser.add_argument("--force", action="store_true", help="replace existing key files")


def write_private(target: Path, data: bytes) -> None:
    """Like fsutil.write_bytes_atomic, but the file is 0600 from its creation (mkstemp's mode) on."""
    fsutil.ensure_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(target)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from mlc_devops.supply import dsse  # noqa: PLC0415

    prefix = _args.output_not_stdout(args.output, "keygen writes two files, PREFIX.key and PREFIX.pub")
    private_path = prefix.with_name(prefix.name + ".key")
    public_path = prefix.with_name(prefix.name + ".pub")
    existing = [str(p) for p in (private_path, public_path) if p.exists()]
    if existing and not args.force:
        raise UsageError(
            f"{' and '.join(existing)} already exist",
            hint="choose another -o PREFIX, or pass --force",
        )
    password = dsse.password_from(env)
    pair = dsse.generate(args.algorithm, password)
    write_private(private_path, pair.private_pem)
    fsutil.write_bytes_atomic(public_path, pair.public_pem)
    if args.json:
        print(
            json.dumps(
                {
                    "schema": "mlc-devops/keygen/v1",
                    "algorithm": pair.algorithm,
                    "private_key": str(private_path),
                    "public_key": str(public_path),
                    "key_id": pair.key_id,
                    "encrypted": password is not None,
                },
                indent=2,
            )
        )
    else:
        print(
            f"wrote {private_path} and {public_path} ({pair.algorithm}, key id {pair.key_id[:16]}...)",
            file=sys.stderr,
        )
        if password is None:
            print(
                f"note: the private key is not encrypted; set {dsse.PASSWORD_VARIABLE} to encrypt it",
                file=sys.stderr,
            )
    return 0
