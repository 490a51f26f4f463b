"""URLs as the tool records them: without credentials.

A git remote can carry a secret: ``https://x-access-token:TOKEN@github.com/o/r``
(as ``actions/checkout`` or a CI token sets it), ``https://TOKEN@host/o/r``, or
a URL that ``git config url.<base>.insteadOf`` rewrites into one (``git remote
get-url`` applies the rewrite). Whatever the tool writes down (build report,
SBOM, provenance) goes through :func:`strip_credentials` first.

What is stripped, and what is kept:

- ``http``, ``https`` (also ``git+https`` and any other ``<scheme>://``
  but ssh): the whole user-info, ``user:password@`` or ``token@``. Over HTTP
  a lone user name cannot be told from a token, and the recorded URL reaches
  the same repository without it.
- ``ssh://`` (also ``git+ssh://``): the password; the user name stays
  (``ssh://git@host/o/r``), since ssh needs it and it is no secret.
- scp-like ``[user@]host:path`` (``git@github.com:o/r.git``): unchanged; it
  cannot carry a password.
- query parameters named like a secret (``access_token``, ``private_token``,
  ``X-Amz-Signature``, ``sig``, ``key``, ...): dropped; others stay.
- local paths and anything else that is not a URL: unchanged.
"""

from __future__ import annotations

import re
import sys
from typing import TextIO
from urllib.parse import unquote_plus, urlsplit, urlunsplit

# A URL with a scheme: "git+https://...", "ssh://...". Group 1 is the scheme.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Words of a query parameter's name that mark it as a secret.
_SECRET_WORDS = frozenset(
    {
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "sig",
        "signature",
        "credential",
        "credentials",
        "key",
        "apikey",
        "auth",
        "authorization",
    }
)

_noted: set[str] = set()


def secret_parameter(name: str) -> bool:
    """Whether a query parameter's name says it holds a secret.

    ``access_token``, ``private-token``, ``X-Amz-Signature``, ``api_key``,
    ``sig``: yes; ``ref``, ``branch``, ``path``: no. Case-insensitive; any
    name containing ``token`` counts (``accesstoken``).
    """
    lowered = name.lower()
    words = set(re.split(r"[^a-z0-9]+", lowered))
    return bool(words & _SECRET_WORDS) or "token" in lowered


def strip_credentials(url: str) -> str:
    """``url`` without user-info secrets or secret query parameters (see the module's rules).

    Pure and total: never raises; text that is not a ``scheme://`` URL comes
    back as it was. ``strip_credentials(u) == u`` says ``u`` held none.
    """
    match = _SCHEME.match(url)
    if not match:
        return url
    scheme = match.group(1).lower()
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return url
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        if scheme in ("ssh", "git+ssh", "ssh+git"):
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hostport}" if user else hostport
        else:
            netloc = hostport
    # Dropped parameter by parameter, the others kept as written.
    query = "&".join(p for p in parts.query.split("&") if not secret_parameter(unquote_plus(p.split("=", 1)[0])))
    if (netloc, query) == (parts.netloc, parts.query):
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def recorded(url: str, what: str = "origin URL", stream: TextIO | None = None) -> str:
    """``strip_credentials(url)``; when that removed something, says so on stderr, once per ``what``.

    For code that records a URL it read from git (``mlc-devops build``):
    ``note: recorded origin URL without its credentials``.
    """
    clean = strip_credentials(url)
    if clean != url and what not in _noted:
        _noted.add(what)
        print(f"note: recorded {what} without its credentials", file=stream or sys.stderr)
    return clean
