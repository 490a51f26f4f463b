"""Files are written to a temporary name beside the target, then renamed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mlc_devops.errors import PrerequisiteMissing


def ensure_dir(path: Path, what: str = "directory") -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PrerequisiteMissing(
            f"cannot create {what} {path}: {exc.strerror or exc}",
            hint="choose a writable location or fix its permissions",
        ) from None


def write_bytes_atomic(target: Path, data: bytes) -> None:
    ensure_dir(target.parent, "directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise PrerequisiteMissing(
            f"cannot write in {target.parent}: {exc.strerror or exc}",
            hint="choose a writable location or fix its permissions",
        ) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(target: Path, text: str) -> None:
    write_bytes_atomic(target, text.encode("utf-8"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextlib.contextmanager
def staging_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A temporary directory inside ``parent`` (same filesystem: renames are atomic), removed after."""
    import shutil  # noqa: PLC0415

    ensure_dir(parent)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
