"""What differs between Linux, Windows and macOS, behind one small interface.

Chosen by a literal platform name so that every platform's logic is unit-tested
on any host.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Literal

PlatformName = Literal["linux", "windows", "macos"]


@dataclass(frozen=True)
class Platform:
    name: PlatformName
    lib_prefix: str
    lib_suffix: str
    venv_bin: str
    exe_suffix: str
    # Wheel platform tags built here start with one of these.
    wheel_tag_prefixes: tuple[str, ...]
    # auditwheel-style repair is Linux-only; others ship as built.
    can_repair: bool

    def shared_library(self, name: str) -> str:
        """File name of shared library ``name``: libmlc_llm.so, mlc_llm.dll, libmlc_llm.dylib."""
        return f"{self.lib_prefix}{name}{self.lib_suffix}"

    def venv_python(self, venv: PurePath) -> PurePath:
        return venv / self.venv_bin / f"python{self.exe_suffix}"

    def venv_script(self, venv: PurePath, name: str) -> PurePath:
        return venv / self.venv_bin / f"{name}{self.exe_suffix}"

    def is_native_library(self, path: str) -> bool:
        base = PurePath(path).name
        return base.endswith(self.lib_suffix) or (self.name == "linux" and ".so." in base)

    def wheel_platform_fits(self, platform_tag: str) -> bool:
        return any(platform_tag.startswith(p) for p in self.wheel_tag_prefixes)


LINUX = Platform("linux", "lib", ".so", "bin", "", ("linux_", "manylinux", "musllinux"), True)
WINDOWS = Platform("windows", "", ".dll", "Scripts", ".exe", ("win_", "win32"), False)
MACOS = Platform("macos", "lib", ".dylib", "bin", "", ("macosx_",), False)

PLATFORMS: dict[str, Platform] = {p.name: p for p in (LINUX, WINDOWS, MACOS)}

NATIVE_SUFFIXES = (".so", ".dll", ".dylib")


def platform_for(sys_platform: str) -> Platform:
    """Map a ``sys.platform`` value to its :class:`Platform`."""
    if sys_platform.startswith("win"):
        return WINDOWS
    if sys_platform == "darwin":
        return MACOS
    return LINUX


def current() -> Platform:
    return platform_for(sys.platform)


def is_native_library_name(path: str) -> bool:
    """Whether a file in a wheel is a native library on any platform."""
    base = Path(path).name
    return base.endswith(NATIVE_SUFFIXES) or ".so." in base
