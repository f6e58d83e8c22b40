"""TBone's embedded persistent document store, on SQLite: ``tbone.connect("sqlite:///books.db")``.

Documents are stored as JSON, one table per collection; filters and orderings are compiled to
SQL over ``json_extract`` (see docs/stores/sqlite.md). Found by tbone through the ``sqlite``
entry point of the ``tbone.backends`` group; the aiosqlite driver is imported on first connect.

``SQLiteChannel`` (``channel="sqlite:///books.db"``, the ``sqlite`` entry point of
``tbone.channels``) carries live events between the processes sharing one file, with history.
"""

from ._channel import SQLiteChannel
from ._store import SQLiteStore

__version__ = "0.1.0"

__all__ = ["SQLiteChannel", "SQLiteStore"]
