"""OpenAPI 3.1 for an API (placeholder until the full generator lands)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import API

__all__ = ["build_openapi"]


def build_openapi(api: API) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": api.title, "version": api.version}, "paths": {}}
