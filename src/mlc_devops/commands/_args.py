"""Arguments that several commands share, so each is spelled once."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mlc_devops import options
from mlc_devops.errors import UsageError


def add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source_pos", nargs="?", metavar="SOURCE", help="MLC-LLM checkout (same as --source)")
    parser.add_argument("--source", help="MLC-LLM checkout (env MLC_SOURCE_DIR)")


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        "-b",
        action="append",
        dest="backends",
        metavar="NAME",
        help="backend to enable, repeatable or comma-separated: cpu, cuda, cutlass, cublas, flashinfer, "
        "rocm, vulkan, metal, opencl, host-ptr (env MLC_BACKENDS; default cpu)",
    )
    parser.add_argument("--preset", choices=sorted(options.PRESETS), help="named backend choice (env MLC_PRESET)")
    parser.add_argument(
        "--cuda-arch", dest="cuda_arch", help="CMAKE_CUDA_ARCHITECTURES, e.g. 90 or '80;90' (env MLC_CUDA_ARCH)"
    )
    parser.add_argument("--tvm-source-dir", dest="tvm_source_dir", help="TVM_SOURCE_DIR (env MLC_TVM_SOURCE_DIR)")
    parser.add_argument(
        "--build-type",
        dest="build_type",
        help=f"CMAKE_BUILD_TYPE (env MLC_BUILD_TYPE; default {options.SETTINGS['build_type'].default()})",
    )


def flags(args: argparse.Namespace) -> dict[str, Any]:
    """The options-relevant flags of ``args``, for :func:`options.resolve`."""
    values = vars(args).copy()
    if values.get("source") is None and values.get("source_pos") is not None:
        values["source"] = values["source_pos"]
    out = {name: values.get(name) for name in options.SETTINGS}
    out["with_packages"] = values.get("with_packages") or []
    return out


def add_install(parser: argparse.ArgumentParser) -> None:
    """How a wheel goes into a clean environment (smoke, test)."""
    parser.add_argument(
        "--offline",
        action="store_true",
        help="install the wheel alone, with no index (air-gapped); --with packages must be files",
    )
    parser.add_argument(
        "--with",
        dest="with_packages",
        action="append",
        default=[],
        metavar="PKG",
        help="also install PKG (a requirement or a wheel file, e.g. the TVM wheel it pairs with)",
    )
    parser.add_argument(
        "--find-links",
        dest="find_links",
        action="append",
        metavar="DIR",
        help="also install dependencies from this directory of wheels, repeatable (env MLC_FIND_LINKS)",
    )


# `-o -` means standard output, as for cat, tar and curl: never a file named "-".
STDOUT = "-"


def output_file(value: str | None) -> Path | None:
    """The file ``-o``/``--output`` names; None for standard output (no ``-o``, or ``-o -``)."""
    if value is None or value == STDOUT:
        return None
    return Path(value)


def output_not_stdout(value: str, why: str) -> Path:
    """``-o`` for an output that cannot be a stream (a directory, a key pair); UsageError for ``-o -``.

    ``why`` says what the command writes instead: "a release is a directory".
    """
    if value == STDOUT:
        raise UsageError(f"-o - (standard output) cannot be used here: {why}", hint="give a path")
    return Path(value)
