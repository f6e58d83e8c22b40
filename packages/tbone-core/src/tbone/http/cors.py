"""Cross-origin resource sharing, configured on the API: ``API(cors=CORS(origins=[...]))``."""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .message import Request

__all__ = ["CORS"]


@attrs.frozen(kw_only=True)
class CORS:
    """Which browser origins may call the API. ``origins=["*"]`` allows any origin."""

    origins: Sequence[str] = ("*",)
    allow_headers: Sequence[str] = ("Authorization", "Content-Type", "If-Match", "If-None-Match")
    expose_headers: Sequence[str] = ("ETag", "Location")
    allow_credentials: bool = False
    max_age: int = 600

    def allows(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    def headers(self, request: Request, allowed_methods: Sequence[str]) -> list[tuple[str, str]]:
        """CORS headers for a response to ``request`` (none when its origin is not allowed)."""
        origin = request.headers.get("origin")
        if origin is None or not self.allows(origin):
            return []
        wildcard = "*" in self.origins and not self.allow_credentials
        out = [("Access-Control-Allow-Origin", "*" if wildcard else origin)]
        if not wildcard:
            out.append(("Vary", "Origin"))
        if self.allow_credentials:
            out.append(("Access-Control-Allow-Credentials", "true"))
        if request.method == "OPTIONS" and "access-control-request-method" in request.headers:
            out += [
                ("Access-Control-Allow-Methods", ", ".join(allowed_methods)),
                ("Access-Control-Allow-Headers", ", ".join(self.allow_headers)),
                ("Access-Control-Max-Age", str(self.max_age)),
            ]
        elif self.expose_headers:
            out.append(("Access-Control-Expose-Headers", ", ".join(self.expose_headers)))
        return out
