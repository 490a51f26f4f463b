"""DSSE: PAE, signing and verification with ed25519 and ECDSA P-256, keys and passwords."""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import jsonshapes
import pytest

from mlc_devops.cli import main
from mlc_devops.errors import SignatureInvalid, UsageError
from mlc_devops.supply import dsse

# The test vector of the DSSE protocol (secure-systems-lab/dsse, protocol.md).
VECTOR_X = 46950820868899156662930047687818585632848591499744589407958293238635476079160
VECTOR_Y = 5640078356564379163099075877009565129882514886557779369047442380624545832820
VECTOR_ENVELOPE = {
    "payload": "aGVsbG8gd29ybGQ=",
    "payloadType": "http://example.com/HelloWorld",
    "signatures": [{"sig": "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="}],
}


def _vector_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.EllipticCurvePublicNumbers(VECTOR_X, VECTOR_Y, ec.SECP256R1()).public_key()


def test_pae_matches_the_spec() -> None:
    assert (
        dsse.pae("http://example.com/HelloWorld", b"hello world")
        == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert dsse.pae("", b"") == b"DSSEv1 0  0 "


def test_the_spec_test_vector_verifies() -> None:
    envelope = dsse.verify(VECTOR_ENVELOPE, _vector_key())
    assert envelope.payload == b"hello world"


def test_the_spec_test_vector_rejects_a_changed_payload() -> None:
    changed = {**VECTOR_ENVELOPE, "payload": base64.b64encode(b"hello world!").decode()}
    with pytest.raises(SignatureInvalid):
        dsse.verify(changed, _vector_key())


@pytest.mark.parametrize("algorithm", dsse.ALGORITHMS)
def test_sign_and_verify(algorithm: str) -> None:
    pair = dsse.generate(algorithm)
    key = dsse.load_private(pair.private_pem, None)
    public = dsse.load_public(pair.public_pem)
    envelope = dsse.sign(b'{"a": 1}', key)
    assert envelope["payloadType"] == dsse.PAYLOAD_TYPE
    assert envelope["signatures"][0]["keyid"] == pair.key_id == dsse.key_id(public)
    assert dsse.verify(envelope, public).payload == b'{"a": 1}'


@pytest.mark.parametrize("algorithm", dsse.ALGORITHMS)
def test_tampering_is_rejected(algorithm: str) -> None:
    pair = dsse.generate(algorithm)
    key, public = dsse.load_private(pair.private_pem, None), dsse.load_public(pair.public_pem)
    envelope = dsse.sign(b"payload", key)
    tampered_payload = {**envelope, "payload": base64.b64encode(b"payloaD").decode()}
    tampered_type = {**envelope, "payloadType": "application/json"}
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[-1] ^= 1
    tampered_sig = {**envelope, "signatures": [{"keyid": "", "sig": base64.b64encode(bytes(sig)).decode()}]}
    for bad in (tampered_payload, tampered_type, tampered_sig, {**envelope, "signatures": []}):
        with pytest.raises(SignatureInvalid):
            dsse.verify(bad, public)
    other = dsse.load_public(dsse.generate(algorithm).public_pem)
    with pytest.raises(SignatureInvalid, match="verifies with the given key"):
        dsse.verify(envelope, other)


def test_url_safe_base64_and_keyid_are_only_hints() -> None:
    pair = dsse.generate("ed25519")
    envelope = dsse.sign(b"\xff\xfe" * 40, dsse.load_private(pair.private_pem, None))
    envelope["payload"] = envelope["payload"].replace("+", "-").replace("/", "_").rstrip("=")
    envelope["signatures"][0]["keyid"] = "not-this-key"
    assert dsse.verify(envelope, dsse.load_public(pair.public_pem)).payload == b"\xff\xfe" * 40


def test_malformed_envelopes() -> None:
    public = dsse.load_public(dsse.generate().public_pem)
    with pytest.raises(SignatureInvalid, match="not a DSSE envelope"):
        dsse.verify({"payload": "x"}, public)
    with pytest.raises(SignatureInvalid, match="not base64"):
        dsse.verify({"payload": "!!!", "payloadType": "x", "signatures": []}, public)


def test_encrypted_private_key() -> None:
    pair = dsse.generate("ecdsa-p256", b"s3cret")
    assert b"ENCRYPTED" in pair.private_pem
    assert dsse.load_private(pair.private_pem, b"s3cret") is not None
    with pytest.raises(UsageError, match="encrypted") as caught:
        dsse.load_private(pair.private_pem, None)
    assert "MLC_DEVOPS_KEY_PASSWORD" in caught.value.one_line()
    with pytest.raises(UsageError):
        dsse.load_private(pair.private_pem, b"wrong")


def test_unsupported_keys_are_refused() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = ec.generate_private_key(ec.SECP384R1())
    pem = p384.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(UsageError, match="unsupported key type"):
        dsse.load_private(pem, None)
    with pytest.raises(UsageError, match="cosign private key"):
        dsse.load_private(
            b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nxx\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n", None
        )
    with pytest.raises(UsageError, match="cannot read the public key"):
        dsse.load_public(b"not a key", where="the public key")
    with pytest.raises(UsageError, match="unknown key algorithm"):
        dsse.generate("rsa")


def test_password_from_env() -> None:
    assert dsse.password_from({}) is None
    assert dsse.password_from({"MLC_DEVOPS_KEY_PASSWORD": ""}) is None
    assert dsse.password_from({"MLC_DEVOPS_KEY_PASSWORD": "pw"}) == b"pw"


# --- keygen -------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_only_the_owner_reads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = tmp_path / "keys" / "release"
    assert main(["keygen", "-o", str(prefix), "--algorithm", "ed25519", "--json"]) == 0
    info = jsonshapes.check_text(capsys.readouterr().out)
    private, public = Path(info["private_key"]), Path(info["public_key"])
    assert private == prefix.with_name("release.key") and public == prefix.with_name("release.pub")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert stat.S_IMODE(public.stat().st_mode) == 0o644
    assert info["algorithm"] == "ed25519" and not info["encrypted"]
    assert dsse.key_id(dsse.load_public(public.read_bytes())) == info["key_id"]


def test_keygen_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = str(tmp_path / "k")
    assert main(["keygen", "-o", prefix]) == 0
    before = Path(prefix + ".key").read_bytes()
    assert main(["keygen", "-o", prefix]) == 2
    assert "already exist" in capsys.readouterr().err
    assert Path(prefix + ".key").read_bytes() == before
    assert main(["keygen", "-o", prefix, "--force"]) == 0
    assert Path(prefix + ".key").read_bytes() != before


def test_missing_cryptography_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.ec", None)
    assert main(["keygen", "-o", str(tmp_path / "k")]) == 3
    assert "pip install 'mlc-devops[supply-chain]'" in capsys.readouterr().err
    assert not (tmp_path / "k.key").exists()
