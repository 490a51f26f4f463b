"""SHA256SUMS in the format sha256sum writes and sha256sum -c reads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from mlc_devops.cli import main
from mlc_devops.errors import DigestMismatch, UsageError
from mlc_devops.supply import checksums

A = hashlib.sha256(b"a").hexdigest()
B = hashlib.sha256(b"b").hexdigest()


def test_render_is_sorted_with_two_spaces() -> None:
    assert checksums.render([("b.whl", B), ("a.whl", A)]) == f"{A}  a.whl\n{B}  b.whl\n"


def test_names_with_backslash_or_newline_are_escaped_like_coreutils() -> None:
    assert checksums.format_line("a\\b", A) == f"\\{A}  a\\\\b\n"
    assert checksums.format_line("a\nb", A) == f"\\{A}  a\\nb\n"
    text = checksums.render([("a\\b", A), ("x\ny", B), ("plain", A)])
    assert sorted(checksums.parse(text)) == sorted([("a\\b", A), ("x\ny", B), ("plain", A)])


def test_parse_accepts_binary_marker_and_upper_case() -> None:
    assert checksums.parse(f"{A.upper()} *a.whl\n\n") == [("a.whl", A)]


def test_parse_rejects_other_lines() -> None:
    with pytest.raises(UsageError, match="line 1"):
        checksums.parse("deadbeef  a.whl\n")


def test_duplicate_names_refused() -> None:
    with pytest.raises(UsageError):
        checksums.render([("a", A), ("a", B)])


def test_write_and_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.whl").write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.json").write_bytes(b"b")
    sums = tmp_path / "SHA256SUMS"
    assert main(["checksums", str(tmp_path / "a.whl"), str(tmp_path / "sub" / "b.json"), "-o", str(sums)]) == 0
    assert sums.read_text() == f"{A}  a.whl\n{B}  sub/b.json\n"
    assert main(["checksums", "--check", str(sums)]) == 0
    assert "a.whl: OK" in capsys.readouterr().out
    (tmp_path / "a.whl").write_bytes(b"A")
    assert main(["checksums", "--check", str(sums)]) == 6
    assert "a.whl: checksum differs" in capsys.readouterr().err
    (tmp_path / "a.whl").unlink()
    with pytest.raises(DigestMismatch, match="no such file"):
        checksums.check(sums)


def test_files_outside_the_directory_are_refused(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    with pytest.raises(UsageError, match="is not inside"):
        checksums.compute([tmp_path / "a"], tmp_path / "elsewhere")


def test_stdout_relative_to_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a").write_bytes(b"a")
    monkeypatch.chdir(tmp_path)
    assert main(["checksums", "a"]) == 0
    assert capsys.readouterr().out == f"{A}  a\n"


@pytest.mark.parametrize(
    "argv", [["checksums"], ["checksums", "--check", "x", "y"], ["checksums", "--check", "missing"]]
)
def test_usage(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
