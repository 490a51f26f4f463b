"""A tiny, valid wheel and its build report, for the supply-chain tests.

Other test files import it as ``unit.test_supply_helpers`` (``tests`` is on
pytest's pythonpath); its own tests check that the wheel it writes is a wheel.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SOURCE_COMMIT = "0123456789abcdef0123456789abcdef01234567"
TVM_COMMIT = "89abcdef0123456789abcdef0123456789abcdef"
TOKENIZERS_COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
LIB_BYTES = b"\x7fELF fake libmlc_llm for tests\n"
TVM_BYTES = b"\x7fELF fake libtvm_runtime for tests\n"
REQUIRES = (
    "apache-tvm-ffi",
    "fastapi",
    "shortuuid>=1.0",
    "tqdm==4.66.1",
    "flashinfer-python==0.3.1; sys_platform == 'linux'",
    "pytest; extra == 'test'",
)


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def make_wheel(
    directory: Path,
    *,
    name: str = "mlc_llm",
    version: str = "0.1.0.dev0",
    tag: str = "py3-none-linux_x86_64",
    requires: Sequence[str] = REQUIRES,
    libraries: dict[str, bytes] | None = None,
    license_expression: str | None = "Apache-2.0",
    tamper_record: bool = False,
) -> Path:
    """Write ``{name}-{version}-{tag}.whl`` with METADATA, WHEEL, RECORD and fake native libraries."""
    libs = {f"{name}/lib/libmlc_llm.so": LIB_BYTES, f"{name}/lib/libtvm_runtime.so": TVM_BYTES}
    if libraries is not None:
        libs = libraries
    dist_info = f"{name}-{version}.dist-info"
    metadata = [
        "Metadata-Version: 2.4",
        f"Name: {name}",
        f"Version: {version}",
        "Summary: MLC LLM (test stand-in)",
        "Requires-Python: >=3.9",
        "Project-URL: Repository, https://github.com/mlc-ai/mlc-llm",
        "Project-URL: Homepage, https://llm.mlc.ai/",
    ]
    if license_expression:
        metadata.append(f"License-Expression: {license_expression}")
    metadata += [f"Requires-Dist: {r}" for r in requires]
    metadata += ["Provides-Extra: test", "", "The description."]
    files: dict[str, bytes] = {
        f"{name}/__init__.py": b"from .libinfo import *\n",
        **libs,
        f"{dist_info}/METADATA": ("\n".join(metadata) + "\n").encode(),
        f"{dist_info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: {tag}\n".encode(),
    }
    rows = []
    for path, data in files.items():
        recorded = b"tampered" if tamper_record and path.endswith("libmlc_llm.so") else data
        rows.append(f"{path},{_record_hash(recorded)},{len(data)}")
    rows.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(rows) + "\n").encode()
    target = directory / f"{name}-{version}-{tag}.whl"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in files.items():
            info = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
    return target


def report_data(
    wheel: Path, *, uri: str | None = "git+https://github.com/mlc-ai/mlc-llm", **overrides: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schema": "mlc-devops/build-report/v1",
        "tool": {"name": "mlc-devops", "version": "0.1.0"},
        "layout": "root",
        "backends": ["cpu", "vulkan"],
        "cuda_architectures": [],
        "build_type": "Release",
        "source": {"path": "/src/mlc-llm", "uri": uri, "commit": SOURCE_COMMIT, "commit_time": 1700000000},
        "submodules": [
            {"path": "3rdparty/tvm", "url": "https://github.com/mlc-ai/relax.git", "commit": TVM_COMMIT},
            {
                "path": "3rdparty/tokenizers-cpp",
                "url": "https://github.com/mlc-ai/tokenizers-cpp",
                "commit": TOKENIZERS_COMMIT,
            },
            {"path": "3rdparty/stb", "url": "https://github.com/nothings/stb.git", "commit": None},
        ],
        "tool_versions": {
            "python": "3.11.7",
            "cmake": "3.25.1",
            "ninja": "1.11.1",
            "c++": "g++ 12.2.0",
            "cargo": "1.85.0",
            "rustc": "1.85.0",
            "nvcc": None,
        },
        "phases": {"configure": 1.2, "compile": 30.5, "package": 2.0, "validate": 0.4},
        "started": "2026-11-28T16:00:00Z",
        "finished": "2026-11-28T16:01:00Z",
        "wheel": {
            "filename": wheel.name,
            "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "size": wheel.stat().st_size,
            "libraries": [],
        },
        "compiler_cache": {"kind": "none"},
    }
    data.update(overrides)
    return data


def write_report(wheel: Path, **kwargs: Any) -> Path:
    target = wheel.with_name(wheel.name + ".build.json")
    target.write_text(json.dumps(report_data(wheel, **kwargs), indent=2))
    return target


def test_fabricated_wheel_is_a_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        record = archive.read("mlc_llm-0.1.0.dev0.dist-info/RECORD").decode()
        for line in record.splitlines():
            path, digest, _size = line.split(",")
            if digest:
                assert digest == _record_hash(archive.read(path))
    assert "mlc_llm-0.1.0.dev0.dist-info/METADATA" in names
    assert "mlc_llm/lib/libmlc_llm.so" in names


def test_report_describes_the_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path)
    data = json.loads(write_report(wheel).read_text())
    assert data["wheel"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
