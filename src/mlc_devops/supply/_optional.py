"""The supply-chain extra: cyclonedx-python-lib and cryptography, imported on use."""

from __future__ import annotations

from mlc_devops.errors import PrerequisiteMissing

EXTRA_HINT = "pip install 'mlc-devops[supply-chain]'"


def missing(package: str, exc: ImportError) -> PrerequisiteMissing:
    """The error to raise when ``package`` of the supply-chain extra cannot be imported."""
    return PrerequisiteMissing(f"the Python package {package} is not installed ({exc})", hint=EXTRA_HINT)


def require_cyclonedx() -> None:
    try:
        import cyclonedx.model  # noqa: F401, PLC0415
    except ImportError as exc:
        raise missing("cyclonedx-python-lib", exc) from None


def require_cryptography() -> None:
    try:
        import cryptography.hazmat.primitives.asymmetric.ec  # noqa: F401, PLC0415
    except ImportError as exc:
        raise missing("cryptography", exc) from None
