"""keygen, attest, sign and verify through the CLI; each tampering is rejected with its own exit code."""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from unit.test_supply_helpers import SOURCE_COMMIT, TVM_COMMIT, make_wheel, write_report

from mlc_devops.cli import main
from mlc_devops.errors import EXIT_DIGEST, EXIT_SIGNATURE, EXIT_SOURCE, EXIT_SUBJECT, EXIT_USAGE


@dataclass
class Signed:
    wheel: Path
    provenance: Path
    private: Path
    public: Path


def _setup(tmp_path: Path, algorithm: str = "ecdsa-p256") -> Signed:
    wheel = make_wheel(tmp_path / "dist")
    write_report(wheel)
    keys = tmp_path / "keys" / "release"
    assert main(["keygen", "-o", str(keys), "--algorithm", algorithm]) == 0
    statement = tmp_path / "statement.intoto.jsonl"
    assert main(["attest", str(wheel), "-o", str(statement)]) == 0
    signed = wheel.with_name(wheel.name + ".intoto.jsonl")
    assert main(["sign", str(statement), "--key", f"{keys}.key", "-o", str(signed)]) == 0
    return Signed(wheel, signed, Path(f"{keys}.key"), Path(f"{keys}.pub"))


@pytest.fixture(params=["ecdsa-p256", "ed25519"])
def signed(tmp_path: Path, request: pytest.FixtureRequest) -> Signed:
    return _setup(tmp_path, request.param)


def _verify(s: Signed, *extra: str, artifact: Path | None = None, provenance: Path | None = None) -> int:
    return main(
        [
            "verify",
            str(artifact or s.wheel),
            "--provenance",
            str(provenance or s.provenance),
            "--key",
            str(s.public),
            *extra,
        ]
    )


def _envelope(s: Signed) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(s.provenance.read_text())
    return data


def _rewrite(s: Signed, envelope: dict[str, Any]) -> None:
    s.provenance.write_text(json.dumps(envelope) + "\n")


def test_an_untouched_release_verifies(signed: Signed, capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(signed, "--source-commit", SOURCE_COMMIT) == 0
    assert f"source {SOURCE_COMMIT}" in capsys.readouterr().out


def test_default_provenance_path_and_json(signed: Signed, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", str(signed.wheel), "--key", str(signed.public), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)["verified"][0]
    assert result["subject"] == signed.wheel.name
    assert result["source_commit"] == SOURCE_COMMIT
    assert result["builder_id"] == "urn:mlc-devops:builder:local"


def test_tampered_artifact_is_a_digest_mismatch(signed: Signed, capsys: pytest.CaptureFixture[str]) -> None:
    with open(signed.wheel, "ab") as fh:
        fh.write(b"\0")
    assert _verify(signed) == EXIT_DIGEST
    assert "but the provenance says" in capsys.readouterr().err


def test_tampered_statement_is_an_invalid_signature(signed: Signed, capsys: pytest.CaptureFixture[str]) -> None:
    envelope = _envelope(signed)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"] = TVM_COMMIT
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    _rewrite(signed, envelope)
    assert _verify(signed) == EXIT_SIGNATURE
    assert "no signature in the DSSE envelope verifies" in capsys.readouterr().err


def test_statement_naming_a_tampered_artifact_is_still_caught_by_the_signature(signed: Signed) -> None:
    # An attacker who swaps the wheel and rewrites the subject digest to match it breaks the signature.
    with open(signed.wheel, "ab") as fh:
        fh.write(b"\0")
    envelope = _envelope(signed)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    import hashlib

    statement["subject"][0]["digest"]["sha256"] = hashlib.sha256(signed.wheel.read_bytes()).hexdigest()
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    _rewrite(signed, envelope)
    assert _verify(signed) == EXIT_SIGNATURE


def test_tampered_signature(signed: Signed) -> None:
    envelope = _envelope(signed)
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[len(sig) // 2] ^= 0x40
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    _rewrite(signed, envelope)
    assert _verify(signed) == EXIT_SIGNATURE


def test_signature_removed(signed: Signed) -> None:
    envelope = _envelope(signed)
    envelope["signatures"] = []
    _rewrite(signed, envelope)
    assert _verify(signed) == EXIT_SIGNATURE


def test_another_key(signed: Signed, tmp_path: Path) -> None:
    other = tmp_path / "other"
    assert main(["keygen", "-o", str(other)]) == 0
    signed.public = Path(f"{other}.pub")
    assert _verify(signed) == EXIT_SIGNATURE


def test_unsigned_statement_is_refused(signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(signed, provenance=tmp_path / "statement.intoto.jsonl") == EXIT_SIGNATURE
    assert "not signed" in capsys.readouterr().err


def test_artifact_not_in_the_provenance(signed: Signed, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = make_wheel(tmp_path / "other", version="0.2.0")
    assert _verify(signed, artifact=other) == EXIT_SUBJECT
    assert "no subject of the provenance names" in capsys.readouterr().err


def test_renamed_artifact(signed: Signed, tmp_path: Path) -> None:
    renamed = tmp_path / "mlc_llm-0.1.0.dev0-py3-none-any.whl"
    shutil.copyfile(signed.wheel, renamed)
    assert _verify(signed, artifact=renamed) == EXIT_SUBJECT


def test_wrong_source_commit(signed: Signed, capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(signed, "--source-commit", TVM_COMMIT) == EXIT_SOURCE
    assert f"source was commit {SOURCE_COMMIT}" in capsys.readouterr().err
    assert _verify(signed, "--source-commit", SOURCE_COMMIT[:10]) == 0


@pytest.mark.parametrize(
    "case",
    ["missing-artifact", "missing-provenance", "not-json", "bad-key", "short-commit"],
)
def test_bad_input_is_a_usage_error(signed: Signed, tmp_path: Path, case: str) -> None:
    if case == "missing-artifact":
        assert _verify(signed, artifact=tmp_path / "nope.whl") == EXIT_USAGE
    elif case == "missing-provenance":
        assert _verify(signed, provenance=tmp_path / "nope.jsonl") == EXIT_USAGE
    elif case == "not-json":
        signed.provenance.write_text("garbage\n")
        assert _verify(signed) == EXIT_USAGE
    elif case == "bad-key":
        signed.public.write_text("not a key")
        assert _verify(signed) == EXIT_USAGE
    else:
        assert _verify(signed, "--source-commit", "abc") == EXIT_USAGE


def test_attest_can_sign_directly_and_several_lines_verify(tmp_path: Path) -> None:
    s = _setup(tmp_path)
    direct = tmp_path / "direct.intoto.jsonl"
    assert main(["attest", str(s.wheel), "--key", str(s.private), "-o", str(direct)]) == 0
    # A file with an envelope by another signer first, then ours: ours is found.
    other = tmp_path / "other"
    assert main(["keygen", "-o", str(other)]) == 0
    foreign = tmp_path / "foreign.intoto.jsonl"
    assert main(["attest", str(s.wheel), "--key", f"{other}.key", "-o", str(foreign)]) == 0
    combined = tmp_path / "combined.intoto.jsonl"
    combined.write_text(foreign.read_text() + direct.read_text())
    assert _verify(s, provenance=combined) == 0


def test_sign_refuses_what_is_already_signed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    s = _setup(tmp_path)
    assert main(["sign", str(s.provenance), "--key", str(s.private), "-o", str(tmp_path / "x")]) == EXIT_USAGE
    assert "already a signed DSSE envelope" in capsys.readouterr().err


def test_sign_with_an_encrypted_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wheel = make_wheel(tmp_path / "dist")
    write_report(wheel)
    monkeypatch.setenv("MLC_DEVOPS_KEY_PASSWORD", "correct horse")
    assert main(["keygen", "-o", str(tmp_path / "k")]) == 0
    assert b"ENCRYPTED" in (tmp_path / "k.key").read_bytes()
    assert main(["attest", str(wheel), "--key", str(tmp_path / "k.key"), "-o", str(tmp_path / "p.jsonl")]) == 0
    monkeypatch.setenv("MLC_DEVOPS_KEY_PASSWORD", "wrong")
    assert main(["attest", str(wheel), "--key", str(tmp_path / "k.key"), "-o", str(tmp_path / "q.jsonl")]) == EXIT_USAGE
    monkeypatch.delenv("MLC_DEVOPS_KEY_PASSWORD")
    assert (
        main(["verify", str(wheel), "--provenance", str(tmp_path / "p.jsonl"), "--key", str(tmp_path / "k.pub")]) == 0
    )
