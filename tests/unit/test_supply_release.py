"""The release plan (pure) and its assembly: wheels, SBOMs, provenance, signatures, SHA256SUMS."""

from __future__ import annotations

import json
from pathlib import Path

import jsonshapes
import pytest
from unit.test_supply_helpers import make_wheel, write_report

from mlc_devops.cli import main
from mlc_devops.errors import UsageError
from mlc_devops.supply import checksums, release

LINUX = "mlc_llm-0.20.0-py3-none-manylinux_2_28_x86_64.whl"
WINDOWS = "mlc_llm-0.20.0-py3-none-win_amd64.whl"


@pytest.mark.parametrize(
    ("tag", "wheel", "ok"),
    [
        ("v0.20.0", "0.20.0", True),
        ("0.20.0", "0.20.0", True),
        ("V0.20", "0.20.0", True),  # PEP 440: the same version
        ("v0.20.0", "0.20.0+cu128", True),  # a variant's local label
        ("v0.20.0+cu128", "0.20.0", False),
        ("v0.20.1", "0.20.0", False),
        ("v0.20.0", "0.20.0.dev0", False),
        ("v0.20.0rc1", "0.20.0rc1", True),
    ],
)
def test_version_matching(tag: str, wheel: str, ok: bool) -> None:
    from packaging.version import Version

    assert release.version_matches(release.parse_tag(tag), Version(wheel)) is ok


def test_not_a_version() -> None:
    with pytest.raises(UsageError, match="is not a version"):
        release.parse_tag("latest")


def test_plan_refuses_a_version_that_is_not_the_wheels() -> None:
    with pytest.raises(UsageError, match=r"does not match --version v0\.21\.0.*manylinux.* is 0\.20\.0"):
        release.plan("v0.21.0", [LINUX, LINUX + ".build.json"])


def test_plan_reuses_what_ci_left_and_makes_the_rest() -> None:
    names = [
        LINUX,
        LINUX + ".build.json",
        LINUX + ".sigstore.json",
        WINDOWS,
        WINDOWS + ".cdx.json",
        WINDOWS + ".intoto.jsonl",
        "notes.txt",
    ]
    plan = release.plan("v0.20.0", names, extras=["image.cdx.json"])
    linux, windows = plan.wheels
    assert (linux.report, linux.sbom_from_dist, linux.provenance_from_dist) == (LINUX + ".build.json", False, False)
    assert linux.companions == (LINUX + ".sigstore.json",)
    assert (windows.report, windows.sbom_from_dist, windows.provenance_from_dist) == (None, True, True)
    assert plan.files == tuple(
        sorted(
            [
                "image.cdx.json",
                LINUX,
                LINUX + ".cdx.json",
                LINUX + ".intoto.jsonl",
                LINUX + ".sigstore.json",
                WINDOWS,
                WINDOWS + ".cdx.json",
                WINDOWS + ".intoto.jsonl",
            ]
        )
    )
    assert "notes.txt" not in plan.files and "SHA256SUMS" not in plan.files


def test_plan_needs_provenance_or_a_report() -> None:
    with pytest.raises(UsageError, match="no provenance and no build report"):
        release.plan("v0.20.0", [LINUX])


def test_plan_without_wheels_or_with_clashing_extras() -> None:
    with pytest.raises(UsageError, match="no wheels"):
        release.plan("v0.20.0", ["a.txt"])
    with pytest.raises(UsageError, match="share a name"):
        release.plan("v0.20.0", [LINUX, LINUX + ".build.json"], extras=[LINUX])
    with pytest.raises(UsageError, match="share a name"):
        release.plan("v0.20.0", [LINUX, LINUX + ".build.json"], extras=["SHA256SUMS"])


# --- assembly through the command ---------------------------------------------------------


def _dist(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    write_report(make_wheel(dist, version="0.20.0"))
    write_report(make_wheel(dist, version="0.20.0", tag="py3-none-win_amd64", libraries={"mlc_llm/mlc_llm.dll": b"MZ"}))
    return dist


def test_release_with_a_key_verifies_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = _dist(tmp_path)
    assert main(["keygen", "-o", str(tmp_path / "k")]) == 0
    extra = tmp_path / "image.cdx.json"
    extra.write_text("{}\n")
    out = tmp_path / "release"
    code = main(
        [
            "release",
            str(dist),
            "--version",
            "v0.20.0",
            "-o",
            str(out),
            "--key",
            str(tmp_path / "k.key"),
            "--include",
            str(extra),
            "--json",
        ]
    )
    assert code == 0
    result = jsonshapes.check_text(capsys.readouterr().out)
    assert result["signed"] is True and result["version"] == "0.20.0"
    names = sorted(p.name for p in out.iterdir())
    wheel = "mlc_llm-0.20.0-py3-none-linux_x86_64.whl"
    assert names == sorted(
        [
            "SHA256SUMS",
            "image.cdx.json",
            wheel,
            wheel + ".cdx.json",
            wheel + ".intoto.jsonl",
            "mlc_llm-0.20.0-py3-none-win_amd64.whl",
            "mlc_llm-0.20.0-py3-none-win_amd64.whl.cdx.json",
            "mlc_llm-0.20.0-py3-none-win_amd64.whl.intoto.jsonl",
        ]
    )
    assert len(checksums.check(out / "SHA256SUMS")) == 7
    for name in names:
        if name.endswith(".whl"):
            assert main(["verify", str(out / name), "--key", str(tmp_path / "k.pub")]) == 0
    envelope = json.loads((out / (wheel + ".intoto.jsonl")).read_text())
    import base64

    statement = json.loads(base64.b64decode(envelope["payload"]))
    byproducts = statement["predicate"]["runDetails"]["byproducts"]
    assert byproducts[0]["name"] == wheel + ".cdx.json"
    assert byproducts[0]["digest"]["sha256"] == dict(checksums.check(out / "SHA256SUMS"))[wheel + ".cdx.json"]
    assert not list(tmp_path.glob(".release.staging-*"))


def test_release_refuses_a_wrong_version_and_leaves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = _dist(tmp_path)
    out = tmp_path / "release"
    assert main(["release", str(dist), "--version", "v0.21.0", "-o", str(out)]) == 2
    assert "does not match" in capsys.readouterr().err
    assert not out.exists()


def test_release_without_key_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = _dist(tmp_path)
    out = tmp_path / "release"
    assert main(["release", str(dist), "--version", "0.20.0", "-o", str(out)]) == 0
    assert "provenance is not signed" in capsys.readouterr().err
    statement = json.loads((out / "mlc_llm-0.20.0-py3-none-linux_x86_64.whl.intoto.jsonl").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"


def test_release_signs_an_unsigned_provenance_from_dist(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    wheel = make_wheel(dist, version="0.20.0")
    report = write_report(wheel)
    assert main(["attest", str(wheel), "-o", str(wheel) + ".intoto.jsonl"]) == 0
    report.unlink()
    assert main(["keygen", "-o", str(tmp_path / "k")]) == 0
    out = tmp_path / "release"
    assert main(["release", str(dist), "--version", "v0.20.0", "-o", str(out), "--key", str(tmp_path / "k.key")]) == 0
    assert main(["verify", str(out / wheel.name), "--key", str(tmp_path / "k.pub")]) == 0


def test_release_will_not_clobber(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dist = _dist(tmp_path)
    out = tmp_path / "release"
    out.mkdir()
    (out / "precious.txt").write_text("keep")
    assert main(["release", str(dist), "--version", "v0.20.0", "-o", str(out)]) == 2
    assert main(["release", str(dist), "--version", "v0.20.0", "-o", str(out), "--force"]) == 2
    assert (out / "precious.txt").read_text() == "keep"
    capsys.readouterr()
    fresh = tmp_path / "fresh"
    assert main(["release", str(dist), "--version", "v0.20.0", "-o", str(fresh)]) == 0
    assert main(["release", str(dist), "--version", "v0.20.0", "-o", str(fresh), "--force"]) == 0
    assert (fresh / "SHA256SUMS").is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_release_usage(tmp_path: Path) -> None:
    assert main(["release", str(tmp_path / "none"), "--version", "v1", "-o", str(tmp_path / "o")]) == 2
    dist = _dist(tmp_path)
    assert (
        main(
            ["release", str(dist), "--version", "v0.20.0", "-o", str(tmp_path / "o"), "--include", str(tmp_path / "no")]
        )
        == 2
    )
