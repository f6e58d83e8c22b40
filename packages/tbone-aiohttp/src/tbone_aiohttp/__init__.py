"""Serve TBone APIs on aiohttp.

>>> from aiohttp import web
>>> app = web.Application()
>>> api.mount(app)  # doctest: +SKIP

or ``tbone serve --server aiohttp``. The transport is found through the ``tbone.transports``
entry point ``aiohttp``; nothing here needs importing by hand.
"""

from ._transport import AiohttpTransport

__version__ = "0.1.0"

__all__ = ["AiohttpTransport"]
