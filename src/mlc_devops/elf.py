"""Read the dynamic section of ELF shared libraries: SONAME, NEEDED, RPATH and RUNPATH.

The parsing is pyelftools' (a dependency of auditwheel, which the tool uses on
Linux for repair and for the manylinux policies); this module only turns its
answer into plain data.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
_TAG_VALUES = {"DT_NEEDED": "needed", "DT_SONAME": "soname", "DT_RPATH": "rpath", "DT_RUNPATH": "runpath"}


@dataclass(frozen=True)
class DynamicInfo:
    """What the dynamic loader reads from a shared library before loading it.

    ``rpath`` and ``runpath`` keep the entries as written (``$ORIGIN`` unexpanded),
    split on ``:``, in order.
    """

    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    # Symbol versions needed, per library: (("libc.so.6", ("GLIBC_2.2.5", "GLIBC_2.39")), ...).
    version_needs: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def search_path(self) -> tuple[str, ...]:
        """The entries the loader searches for NEEDED: RUNPATH when present, else RPATH (ld.so(8))."""
        return self.runpath if self.runpath else self.rpath


def is_elf(data: bytes) -> bool:
    """Whether ``data`` starts with the ELF magic number."""
    return data[:4] == ELF_MAGIC


def _split(value: str) -> tuple[str, ...]:
    return tuple(p for p in value.split(":") if p)


def read_dynamic(data: bytes) -> DynamicInfo | None:
    """The dynamic facts of the ELF file in ``data``; None when ``data`` is not ELF.

    Raises ValueError when it is ELF but cannot be parsed (a truncated file), with
    pyelftools' reason. A static or non-dynamic ELF gives an empty DynamicInfo.
    """
    if not is_elf(data):
        return None
    from elftools.common.exceptions import ELFError  # noqa: PLC0415 - only on the ELF path
    from elftools.elf.dynamic import DynamicSection  # noqa: PLC0415
    from elftools.elf.elffile import ELFFile  # noqa: PLC0415
    from elftools.elf.gnuversions import GNUVerNeedSection  # noqa: PLC0415

    soname: str | None = None
    needed: list[str] = []
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()
    needs: list[tuple[str, tuple[str, ...]]] = []
    try:
        elf = ELFFile(io.BytesIO(data))
        for section in elf.iter_sections():
            if isinstance(section, GNUVerNeedSection):
                for verneed, auxiliaries in section.iter_versions():
                    needs.append((str(verneed.name), tuple(str(a.name) for a in auxiliaries)))
                continue
            if not isinstance(section, DynamicSection):
                continue
            for tag in section.iter_tags():
                kind = tag.entry.d_tag
                if kind not in _TAG_VALUES:
                    continue
                value = str(getattr(tag, _TAG_VALUES[kind]))  # pyelftools names the value after the tag
                if kind == "DT_NEEDED":
                    needed.append(value)
                elif kind == "DT_SONAME":
                    soname = value
                elif kind == "DT_RPATH":
                    rpath = _split(value)
                else:
                    runpath = _split(value)
    except (ELFError, OSError, ValueError) as exc:
        raise ValueError(f"not a readable ELF file: {exc}") from None
    return DynamicInfo(soname, tuple(needed), rpath, runpath, tuple(needs))


def glibc_floor(version_needs: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[int, ...] | None:
    """The newest ``GLIBC_x.y`` a library asks of libc.so.6: the oldest glibc that can load it. Pure.

    ``version_needs`` as :attr:`DynamicInfo.version_needs`; None when it asks for none.
    """
    found = [
        tuple(int(p) for p in name[len("GLIBC_") :].split("."))
        for library, names in version_needs
        if library.startswith("libc.so")
        for name in names
        if name.startswith("GLIBC_") and name[len("GLIBC_") :].replace(".", "").isdigit()
    ]
    return max(found) if found else None
