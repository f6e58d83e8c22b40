"""String types with a checked format: ``Email``, ``URL`` and ``IPAddress``.

They are ``str`` to type checkers and on the wire; the ODM checks their format::

    from tbone import Model
    from tbone.types import Email


    class User(Model):
        email: Email
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import urlsplit

from .data.convert import Format

__all__ = ["URL", "Email", "IPAddress"]

# Deliberately simple: one "@", a non-empty local part, a dotted domain, no spaces. Full RFC 5322
# parsing accepts addresses no mail system delivers to; users expect this check.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+$")


def _check_email(value: str) -> str:
    if len(value) > 254 or _EMAIL.match(value) is None:
        raise ValueError("expected an email address such as name@example.com")
    return value


def _check_url(value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise ValueError("expected an absolute http(s) URL such as https://example.com/path")
    return value


def _check_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError("expected an IPv4 or IPv6 address") from None


Email = Annotated[str, Format("email", _check_email)]
URL = Annotated[str, Format("uri", _check_url)]
IPAddress = Annotated[str, Format("ip-address", _check_ip)]
