"""TBone's JSON text in and out (``tbone.jsontext``): the standard library vs orjson.

The call the API makes for every response body and published event, ``encode_bytes``, on
realistic bodies, once on the standard-library path and once with orjson (``tbone-core[fast]``),
side by side; and, for the record, orjson's own ``loads`` vs ``jsontext.decode`` (which stays on
the standard library: reading exactly what it reads would need checks that cost orjson's gain).
The speed-up is the standard library's time / orjson's; skipped when orjson is not installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench import odm, odm_wide
from bench.results import Section, skipped
from bench.timing import ops_per_second
from tbone import jsontext


def _bodies() -> dict[str, Any]:
    detail = odm.TBook.from_data(odm.PAYLOAD).to_data()
    meta = {"total_count": 100, "limit": 20, "offset": 0, "previous": None, "cursor": None}
    page = {
        "objects": [{**detail, "id": f"{i:032x}"} for i in range(20)],
        "meta": {**meta, "next": "/api/books?limit=20&offset=20"},
    }
    create = {"title": "Dune", "author": "Herbert", "year": 1965, "tags": ["scifi"]}
    return {
        "create body": create,
        "detail, 12 fields": detail,
        "list page, 20 x 12 fields": page,
        "wide, 40 fields": odm_wide.PAYLOAD,
    }


def _with(fast: Any, fn: Callable[[], Any]) -> Callable[[], Any]:
    def call() -> Any:
        saved, jsontext._orjson = jsontext._orjson, fast
        try:
            return fn()
        finally:
            jsontext._orjson = saved

    return call


def bench_json() -> Section:
    fast = jsontext._orjson
    if fast is None:
        return skipped(
            "JSON text: skipped — orjson is not installed (pip install tbone-core[fast])"
        )
    section = Section("")
    lines = [
        f"JSON text (tbone.jsontext), µs per call: standard library vs orjson {fast.__version__}",
        f"  {'body':28}{'encode json':>12}{'orjson':>9}{'speed-up':>10}"
        f"{'jsontext.decode':>17}{'orjson.loads':>14}{'would be':>10}",
    ]
    for name, body in _bodies().items():
        text = jsontext.encode(body)
        cells: list[float] = []
        encode = lambda b=body: jsontext.encode_bytes(b)  # noqa: E731  # one of two cases
        for op, slow_fn, fast_fn in (
            ("encode", _with(None, encode), _with(fast, encode)),
            ("decode", lambda t=text: jsontext.decode(t), lambda t=text: fast.loads(t)),
        ):
            rates = ops_per_second({"stdlib": slow_fn, "orjson": fast_fn})
            slow, quick = 1e6 / rates["stdlib"], 1e6 / rates["orjson"]
            cells += [slow, quick, slow / quick]
            section.add(
                f"json/{op}/{name}",
                **{"stdlib µs": slow, "orjson µs": quick, "speed-up": slow / quick},
            )
        lines.append(
            f"  {name:28}{cells[0]:12.2f}{cells[1]:9.2f}{cells[2]:9.1f}x"
            f"{cells[3]:17.2f}{cells[4]:14.2f}{cells[5]:9.1f}x"
        )
    section.text = "\n".join(lines)
    return section
