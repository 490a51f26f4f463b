"""Reading a wheel: name, version, tags, Requires-Dist, native libraries with digests."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest
from unit.test_supply_helpers import LIB_BYTES, make_wheel

from mlc_devops.errors import UsageError, ValidationFailed
from mlc_devops.wheel import reader


def test_reads_name_version_tags_and_digest(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    info = reader.read_wheel(wheel)
    assert (info.name, info.canonical_name, info.version) == ("mlc_llm", "mlc-llm", "0.1.0.dev0")
    assert info.tags == ("py3-none-linux_x86_64",)
    assert info.platform_tags == ("linux_x86_64",)
    assert info.sha256 == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert info.size == wheel.stat().st_size
    assert info.license_expression == "Apache-2.0"
    assert info.requires_python == ">=3.9"
    assert ("Repository", "https://github.com/mlc-ai/mlc-llm") in info.project_urls


def test_lists_native_libraries_with_sha256(tmp_path: Path) -> None:
    info = reader.read_wheel(make_wheel(tmp_path))
    paths = [lib.path for lib in info.libraries]
    assert paths == ["mlc_llm/lib/libmlc_llm.so", "mlc_llm/lib/libtvm_runtime.so"]
    assert info.libraries[0].sha256 == hashlib.sha256(LIB_BYTES).hexdigest()
    assert info.libraries[0].size == len(LIB_BYTES)
    assert info.record_mismatches == ()


@pytest.mark.parametrize(
    ("path", "native"),
    [
        ("mlc_llm/lib/libmlc_llm.so", True),
        ("mlc_llm/lib/libtvm_runtime.so.0.20", True),
        ("mlc_llm/mlc_llm.dll", True),
        ("mlc_llm/libmlc_llm.dylib", True),
        ("mlc_llm/_ext.cp311-win_amd64.pyd", True),
        ("mlc_llm/__init__.py", False),
        ("mlc_llm/solib.txt", False),
    ],
)
def test_native_library_names_on_every_platform(path: str, native: bool) -> None:
    assert reader.is_native(path) is native


def test_windows_and_macos_wheels(tmp_path: Path) -> None:
    win = make_wheel(
        tmp_path / "w",
        tag="py3-none-win_amd64",
        libraries={"mlc_llm/mlc_llm.dll": b"MZ", "mlc_llm/tvm_runtime.dll": b"MZ2"},
    )
    mac = make_wheel(
        tmp_path / "m", tag="py3-none-macosx_14_0_arm64", libraries={"mlc_llm/libmlc_llm.dylib": b"\xcf\xfa"}
    )
    assert [lib.path for lib in reader.read_wheel(win).libraries] == [
        "mlc_llm/mlc_llm.dll",
        "mlc_llm/tvm_runtime.dll",
    ]
    assert [lib.path for lib in reader.read_wheel(mac).libraries] == ["mlc_llm/libmlc_llm.dylib"]


def test_requires_dist_parsed(tmp_path: Path) -> None:
    deps = {d.name: d for d in reader.read_wheel(make_wheel(tmp_path)).requires_dist}
    assert deps["tqdm"].pinned_version == "4.66.1"
    assert deps["shortuuid"].pinned_version is None
    assert deps["shortuuid"].specifier == ">=1.0"
    assert deps["flashinfer-python"].marker == 'sys_platform == "linux"'
    assert not deps["flashinfer-python"].optional
    assert deps["pytest"].optional
    assert deps["apache-tvm-ffi"].requirement == "apache-tvm-ffi"


def test_record_mismatch_is_reported(tmp_path: Path) -> None:
    info = reader.read_wheel(make_wheel(tmp_path, tamper_record=True))
    assert info.record_mismatches == ("mlc_llm/lib/libmlc_llm.so",)


def test_not_a_wheel_name(tmp_path: Path) -> None:
    bad = tmp_path / "mlc_llm.zip"
    bad.write_bytes(b"PK")
    with pytest.raises(UsageError, match="not a wheel file name"):
        reader.read_wheel(bad)


def test_not_a_zip(tmp_path: Path) -> None:
    bad = tmp_path / "mlc_llm-0.1.0-py3-none-any.whl"
    bad.write_text("hello")
    with pytest.raises(UsageError, match="not a readable zip"):
        reader.read_wheel(bad)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no wheel"):
        reader.read_wheel(tmp_path / "mlc_llm-0.1.0-py3-none-any.whl")


def test_metadata_version_must_match_file_name(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    renamed = wheel.with_name("mlc_llm-0.2.0-py3-none-linux_x86_64.whl")
    wheel.rename(renamed)
    with pytest.raises(ValidationFailed, match=r"METADATA says version 0\.1\.0\.dev0"):
        reader.read_wheel(renamed)


def test_metadata_missing(tmp_path: Path) -> None:
    wheel = tmp_path / "mlc_llm-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("mlc_llm-0.1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    with pytest.raises(ValidationFailed, match=r"no mlc_llm-0\.1\.0\.dist-info/METADATA"):
        reader.read_wheel(wheel)


def test_record_digest_encoding() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert reader.record_digest(digest) == "LXEWQrcmsEQBYnyp-6wy9chTD7GQPMTbAiWHF5IaSIE"


def test_one_pass_reads_what_the_two_readers_read(tmp_path: Path) -> None:
    import _ctypes  # a real ELF shared object of this interpreter

    real = Path(_ctypes.__file__).read_bytes()
    wheel = make_wheel(
        tmp_path,
        libraries={"mlc_llm/lib/libmlc_llm.so": real, "mlc_llm/libmlc_llm.so": real, "mlc_llm/lib/libother.so": real},
    )
    members = ["mlc_llm/libmlc_llm.so", "mlc_llm/lib/libmlc_llm.so"]
    info, libraries = reader.read_wheel_and_libraries(wheel, members)
    assert info == reader.read_wheel(wheel)
    assert libraries == reader.elf_libraries(wheel, members)
    assert [lib.path for lib in libraries] == members  # in the order asked, and only those
    assert libraries[0].needed, "a real library NEEDs libc at least"
