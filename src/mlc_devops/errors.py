"""One error hierarchy: each class carries a documented, stable exit code.

Only :func:`mlc_devops.cli.main` catches these. Messages are one line that says
what is wrong and how to fix it.
"""

from __future__ import annotations

import signal

# Exit codes, stable and documented in docs/errors.md.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1  # doctor found a blocking problem; smoke/test assertions failed
EXIT_USAGE = 2  # bad command line or input (no source, unknown backend, ...)
EXIT_PREREQUISITE = 3  # a required program, library or submodule is missing
EXIT_BUILD = 4  # a compile, packaging or external command failed
EXIT_VALIDATION = 5  # the wheel was built but is wrong (tags, libraries, loading)
EXIT_DIGEST = 6  # verify: the artifact's digest does not match
EXIT_SIGNATURE = 7  # verify: the signature does not check out
EXIT_SUBJECT = 8  # verify: no subject of the provenance names the artifact
EXIT_SOURCE = 9  # verify: the provenance's source commit is not the expected one
EXIT_BUSY = 10  # another build holds the workspace lock
EXIT_FINDINGS = 11  # build --fail-on-findings: the wheel is valid but has findings
EXIT_DIRTY = 12  # attest/release/verify: the wheel was built from a tree with uncommitted changes
EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143


class MlcDevopsError(Exception):
    """Base of every error the tool reports; ``exit_code`` is the process exit status."""

    exit_code = EXIT_BUILD
    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Longer context (the tail of a failed command's output), shown above the one line.
        self.detail = detail

    def one_line(self) -> str:
        if self.hint:
            return f"{self.message}: {self.hint}"
        return self.message


class UsageError(MlcDevopsError):
    exit_code = EXIT_USAGE
    kind = "usage"


class CheckFailed(MlcDevopsError):
    exit_code = EXIT_CHECK_FAILED
    kind = "check"


class PrerequisiteMissing(MlcDevopsError):
    exit_code = EXIT_PREREQUISITE
    kind = "prerequisite"


class BuildFailed(MlcDevopsError):
    exit_code = EXIT_BUILD
    kind = "build"


class ValidationFailed(MlcDevopsError):
    exit_code = EXIT_VALIDATION
    kind = "validation"


class FindingsFailed(MlcDevopsError):
    exit_code = EXIT_FINDINGS
    kind = "findings"


class VerificationFailed(MlcDevopsError):
    exit_code = EXIT_DIGEST
    kind = "verification"


class DigestMismatch(VerificationFailed):
    exit_code = EXIT_DIGEST
    kind = "digest"


class SignatureInvalid(VerificationFailed):
    exit_code = EXIT_SIGNATURE
    kind = "signature"


class SubjectNotFound(VerificationFailed):
    exit_code = EXIT_SUBJECT
    kind = "subject"


class SourceMismatch(VerificationFailed):
    exit_code = EXIT_SOURCE
    kind = "source"


class DirtyTree(MlcDevopsError):
    """A build from a checkout with changes in no commit, refused where no --allow-dirty says otherwise."""

    exit_code = EXIT_DIRTY
    kind = "dirty"


class WorkspaceBusy(MlcDevopsError):
    exit_code = EXIT_BUSY
    kind = "busy"


class Interrupted(BaseException):
    """Raised by the signal handlers that :func:`cli.main` installs.

    A BaseException so that no ``except Exception`` on the way swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum
