"""Request headers: case-insensitive names, repeats joined, whatever shape a transport hands."""

from __future__ import annotations

from tbone.http.message import Headers, Request


def test_pairs_without_repeats_are_looked_up_by_any_case() -> None:
    for pairs in ([("Content-Type", "a/b"), ("X-Id", "1")], (("Content-Type", "a/b"),)):
        headers = Headers(pairs)
        assert headers["content-type"] == headers.get("CONTENT-TYPE") == "a/b"
        assert "Content-Type" in headers


def test_repeated_names_are_joined_in_order_whatever_their_case() -> None:
    pairs = [("Accept", "a/b"), ("X-Id", "1"), ("accept", "c/d"), ("ACCEPT", "e/f")]
    for given in (pairs, tuple(pairs), iter(pairs)):
        headers = Headers(given)
        assert dict(headers) == {"accept": "a/b, c/d, e/f", "x-id": "1"}


def test_a_mapping_and_a_headers_object_are_taken_as_they_are() -> None:
    headers = Headers({"Authorization": "Bearer t"})
    assert headers["authorization"] == "Bearer t"
    assert Headers(headers)._items is headers._items  # already merged: shared, not copied
    request = Request("GET", "/api/books", "", [("Host", "x"), ("host", "y")])
    assert request.headers["HOST"] == "x, y"
