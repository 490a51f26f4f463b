"""Findings: duplicated payloads, version mismatch, __version__ read without importing."""

from __future__ import annotations

from mlc_devops import findings


def test_identical_payloads_at_two_paths_are_one_finding_with_the_bytes_wasted() -> None:
    files = [
        ("mlc_llm/lib/libmlc_llm.so", "aa", 12_000_000),
        ("mlc_llm/libmlc_llm.so", "aa", 12_000_000),
        ("mlc_llm/lib/libtvm_runtime.so", "bb", 5_000_000),
        ("mlc_llm/other/libtvm_runtime.so", "cc", 5_000_000),  # same name, other bytes: not a duplicate
    ]
    (found,) = findings.duplicates(files)
    assert found.kind == "duplicate-payload"
    assert found.data["wasted_bytes"] == 12_000_000
    assert found.data["paths"] == ["mlc_llm/lib/libmlc_llm.so", "mlc_llm/libmlc_llm.so"]
    assert found.message.endswith("12.0 MB wasted")
    three = findings.duplicates([("a/x.so", "d", 10), ("b/x.so", "d", 10), ("c/x.so", "d", 10)])
    assert three[0].data["wasted_bytes"] == 20


def test_version_mismatch_uses_pep440_equality() -> None:
    found = findings.version_mismatch("0.20.0.dev0", "0.1.dev0", "import")
    assert found is not None
    assert found.message == "the wheel is version 0.20.0.dev0, but the package's __version__ is 0.1.dev0 (from import)"
    assert findings.version_mismatch("0.1.0.dev0", "0.1.dev0", "import") is None
    assert findings.version_mismatch("1.0", None, "") is None


def test_upstreams_version_is_read_through_its_libinfo_import() -> None:
    sources = {
        "mlc_llm/__init__.py": "from . import protocol\nfrom .libinfo import __version__\n",
        "mlc_llm/libinfo.py": 'import os\n__version__ = "0.1.dev0"\n',
    }
    assert findings.static_module_version(sources, "mlc_llm") == ("0.1.dev0", "mlc_llm/libinfo.py")
    aliased = {
        "mlc_llm/__init__.py": "from . import libinfo\n__version__ = libinfo.__version__\n",
        "mlc_llm/libinfo.py": "__version__ = '0.0.1.dev0'\n",
    }
    assert findings.static_module_version(aliased, "mlc_llm") == ("0.0.1.dev0", "mlc_llm/libinfo.py")
    direct = {"pkg/__init__.py": "__version__: str = '2.0'\n"}
    assert findings.static_module_version(direct, "pkg") == ("2.0", "pkg/__init__.py")
    assert findings.static_module_version({"pkg/__init__.py": "__version__ = compute()\n"}, "pkg") is None


def test_runpath_entries_outside_the_wheel_are_a_finding() -> None:
    found = findings.foreign_runpaths(
        {
            "mlc_llm/libmlc_llm_module.so": ("/home/ci/mlc-llm/build/tvm",),
            "mlc_llm/libmlc_llm.so": ("$ORIGIN", "${ORIGIN}/../lib"),
        }
    )
    assert [f.data["library"] for f in found] == ["mlc_llm/libmlc_llm_module.so"]
    assert found[0].kind == "foreign-runpath"
    assert "(/home/ci/mlc-llm/build/tvm)" in found[0].message


def test_a_plain_linux_wheel_says_which_glibc_it_needs() -> None:
    floors = {"mlc_llm/lib/libmlc_llm.so": (2, 39), "mlc_llm/lib/libtvm_runtime.so": (2, 38)}
    line = findings.glibc_note(floors, ["py3-none-linux_x86_64"])
    assert line is not None
    assert line.startswith("the wheel needs glibc >= 2.39 (mlc_llm/lib/libmlc_llm.so), which its linux tag does not")
    assert findings.glibc_note(floors, ["py3-none-manylinux_2_28_x86_64"]) is None
    assert findings.glibc_note({}, ["py3-none-linux_x86_64"]) is None
