"""Test helpers shipped with TBone: the store conformance kit (a pytest plugin).

A store package runs the whole kit with one class::

    from tbone.testing import StoreConformance


    class TestCouchStore(StoreConformance):
        skip = {"text_search": "CouchDB has no text index here"}

        async def make_store(self, tmp_path):
            return CouchStore(f"couchdb://localhost/{tmp_path.name}")

Imports are lazy so that the pytest plugin (``tbone.testing.plugin``) costs nothing to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .channelkit import ChannelConformance
    from .kit import Behaviour, StoreConformance, behaviours
    from .livekit import LiveConformance

__all__ = ["Behaviour", "ChannelConformance", "LiveConformance", "StoreConformance", "behaviours"]


def __getattr__(name: str) -> Any:
    if name == "ChannelConformance":
        from . import channelkit

        return channelkit.ChannelConformance
    if name == "LiveConformance":
        from . import livekit

        return livekit.LiveConformance
    if name in __all__:
        from . import kit

        return getattr(kit, name)
    raise AttributeError(f"module 'tbone.testing' has no attribute {name!r}")
