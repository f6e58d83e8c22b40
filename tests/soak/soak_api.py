"""The API the soak tests serve with ``tbone serve``: one resource on the memory store.

Default realtime limits on purpose: the soak tests check what a deployment gets out of the box.
"""

from __future__ import annotations

from tbone import Model
from tbone.api import API
from tbone.resources import Resource


class Entry(Model):
    body: str = ""


class EntryResource(Resource[Entry]):
    model = Entry
    name = "entries"


def make_api() -> API:
    api = API(prefix="/api", stores="memory://")
    api.register(EntryResource)
    return api
