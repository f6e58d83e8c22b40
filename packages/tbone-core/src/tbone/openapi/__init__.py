"""OpenAPI 3.1 for an :class:`~tbone.API`, served at ``GET {prefix}/openapi.json``.

:func:`build_openapi` describes every registered resource as the HTTP handler serves it: the
operations its ``actions`` allow, parameters for its filters, ordering, paging, projection and
search, one schema per model under ``components.schemas``, and problem responses.
"""

from .document import build_openapi

__all__ = ["build_openapi"]
