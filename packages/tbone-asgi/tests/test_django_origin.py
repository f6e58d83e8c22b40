"""Which origins may use a Django session cookie (no Django needed: the rule is plain data)."""

from __future__ import annotations

import pytest

from tbone.http.message import Request
from tbone_asgi.django import _same_site

TRUSTED = ["https://app.example.com", "https://*.corp.example"]


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),  # not a browser's cross-site request
        ("http://api.example.com:8000", True),  # the request's own host
        ("https://app.example.com", True),
        ("https://intranet.corp.example", True),
        ("http://intranet.corp.example", False),  # the scheme counts
        ("https://corp.example.evil", False),
        ("https://evilcorp.example", False),
        ("https://evil.example", False),
        ("null", False),  # sandboxed frames, file: pages
    ],
)
def test_cross_site_cookies_are_ignored(origin: str | None, allowed: bool) -> None:
    headers = {"host": "api.example.com:8000", **({"origin": origin} if origin else {})}
    assert _same_site(Request("GET", "/api/ws", "", headers), TRUSTED) is allowed
