"""DSSE envelopes with offline keys (ed25519 or ECDSA P-256), through the cryptography package.

The envelope is the one DSSE v1 recommends and cosign reads::

    {"payloadType": "application/vnd.in-toto+json",
     "payload": "<base64 of the statement>",
     "signatures": [{"keyid": "<sha256 of the public key's DER>", "sig": "<base64>"}]}

Each signature is over ``PAE(payloadType, payload)``. ECDSA signatures are
ASN.1 DER (as cosign writes them); raw ``r||s`` is accepted on verification.
Keys are PEM: PKCS#8 private keys (optionally encrypted) and SubjectPublicKeyInfo
public keys: a cosign public key verifies envelopes here, and our public key
verifies our envelopes in ``cosign verify-blob-attestation``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from mlc_devops import options
from mlc_devops.errors import SignatureInvalid, UsageError
from mlc_devops.supply import _optional

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import (
        EllipticCurvePrivateKey,
        EllipticCurvePublicKey,
    )
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    PrivateKey = Union[Ed25519PrivateKey, EllipticCurvePrivateKey]
    PublicKey = Union[Ed25519PublicKey, EllipticCurvePublicKey]

PAYLOAD_TYPE = "application/vnd.in-toto+json"
ALGORITHMS = ("ecdsa-p256", "ed25519")
DEFAULT_ALGORITHM = "ecdsa-p256"  # what cosign uses, so both tools read each other's keys


@dataclass(frozen=True)
class KeyPair:
    algorithm: str
    private_pem: bytes
    public_pem: bytes
    key_id: str


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: tuple[tuple[str, bytes], ...]  # (keyid, signature)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def b64decode(text: str) -> bytes:
    """Standard or URL-safe base64, padded or not (DSSE verifiers must accept either)."""
    data = text.strip().replace("-", "+").replace("_", "/")
    data += "=" * (-len(data) % 4)
    return base64.b64decode(data, validate=True)


def algorithm_of(key: PublicKey | PrivateKey) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: PLC0415

    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)) and isinstance(key.curve, ec.SECP256R1):
        return "ecdsa-p256"
    raise UsageError(
        f"unsupported key type {type(key).__name__}",
        hint="use an ed25519 or ECDSA P-256 key (mlc-devops keygen; cosign generate-key-pair for a public key)",
    )


def public_der(key: PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: PublicKey) -> str:
    """SHA-256 of the public key's DER SubjectPublicKeyInfo, hex."""
    return hashlib.sha256(public_der(key)).hexdigest()


def generate(algorithm: str = DEFAULT_ALGORITHM, password: bytes | None = None) -> KeyPair:
    _optional.require_cryptography()
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: PLC0415

    private: PrivateKey
    if algorithm == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ecdsa-p256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        raise UsageError(f"unknown key algorithm {algorithm!r}", hint="choose " + " or ".join(ALGORITHMS))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    public = private.public_key()
    public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(algorithm, private_pem, public_pem, key_id(public))


def load_private(pem: bytes, password: bytes | None, *, where: str = "private key") -> PrivateKey:
    _optional.require_cryptography()
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    try:
        key: Any = serialization.load_pem_private_key(pem, password=password or None)
    except TypeError as exc:  # encrypted without a password, or a password for a clear key
        raise UsageError(
            f"cannot open {where}: {exc}",
            hint="set MLC_DEVOPS_KEY_PASSWORD to the key's password (or unset it for a key without one)",
        ) from None
    except ValueError as exc:
        if b"ENCRYPTED SIGSTORE PRIVATE KEY" in pem:
            raise UsageError(
                f"{where} is a cosign private key, which only cosign reads",
                hint="sign with a key from mlc-devops keygen; cosign verifies what it signs",
            ) from None
        raise UsageError(
            f"cannot read {where}: {exc}",
            hint="check the password (MLC_DEVOPS_KEY_PASSWORD) and the file",
        ) from None
    algorithm_of(key)
    return key  # type: ignore[no-any-return]


def load_public(pem: bytes, *, where: str = "public key") -> PublicKey:
    _optional.require_cryptography()
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    try:
        key: Any = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise UsageError(
            f"cannot read {where}: {exc}",
            hint="give a PEM public key (mlc-devops keygen writes one)",
        ) from None
    algorithm_of(key)
    return key  # type: ignore[no-any-return]


def _sign_bytes(key: PrivateKey, message: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415

    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(hashes.SHA256()))
    return key.sign(message)


def _verify_bytes(key: PublicKey, signature: bytes, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: PLC0415

    candidates = [signature]
    if isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
        r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        candidates.append(encode_dss_signature(r, s))
    for candidate in candidates:
        try:
            if isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(candidate, message, ec.ECDSA(hashes.SHA256()))
            else:
                key.verify(candidate, message)
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


def sign(payload: bytes, key: PrivateKey, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
    """A DSSE envelope with one signature by ``key``."""
    signature = _sign_bytes(key, pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [{"keyid": key_id(key.public_key()), "sig": base64.b64encode(signature).decode("ascii")}],
    }


def is_envelope(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "payload" in obj and "payloadType" in obj and "signatures" in obj


def decode(obj: Any) -> Envelope:
    """Parse an envelope; SignatureInvalid if it is malformed (tampered is as good as unsigned)."""
    if not is_envelope(obj):
        raise SignatureInvalid("the provenance is not a DSSE envelope (no payloadType, payload and signatures)")
    try:
        payload = b64decode(str(obj["payload"]))
    except (binascii.Error, ValueError):
        raise SignatureInvalid("the DSSE envelope's payload is not base64") from None
    signatures: list[tuple[str, bytes]] = []
    raw = obj["signatures"]
    if not isinstance(raw, list):
        raise SignatureInvalid("the DSSE envelope's signatures are not a list")
    for entry in raw:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("sig"), str):
            continue
        try:
            signatures.append((str(entry.get("keyid") or ""), b64decode(entry["sig"])))
        except (binascii.Error, ValueError):
            continue
    return Envelope(str(obj["payloadType"]), payload, tuple(signatures))


def verify(obj: Any, key: PublicKey) -> Envelope:
    """The envelope if ``key`` signed PAE(payloadType, payload) in it; else SignatureInvalid."""
    envelope = decode(obj)
    if not envelope.signatures:
        raise SignatureInvalid("the DSSE envelope carries no signature")
    message = pae(envelope.payload_type, envelope.payload)
    for _keyid, signature in envelope.signatures:  # keyid is only a hint: try every signature
        if _verify_bytes(key, signature, message):
            return envelope
    raise SignatureInvalid(
        f"no signature in the DSSE envelope verifies with the given key (key id {key_id(key)[:16]}...)",
        hint="the statement or its signature was altered, or it was signed with another key",
    )


def dumps_line(obj: Any) -> str:
    """One JSON Lines record: compact, keys sorted, newline-terminated."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"


PASSWORD_VARIABLE = options.SETTINGS["key_password"].env


def password_from(env: Mapping[str, str]) -> bytes | None:
    """The private key's password, from ``MLC_DEVOPS_KEY_PASSWORD`` (unset or empty: none)."""
    return options.resolve_key_password(env)


def read_private(path: Path, env: Mapping[str, str]) -> PrivateKey:
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the private key {path}: {exc.strerror or exc}") from None
    return load_private(pem, password_from(env), where=f"the private key {path}")


def read_public(path: Path) -> PublicKey:
    try:
        pem = Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the public key {path}: {exc.strerror or exc}") from None
    return load_public(pem, where=f"the public key {path}")
