"""Rewrites of query trees for stores that lack a capability."""

from __future__ import annotations

from .query import And, Filter, Node, Not, Or, Search

__all__ = ["expand_search"]


def expand_search(node: Node) -> Node:
    """Replace :class:`Search` nodes by the ``icontains`` filters that define their meaning.

    Used for stores without ``text_search``: every word must occur in one of the fields.
    """
    if isinstance(node, Search):
        return And(
            tuple(Or(tuple(Filter(t, "icontains", w) for t in node.targets)) for w in node.terms)
        )
    if isinstance(node, And):
        return And(tuple(expand_search(c) for c in node.children))
    if isinstance(node, Or):
        return Or(tuple(expand_search(c) for c in node.children))
    if isinstance(node, Not):
        return Not(expand_search(node.child))
    return node
