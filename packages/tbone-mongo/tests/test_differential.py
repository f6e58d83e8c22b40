"""The awkward-values differential test (tbone.testing.awkward) on the MongoDB store.

MongoDB could compare many of its values differently (Decimal128, BSON dates, equality that
reaches into arrays, field order in embedded documents). Datetimes come back in UTC (BSON
dates hold an instant), so documents are compared with their datetimes in UTC.
"""

from __future__ import annotations

import pytest

from tbone.testing.awkward import AwkwardValues, Case, in_utc
from tbone_mongo import MongoStore
from tbone_mongo.testing import MongoServer

AWKWARD = AwkwardValues(filter_ints=[2**63, -(2**63) - 1, 2**64 + 1], normalise=in_utc)


@pytest.fixture(scope="module")
def server(mongo_server: MongoServer) -> MongoServer:
    return mongo_server


@AWKWARD.given(max_examples=150)
def test_same_answers_as_memory(server: MongoServer, case: Case) -> None:
    AWKWARD.check(lambda: MongoStore(server.database_url()), case)
