"""Serve TBone APIs on Sanic.

>>> from sanic import Sanic
>>> app = Sanic("books")
>>> api.mount(app)  # doctest: +SKIP

or ``tbone serve --server sanic``. The transport is found through the ``tbone.transports`` entry
point ``sanic``; nothing here needs importing by hand.
"""

from ._transport import SanicTransport

__version__ = "0.1.0"

__all__ = ["SanicTransport"]
