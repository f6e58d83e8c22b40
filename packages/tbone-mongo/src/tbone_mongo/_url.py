"""``mongodb://`` and ``mongodb+srv://`` URLs: the database from the path, client options from
the query string (PyMongo's own: ``?replicaSet=rs0&w=majority&readPreference=primary``).

``mongodb://localhost:27017/shop`` uses database ``shop``; without a path the database is
``tbone``. TBone's defaults (timezone-aware dates, standard UUIDs, 2-second server selection and
connect timeouts, so that a down server answers 503 quickly) apply unless the URL sets them.
"""

from __future__ import annotations

import urllib.parse
from typing import Any, Final

__all__ = ["DEFAULT_DATABASE", "client_options", "database_of"]

DEFAULT_DATABASE: Final = "tbone"
_DEFAULTS: Final[dict[str, Any]] = {
    "serverSelectionTimeoutMS": 2000,
    "connectTimeoutMS": 2000,
    "uuidRepresentation": "standard",
    "tz_aware": True,
}
_FORCED: Final = ("tz_aware", "uuidRepresentation")  # the codec relies on them


def database_of(url: str) -> str:
    """The database named by the URL's path (``DEFAULT_DATABASE`` when it has none)."""
    scheme, sep, rest = url.partition("://")
    if scheme.lower() not in ("mongodb", "mongodb+srv") or not sep:
        raise ValueError(f"not a MongoDB URL: {url!r}; use mongodb://host:27017/database")
    path = rest.partition("?")[0].partition("/")[2]
    name = urllib.parse.unquote(path)
    if any(c in name for c in '/\\. "$\0'):
        raise ValueError(f"the MongoDB URL {url!r} names an invalid database {name!r}")
    return name or DEFAULT_DATABASE


def client_options(url: str) -> dict[str, Any]:
    """Keyword options for ``AsyncMongoClient(url, **options)``: TBone's defaults, except
    where the URL sets them (``tz_aware`` and ``uuidRepresentation`` are always TBone's)."""
    query = url.partition("?")[2]
    given = {k.lower() for k in urllib.parse.parse_qs(query, keep_blank_values=True)}
    return {k: v for k, v in _DEFAULTS.items() if k in _FORCED or k.lower() not in given}
