"""A third-party store written against the ABC alone runs the same kit.

``JsonFileStore`` keeps one JSON file per collection and implements only the four required
methods, evaluating queries with :func:`tbone.storage.matches` instead of compiling them. It does
not enforce unique fields, so it does not declare ``unique``: the kit skips those behaviours and
says so in the terminal summary.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tbone.errors import Conflict, DuplicateKey, NotFound, StoreUnavailable
from tbone.storage import CollectionSpec, Document, Query, Record, Store, matches, sort_records
from tbone.testing import StoreConformance


class JsonFileStore(Store):
    tbone_plugin_api = 1

    def __init__(self, url: str) -> None:
        self.root = Path(url.removeprefix("jsonfile://"))

    def _load(self, spec: CollectionSpec) -> dict[str, Any]:
        if self.closed:
            raise StoreUnavailable("the JSON file store is closed")
        path = self.root / f"{spec.name}.json"
        return json.loads(path.read_text("utf-8")) if path.exists() else {}

    def _save(self, spec: CollectionSpec, rows: dict[str, Any]) -> None:
        (self.root / f"{spec.name}.json").write_text(json.dumps(rows), "utf-8")

    async def insert_docs(self, spec: CollectionSpec, docs: Sequence[Document]) -> None:
        rows = self._load(spec)
        for doc in docs:
            key = json.dumps(doc[spec.pk])
            if key in rows:
                raise DuplicateKey(f"{spec.pk} {doc[spec.pk]!r} exists", field=spec.pk)
            rows[key] = {"doc": doc, "version": 1}
        self._save(spec, rows)

    async def find_docs(self, spec: CollectionSpec, query: Query) -> list[Record]:
        rows = [Record(r["doc"], r["version"]) for r in self._load(spec).values()]
        found = sort_records([r for r in rows if matches(query.where, r.doc)], query.order)
        end = None if query.limit is None else query.offset + query.limit
        return found[query.offset : end]

    async def replace_doc(
        self, spec: CollectionSpec, pk: Any, doc: Document, expect_version: int | None
    ) -> int:
        rows = self._load(spec)
        row = self._current(rows, pk, expect_version)
        row.update(doc=doc, version=row["version"] + 1)
        self._save(spec, rows)
        return int(row["version"])

    async def delete_doc(self, spec: CollectionSpec, pk: Any, expect_version: int | None) -> None:
        rows = self._load(spec)
        self._current(rows, pk, expect_version)
        del rows[json.dumps(pk)]
        self._save(spec, rows)

    @staticmethod
    def _current(rows: dict[str, Any], pk: Any, expect_version: int | None) -> dict[str, Any]:
        row: dict[str, Any] | None = rows.get(json.dumps(pk))
        if row is None:
            raise NotFound(f"no document {pk!r}")
        if expect_version is not None and row["version"] != expect_version:
            raise Conflict(f"{pk!r} is at version {row['version']}, not {expect_version}")
        return row


class TestJsonFileStore(StoreConformance):
    async def make_store(self, tmp_path: Path) -> Store:
        return JsonFileStore(f"jsonfile://{tmp_path}")
